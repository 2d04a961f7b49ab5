"""The ingestion engine's SQL as it was before a batch stored everything but its events in one statement.

Used by reference_writer.py only (the previous writer, kept for test_writer_equivalence.py).
"""

from __future__ import annotations

# FOR KEY SHARE: what the foreign keys of events on products did for every event row, once per batch (see
# migration 007): a product cannot be deleted until the batch that writes its events has committed.
PRODUCTS = """
SELECT id, account_id, status, salt, timezone FROM products WHERE id = ANY($1::bigint[]) ORDER BY id
FOR KEY SHARE
"""

# Most statements read their rows from ONE jsonb document (an array of arrays, built with orjson by the writer)
# rather than from one typed array per column: asyncpg checks every array element against collections.abc (a
# Python-level call) and encodes it on its own, several times the client CPU of the whole document, and the
# server reads a jsonb array faster than ten unnested arrays. WITH ORDINALITY ... ORDER BY keeps the writer's
# sorted order, the order in which rows are locked. Rows are their key, their values, then the account id.

# Locks the batch's existing devices, in the caller's (sorted) order, and returns their state; a device not
# found gets a fresh id (inserted = true) and is created with its final state by INSERT_DEVICES once the batch
# is planned, so it is written once rather than inserted here and updated at the end. Locking without writing
# (FOR UPDATE rather than an upsert) leaves no dead row version behind either. Rows: product_id, device_key.
LOCK_DEVICES = """
WITH k AS (
    SELECT (x.r->>0)::bigint AS product_id, x.r->>1 AS device_key, x.o
    FROM jsonb_array_elements($1::text::jsonb) WITH ORDINALITY AS x(r, o)
), locked AS (
    -- a sub-select with FOR UPDATE is never merged into a join (which may become a hash join over all the
    -- devices): one unique-index probe per key, in the order of k
    SELECT d.* FROM k CROSS JOIN LATERAL (
        SELECT d.id, d.account_id, d.product_id, d.device_key, false AS inserted, d.first_seen, d.last_seen, d.os,
               d.os_version, d.device, d.resolution, d.carrier, d.app_version, d.locale, d.country, d.city,
               d.location, d.open_session_id, d.last_session_end, d.last_request_hash,
               d.last_begin_at, d.last_session_id
        FROM devices AS d
        WHERE d.product_id = k.product_id AND d.device_key = k.device_key
        FOR UPDATE
    ) AS d
)
SELECT * FROM locked
UNION ALL
SELECT nextval(pg_get_serial_sequence('devices', 'id')), NULL, k.product_id, k.device_key, true, NULL, NULL,
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
FROM k
WHERE NOT EXISTS (SELECT FROM locked AS l WHERE l.product_id = k.product_id AND l.device_key = k.device_key)
"""

SESSION_IDS = """
SELECT nextval(pg_get_serial_sequence('sessions', 'id')) AS id FROM generate_series(1, $1::int)
"""

SESSION_COLUMNS = ("id", "account_id", "product_id", "device_id", "started_at", "duration", "ended_at")

# Rows: id, duration delta, ended_at, set_end. The sessions' devices are locked already.
UPDATE_SESSIONS = """
UPDATE sessions AS s
SET duration = LEAST(s.duration::bigint + u.dd, 2147483647)::integer,
    ended_at = CASE WHEN u.set_end THEN u.ended_at ELSE s.ended_at END
FROM (SELECT (x.r->>0)::bigint, (x.r->>1)::bigint, (x.r->>2)::timestamptz, (x.r->>3)::boolean
      FROM jsonb_array_elements($1::text::jsonb) AS x(r)) AS u(id, dd, ended_at, set_end)
WHERE s.id = u.id
"""

# the columns of the events COPY, in the order of the rows the planner builds (`rules.EventRow`)
EVENT_COLUMNS = (
    "account_id",
    "product_id",
    "device_id",
    "session_id",
    "key",
    "count",
    "sum",
    "duration",
    "segmentation",
    "occurred_at",
    "path",
    "title",
    "referrer",
)

MOVE_SESSIONS = """
UPDATE sessions AS s SET device_id = m.new_id
FROM unnest($1::bigint[], $2::bigint[]) AS m(old_id, new_id)
WHERE s.device_id = m.old_id
"""

MOVE_EVENTS = """
UPDATE events AS e SET device_id = m.new_id
FROM unnest($1::bigint[], $2::bigint[]) AS m(old_id, new_id)
WHERE e.device_id = m.old_id
"""

DELETE_DEVICES = "DELETE FROM devices WHERE id = ANY($1::bigint[])"

# Creates the batch's new devices (LOCK_DEVICES gave them their ids), sorted by (product_id, device_key), with
# their final state. A device another transaction created after LOCK_DEVICES makes it fail (unique violation,
# after waiting for that transaction) and the batch is retried: rare, so no ON CONFLICT clause, which would cost
# a speculative insertion (an index probe and a second WAL record) for every row.
# Rows: as UPDATE_DEVICES, then product_id, device_key, account_id.
INSERT_DEVICES = """
INSERT INTO devices (id, account_id, product_id, device_key, first_seen, last_seen, os, os_version, device,
                     resolution, carrier, app_version, locale, country, city, location,
                     open_session_id, last_session_end, last_request_hash, last_begin_at, last_session_id)
SELECT (x.r->>0)::bigint, (x.r->>20)::bigint, (x.r->>18)::bigint, x.r->>19, (x.r->>1)::timestamptz,
       (x.r->>2)::timestamptz, x.r->>3, x.r->>4, x.r->>5, x.r->>6, x.r->>7, x.r->>8, x.r->>9, x.r->>10, x.r->>11,
       x.r->>12, (x.r->>13)::bigint, (x.r->>14)::timestamptz, x.r->>15,
       (x.r->>16)::timestamptz, (x.r->>17)::bigint
FROM jsonb_array_elements($1::text::jsonb) WITH ORDINALITY AS x(r, o)
ORDER BY x.o
"""

