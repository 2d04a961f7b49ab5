-- The product foreign key of events ran a trigger query (a KEY SHARE lock of the product row) for every
-- inserted event, about a third of PostgreSQL's cost of an event COPY. The ingestion engine locks the products
-- of a batch once, FOR KEY SHARE, when it reads them (gateway/ingest/sql.py PRODUCTS): a product deleted
-- meanwhile waits for the batch to commit, exactly as with the foreign key. Deleting a product (directly or
-- with its account) still deletes its events, once per statement, through this trigger; its statements run
-- after the products are gone, with a snapshot that sees events committed while the delete waited.
ALTER TABLE events DROP CONSTRAINT events_product_id_fkey;

CREATE FUNCTION delete_events_of_deleted_products() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM events WHERE product_id IN (SELECT id FROM deleted_products);
    RETURN NULL;
END
$$;

CREATE TRIGGER products_delete_events AFTER DELETE ON products
    REFERENCING OLD TABLE AS deleted_products
    FOR EACH STATEMENT EXECUTE FUNCTION delete_events_of_deleted_products();
