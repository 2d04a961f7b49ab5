-- Each past day's subtree of the calendar trees (resolvers/analytics/tree_sql.py), kept as text.
--
-- A Countly time document nests about 2,000 stored buckets (the period and the one before it, hour by hour)
-- and PostgreSQL wrote all of them on every read, although a day that has ended rarely changes again. A read
-- now keeps the text of each whole, ended day it renders (its letters, its values and its hours) in
-- tree_day_fragments, and the next read of that day uses the text as long as the day's version has not moved.
--
-- tree_day_versions counts the changes of each (product, local day) of each rollup table. The triggers below
-- bump it for every statement that inserts, updates or deletes daily or hourly rollup rows, whichever code
-- sends it (the ingestion's STORE, seeding, deletes), in the same transaction as the change: a read sees
-- either the old rows and the old version or the new rows and the new version, so a fragment written from
-- the old rows carries the old version and is never used once the new one has committed. A missing row is
-- version 0. Years, months and weeks are not kept: the trees read them every time.
CREATE TABLE tree_day_versions (
    account_id  bigint NOT NULL,
    product_id  bigint NOT NULL REFERENCES products(id) ON DELETE CASCADE,
    kind        "char" NOT NULL,  -- 's' session_rollups, 'e' event_rollups
    day         timestamp NOT NULL,  -- the product's local midnight, as the rollups' buckets
    version     bigint NOT NULL,
    PRIMARY KEY (product_id, kind, day)
);

-- `variant`: md5 of the version of the code that renders a day (tree_sql.TEXT_VERSION), the tree's kind and
-- the arguments that shape a day's text (grains, dimensions, keys, segmentation key). `node`: the day's text,
-- NULL when it has no stored bucket. `found_dimensions` and `found_values`: the distinct metric values (with
-- their dimensions) or segmentation values of the day's rows, which the trees list beside the tree.
CREATE TABLE tree_day_fragments (
    account_id        bigint NOT NULL,
    product_id        bigint NOT NULL REFERENCES products(id) ON DELETE CASCADE,
    variant           text NOT NULL,
    day               timestamp NOT NULL,
    version           bigint NOT NULL,
    node              text,
    found_dimensions  text[],
    found_values      text[],
    PRIMARY KEY (product_id, variant, day)
);

-- TG_ARGV[0]: the kind. Rows in day order, so that concurrent statements lock versions in the same order.
-- Products being deleted (whose rollups go with them) are left out: their versions and fragments go too.
CREATE FUNCTION bump_tree_day_versions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO tree_day_versions AS v (account_id, product_id, kind, day, version)
    SELECT DISTINCT p.account_id, c.product_id, TG_ARGV[0]::"char", date_trunc('day', c.bucket), 1
    FROM changed c
    JOIN products p ON p.id = c.product_id
    WHERE c.grain IN ('d', 'h')
    ORDER BY 2, 4
    ON CONFLICT (product_id, kind, day) DO UPDATE SET version = v.version + 1;
    RETURN NULL;
END
$$;

CREATE TRIGGER session_rollups_inserted AFTER INSERT ON session_rollups
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION bump_tree_day_versions('s');
CREATE TRIGGER session_rollups_updated AFTER UPDATE ON session_rollups
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION bump_tree_day_versions('s');
CREATE TRIGGER session_rollups_deleted AFTER DELETE ON session_rollups
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION bump_tree_day_versions('s');
CREATE TRIGGER event_rollups_inserted AFTER INSERT ON event_rollups
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION bump_tree_day_versions('e');
CREATE TRIGGER event_rollups_updated AFTER UPDATE ON event_rollups
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION bump_tree_day_versions('e');
CREATE TRIGGER event_rollups_deleted AFTER DELETE ON event_rollups
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION bump_tree_day_versions('e');

-- TRUNCATE fires no row-set trigger: it empties the fragments with the rollups
CREATE FUNCTION drop_tree_day_fragments() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM tree_day_fragments;
    RETURN NULL;
END
$$;
CREATE TRIGGER session_rollups_truncated AFTER TRUNCATE ON session_rollups
    FOR EACH STATEMENT EXECUTE FUNCTION drop_tree_day_fragments();
CREATE TRIGGER event_rollups_truncated AFTER TRUNCATE ON event_rollups
    FOR EACH STATEMENT EXECUTE FUNCTION drop_tree_day_fragments();
