"""The ingestion engine's SQL: a batch is two statements (LOCK, then STORE) over jsonb documents of rows, whatever
its size (plus the events' COPY, and three statements for device merges, when needed)."""

from __future__ import annotations

from gateway.ingest.people import STORE_DEFINITIONS_CTE, STORE_PROPERTIES_CTE

# Most statements read their rows from ONE jsonb document (an array of arrays, built with orjson by the writer)
# rather than from one typed array per column: asyncpg checks every array element against collections.abc (a
# Python-level call) and encodes it on its own, several times the client CPU of the whole document, and the
# server reads a jsonb array faster than ten unnested arrays. WITH ORDINALITY ... ORDER BY keeps the writer's
# sorted order, the order in which rows are locked. Rows are their key, their values, then the account id.

# The batch's first statement: locks its products, then the persons its requests name, and returns both.
# Products are locked FOR KEY SHARE, what the foreign keys of events on products did for every event row (see
# migration 007): a product cannot be deleted until the batch that writes its events has committed.
# A request names a person by one of its identities (person_identities, migration 020: case-insensitive, so
# looked up by lower(); an alias' names all lead to one person). The persons found are locked in id order (the
# same order in every process) and their state returned once per name that leads to them. A name not found
# gets a fresh id (inserted = true; one per name in lower case) and is created with its final state by STORE
# once the batch is planned, so it is written once rather than inserted here and updated at the end. Locking
# without writing (FOR UPDATE rather than an upsert) leaves no dead row version behind either. Only persons of
# the products found, in the account the request names, are locked.
# $1 rows: product_id, identity (as sent), account_id; $2 the product ids; $3 events that count once per
# person, key and second (gateway/ingest/people.py `event_probes`): product_id, identity, key, second, account_id.
# Rows: `kind` 'p' the products (id, account_id, status, salt, timezone), 'd' one per name asked (`asked`)
# with its person's columns, 'e' the probed events found stored (id: the person, device_key: the event key,
# first_seen: the second). UNION ALL runs its branches in order, so products are locked first.
LOCK = """
WITH p AS MATERIALIZED (
    SELECT id, account_id, status, salt, timezone FROM products WHERE id = ANY($2::bigint[]) ORDER BY id
    FOR KEY SHARE
), k AS MATERIALIZED (
    SELECT (x.r->>0)::bigint AS product_id, x.r->>1 AS asked, lower(x.r->>1) AS key,
           (x.r->>2)::bigint AS account_id, x.o
    FROM jsonb_array_elements($1::text::jsonb) WITH ORDINALITY AS x(r, o)
    WHERE EXISTS (SELECT FROM p WHERE p.id = (x.r->>0)::bigint AND p.account_id = (x.r->>2)::bigint)
), named AS MATERIALIZED (
    SELECT k.product_id, k.asked, k.key, i.person_id
    FROM k JOIN person_identities AS i
      ON i.account_id = k.account_id AND i.product_id = k.product_id AND i.key = k.key
), locked AS MATERIALIZED (
    -- a sub-select with FOR UPDATE is never merged into a join (which may become a hash join over all the
    -- devices): one primary-key probe per person, in id order
    SELECT d.* FROM (SELECT DISTINCT person_id FROM named ORDER BY person_id) AS n CROSS JOIN LATERAL (
        SELECT d.id, d.account_id, d.product_id, d.device_key, false AS inserted, d.first_seen, d.last_seen, d.os,
               d.os_version, d.device, d.resolution, d.carrier, d.app_version, d.locale, d.country, d.city,
               d.location, d.open_session_id, d.last_session_end, d.last_request_hash,
               d.last_begin_at, d.last_session_id
        FROM devices AS d
        WHERE d.id = n.person_id
        FOR UPDATE
    ) AS d
), fresh AS MATERIALIZED (
    SELECT f.product_id, f.key, f.asked, nextval(pg_get_serial_sequence('devices', 'id')) AS id
    FROM (
        SELECT DISTINCT ON (k.product_id, k.key) k.product_id, k.key, k.asked
        FROM k
        WHERE NOT EXISTS (SELECT FROM named AS n WHERE n.product_id = k.product_id AND n.key = k.key)
        ORDER BY k.product_id, k.key, k.o
    ) AS f
)
SELECT 'p' AS kind, NULL AS asked, p.id, p.account_id, p.id AS product_id, NULL AS device_key,
       NULL::boolean AS inserted, NULL::timestamptz AS first_seen, NULL::timestamptz AS last_seen, NULL AS os,
       NULL AS os_version, NULL AS device, NULL AS resolution, NULL AS carrier, NULL AS app_version,
       NULL AS locale, NULL AS country, NULL AS city, NULL AS location, NULL::bigint AS open_session_id, NULL::timestamptz AS last_session_end, NULL AS last_request_hash,
       NULL::timestamptz AS last_begin_at, NULL::bigint AS last_session_id, p.status, p.salt, p.timezone
FROM p
UNION ALL
SELECT 'd', n.asked, l.*, NULL, NULL, NULL FROM named AS n JOIN locked AS l ON l.id = n.person_id
UNION ALL
SELECT 'd', k.asked, f.id, NULL, k.product_id, f.asked, true, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
FROM k JOIN fresh AS f ON f.product_id = k.product_id AND f.key = k.key
UNION ALL
SELECT 'e', NULL, n.person_id, NULL, n.product_id, e.key, NULL, e.second, NULL, NULL, NULL, NULL, NULL,
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
FROM (SELECT (x.r->>0)::bigint AS product_id, lower(x.r->>1) AS key_of_person, x.r->>2 AS key,
             (x.r->>3)::timestamptz AS second
      FROM jsonb_array_elements($3::text::jsonb) AS x(r)) AS e
JOIN named AS n ON n.product_id = e.product_id AND n.key = e.key_of_person
WHERE EXISTS (SELECT FROM events AS v
              WHERE v.device_id = n.person_id AND v.occurred_at >= e.second
                AND v.occurred_at < e.second + interval '1 second' AND v.key = e.key)
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


# Everything a batch writes, in ONE statement, so a batch costs the same few round trips whatever it holds (each
# round trip waits behind the HTTP work of the gateway's event loop, so it costs far more than the server's
# time). Data-modifying CTEs all run, each to completion, on disjoint rows; the foreign keys of the new sessions
# are checked at the end of the statement, when the new devices exist.
#
# The CTEs' order in the text decides how long the rows shared between batches stay locked. PostgreSQL runs the
# data-modifying CTEs that the main query does not read after it, each to completion, in the REVERSE of their
# order in the text (ExecPostprocessPlan walks es_auxmodifytables, which ExecInitModifyTable builds with lcons).
# Every batch of a product updates the same rollup and definition rows (its hour, day, week, month and year, its
# event keys) and holds them until it commits, whereas its events, sessions and devices are rows no other batch
# writes. So the shared rows come first in the text and are written last: a concurrent batch then queues for
# them only at the end of STORE, not for the whole of it. Under `/i/bulk`, PostgreSQL's backends spent 0.40 of
# their time waiting for another batch's row locks with the shared rows written first, 0.02 with them last.
# Among the shared rows every batch takes the same order (property and event definitions, event rollups, session
# rollups, each sorted by key), so two batches cannot deadlock on them. Events sent by COPY instead
# (writer._store, rare) are written after STORE, with the shared rows held.
#
# The events come as one JSON document too:
# orjson writes it in C, where COPY's rows were encoded value by value in the gateway's one busy process, and
# PostgreSQL, which reads it, has the other core.
#
# Parameters (jsonb documents as in the statements above):
#   $1  the new sessions' temporary ids (-1, -2, ...; bigint[]): `new_ids` gives them real ids in that order
#   $2  new sessions: temporary id, account_id, product_id, device_id, started_at, duration, ended_at
#   $3  new devices, sorted by (product_id, device_key) (LOCK gave them their ids), with their final
#       state: as $4's rows, then product_id, device_key, account_id
#   $4  updated devices: id, first_seen, last_seen, the 10 device columns (rules.DEVICE_COLUMNS),
#       open_session_id, last_session_end, last_request_hash, last_begin_at, last_session_id. A session id is
#       a temporary one when negative. The devices are locked (LOCK).
#   $5  session updates: id, duration delta, ended_at, set_end (the sessions' devices are locked)
#   $6  session rollup deltas, $7 event rollup deltas, $8 event definitions, $9 property definitions, each
#       sorted by key (the order their rows are locked in): a row's key, its values, then the account id.
#       $7's per-key totals (seg_key '') are also added up per bucket into event_totals (migration 052).
#   $10 the notices for live subscribers (text[])
#   $11 the events, as EVENT_COLUMNS (a temporary session id when negative), segmentation as a JSON object;
#       empty when the writer sends them by COPY instead (see writer._store)
#   $12 definitions of person properties, $13 person property values (gateway/ingest/people.py)
# A person's properties are its `person_properties` (migration 020), not a column of `devices`.
# Event counts saturate at bigint's maximum (each event counts at most 2**31 - 1, which 4 billion events in one
# yearly row would otherwise overflow, failing every later write to it); sums cannot overflow, as every value is
# at most 2**53 (gateway.input_values.MAX_MEASURE).
# Returns one row: the new sessions' ids in the order of $1 (for events sent by COPY), and the notices.
#
# A new device another transaction created after LOCK makes the statement fail (unique violation, after
# waiting for that transaction) and the batch is retried: rare, so there is no ON CONFLICT clause, which would
# cost a speculative insertion (an index probe and a second WAL record) for every row.
#
# A person's `updated_at` (and its property values') is STORE's statement_timestamp() (set here for updated rows,
# by the columns' defaults for inserted ones, migration 045), never now(): by then LOCK has given the transaction
# its id and its lock on `devices`, which lists of what changed since a time rely on to miss no write in
# progress (gateway/db/writes_in_progress.py).
STORE = f"""
WITH new_ids AS MATERIALIZED (
    SELECT t.temp_id, nextval(pg_get_serial_sequence('sessions', 'id')) AS id
    FROM unnest($1::bigint[]) AS t(temp_id)
), {STORE_DEFINITIONS_CTE}, session_rollups AS (
    INSERT INTO session_rollups AS r (account_id, product_id, dimension, grain, bucket, value, t, n, u, d, e)
    SELECT (x.r->>10)::bigint, (x.r->>0)::bigint, x.r->>1, x.r->>2, (x.r->>3)::timestamp, x.r->>4,
           (x.r->>5)::bigint, (x.r->>6)::bigint, (x.r->>7)::bigint, (x.r->>8)::bigint, (x.r->>9)::bigint
    FROM jsonb_array_elements($6::text::jsonb) WITH ORDINALITY AS x(r, o)
    ORDER BY x.o
    ON CONFLICT (product_id, dimension, grain, bucket, value) DO UPDATE
    SET t = r.t + EXCLUDED.t, n = r.n + EXCLUDED.n, u = r.u + EXCLUDED.u, d = r.d + EXCLUDED.d,
        e = r.e + EXCLUDED.e
), event_rollups AS (
    INSERT INTO event_rollups AS r (account_id, product_id, key, seg_key, grain, bucket, seg_value, c, s, dur)
    SELECT (x.r->>9)::bigint, (x.r->>0)::bigint, x.r->>1, x.r->>2, x.r->>3, (x.r->>4)::timestamp, x.r->>5,
           (x.r->>6)::bigint, (x.r->>7)::float8, (x.r->>8)::float8
    FROM jsonb_array_elements($7::text::jsonb) WITH ORDINALITY AS x(r, o)
    ORDER BY x.o
    ON CONFLICT (product_id, key, seg_key, grain, bucket, seg_value) DO UPDATE
    SET c = CASE WHEN r.c > 9223372036854775807 - EXCLUDED.c THEN 9223372036854775807 ELSE r.c + EXCLUDED.c END,
        s = r.s + EXCLUDED.s, dur = r.dur + EXCLUDED.dur
), event_totals AS (
    INSERT INTO event_totals AS r (account_id, product_id, grain, bucket, c, s, dur)
    SELECT (x.r->>9)::bigint, (x.r->>0)::bigint, x.r->>3, (x.r->>4)::timestamp,
           LEAST(sum((x.r->>6)::bigint), 9223372036854775807)::bigint, sum((x.r->>7)::float8),
           sum((x.r->>8)::float8)
    FROM jsonb_array_elements($7::text::jsonb) AS x(r)
    WHERE x.r->>2 = ''
    GROUP BY 1, 2, 3, 4
    ORDER BY 1, 2, 3, 4
    ON CONFLICT (account_id, product_id, grain, bucket) DO UPDATE
    SET c = CASE WHEN r.c > 9223372036854775807 - EXCLUDED.c THEN 9223372036854775807 ELSE r.c + EXCLUDED.c END,
        s = r.s + EXCLUDED.s, dur = r.dur + EXCLUDED.dur
), event_definitions AS (
    INSERT INTO event_definitions AS e (account_id, product_id, name, total, first_used, last_used)
    SELECT (x.r->>5)::bigint, (x.r->>0)::bigint, x.r->>1, (x.r->>2)::bigint, (x.r->>3)::timestamptz,
           (x.r->>4)::timestamptz
    FROM jsonb_array_elements($8::text::jsonb) WITH ORDINALITY AS x(r, o)
    ORDER BY x.o
    ON CONFLICT (product_id, name) DO UPDATE
    SET total = CASE WHEN e.total > 9223372036854775807 - EXCLUDED.total THEN 9223372036854775807
                     ELSE e.total + EXCLUDED.total END, first_used = LEAST(e.first_used, EXCLUDED.first_used),
        last_used = GREATEST(e.last_used, EXCLUDED.last_used), last_sent = now()
), property_definitions AS (
    INSERT INTO property_definitions AS p (account_id, product_id, scope, name, data_type, first_seen, last_seen)
    SELECT (x.r->>6)::bigint, (x.r->>0)::bigint, x.r->>1, x.r->>2, x.r->>3, (x.r->>4)::timestamptz,
           (x.r->>5)::timestamptz
    FROM jsonb_array_elements($9::text::jsonb) WITH ORDINALITY AS x(r, o)
    ORDER BY x.o
    ON CONFLICT (product_id, scope, name) DO UPDATE
    SET first_seen = LEAST(p.first_seen, EXCLUDED.first_seen),
        last_seen = GREATEST(p.last_seen, EXCLUDED.last_seen), last_sent = now()
), new_devices AS (
    INSERT INTO devices (id, account_id, product_id, device_key, first_seen, last_seen, os, os_version, device,
                         resolution, carrier, app_version, locale, country, city, location,
                         open_session_id, last_session_end, last_request_hash, last_begin_at, last_session_id)
    SELECT (x.r->>0)::bigint, (x.r->>20)::bigint, (x.r->>18)::bigint, x.r->>19, (x.r->>1)::timestamptz,
           (x.r->>2)::timestamptz, x.r->>3, x.r->>4, x.r->>5, x.r->>6, x.r->>7, x.r->>8, x.r->>9, x.r->>10,
           x.r->>11, x.r->>12, COALESCE(o.id, (x.r->>13)::bigint), (x.r->>14)::timestamptz,
           x.r->>15, (x.r->>16)::timestamptz, COALESCE(l.id, (x.r->>17)::bigint)
    FROM jsonb_array_elements($3::text::jsonb) WITH ORDINALITY AS x(r, o)
    LEFT JOIN new_ids AS o ON o.temp_id = (x.r->>13)::bigint
    LEFT JOIN new_ids AS l ON l.temp_id = (x.r->>17)::bigint
    ORDER BY x.o
), new_sessions AS (
    INSERT INTO sessions (id, account_id, product_id, device_id, started_at, duration, ended_at)
    SELECT i.id, (x.r->>1)::bigint, (x.r->>2)::bigint, (x.r->>3)::bigint, (x.r->>4)::timestamptz,
           (x.r->>5)::integer, (x.r->>6)::timestamptz
    FROM jsonb_array_elements($2::text::jsonb) AS x(r)
    JOIN new_ids AS i ON i.temp_id = (x.r->>0)::bigint
), new_events AS (
    -- in the document's order, so their ids are too (as with COPY); a JSON null segmentation is SQL NULL
    INSERT INTO events (account_id, product_id, device_id, session_id, key, count, sum, duration, segmentation,
                        occurred_at, path, title, referrer)
    SELECT (x.r->>0)::bigint, (x.r->>1)::bigint, (x.r->>2)::bigint, COALESCE(i.id, (x.r->>3)::bigint), x.r->>4,
           (x.r->>5)::integer, (x.r->>6)::float8, (x.r->>7)::float8, NULLIF(x.r->8, 'null'::jsonb),
           (x.r->>9)::timestamptz, x.r->>10, x.r->>11, x.r->>12
    FROM jsonb_array_elements($11::text::jsonb) WITH ORDINALITY AS x(r, o)
    LEFT JOIN new_ids AS i ON i.temp_id = (x.r->>3)::bigint
    ORDER BY x.o
), updated_devices AS (
    UPDATE devices AS d
    SET first_seen = (x.r->>1)::timestamptz, last_seen = (x.r->>2)::timestamptz, os = x.r->>3,
        os_version = x.r->>4, device = x.r->>5, resolution = x.r->>6, carrier = x.r->>7, app_version = x.r->>8,
        locale = x.r->>9, country = x.r->>10, city = x.r->>11, location = x.r->>12,
        open_session_id = COALESCE(o.id, (x.r->>13)::bigint), last_session_end = (x.r->>14)::timestamptz,
        last_request_hash = x.r->>15, last_begin_at = (x.r->>16)::timestamptz,
        last_session_id = COALESCE(l.id, (x.r->>17)::bigint), updated_at = statement_timestamp()
    FROM jsonb_array_elements($4::text::jsonb) WITH ORDINALITY AS x(r, o)
    LEFT JOIN new_ids AS o ON o.temp_id = (x.r->>13)::bigint
    LEFT JOIN new_ids AS l ON l.temp_id = (x.r->>17)::bigint
    WHERE d.id = (x.r->>0)::bigint
), updated_sessions AS (
    UPDATE sessions AS s
    SET duration = LEAST(s.duration::bigint + u.dd, 2147483647)::integer,
        ended_at = CASE WHEN u.set_end THEN u.ended_at ELSE s.ended_at END
    FROM (SELECT (x.r->>0)::bigint, (x.r->>1)::bigint, (x.r->>2)::timestamptz, (x.r->>3)::boolean
          FROM jsonb_array_elements($5::text::jsonb) AS x(r)) AS u(id, dd, ended_at, set_end)
    WHERE s.id = u.id
), {STORE_PROPERTIES_CTE}, notified AS (
    -- a CTE that modifies nothing runs only when read: the single row below reads it
    SELECT pg_notify('ingest', payload) FROM unnest($10::text[]) AS payload
)
SELECT ARRAY(SELECT i.id FROM new_ids AS i ORDER BY i.temp_id DESC) AS session_ids,
       (SELECT count(*) FROM notified) AS notices
"""
