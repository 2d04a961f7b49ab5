"""The SQL of a batch of web hits: two statements whatever the batch holds, in the batch's transaction.

PREPARE locks the batch's products (FOR KEY SHARE, as the engine's LOCK does), finds or adds its paths and
campaigns, and records its first visits; STORE writes the hits' events rows, the titles that changed and the
rollups, each rollup key once with the batch's sums (`rollups.RollupDeltas`). `rollups_of` sums stored hits
into the same rows in SQL (the seeding's statement).

Documents are JSON arrays of arrays, as in `gateway/ingest/sql.py`, read with `jsonb_array_elements`; each
upsert is sorted by its key, so concurrent batches lock shared rows in the same order.
"""

from __future__ import annotations

# $1 product ids; $2 paths: product_id, event, path, title, account_id (sorted, distinct); $3 campaigns:
# product_id, name, account_id (sorted, distinct); $4 visits: product_id, session (hex), path_key (hex), epoch,
# account_id (sorted, distinct).
# Rows: 'p' the products (o = id; id = account_id; text = status; tz = timezone), 'f' paths found (o = the
# ordinal in $2, id, text = its title), 'a' paths added (o, id), 'v' visits recorded (text = session ||
# path_key, hex): the first visits. Campaigns are added when new; their ids are read by the analytics.
# A path another transaction added after this statement's snapshot is neither found nor added: the writer asks
# for it again (MISSING_PATHS).
PREPARE = """
WITH p AS MATERIALIZED (
    SELECT id, account_id, status, timezone FROM products WHERE id = ANY($1::bigint[]) ORDER BY id FOR KEY SHARE
), want AS MATERIALIZED (
    SELECT x.o, (x.r->>0)::bigint AS product_id, (x.r->>1)::boolean AS event, x.r->>2 AS path, x.r->>3 AS title,
           (x.r->>4)::bigint AS account_id
    FROM jsonb_array_elements($2::text::jsonb) WITH ORDINALITY AS x(r, o)
    WHERE EXISTS (SELECT FROM p WHERE p.id = (x.r->>0)::bigint AND p.account_id = (x.r->>4)::bigint)
), found AS MATERIALIZED (
    SELECT w.o, t.id, t.title FROM want w
    JOIN web_paths t ON t.account_id = w.account_id AND t.product_id = w.product_id AND t.event = w.event
                    AND md5(t.path) = md5(w.path) AND t.path = w.path
), added AS (
    INSERT INTO web_paths AS t (account_id, product_id, path, event, title)
    SELECT w.account_id, w.product_id, w.path, w.event, w.title FROM want w
    WHERE NOT EXISTS (SELECT FROM found f WHERE f.o = w.o)
    ORDER BY w.o
    ON CONFLICT (account_id, product_id, event, md5(path)) DO NOTHING
    RETURNING t.id, t.product_id, t.event, t.path
), cwant AS MATERIALIZED (
    SELECT x.o, (x.r->>0)::bigint AS product_id, x.r->>1 AS name, (x.r->>2)::bigint AS account_id
    FROM jsonb_array_elements($3::text::jsonb) WITH ORDINALITY AS x(r, o)
    WHERE EXISTS (SELECT FROM p WHERE p.id = (x.r->>0)::bigint AND p.account_id = (x.r->>2)::bigint)
), cadded AS (
    INSERT INTO web_campaigns AS c (account_id, product_id, name)
    SELECT w.account_id, w.product_id, w.name FROM cwant w
    WHERE NOT EXISTS (
        SELECT FROM web_campaigns f WHERE f.account_id = w.account_id AND f.product_id = w.product_id AND f.name = w.name
    )
    ORDER BY w.o
    ON CONFLICT (account_id, product_id, name) DO NOTHING
), visits AS (
    INSERT INTO web_visits (account_id, product_id, session, path_key, epoch)
    SELECT (x.r->>4)::bigint, (x.r->>0)::bigint, decode(x.r->>1, 'hex'), decode(x.r->>2, 'hex'), (x.r->>3)::bigint
    FROM jsonb_array_elements($4::text::jsonb) WITH ORDINALITY AS x(r, o)
    WHERE EXISTS (SELECT FROM p WHERE p.id = (x.r->>0)::bigint AND p.account_id = (x.r->>4)::bigint)
    ORDER BY x.o
    ON CONFLICT (account_id, product_id, session, path_key) DO NOTHING
    RETURNING session, path_key
)
SELECT 'p' AS kind, p.id AS o, p.account_id AS id, p.status AS text, p.timezone AS tz FROM p
UNION ALL
SELECT 'f', f.o, f.id, f.title, NULL FROM found f
UNION ALL
SELECT 'a', w.o, a.id, NULL, NULL FROM added a
JOIN want w ON w.product_id = a.product_id AND w.event = a.event AND w.path = a.path
UNION ALL
SELECT 'v', NULL, NULL, encode(v.session, 'hex') || encode(v.path_key, 'hex'), NULL FROM visits v
"""

