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

Both statements keep a generic plan (`KeptPlan`): planning them for their values cost 1-2 ms of PostgreSQL's
6-9 ms, and their generic plans read the same index ranges (the rollups' primary key, from the product).
"""

from __future__ import annotations

from gateway.db import KeptPlan
from resolvers.analytics.sql import ANY_GRAIN_FILTER, EVENT_ROWS

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


def _tree(no_values: str) -> str:
    """From `leaves` (product_id, grain, bucket, vkey, letters) to one row per product (`trees`).

    `no_values`: a condition on the parameters alone that holds when no leaf has a value; the buckets' letters
    are then the nodes as they are, without joining them to their (absent) values. (With a plan made for
    each execution, PostgreSQL runs only the branch whose condition holds.)
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
days AS (
"""
        + _level(
            "d",
            "day",
            "SELECT product_id, bucket, date_part('hour', bucket)::int::text AS key, node, 0 AS kind "
            "FROM nodes WHERE grain = 'h'",
        )
        + """
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


# $1 account, $2 product, $3 since, $4 until, $5 grains of the totals ('{}': none), $6 grains of the metric
# values, $7 dimensions of the metric values: (_product, tree, metric_values), the last a JSON object of the
# distinct values stored per dimension (as sent, zero rows included)
SESSION_ROLLUP_TREE = KeptPlan(
    """
WITH stored AS (
  SELECT r.product_id, r.grain, r.bucket, r.dimension, r.value, r.t, r.n, r.u, r.letters
  FROM session_rollups r
  JOIN products p ON p.id = r.product_id AND p.account_id = $1
  WHERE r.account_id = $1 AND r.product_id = ANY($2::bigint[])
    AND r.dimension = '' AND r.grain = ANY($5::bpchar[])
"""
    + ANY_GRAIN_FILTER
    + """
  UNION ALL
  SELECT r.product_id, r.grain, r.bucket, r.dimension, r.value, r.t, r.n, r.u, NULL
  FROM session_rollups r
  JOIN products p ON p.id = r.product_id AND p.account_id = $1
  WHERE r.account_id = $1 AND r.product_id = ANY($2::bigint[])
    AND r.dimension = ANY($7::text[]) AND r.dimension <> '' AND r.grain = ANY($6::bpchar[])
"""
    + ANY_GRAIN_FILTER
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
    + _tree("cardinality($7::text[]) = 0")
    + """,
found AS (
  SELECT product_id, json_object_agg(dimension, vals)::text AS metric_values
  FROM (
    SELECT product_id, dimension, array_agg(DISTINCT value) AS vals
    FROM stored WHERE dimension <> '' GROUP BY 1, 2
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
    """
WITH stored AS (
  SELECT r.product_id, r.grain, r.bucket, r.seg_value, r.c, r.s, r.dur, r.letters"""
    + EVENT_ROWS
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
    + _tree("$7 = ''")
    + """,
found AS (
  SELECT product_id, array_agg(DISTINCT seg_value) AS segments FROM stored WHERE $7 <> '' GROUP BY 1
)
SELECT product_id AS _product, trees.tree, found.segments
FROM trees FULL JOIN found USING (product_id)
"""
)
