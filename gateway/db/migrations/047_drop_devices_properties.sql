-- A person's properties (Countly's user details, KISSmetrics properties, FollowAnalytics attributes) are its
-- rows of `person_properties` since migration 020, which moved them there and emptied `devices.properties`; the
-- ingestion engine still read and wrote that empty column with every person it locked and stored. Countly's
-- reads (`Device.properties`) and the exports' `properties` column are built from `person_properties`.
--
-- Whatever a writer may have left in the column since is moved as migration 020 moved it (a value kept already
-- in `person_properties` stays), then the column goes.
INSERT INTO person_properties (account_id, product_id, person_id, source, name, value, number, set_at)
SELECT DISTINCT ON (d.id, lower(p.key)) d.account_id, d.product_id, d.id, 'global', lower(p.key), p.value,
       CASE WHEN jsonb_typeof(p.value) = 'number' THEN (p.value #>> '{}')::double precision END,
       d.last_seen
FROM devices AS d CROSS JOIN LATERAL jsonb_each(d.properties) AS p(key, value)
WHERE d.properties <> '{}' AND p.key <> '' AND jsonb_typeof(p.value) <> 'null'
ORDER BY d.id, lower(p.key), p.key
ON CONFLICT (account_id, person_id, source, name) DO NOTHING;
ALTER TABLE devices DROP COLUMN properties;
