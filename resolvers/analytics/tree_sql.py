"""The SQL of the calendar trees: stored rollup buckets nested year → month → day → hour as JSON text.

A Countly time document holds about 2,000 buckets. Nested in Python, each bucket cost the gateway's one
process a few microseconds of object building after asyncpg had decoded it; written by PostgreSQL as text,
the gateway receives one string. The statements read the same rows as `SESSION_ROLLUP_COLUMNS` and
`EVENT_ROLLUP_COLUMNS` (same filters, same parameters), then:

- `leaves`: one row per (grain, bucket, value key) with its letters as JSON members (`"t":3,"u":2`), zero
  counts left out; weeks keep unique users only; metric values are summed per key once dots became `:`.
  Rows used as they are (session totals, one event key's totals) bring the letters stored with them
  (`letters`, a generated column: migration 009); summed rows get the same text written here.
- `nodes`: per (grain, bucket), the bucket's own letters, then its value keys in byte order (`valued`).
- days take their hours, months their days, years their months then their weeks (`w<N>`, N the Countly week
  `ceil(day of year / 7)` of the week's first day), the document its years.

In a node's text the letters come first, then the value keys, then the time keys, so that a JSON reader keeps
a value named like a letter (`"t"`) over the letter and a time key over a value named like it (an OS
version `"10"` beside the month `"10"`). Every value is parameterised; only fixed SQL is joined here.

Each whole day of the period that has ended in the product's time zone is rendered once and kept as text
(`tree_day_fragments`, migration 010), with the version of its rollup rows that the read saw; later reads use
the text while that version stands, and render only today, the partial days at the period's ends, the days
whose rows changed since (late data) and the weeks, months and years. A sessions document on the 10M-event
set fell from about 6 to 1.2 ms of PostgreSQL time. The versions move in the same transaction as the rows,
by triggers on the rollup tables, whatever statement changes them (see the migration).

Both statements keep a generic plan (`KeptPlan`): planning them for their values cost 1-2 ms of PostgreSQL's
6-9 ms, and their generic plans read the same index ranges (the rollups' primary key, from the product).
"""

from __future__ import annotations

from gateway.db.pool import KeptPlan
from resolvers.analytics.sql import overlaps

# a whole float as an integer below 2**53 (as JavaScript prints it), any other float as PostgreSQL's shortest text
_FLOAT_MEMBER = (
    "CASE WHEN {x} = trunc({x}) AND abs({x}) < 9007199254740992 THEN {x}::bigint::text ELSE {x}::text END"
)


def _member(letter: str, expression: str, text: str | None = None) -> str:
    """`"letter":amount` when the amount is not zero, else NULL (which concat_ws skips)."""
    return f"CASE WHEN {expression} <> 0 THEN '\"{letter}\":' || {text or expression} END"


def _letters(members: list[str]) -> str:
    return "concat_ws(',', " + ", ".join(members) + ")"


def _session_letters(letters: str) -> str:
    """The letters of a session row: unique users only for weeks; one `concat` when no count is zero."""
    weeks = _member("u", "u")
    full = (
        "concat("
        + ", ".join(f"'{',' if i else ''}\"{letter}\":', {letter}" for i, letter in enumerate(letters))
        + ")"
    )
    nonzero = " AND ".join(f"{letter} <> 0" for letter in letters)
    others = _letters([_member(letter, letter) for letter in letters])
    return f"CASE WHEN grain = 'w' THEN {weeks} WHEN {nonzero} THEN {full} ELSE {others} END"


def _float(expression: str) -> str:
    return _FLOAT_MEMBER.format(x=expression)


# the letters of a row of sums (columns t n u d e / c s dur); a totals row keeps the same text in its `letters`
# column (migration 009), which the trees read for the rows they do not sum
SESSION_LETTERS = _session_letters("tnude")
VALUE_LETTERS = _session_letters("tnu")
EVENT_LETTERS = _letters(
    [_member("c", "c"), _member("s", "s", _float("s")), _member("dur", "dur", _float("dur"))]
)


def _level(grain: str, unit: str, children: str) -> str:
    """The nodes of a calendar unit: each one's own node (its bucket at `grain`, if stored) followed by its
    children, whose rows are (product_id, bucket, key, node, kind), in order of kind then bucket."""
    return f"""  SELECT product_id, bucket, concat_ws(',', own.node, kids.node) AS node
  FROM (SELECT product_id, bucket, node FROM nodes WHERE grain = '{grain}') own
  FULL JOIN (
    SELECT product_id, date_trunc('{unit}', bucket) AS bucket,
           string_agg('"' || key || '":{{' || node || '}}', ',' ORDER BY kind, bucket) AS node
    FROM ({children}) children (product_id, bucket, key, node, kind)
    GROUP BY 1, 2
  ) kids USING (product_id, bucket)"""


