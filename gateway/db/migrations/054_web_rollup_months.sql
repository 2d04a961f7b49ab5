-- Months of web rollups, summed once a month has ended: what the reads of long periods sum instead of its days.
--
-- The top pages and the top values of a dimension over a period sum each path's (each value's) day rows. Rows
-- of one day lie apart on disk (they are written as hits arrive, every path and value of a site interleaved), so
-- twelve months of a busy site are tens of thousands of heap pages a read. A month that has ended rarely changes
-- again, so its days are summed once into rows of grain 'm' (bucket: the month's first local midnight), written
-- together, and a read takes a whole month of its period from them (resolvers/web/sql.py, `month_spans`).
--
-- web_rollup_months says which months' 'm' rows are current. Every batch of web hits adds its months here
-- (gateway/ingest/web/sql.py STORE, in the batch's transaction): a month that has ended gets its `version`
-- bumped, so 'm' rows summed before that write stop being read the moment it commits. `built` is the version
-- the month's 'm' rows were summed at (gateway/ingest/web/months.py, in a REPEATABLE READ transaction that
-- fails rather than record a version a write moved meanwhile); NULL: never summed. A read uses a month's 'm'
-- rows only when built = version, or when the month has no row here (then it has no day rows either: every
-- writer of day rows adds its month, and this migration adds those of the rows already stored).
-- Day rows are never removed, so a month not summed yet, or changed since, is read from its days as before.
CREATE TABLE web_rollup_months (
    account_id  bigint NOT NULL,
    product_id  bigint NOT NULL REFERENCES products(id) ON DELETE CASCADE,
    month       timestamp NOT NULL,
    version     bigint NOT NULL DEFAULT 0,
    built       bigint,
    PRIMARY KEY (account_id, product_id, month)
);

ALTER TABLE web_rollups DROP CONSTRAINT web_rollups_grain_check;
ALTER TABLE web_rollups ADD CONSTRAINT web_rollups_grain_check CHECK (grain IN ('h', 'd', 'm'));

-- the months of the day rows already stored (the site's own rows, path 0, one per day with hits)
INSERT INTO web_rollup_months (account_id, product_id, month)
SELECT DISTINCT r.account_id, r.product_id, date_trunc('month', r.bucket)
FROM web_rollups r
WHERE r.dimension = '' AND r.grain = 'd' AND r.path_id = 0;
