"""The SQL of the analytics reads; parameterised, every statement filtered by account AND products.

`$2` is always an array of product ids and every row names its product (`_product`), so that one statement
answers the same read for all the products of a request (see `batching.py`).

`$since` / `$until` are timestamptz and are turned into the product's local time in SQL, because the rollup
buckets are local times. A bucket is returned when it overlaps [since, until).
"""

from __future__ import annotations

# the end of a bucket: weeks end early at the end of the year (Countly's w53 is one or two days long)
_BUCKET_FILTER = """
  AND r.bucket < ($4::timestamptz AT TIME ZONE p.timezone)
  AND r.bucket > ($3::timestamptz AT TIME ZONE p.timezone) - $6::text::interval
  AND CASE WHEN r.grain = 'w'
           THEN LEAST(r.bucket + interval '7 days', date_trunc('year', r.bucket) + interval '1 year')
           ELSE r.bucket + $6::text::interval END > ($3::timestamptz AT TIME ZONE p.timezone)
"""

# $1 account, $2 product, $3 since, $4 until, $5 grain, $6 grain interval, $7 dimension
SESSION_SERIES = (
    """
SELECT r.product_id AS _product, r.bucket, r.value, r.t, r.n, r.u, r.d, r.e
FROM session_rollups r
JOIN products p ON p.id = r.product_id AND p.account_id = $1
WHERE r.account_id = $1 AND r.product_id = ANY($2::bigint[]) AND r.dimension = $7 AND r.grain = $5
"""
    + _BUCKET_FILTER
    + """
ORDER BY r.bucket, r.value
"""
)

# every event key of the products $2: from the yearly per-key rows (a few per key), so that a read of "every
# key" still narrows the primary key (product, key, ...) key by key instead of reading all of a product's rows
EVERY_KEY = """ARRAY(
    SELECT DISTINCT k.key FROM event_rollups k
    WHERE k.account_id = $1 AND k.product_id = ANY($2::bigint[]) AND k.grain = 'y' AND k.seg_key = ''
  )"""


def _event_series(key_condition: str, merged: bool = False) -> str:
    columns = "r.key, r.seg_value, r.bucket, r.c, r.s, r.dur"
    grouped = "ORDER BY r.key, r.bucket, r.seg_value"
    if merged:
        # the keys summed per bucket (and value): one row a bucket instead of one a key and bucket
        columns = "'' AS key, r.seg_value, r.bucket, sum(r.c)::bigint AS c, sum(r.s)::float8 AS s, sum(r.dur)::float8 AS dur"
        grouped = "GROUP BY r.product_id, r.bucket, r.seg_value\nORDER BY r.bucket, r.seg_value"
    return (
        f"""
SELECT r.product_id AS _product, {columns}
FROM event_rollups r
JOIN products p ON p.id = r.product_id AND p.account_id = $1
WHERE r.account_id = $1 AND r.product_id = ANY($2::bigint[]) AND {key_condition} AND r.seg_key = $8 AND r.grain = $5
"""
        + _BUCKET_FILTER
        + grouped
        + "\n"
    )


_KEYS_ASKED = "r.key = ANY($7::text[])"
# every key of the products ($7 is null and unused)
_EVERY_KEY = f"r.key = ANY({EVERY_KEY}) AND $7::text[] IS NULL"
# $1 account, $2 product, $3 since, $4 until, $5 grain, $6 grain interval, $7 keys, $8 segmentation key
EVENT_SERIES = _event_series(_KEYS_ASKED)
EVENT_SERIES_EVERY_KEY = _event_series(_EVERY_KEY)
# the same with the keys summed (key '')
EVENT_SERIES_MERGED = _event_series(_KEYS_ASKED, merged=True)
EVENT_SERIES_EVERY_KEY_MERGED = _event_series(_EVERY_KEY, merged=True)

