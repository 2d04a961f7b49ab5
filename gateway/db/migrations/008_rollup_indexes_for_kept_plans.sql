-- Indexes of the rollup tables, for the analytics statements that keep a generic plan (gateway/db.py
-- KeptPlan). A generic plan is made without the parameters' values, so it may choose any index whose columns
-- the statement constrains; these two led it to read a whole account's, or a whole history's, rows:
-- - The (account_id, product_id) indexes: every read names its products (`product_id = ANY(...)`, joined to
--   the caller's products) and deleting a product or an account deletes its rollups through the primary key,
--   whose first column is the product. They served no statement, and cost every new rollup row an entry.
--   A generic plan read a 30-day sessions tree through them in 27 ms instead of 7 (10M-event set).
-- - event_rollups_keys lists a product's keys and segmentation values, from its yearly rows only
--   (resolvers/analytics/sql.py EVENT_KEYS). Over every grain it also offered the event trees a path without
--   the bucket range, so their generic plan read every bucket ever stored for the key. Kept to yearly rows, it
--   serves its one statement and costs new hourly, daily, weekly and monthly rows nothing.
DROP INDEX session_rollups_account;
DROP INDEX event_rollups_account;
DROP INDEX event_rollups_keys;
CREATE INDEX event_rollups_keys ON event_rollups (product_id, key, seg_key, seg_value) WHERE grain = 'y';
