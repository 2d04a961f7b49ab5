-- How many event rows each UTC hour holds, per product and per key (key '' counts every key): the page index
-- of event lists that page by number (resolvers/events/page_index.py). A list's page N starts after
-- (N - 1) x size rows; summing these counts finds the hour it starts in without reading the rows before it, and
-- only that hour is read through events_product_time.
--
-- Not an analytics rollup: it counts the rows stored now (event_rollups' `c` adds up the events' `count`, and
-- keeps it when rows are deleted). An hour whose rows were all deleted keeps a row of 0. It is kept by triggers, for every writer (the ingestion engine, deletes of
-- people or products): an insert adds its rows, a delete takes them away, in the same statement. Events never
-- change product, key or time once stored (device merges move their device only), so updates need no trigger.
-- Seeding writes with triggers off and fills the table itself (gateway/cli/seed.py).
CREATE TABLE event_hours (
    account_id  bigint NOT NULL,
    product_id  bigint NOT NULL REFERENCES products(id) ON DELETE CASCADE,
    key         text NOT NULL,
    hour        timestamptz NOT NULL,
    rows        bigint NOT NULL,
    PRIMARY KEY (account_id, product_id, key, hour)
);

-- rows in key, hour order, so that concurrent statements lock them in the same order
CREATE FUNCTION count_event_hours() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO event_hours AS h (account_id, product_id, key, hour, rows)
    SELECT e.account_id, e.product_id, k.key, date_trunc('hour', e.occurred_at, 'UTC'), count(*)
    FROM added_events AS e CROSS JOIN LATERAL (VALUES (''), (e.key)) AS k(key)
    GROUP BY 1, 2, 3, 4
    ORDER BY 1, 2, 3, 4
    ON CONFLICT (account_id, product_id, key, hour) DO UPDATE SET rows = h.rows + EXCLUDED.rows;
    RETURN NULL;
END
$$;

CREATE FUNCTION uncount_event_hours() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE event_hours AS h SET rows = h.rows - d.n
    FROM (
        SELECT e.account_id, e.product_id, k.key, date_trunc('hour', e.occurred_at, 'UTC') AS hour, count(*) AS n
        FROM removed_events AS e CROSS JOIN LATERAL (VALUES (''), (e.key)) AS k(key)
        GROUP BY 1, 2, 3, 4
    ) AS d
    WHERE h.account_id = d.account_id AND h.product_id = d.product_id AND h.key = d.key AND h.hour = d.hour;
    RETURN NULL;
END
$$;

CREATE TRIGGER events_count_hours AFTER INSERT ON events
    REFERENCING NEW TABLE AS added_events FOR EACH STATEMENT EXECUTE FUNCTION count_event_hours();
CREATE TRIGGER events_uncount_hours AFTER DELETE ON events
    REFERENCING OLD TABLE AS removed_events FOR EACH STATEMENT EXECUTE FUNCTION uncount_event_hours();

INSERT INTO event_hours (account_id, product_id, key, hour, rows)
SELECT e.account_id, e.product_id, k.key, date_trunc('hour', e.occurred_at, 'UTC'), count(*)
FROM events AS e JOIN products AS p ON p.id = e.product_id
CROSS JOIN LATERAL (VALUES (''), (e.key)) AS k(key)
GROUP BY 1, 2, 3, 4;