# $1 account, $2 product, $3 since, $4 until, $5 grain, $6 grain interval: every key summed per bucket, as
# EVENT_SERIES_EVERY_KEY_MERGED without a segmentation key, from the totals the ingestion keeps (migration 052):
# one row a bucket instead of one a key and bucket
EVENT_TOTALS_SERIES = (
    """
SELECT r.product_id AS _product, '' AS key, '' AS seg_value, r.bucket, r.c, r.s, r.dur
FROM event_totals r
JOIN products p ON p.id = r.product_id AND p.account_id = $1
WHERE r.account_id = $1 AND r.product_id = ANY($2::bigint[]) AND r.grain = $5
"""
    + _BUCKET_FILTER
    + "ORDER BY r.bucket\n"
)

# keys and segmentation values, from the yearly rollup rows
EVENT_KEYS = """
SELECT DISTINCT r.product_id AS _product, r.key, r.seg_key, r.seg_value
FROM event_rollups r
WHERE r.account_id = $1 AND r.product_id = ANY($2::bigint[]) AND r.grain = 'y'
ORDER BY r.product_id, r.key, r.seg_key, r.seg_value
"""


# the end of a bucket of any grain (weeks end early at the end of the year)
_ANY_GRAIN_END = """
CASE r.grain
  WHEN 'h' THEN r.bucket + interval '1 hour'
  WHEN 'd' THEN r.bucket + interval '1 day'
  WHEN 'w' THEN LEAST(r.bucket + interval '7 days', date_trunc('year', r.bucket) + interval '1 year')
  WHEN 'm' THEN r.bucket + interval '1 month'
  ELSE r.bucket + interval '1 year'
END
"""


def overlaps(since: str, until: str, reach: str = "1 year") -> str:
    """Buckets of several grains overlapping [`since`, `until`) (local times, SQL expressions). `reach`: how
    long before `since` the longest of the grains may start; the lower bound keeps the (grain, bucket) index
    usable."""
    return f"""r.bucket < {until}
  AND r.bucket > {since} - interval '{reach}'
  AND {_ANY_GRAIN_END.strip()} > {since}"""


# buckets of several grains overlapping [$3, $4). The grains are compared as bpchar[], the column's own type:
# against text[] the column is cast per row and the primary key cannot narrow by grain (a per-metric read then
# visits every hourly row and drops it).
ANY_GRAIN_FILTER = (
    "\n  AND "
    + overlaps("($3::timestamptz AT TIME ZONE p.timezone)", "($4::timestamptz AT TIME ZONE p.timezone)")
    + "\n"
)

# the stored rows of the account's products $2 at grains $5 overlapping [$3, $4): of dimensions $6 ('' = the
# totals) for sessions, of keys $6 and segmentation key $7 ('' = per-key totals) for events
SESSION_ROWS = (
    """
FROM session_rollups r
JOIN products p ON p.id = r.product_id AND p.account_id = $1
WHERE r.account_id = $1 AND r.product_id = ANY($2::bigint[])
  AND r.dimension = ANY($6::text[]) AND r.grain = ANY($5::bpchar[])
"""
    + ANY_GRAIN_FILTER
)
EVENT_ROWS = (
    """
FROM event_rollups r
JOIN products p ON p.id = r.product_id AND p.account_id = $1
WHERE r.account_id = $1 AND r.product_id = ANY($2::bigint[])
  AND r.key = ANY($6::text[]) AND r.seg_key = $7 AND r.grain = ANY($5::bpchar[])
"""
    + ANY_GRAIN_FILTER
)

# $1 account, $2 product, $3 range starts, $4 range ends (local midnights), $5 dimensions: the day rows of each
# metric value summed per range (numbered from 1), so that a dashboard's six periods cost one small result
SESSION_VALUE_RANGE_TOTALS = """
SELECT r.product_id AS _product, g.i AS range, r.dimension, r.value,
       sum(r.t)::bigint AS t, sum(r.n)::bigint AS n, sum(r.u)::bigint AS u
FROM unnest($3::timestamp[], $4::timestamp[]) WITH ORDINALITY AS g(since, until, i)
JOIN session_rollups r ON r.bucket >= g.since AND r.bucket < g.until
WHERE r.account_id = $1 AND r.product_id = ANY($2::bigint[])
  AND r.dimension = ANY($5::text[]) AND r.grain = 'd'
GROUP BY r.product_id, g.i, r.dimension, r.value
"""