# the grains of $N at or above a week, and at or below a day (an InitPlan each: the primary key narrows by them)
def _coarse(grains: str) -> str:
    return f"ARRAY(SELECT g FROM unnest({grains}::bpchar[]) g WHERE g IN ('y', 'm', 'w'))"


def _fine(grains: str) -> str:
    return f"ARRAY(SELECT g FROM unnest({grains}::bpchar[]) g WHERE g IN ('d', 'h'))"


# the row's bucket overlaps the period (one of a coarse grain may start a year before it, a fine one a day)
_OVERLAPS = overlaps("p.since", "p.until")
_FINE_OVERLAPS = overlaps("p.since", "p.until", "1 day")


# the most recent days of a period that may be kept: a year-long period and the one before it, at most
KEPT_DAYS = 800


def _calendar(kind: str, variant: str) -> str:
    """The CTEs that decide which days come from kept fragments (migration 010).

    - `prod`: the caller's products $2 with the period in their local time, and the days that may be kept:
      [`kept_from`, `kept_until`), the whole days of the period that have ended in the product's time zone,
      at most KEPT_DAYS of them, the most recent. The days before and after are always rendered from the
      rollups (one index range each; they are empty when the period fits).
    - `calendar`: those days, each with its version.
    - `cached`: the days whose fragment has the day's version; `live`: the others, rendered from the rollups
      and kept (`filled`, in `_tree`).
    """
    return f"""WITH local AS MATERIALIZED (
  SELECT p.id AS product_id, $3::timestamptz AT TIME ZONE p.timezone AS since,
         $4::timestamptz AT TIME ZONE p.timezone AS until, now() AT TIME ZONE p.timezone AS now
  FROM products p
  WHERE p.account_id = $1 AND p.id = ANY($2::bigint[])
),
prod AS MATERIALIZED (
  SELECT product_id, since, until, kept_until,
         least(greatest(first, kept_until - interval '{KEPT_DAYS} days'), kept_until) AS kept_from
  FROM (
    SELECT product_id, since, until,
           CASE WHEN since = date_trunc('day', since) THEN since
                ELSE date_trunc('day', since) + interval '1 day' END AS first,
           least(date_trunc('day', until), date_trunc('day', now)) AS kept_until
    FROM local
  ) bounds
),
calendar AS MATERIALIZED (
  SELECT prod.product_id, g.day, coalesce(v.version, 0) AS version
  FROM prod
  CROSS JOIN LATERAL generate_series(
    CASE WHEN prod.kept_from < prod.kept_until THEN prod.kept_from END, prod.kept_until - interval '1 day',
    interval '1 day'
  ) AS g(day)
  LEFT JOIN tree_day_versions v
    ON v.product_id = prod.product_id AND v.kind = '{kind}' AND v.day = g.day AND v.account_id = $1
),
cached AS MATERIALIZED (
  SELECT c.product_id, c.day, f.node, f.found_dimensions, f.found_values
  FROM calendar c
  JOIN tree_day_fragments f
    ON f.product_id = c.product_id AND f.variant = {variant} AND f.day = c.day AND f.version = c.version
   AND f.account_id = $1
),
live AS MATERIALIZED (
  SELECT c.product_id, c.day, c.version
  FROM calendar c
  WHERE NOT EXISTS (SELECT FROM cached k WHERE k.product_id = c.product_id AND k.day = c.day)
)"""


