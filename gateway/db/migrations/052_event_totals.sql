-- Every event key's counts summed per bucket: what "all events" reads (a product's events series and the
-- dashboard's period totals) without summing each key's rows at read time.
--
-- Those reads summed the per-key rows of every bucket (seg_key ''): for 30 days of a product with 150 keys,
-- 4,509 day rows on 5,007 heap pages, 12.7 ms of PostgreSQL a read on the 10M bench set, twice per dashboard
-- overview (the period's series and the previous period's total). Here the same read is 30 rows.
--
-- The ingestion adds each batch's per-key deltas (seg_key '') summed per bucket, in the statement that adds them
-- to event_rollups (gateway/ingest/sql.py), so both tables change in one transaction. Counts saturate at
-- bigint's largest, as a key's own count does; sums and durations cannot overflow (the ingestion bounds each
-- value, gateway/input_values.py). Seeding fills it from the rollups (gateway/cli/seed.py). Nothing else
-- writes event_rollups: erasures leave rollups as they are, and a product's deletion cascades to both.
CREATE TABLE event_totals (
    account_id  bigint NOT NULL,
    product_id  bigint NOT NULL REFERENCES products(id) ON DELETE CASCADE,
    grain       char(1) NOT NULL CHECK (grain IN ('h', 'd', 'w', 'm', 'y')),
    bucket      timestamp without time zone NOT NULL,
    c           bigint NOT NULL DEFAULT 0,                  -- count
    s           double precision NOT NULL DEFAULT 0,        -- sum
    dur         double precision NOT NULL DEFAULT 0,        -- duration
    PRIMARY KEY (product_id, grain, bucket)
);
-- No (account_id, product_id) index: every read names its products, and deletions go through the product (see
-- migration 008, which dropped the rollups' own for leading generic plans astray).

INSERT INTO event_totals (account_id, product_id, grain, bucket, c, s, dur)
SELECT account_id, product_id, grain, bucket, LEAST(sum(c), 9223372036854775807)::bigint, sum(s), sum(dur)
FROM event_rollups
WHERE seg_key = ''
GROUP BY account_id, product_id, grain, bucket;
