-- A person's `updated_at` (and a property value's) is the time of the statement that wrote it, not the start of
-- its transaction (`now()`): lists of what changed since a time (delta syncs) wait for the writes in progress,
-- and rely on every row written before that wait began to carry an earlier time, written once its transaction
-- held its id (gateway/db/writes_in_progress.py). The ingestion engine's STORE writes updated rows with
-- statement_timestamp(); rows it inserts take these defaults.
ALTER TABLE devices ALTER COLUMN updated_at SET DEFAULT statement_timestamp();
ALTER TABLE person_properties ALTER COLUMN updated_at SET DEFAULT statement_timestamp();