def _tree(no_values: str, variant: str, day_found: str) -> str:
    """From `leaves` (product_id, grain, bucket, vkey, letters) of the live days and the coarse grains, and the
    `cached` days' text, to one row per product (`trees`); the `live` days are kept (`filled`).

    `no_values`: a condition on the parameters alone that holds when no leaf has a value; the buckets' letters
    are then the nodes as they are, without joining them to their (absent) values. `day_found`: the distinct
    (dimension, value) of the live days' daily and hourly rows, as (product_id, day, dimension, value).
    """
    return (
        """,
valued AS (
  SELECT product_id, grain, bucket,
         string_agg(to_json(vkey)::text || ':{' || letters || '}', ',' ORDER BY vkey COLLATE "C") AS node
  FROM leaves
  WHERE vkey IS NOT NULL AND letters <> ''
  GROUP BY product_id, grain, bucket
),
nodes AS (
  SELECT product_id, grain, bucket, letters AS node
  FROM leaves
  WHERE """
        + no_values
        + """ AND letters <> ''
  UNION ALL
  SELECT product_id, grain, bucket, concat_ws(',', own.letters, valued.node)
  FROM (SELECT product_id, grain, bucket, letters FROM leaves WHERE vkey IS NULL AND letters <> '') own
  FULL JOIN valued USING (product_id, grain, bucket)
  WHERE NOT ("""
        + no_values
        + """)
),
rendered AS (
"""
        + _level(
            "d",
            "day",
            "SELECT product_id, bucket, date_part('hour', bucket)::int::text AS key, node, 0 AS kind "
            "FROM nodes WHERE grain = 'h'",
        )
        + """
),
filled AS (
  INSERT INTO tree_day_fragments AS f (
    account_id, product_id, variant, day, version, node, found_dimensions, found_values
  )
  SELECT $1, l.product_id, """
        + variant
        + """, l.day, l.version, rendered.node, found.dimensions, found.values
  FROM live l
  LEFT JOIN rendered ON rendered.product_id = l.product_id AND rendered.bucket = l.day
  LEFT JOIN (
    SELECT product_id, day, array_agg(dimension ORDER BY dimension, value) AS dimensions,
           array_agg(value ORDER BY dimension, value) AS values
    FROM ("""
        + day_found
        + """) day_found (product_id, day, dimension, value)
    GROUP BY 1, 2
  ) found ON found.product_id = l.product_id AND found.day = l.day
  ORDER BY l.product_id, l.day
  ON CONFLICT (product_id, variant, day) DO UPDATE
    SET version = excluded.version, node = excluded.node, found_dimensions = excluded.found_dimensions,
        found_values = excluded.found_values, kept_at = excluded.kept_at
    WHERE f.version < excluded.version
),
days AS (
  SELECT product_id, bucket, node FROM rendered
  UNION ALL
  SELECT product_id, day, node FROM cached WHERE node IS NOT NULL
),
months AS (
"""
        + _level(
            "m", "month", "SELECT product_id, bucket, date_part('day', bucket)::int::text, node, 0 FROM days"
        )
        + """
),
years AS (
"""
        + _level(
            "y",
            "year",
            "SELECT product_id, bucket, date_part('month', bucket)::int::text, node, 0 FROM months "
            "UNION ALL SELECT product_id, bucket, 'w' || ceil(date_part('doy', bucket) / 7)::int, node, 1 "
            "FROM nodes WHERE grain = 'w'",
        )
        + """
),
trees AS (
  SELECT product_id,
         '{' || string_agg('"' || date_part('year', bucket)::int || '":{' || node || '}', ',' ORDER BY bucket)
             || '}' AS tree
  FROM years GROUP BY product_id
)
"""
    )


def _rows(table: str, columns: str, where: str, grains: str) -> str:
    """`table`'s rows matching `where` and overlapping the period: at the coarse `grains`, then at the fine
    ones in the live days (one index range per day) and before and after the days that may be kept."""
    return f"""  SELECT {columns}
  FROM prod p
  JOIN {table} r ON r.product_id = p.product_id
  WHERE r.account_id = $1 AND {where} AND r.grain = ANY({_coarse(grains)}) AND {_OVERLAPS}
  UNION ALL
  SELECT {columns}
  FROM live l
  JOIN prod p ON p.product_id = l.product_id
  JOIN {table} r ON r.product_id = l.product_id AND r.bucket >= l.day AND r.bucket < l.day + interval '1 day'
  WHERE r.account_id = $1 AND {where} AND r.grain = ANY({_fine(grains)})""" + "".join(
        # one branch each (not an OR): each is one range of the primary key
        f"""
  UNION ALL
  SELECT {columns}
  FROM prod p
  JOIN {table} r ON r.product_id = p.product_id
  WHERE r.account_id = $1 AND {where} AND r.grain = ANY({_fine(grains)}) AND {_FINE_OVERLAPS}
    AND {outside}"""
        for outside in ("r.bucket < p.kept_from", "r.bucket >= p.kept_until")
    )


def _set(array: str) -> str:
    """The distinct elements of `array` in order, as text (`{}` when none): a day's text depends on neither
    their order nor repeats. Array text is brace-delimited, so the joined variants cannot run into each other."""
    return f"coalesce((SELECT array_agg(DISTINCT x ORDER BY x) FROM unnest({array}) x)::text, '{{}}')"


# The text of a kept day is the text this code renders: change TEXT_VERSION with anything that renders a day
# differently (letters, keys, order), and days kept by the former code are no longer used.
TEXT_VERSION = 1

# what a kept day's text depends on besides the day: the code, the tree's kind and the arguments that shape it
_SESSION_VARIANT = (
    f"md5(concat_ws('|', 's{TEXT_VERSION}', {_set('$5::bpchar[]')}, {_set('$6::bpchar[]')}, "
    f"{_set('$7::text[]')}))"
)
_EVENT_VARIANT = (
    f"md5(concat_ws('|', 'e{TEXT_VERSION}', {_set('$5::bpchar[]')}, {_set('$6::text[]')}, $7::text))"
)

