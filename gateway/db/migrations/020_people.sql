-- People: a person (a row of `devices`, "device or person") known by one or more identities, with properties.
-- Every vendor reads and writes these same rows (gateway/ingest/people.py writes them; resolvers/people/
-- reads them):
--   - person_identities: every name a product knows a person by (Countly device ids, KISSmetrics `_p` values
--     and aliases, later FollowAnalytics user ids), case-insensitive and unique per product (`key` is
--     lower(identity)). A device's own device_key is its primary identity (added by the trigger below for
--     every inserted device, whoever inserts it); a merge (Countly `old_device_id`, KISSmetrics alias) moves
--     the merged person's identities to the one it joins, so every name keeps naming that person for good.
--   - person_properties: the current value of each property of a person, per system of records (`source`:
--     'global' unless a vendor keeps several, such as FollowAnalytics' per-app attributes). Names are
--     case-insensitive (`name` is lower case; the definition keeps how it was first written), values are
--     kept as sent (jsonb: text, number, boolean, or an array for a set) with their numeric reading in
--     `number` (a number, or text that reads as one) for comparisons. `set_at` is the time the value was
--     set (the client's time): a write older than the kept value does not replace it. `updated_at` is when
--     the row was written.
--   - devices.updated_at moves with every write that touches a person (listing people changed since a time).
-- Deleting a person's device row deletes its identities and properties (and sessions); events carry no
-- foreign key (migration 004) and are deleted by whoever deletes a person.

ALTER TABLE devices ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
CREATE INDEX devices_updated ON devices (account_id, product_id, updated_at);

CREATE TABLE person_identities (
    account_id  bigint NOT NULL,
    product_id  bigint NOT NULL,
    key         text NOT NULL,
    identity    text NOT NULL,
    person_id   bigint NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    -- 'primary': the device's own key; 'alias': a name it gained by a merge
    kind        text NOT NULL DEFAULT 'primary',
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, product_id, key)
);
CREATE INDEX person_identities_person ON person_identities (person_id);

CREATE TABLE person_properties (
    account_id  bigint NOT NULL,
    product_id  bigint NOT NULL,
    person_id   bigint NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    source      text NOT NULL DEFAULT 'global',
    name        text NOT NULL,
    value       jsonb NOT NULL,
    number      double precision,
    set_at      timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, person_id, source, name)
);
-- people searches and filters: a product's values of one property
CREATE INDEX person_properties_name ON person_properties (account_id, product_id, name, source);

-- Every inserted device gets its primary identity in the same statement, whoever inserts it (the ingestion
-- engine, seeding, tests). No ON CONFLICT: a device whose key another transaction has just taken (in another
-- case) fails with a unique violation on person_identities, and the engine retries its batch, which then finds
-- that person (gateway/ingest/writer.py).
CREATE FUNCTION add_primary_identities() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO person_identities (account_id, product_id, key, identity, person_id, kind)
    SELECT n.account_id, n.product_id, lower(n.device_key), n.device_key, n.id, 'primary'
    FROM new_devices AS n
    ORDER BY n.account_id, n.product_id, lower(n.device_key);
    RETURN NULL;
END
$$;
CREATE TRIGGER devices_primary_identities AFTER INSERT ON devices
    REFERENCING NEW TABLE AS new_devices FOR EACH STATEMENT EXECUTE FUNCTION add_primary_identities();

-- The identities of the devices stored so far; of devices whose keys differ only in case, the oldest keeps it.
INSERT INTO person_identities (account_id, product_id, key, identity, person_id, kind)
SELECT DISTINCT ON (d.product_id, lower(d.device_key)) d.account_id, d.product_id, lower(d.device_key),
       d.device_key, d.id, 'primary'
FROM devices AS d
ORDER BY d.product_id, lower(d.device_key), d.id;

-- Countly's user details were kept in devices.properties (jsonb): they are the people's properties now.
INSERT INTO person_properties (account_id, product_id, person_id, source, name, value, number, set_at)
SELECT DISTINCT ON (d.id, lower(p.key)) d.account_id, d.product_id, d.id, 'global', lower(p.key), p.value,
       CASE WHEN jsonb_typeof(p.value) = 'number' THEN (p.value #>> '{}')::double precision END,
       d.last_seen
FROM devices AS d CROSS JOIN LATERAL jsonb_each(d.properties) AS p(key, value)
WHERE d.properties <> '{}' AND p.key <> '' AND jsonb_typeof(p.value) <> 'null'
ORDER BY d.id, lower(p.key), p.key;
UPDATE devices SET properties = '{}' WHERE properties <> '{}';
-- person property names are lower case: of definitions that differ in case only, one is kept
CREATE TEMPORARY TABLE ranked_property_names ON COMMIT DROP AS
SELECT id, row_number() OVER (PARTITION BY product_id, lower(name) ORDER BY (name = lower(name)) DESC, id) AS rank
FROM property_definitions WHERE scope = 'device';
DELETE FROM property_definitions AS t USING ranked_property_names AS r WHERE t.id = r.id AND r.rank > 1;
UPDATE property_definitions AS t SET name = lower(t.name)
FROM ranked_property_names AS r WHERE t.id = r.id AND r.rank = 1 AND t.name <> lower(t.name);

-- Definitions as KISSmetrics' Core API shows them: a stable UUID, visibility, when a name was first and last
-- received (`*_sent`, the gateway's time; `*_used`/`*_seen` are the data's own times). Their small stable
-- `index` is their rank in the product by id (definitions are only ever added), read with the index below.
ALTER TABLE event_definitions
    ADD COLUMN uuid uuid NOT NULL DEFAULT gen_random_uuid(),
    ADD COLUMN first_sent timestamptz DEFAULT now(),
    ADD COLUMN last_sent timestamptz DEFAULT now();
ALTER TABLE property_definitions
    ADD COLUMN uuid uuid NOT NULL DEFAULT gen_random_uuid(),
    ADD COLUMN visible boolean NOT NULL DEFAULT true,
    ADD COLUMN first_sent timestamptz DEFAULT now(),
    ADD COLUMN last_sent timestamptz DEFAULT now();
UPDATE event_definitions SET first_sent = first_used, last_sent = last_used;
UPDATE property_definitions SET first_sent = first_seen, last_sent = last_seen;
CREATE UNIQUE INDEX event_definitions_uuid ON event_definitions (uuid);
CREATE UNIQUE INDEX property_definitions_uuid ON property_definitions (uuid);
CREATE INDEX event_definitions_rank ON event_definitions (product_id, id);
CREATE INDEX property_definitions_rank ON property_definitions (product_id, scope, id);
CREATE INDEX event_definitions_account ON event_definitions (account_id, id);
CREATE INDEX property_definitions_account ON property_definitions (account_id, scope, id);

-- Stable UUIDs of the other objects the KISSmetrics Core API shows
ALTER TABLE accounts ADD COLUMN uuid uuid NOT NULL DEFAULT gen_random_uuid();
ALTER TABLE products ADD COLUMN uuid uuid NOT NULL DEFAULT gen_random_uuid();
ALTER TABLE reports ADD COLUMN uuid uuid NOT NULL DEFAULT gen_random_uuid();
CREATE UNIQUE INDEX accounts_uuid ON accounts (uuid);
CREATE UNIQUE INDEX products_uuid ON products (uuid);
CREATE UNIQUE INDEX reports_uuid ON reports (uuid);