# $1 account, $2 product, $3 range starts, $4 range ends (local midnights): the day totals of every event key
# (migration 052) summed per range (numbered from 1)
EVENT_RANGE_TOTALS = """
SELECT r.product_id AS _product, g.i AS range,
       LEAST(sum(r.c), 9223372036854775807)::bigint AS c, sum(r.s)::float8 AS s, sum(r.dur)::float8 AS dur
FROM unnest($3::timestamp[], $4::timestamp[]) WITH ORDINALITY AS g(since, until, i)
JOIN event_totals r ON r.bucket >= g.since AND r.bucket < g.until
WHERE r.account_id = $1 AND r.product_id = ANY($2::bigint[]) AND r.grain = 'd'
GROUP BY r.product_id, g.i
"""

# $1 account, $2 product, $3 since, $4 until, $5 grains, $6 dimensions ('' = the totals)
SESSION_ROLLUPS = (
    """
SELECT r.product_id AS _product, r.grain, r.bucket, r.dimension, r.value, r.t, r.n, r.u, r.d, r.e
"""
    + SESSION_ROWS
    + """
ORDER BY r.grain, r.bucket, r.dimension, r.value
"""
)

# $1 account, $2 product, $3 since, $4 until, $5 grains, $6 keys, $7 segmentation key ('' = per-key totals)
EVENT_ROLLUPS = (
    """
SELECT r.product_id AS _product, r.key, r.grain, r.bucket, r.seg_value, r.c, r.s, r.dur
"""
    + EVENT_ROWS
    + """
ORDER BY r.key, r.grain, r.bucket, r.seg_value
"""
)


def _columns(order: str, columns: list[tuple[str, str]]) -> str:
    """One array per column, all in the same order (PostgreSQL sorts the rows once for all of them)."""
    return ",\n".join(f"  array_agg({expression} ORDER BY {order}) AS {name}" for name, expression in columns)


# bucket starts as local wall-clock text ('2026-11-23T14:00:00'): formatted in SQL, not per bucket in Python
_BUCKET_TEXT = "to_char(r.bucket, 'YYYY-MM-DD\"T\"HH24:MI:SS')"

# SESSION_ROLLUPS as one row of arrays per product (same arguments, same order of buckets)
SESSION_ROLLUP_COLUMNS = (
    "SELECT r.product_id AS _product,\n"
    + _columns(
        "r.grain, r.bucket, r.dimension, r.value",
        [
            ("grains", "r.grain"),
            ("buckets", _BUCKET_TEXT),
            ("dimensions", "r.dimension"),
            ("vals", "r.value"),
            ("t", "r.t"),
            ("n", "r.n"),
            ("u", "r.u"),
            ("d", "r.d"),
            ("e", "r.e"),
        ],
    )
    + """
"""
    + SESSION_ROWS
    + """
GROUP BY r.product_id
"""
)

# EVENT_ROLLUPS as one row of arrays per product (same arguments, same order of buckets)
EVENT_ROLLUP_COLUMNS = (
    "SELECT r.product_id AS _product,\n"
    + _columns(
        "r.key, r.grain, r.bucket, r.seg_value",
        [
            ("keys", "r.key"),
            ("grains", "r.grain"),
            ("buckets", _BUCKET_TEXT),
            ("segments", "r.seg_value"),
            ("c", "r.c"),
            ("s", "r.s"),
            ("dur", "r.dur"),
        ],
    )
    + """
"""
    + EVENT_ROWS
    + """
GROUP BY r.product_id
"""
)