# Rows: id, first_seen, last_seen, the 10 device columns (rules.DEVICE_COLUMNS), open_session_id,
# last_session_end, last_request_hash, last_begin_at, last_session_id (a person's properties are its
# person_properties, migration 020; the `devices.properties` column is gone, migration 047). The devices are
# locked already (LOCK_DEVICES), so the order of these updates does not matter.
UPDATE_DEVICES = """
UPDATE devices AS d
SET first_seen = (x.r->>1)::timestamptz, last_seen = (x.r->>2)::timestamptz, os = x.r->>3,
    os_version = x.r->>4, device = x.r->>5, resolution = x.r->>6, carrier = x.r->>7, app_version = x.r->>8,
    locale = x.r->>9, country = x.r->>10, city = x.r->>11, location = x.r->>12,
    open_session_id = (x.r->>13)::bigint, last_session_end = (x.r->>14)::timestamptz,
    last_request_hash = x.r->>15, last_begin_at = (x.r->>16)::timestamptz,
    last_session_id = (x.r->>17)::bigint
FROM jsonb_array_elements($1::text::jsonb) WITH ORDINALITY AS x(r, o)
WHERE d.id = (x.r->>0)::bigint
"""

# The rollups and definitions, as jsonb documents (see above; a row's key first, so rows sort by key as tuples).
UPSERT_SESSION_ROLLUPS = """
INSERT INTO session_rollups AS r (account_id, product_id, dimension, grain, bucket, value, t, n, u, d, e)
SELECT (x.r->>10)::bigint, (x.r->>0)::bigint, x.r->>1, x.r->>2, (x.r->>3)::timestamp, x.r->>4, (x.r->>5)::bigint,
       (x.r->>6)::bigint, (x.r->>7)::bigint, (x.r->>8)::bigint, (x.r->>9)::bigint
FROM jsonb_array_elements($1::text::jsonb) WITH ORDINALITY AS x(r, o)
ORDER BY x.o
ON CONFLICT (product_id, dimension, grain, bucket, value) DO UPDATE
SET t = r.t + EXCLUDED.t, n = r.n + EXCLUDED.n, u = r.u + EXCLUDED.u, d = r.d + EXCLUDED.d,
    e = r.e + EXCLUDED.e
"""

UPSERT_EVENT_ROLLUPS = """
INSERT INTO event_rollups AS r (account_id, product_id, key, seg_key, grain, bucket, seg_value, c, s, dur)
SELECT (x.r->>9)::bigint, (x.r->>0)::bigint, x.r->>1, x.r->>2, x.r->>3, (x.r->>4)::timestamp, x.r->>5,
       (x.r->>6)::bigint, (x.r->>7)::float8, (x.r->>8)::float8
FROM jsonb_array_elements($1::text::jsonb) WITH ORDINALITY AS x(r, o)
ORDER BY x.o
ON CONFLICT (product_id, key, seg_key, grain, bucket, seg_value) DO UPDATE
SET c = r.c + EXCLUDED.c, s = r.s + EXCLUDED.s, dur = r.dur + EXCLUDED.dur
"""

UPSERT_EVENT_DEFINITIONS = """
INSERT INTO event_definitions AS e (account_id, product_id, name, total, first_used, last_used)
SELECT (x.r->>5)::bigint, (x.r->>0)::bigint, x.r->>1, (x.r->>2)::bigint, (x.r->>3)::timestamptz,
       (x.r->>4)::timestamptz
FROM jsonb_array_elements($1::text::jsonb) WITH ORDINALITY AS x(r, o)
ORDER BY x.o
ON CONFLICT (product_id, name) DO UPDATE
SET total = e.total + EXCLUDED.total, first_used = LEAST(e.first_used, EXCLUDED.first_used),
    last_used = GREATEST(e.last_used, EXCLUDED.last_used)
"""

UPSERT_PROPERTY_DEFINITIONS = """
INSERT INTO property_definitions AS p (account_id, product_id, scope, name, data_type, first_seen, last_seen)
SELECT (x.r->>6)::bigint, (x.r->>0)::bigint, x.r->>1, x.r->>2, x.r->>3, (x.r->>4)::timestamptz,
       (x.r->>5)::timestamptz
FROM jsonb_array_elements($1::text::jsonb) WITH ORDINALITY AS x(r, o)
ORDER BY x.o
ON CONFLICT (product_id, scope, name) DO UPDATE
SET first_seen = LEAST(p.first_seen, EXCLUDED.first_seen), last_seen = GREATEST(p.last_seen, EXCLUDED.last_seen)
"""

NOTIFY = "SELECT pg_notify('ingest', payload) FROM unnest($1::text[]) AS payload"