# The ids (and titles) of paths ($1 rows as in PREPARE's $2) that another transaction added while PREPARE ran (a
# fresh snapshot sees them). Rows: o (the ordinal in $1), id, title.
MISSING_PATHS = """
SELECT x.o, t.id, t.title
FROM jsonb_array_elements($1::text::jsonb) WITH ORDINALITY AS x(r, o)
JOIN web_paths t ON t.account_id = (x.r->>4)::bigint AND t.product_id = (x.r->>0)::bigint
                AND t.event = (x.r->>1)::boolean AND md5(t.path) = md5(x.r->>2) AND t.path = x.r->>2
"""

# The dimension keys one counted hit adds to (besides its path's and the site's totals): value, detail.
_PER_DAY = """
        ('referrer', h.referrer, h.scheme),
        ('browser', h.browser, h.browser_version),
        ('system', h.system, h.system_version),
        ('size', h.size, h.width),
        ('location', h.country, h.region),
        ('language', h.language, ''),
        ('campaign', h.campaign, h.referrer)"""


def rollups_of(hits: str) -> str:
    """The INSERT that adds the hits of `hits` (a relation named in the statement, or a parenthesised query,
    with the columns account_id, product_id, path_id, hour, day, kind, referrer, scheme, browser,
    browser_version, system, system_version, size, width, country, region, language, campaign, first_visit, bot)
    to web_rollups: each counted hit is one pageview (and a visitor when a first visit) of about twenty keys,
    summed by PostgreSQL, upserted in key order. The seeding (gateway/cli/seed_web.py) counts stored hits with
    it; the ingestion sums the same keys in memory (`rollups.RollupDeltas`, checked against this statement by
    tests/ingest/test_web_rollups.py)."""
    return f"""INSERT INTO web_rollups AS r (account_id, product_id, dimension, grain, path_id, bucket, value, detail,
                              pageviews, visitors)
    SELECT k.account_id, k.product_id, k.dimension, k.grain, k.path_id, k.bucket, k.value, k.detail, count(*),
           count(*) FILTER (WHERE k.first_visit)
    FROM (
        SELECT h.account_id, h.product_id, d.dimension, d.grain, d.path_id, d.bucket, d.value, d.detail,
               h.first_visit
        FROM {hits} AS h CROSS JOIN LATERAL (
            VALUES ('', 'h', h.path_id, h.hour, '', ''),
                   ('', 'd', h.path_id, h.day, '', ''),
                   ('', 'h', 0::bigint, h.hour, '', ''),
                   ('', 'd', 0::bigint, h.day, '', ''),
                   ('kind', 'h', 0::bigint, h.hour, h.kind, ''),
                   ('kind', 'd', 0::bigint, h.day, h.kind, '')
            UNION ALL
            SELECT v.dimension, 'd', s.path_id, h.day, v.value, v.detail
            FROM (VALUES (h.path_id), (0::bigint)) AS s(path_id)
            CROSS JOIN (VALUES{_PER_DAY}
            ) AS v(dimension, value, detail)
            WHERE v.dimension <> 'campaign' OR v.value <> ''
        ) AS d(dimension, grain, path_id, bucket, value, detail)
        WHERE h.bot = 0
    ) AS k
    GROUP BY k.account_id, k.product_id, k.dimension, k.grain, k.path_id, k.bucket, k.value, k.detail
    ORDER BY k.account_id, k.product_id, k.dimension, k.grain, k.path_id, k.bucket, k.value, k.detail
    ON CONFLICT (account_id, product_id, dimension, grain, path_id, bucket, value, detail) DO UPDATE
    SET pageviews = r.pageviews + EXCLUDED.pageviews, visitors = r.visitors + EXCLUDED.visitors"""


