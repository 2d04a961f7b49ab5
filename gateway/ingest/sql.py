"""The ingestion engine's SQL: bulk statements over `unnest` arrays or one jsonb document of rows, so a batch
costs a fixed handful."""

from __future__ import annotations

PRODUCTS = """
SELECT id, account_id, status, salt, timezone FROM products WHERE id = ANY($1::bigint[])
"""

# Creates missing devices and locks every device of the batch, in the caller's (sorted) order.
# ON CONFLICT DO UPDATE locks existing rows and RETURNING gives their current state.
LOCK_DEVICES = """
INSERT INTO devices AS d (account_id, product_id, device_key, first_seen, last_seen)
SELECT a, p, k, f, f
FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::timestamptz[]) WITH ORDINALITY AS x(a, p, k, f, o)
ORDER BY o
ON CONFLICT (product_id, device_key) DO UPDATE SET last_seen = d.last_seen
RETURNING d.id, d.account_id, d.product_id, d.device_key, (d.xmax = 0) AS inserted, d.first_seen,
          d.last_seen, d.os, d.os_version, d.device, d.resolution, d.carrier, d.app_version, d.locale,
          d.country, d.city, d.location, d.properties, d.open_session_id, d.last_session_end,
          d.last_request_hash, d.last_begin_at, d.last_session_id
"""

SESSION_IDS = """
SELECT nextval(pg_get_serial_sequence('sessions', 'id')) AS id FROM generate_series(1, $1::int)
"""

SESSION_COLUMNS = ("id", "account_id", "product_id", "device_id", "started_at", "duration", "ended_at")

UPDATE_SESSIONS = """
UPDATE sessions AS s
SET duration = LEAST(s.duration::bigint + u.dd, 2147483647)::integer,
    ended_at = CASE WHEN u.set_end THEN u.ended_at ELSE s.ended_at END
FROM unnest($1::bigint[], $2::bigint[], $3::timestamptz[], $4::boolean[]) AS u(id, dd, ended_at, set_end)
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

UPDATE_DEVICES = """
UPDATE devices AS d
SET first_seen = u.first_seen, last_seen = u.last_seen, os = u.os, os_version = u.os_version,
    device = u.device, resolution = u.resolution, carrier = u.carrier, app_version = u.app_version,
    locale = u.locale, country = u.country, city = u.city, location = u.location, properties = u.properties,
    open_session_id = u.open_session_id, last_session_end = u.last_session_end,
    last_request_hash = u.last_request_hash, last_begin_at = u.last_begin_at,
    last_session_id = u.last_session_id
FROM unnest($1::bigint[], $2::timestamptz[], $3::timestamptz[], $4::text[], $5::text[], $6::text[],
            $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[],
            $14::jsonb[], $15::bigint[], $16::timestamptz[], $17::text[], $18::timestamptz[], $19::bigint[])
     AS u(id, first_seen, last_seen, os, os_version, device, resolution, carrier, app_version, locale,
          country, city, location, properties, open_session_id, last_session_end, last_request_hash,
          last_begin_at, last_session_id)
WHERE d.id = u.id
"""

# The rollup and definition upserts read their rows from ONE jsonb document (an array of arrays, in the writer's
# sorted order, kept by ORDER BY o so rows are locked in that order; each row is its key, its sums or values,
# then the product's account id, so rows sort by key as plain tuples): one typed array per column costs
# asyncpg a Python-level check and an encoding call for every element, four times the client CPU of building
# the document with orjson, and the server reads a jsonb array faster than ten unnested arrays.
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
