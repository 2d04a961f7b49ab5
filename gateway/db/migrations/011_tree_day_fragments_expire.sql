-- Kept days expire (gateway/housekeeping.py). Fragments are keyed by the set of a read's arguments, so every
-- set of event keys, dimensions or grains that was read once keeps its days for good, and so does every day
-- of a long period: without an end the table only grows. A fragment kept (or rendered again after its day
-- changed) more than GATEWAY_KEPT_DAYS_TTL days ago is deleted; a read that still wants the day renders it
-- from the rollups and keeps it again. kept_at is not refreshed by the reads that use a fragment, which
-- would make every read write: a day is rendered at most once per TTL per set of arguments.
ALTER TABLE tree_day_fragments ADD COLUMN kept_at timestamptz NOT NULL DEFAULT now();
CREATE INDEX tree_day_fragments_kept_at ON tree_day_fragments (kept_at);