# $1 account, $2 product, $3 since, $4 until, $5 grains of the totals ('{}': none), $6 grains of the metric
# values, $7 dimensions of the metric values: (_product, tree, metric_values), the last a JSON object of the
# distinct values stored per dimension (as sent, zero rows included)
SESSION_ROLLUP_TREE = KeptPlan(
    _calendar("s", _SESSION_VARIANT)
    + """,
stored AS (
"""
    + _rows(
        "session_rollups",
        "r.product_id, r.grain, r.bucket, r.dimension, r.value, r.t, r.n, r.u, r.letters",
        "r.dimension = ''",
        "$5",
    )
    + """
  UNION ALL
"""
    + _rows(
        "session_rollups",
        "r.product_id, r.grain, r.bucket, r.dimension, r.value, r.t, r.n, r.u, NULL",
        "r.dimension = ANY($7::text[]) AND r.dimension <> ''",
        "$6",
    )
    + """
),
leaves AS (
  SELECT product_id, grain, bucket, NULL::text AS vkey, letters
  FROM stored WHERE dimension = ''
  UNION ALL
  SELECT product_id, grain, bucket, vkey, """
    + VALUE_LETTERS
    + """
  FROM (
    SELECT product_id, grain, bucket, replace(value, '.', ':') AS vkey, sum(t) AS t, sum(n) AS n, sum(u) AS u
    FROM stored WHERE dimension <> '' GROUP BY 1, 2, 3, 4
  ) summed
)"""
    + _tree(
        "cardinality($7::text[]) = 0",
        _SESSION_VARIANT,
        "SELECT DISTINCT product_id, date_trunc('day', bucket), dimension, value "
        "FROM stored WHERE dimension <> '' AND grain IN ('d', 'h')",
    )
    + """,
found AS (
  SELECT product_id, json_object_agg(dimension, vals)::text AS metric_values
  FROM (
    SELECT product_id, dimension, array_agg(DISTINCT value) AS vals
    FROM (
      SELECT product_id, dimension, value FROM stored WHERE dimension <> ''
      UNION ALL
      SELECT c.product_id, x.dimension, x.value
      FROM cached c CROSS JOIN LATERAL unnest(c.found_dimensions, c.found_values) AS x(dimension, value)
    ) every_value
    GROUP BY 1, 2
  ) per_dimension
  GROUP BY product_id
)
SELECT product_id AS _product, trees.tree, found.metric_values
FROM trees FULL JOIN found USING (product_id)
"""
)

# $1 account, $2 product, $3 since, $4 until, $5 grains, $6 keys, $7 segmentation key ('' = per-key totals):
# (_product, tree, segments): the keys' buckets summed, per segmentation value when one is given
EVENT_ROLLUP_TREE = KeptPlan(
    _calendar("e", _EVENT_VARIANT)
    + """,
stored AS (
"""
    + _rows(
        "event_rollups",
        "r.product_id, r.grain, r.bucket, r.seg_value, r.c, r.s, r.dur, r.letters",
        "r.key = ANY($6::text[]) AND r.seg_key = $7",
        "$5",
    )
    + """
),
leaves AS (
  -- one key without segmentation: one row per bucket already, its letters stored with it
  SELECT product_id, grain, bucket, NULL::text AS vkey, letters
  FROM stored WHERE cardinality($6::text[]) = 1 AND $7 = ''
  UNION ALL
  SELECT product_id, grain, bucket, vkey, """
    + EVENT_LETTERS
    + """
  FROM (
    SELECT product_id, grain, bucket, CASE WHEN $7 = '' THEN NULL ELSE replace(seg_value, '.', ':') END AS vkey,
           sum(c) AS c, sum(s) AS s, sum(dur) AS dur
    FROM stored WHERE NOT (cardinality($6::text[]) = 1 AND $7 = '') GROUP BY 1, 2, 3, 4
  ) summed
)"""
    + _tree(
        "$7 = ''",
        _EVENT_VARIANT,
        "SELECT DISTINCT product_id, date_trunc('day', bucket), NULL::text, seg_value "
        "FROM stored WHERE $7 <> '' AND grain IN ('d', 'h')",
    )
    + """,
found AS (
  SELECT product_id, array_agg(DISTINCT seg_value) AS segments
  FROM (
    SELECT product_id, seg_value FROM stored WHERE $7 <> ''
    UNION ALL
    SELECT c.product_id, x.seg_value FROM cached c CROSS JOIN LATERAL unnest(c.found_values) AS x(seg_value)
  ) every_value
  GROUP BY 1
)
SELECT product_id AS _product, trees.tree, found.segments
FROM trees FULL JOIN found USING (product_id)
"""
)