_UPSERT_ROLLUPS = """INSERT INTO web_rollups AS r (account_id, product_id, dimension, grain, path_id, bucket, value, detail,
                              pageviews, visitors)
    SELECT (x.r->>9)::bigint, (x.r->>0)::bigint, x.r->>1, x.r->>2, (x.r->>3)::bigint, (x.r->>4)::timestamp,
           x.r->>5, x.r->>6, (x.r->>7)::bigint, (x.r->>8)::bigint
    FROM jsonb_array_elements({param}::text::jsonb) WITH ORDINALITY AS x(r, o)
    ORDER BY x.o
    ON CONFLICT (account_id, product_id, dimension, grain, path_id, bucket, value, detail) DO UPDATE
    SET pageviews = r.pageviews + EXCLUDED.pageviews, visitors = r.visitors + EXCLUDED.visitors"""

# Everything a batch of web hits writes, in one statement. $1 the hits' events rows: account_id, product_id, key,
# occurred_at, path, title, referrer, web (the `events.web` object). $2 the paths' rollup rows and $3 the
# sites', each key once with its sums (`rollups.RollupDeltas.rows`: product_id, dimension, grain, path_id,
# bucket, value, detail, pageviews, visitors, account_id; each sorted by key). $4 titles to change: path id,
# title, account_id, product_id (sorted by id). $5 the notices for live subscribers. $6 the months the hits count
# in: account_id, product_id, month (local), ended (sorted): an ended month's version moves (migration 054).
#
# PostgreSQL runs the data-modifying CTEs that the main query does not read in the reverse of their order in
# the text (see the STORE of gateway/ingest/sql.py): the events first (rows no other batch writes), then the
# titles, the paths' rollups, the sites' rollups, which every concurrent batch of a site writes, and last the
# months; so a batch waits for another one only at the end of the statement, and every batch locks shared rows
# in the same order (paths' titles, paths' rollups, sites' rollups, ended months, each by key). A month that has
# not ended is only added once (no lock of an existing row).
STORE = f"""
WITH ended_months AS (
    INSERT INTO web_rollup_months AS m (account_id, product_id, month)
    SELECT (x.r->>0)::bigint, (x.r->>1)::bigint, (x.r->>2)::timestamp
    FROM jsonb_array_elements($6::text::jsonb) WITH ORDINALITY AS x(r, o)
    WHERE (x.r->>3)::boolean
    ORDER BY x.o
    ON CONFLICT (account_id, product_id, month) DO UPDATE SET version = m.version + 1
), open_months AS (
    INSERT INTO web_rollup_months (account_id, product_id, month)
    SELECT (x.r->>0)::bigint, (x.r->>1)::bigint, (x.r->>2)::timestamp
    FROM jsonb_array_elements($6::text::jsonb) WITH ORDINALITY AS x(r, o)
    WHERE NOT (x.r->>3)::boolean
    ORDER BY x.o
    ON CONFLICT (account_id, product_id, month) DO NOTHING
), site_rollups AS (
    {_UPSERT_ROLLUPS.format(param="$3")}
), path_rollups AS (
    {_UPSERT_ROLLUPS.format(param="$2")}
), retitled AS (
    UPDATE web_paths AS t SET title = x.r->>1
    FROM jsonb_array_elements($4::text::jsonb) AS x(r)
    WHERE t.account_id = (x.r->>2)::bigint AND t.product_id = (x.r->>3)::bigint AND t.id = (x.r->>0)::bigint
), new_events AS (
    INSERT INTO events (account_id, product_id, key, count, occurred_at, path, title, referrer, web)
    SELECT (x.r->>0)::bigint, (x.r->>1)::bigint, x.r->>2, 1, (x.r->>3)::timestamptz, x.r->>4, x.r->>5, x.r->>6,
           x.r->7
    FROM jsonb_array_elements($1::text::jsonb) WITH ORDINALITY AS x(r, o)
    ORDER BY x.o
), notified AS (
    SELECT pg_notify('ingest', payload) FROM unnest($5::text[]) AS payload
)
SELECT (SELECT count(*) FROM notified) AS notices
"""
