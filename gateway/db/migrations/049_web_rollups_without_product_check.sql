-- The product foreign key of web_rollups ran a trigger query (a KEY SHARE lock of the product row) for every
-- rollup row a batch of web hits inserted: a batch writes each key of its hits once (gateway/ingest/web/
-- rollups.py), and each new hour, day, path or dimension value of a site is a new row. The ingestion engine
-- locks the products of a batch once, FOR KEY SHARE, when it reads them (gateway/ingest/web/sql.py PREPARE): a
-- product deleted meanwhile waits for the batch to commit, exactly as with the foreign key (as migration 007
-- did for events). Deleting a product (directly or with its account) still deletes its rollups, once per
-- statement, through this trigger.
-- Written to run again over itself: a draft of it ran as 036 on some development databases (the benchmark's).
ALTER TABLE web_rollups DROP CONSTRAINT IF EXISTS web_rollups_product_id_fkey;

CREATE OR REPLACE FUNCTION delete_web_rollups_of_deleted_products() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM web_rollups AS r USING deleted_products AS d
    WHERE r.account_id = d.account_id AND r.product_id = d.id;
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS products_delete_web_rollups ON products;
CREATE TRIGGER products_delete_web_rollups AFTER DELETE ON products
    REFERENCING OLD TABLE AS deleted_products
    FOR EACH STATEMENT EXECUTE FUNCTION delete_web_rollups_of_deleted_products();
