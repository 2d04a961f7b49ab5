"""The SQL of the web analytics reads: every statement reads `web_rollups` (never the hits; but
`RECENT_VISITORS`, the sessions of the last hour at most, for live views), is scoped to the caller's account, and answers one read for every product of a request at once (`$2` is an array of product ids
and each row names its product in `_product`; see `resolvers/analytics/batching.py`).

Common parameters: `$1` account, `$2` products, `$3` / `$4` the period [since, until) (timestamptz, turned
into each product's local time, the time of its buckets), `$5` / `$6` the paths included / excluded by id,
`$7` / `$8` by name (the path, or an event's name). A statement's text depends on which filters are given
(`Paths`): a site's own rows (path 0) when no path is included, the included paths' rows otherwise; excluded
paths' rows are subtracted. A bucket is read when it overlaps the period.

The statements of a period keep a generic plan (`KeptPlan`): on the 10M-pageview bench set each generic plan ran
as fast as the plans made for its values or faster (every path filter, grain and dimension), and planning for the
values cost 0.3-1.2 ms a statement, a fifth of a small one.
"""

from __future__ import annotations

from enum import Enum
from functools import cache

from gateway.db.pool import KeptPlan

PERIOD = """p AS MATERIALIZED (
    SELECT y.*,
           CASE WHEN y.head_split THEN y.full_start - interval '1 day' ELSE y.full_start END AS days_from,
           CASE WHEN y.tail_split THEN y.full_end + interval '1 day' ELSE y.full_end END AS days_to,
           CASE WHEN y.head_split THEN '-infinity'::timestamp ELSE y.full_start END AS head_to,
           CASE WHEN y.tail_split THEN 'infinity'::timestamp ELSE greatest(y.full_start, y.full_end) END AS tail_from,
           CASE WHEN y.head_split THEN date_trunc('hour', y.since) ELSE y.full_start - interval '1 day' END
               AS head_rest_to,
           CASE WHEN y.tail_split THEN y.full_end + interval '1 day' ELSE y.until END AS tail_rest_to
    FROM (
        SELECT z.*,
               z.full_start <= z.full_end AND z.full_start - date_trunc('hour', z.since) > interval '12 hours'
                   AS head_split,
               z.full_start <= z.full_end AND z.until > z.full_end + interval '12 hours' AS tail_split
        FROM (
            SELECT x.*, date_trunc('day', x.since + interval '1 day' - interval '1 microsecond') AS full_start,
                   date_trunc('day', x.until) AS full_end
            FROM (
                SELECT id, timezone, ($3::timestamptz AT TIME ZONE timezone) AS since,
                       ($4::timestamptz AT TIME ZONE timezone) AS until
                FROM products WHERE account_id = $1 AND id = ANY($2::bigint[])
            ) AS x
        ) AS z
    ) AS y
), inc AS MATERIALIZED (
    SELECT DISTINCT x.id FROM (
        SELECT unnest($5::bigint[]) AS id
        UNION ALL
        SELECT w.id FROM web_paths w
        WHERE w.account_id = $1 AND w.product_id = ANY($2::bigint[]) AND w.path = ANY($7::text[])
    ) AS x
), exc AS MATERIALIZED (
    SELECT DISTINCT x.id FROM (
        SELECT unnest($6::bigint[]) AS id
        UNION ALL
        SELECT w.id FROM web_paths w
        WHERE w.account_id = $1 AND w.product_id = ANY($2::bigint[]) AND w.path = ANY($8::text[])
    ) AS x
)"""


class Paths(Enum):
    """Which paths a read counts: the whole site, the included ones, or the site without the excluded ones."""

    SITE = "site"
    INCLUDED = "included"
    EXCLUDED = "excluded"


_GRAIN_INTERVAL = {"h": "interval '1 hour'", "d": "interval '1 day'"}
_NOT_EXCLUDED = "r.path_id <> ALL(ARRAY(SELECT id FROM exc))"
_INCLUDED = "r.path_id = ANY(ARRAY(SELECT id FROM inc)) AND " + _NOT_EXCLUDED
# Pages are counted from the period's whole local days, p.days_from to p.days_to (`DAYS`; through `WHOLE_DAYS`
# when a whole month may lie in the period), and at its edges from hours: the hours before the first whole day
# (the head) and after the last one (the tail), each one range of the index. A period within one day has no
# whole day (full_start > full_end) and all its hours are the head's. An edge of more than 12 hours is "split":
# its day's row is counted, less the day's hours outside the period (fewer rows read; a period ending now has no
# hours after it, so its tail is the one day row).
DAYS = "\n      AND r.bucket >= p.days_from AND r.bucket < p.days_to"
HEAD_HOURS = "\n      AND r.bucket < p.head_to"
TAIL_HOURS = "\n      AND r.bucket >= p.tail_from"
# the hours of a split edge's day outside the period (empty ranges when the edge is not split)
HEAD_REST = "r.bucket >= p.full_start - interval '1 day' AND r.bucket < p.head_rest_to"
TAIL_REST = "r.bucket >= p.until AND r.bucket < p.tail_rest_to"


# The whole months of a span of local days are read from their sums (grain 'm', migration 054), up to the first
# one that is not current (a month is current when summed at its version, or without a row: then it has no day
# rows either); the days before them, and every day from the first month not current on (the month still
# running, one a late hit changed), from day rows. `pm` has one row per product of `p`: the days [d_from, d_to)
# and the months [m_from, m_to) within them (none: m_from = m_to = d_to).
def month_spans(days_from: str, days_to: str) -> str:
    """The CTE `pm` over the days [`days_from`, `days_to`) (expressions of `p`'s columns; local midnights, or
    any time for the end: a day starting before it is read)."""
    return f"""pm AS MATERIALIZED (
    SELECT b.id, b.d_from, b.d_to,
           CASE WHEN b.m_from < b.current_to THEN b.m_from ELSE b.d_to END AS m_from,
           CASE WHEN b.m_from < b.current_to THEN b.current_to ELSE b.d_to END AS m_to
    FROM (
        SELECT a.*, coalesce((
                   SELECT min(m.month) FROM web_rollup_months m
                   WHERE m.account_id = $1 AND m.product_id = a.id AND m.month >= a.m_from AND m.month < a.m_to
                     AND m.built IS DISTINCT FROM m.version
               ), a.m_to) AS current_to
        FROM (
            SELECT s.*, date_trunc('month', s.d_from - interval '1 microsecond') + interval '1 month' AS m_from,
                   date_trunc('month', date_trunc('day', s.d_to - interval '1 microsecond') + interval '1 day')
                       AS m_to
            FROM (SELECT p.id, {days_from} AS d_from, {days_to} AS d_to FROM p) AS s
        ) AS a
    ) AS b
)"""


# the days a dimension counts: every day overlapping the period (a dimension is counted per day)
OVERLAPPED_DAYS = month_spans("date_trunc('day', p.since)", "p.until")
# the pages' whole days (their edges are counted from hours)
WHOLE_DAYS = month_spans("p.days_from", "p.days_to")
# the sources of `pm`'s span: the days before its months, its months, the days after them
_MONTH_SOURCES = (
    ("pm", "d", "r.bucket >= p.d_from AND r.bucket < p.m_from"),
    ("pm", "m", "r.bucket >= p.m_from AND r.bucket < p.m_to"),
    ("pm", "d", "r.bucket >= p.m_to AND r.bucket < p.d_to"),
)


def _with(months: bool, spans: str) -> str:
    return f", {spans}" if months else ""


def rows_of(
    paths: Paths, dimension: str, grain: str, extra: str = "", per_path: bool = False, months: bool = False
) -> str:
    """A query of `r.product_id, r.path_id, r.bucket, r.value, r.detail, pageviews, visitors` of one dimension (a
    literal from code) at one grain, over the period. The site's counts (`per_path` false) are its own rows (path
    0), the included paths' rows, or its own rows with those of the excluded paths subtracted (negative rows);
    `per_path`: the rows of each path (every path, or the included ones, but the excluded). `extra`: more
    conditions on `r`. `months`: the days of the statement's `pm` span instead (grain 'd' only), its whole months
    from their sums (the buckets of those rows are months: for reads that sum the span)."""
    return "\n    UNION ALL\n    ".join(
        _rows_of_source(paths, dimension, f"{cte} AS p", source_grain, f"{span}{extra}", per_path)
        for cte, source_grain, span in _sources(grain, months)
    )


def _sources(grain: str, months: bool) -> tuple[tuple[str, str, str], ...]:
    """Where a read of `grain` rows over the period finds them: (the CTE of the bounds, the rows' grain, the
    bucket range). Every bucket overlapping the period; or, with `months`, the `pm` span's days and months."""
    if months:
        assert grain == "d", "months stand for days"
        return _MONTH_SOURCES
    return (("p", grain, f"r.bucket < p.until AND r.bucket > p.since - {_GRAIN_INTERVAL[grain]}"),)


def _rows_of_source(paths: Paths, dimension: str, source: str, grain: str, span: str, per_path: bool) -> str:
    common = f"""r.account_id = $1 AND r.product_id = p.id AND r.dimension = '{dimension}' AND r.grain = '{grain}'
      AND {span}"""
    select = "SELECT r.product_id, r.path_id, r.bucket, r.value, r.detail"
    positive = f"""{select}, r.pageviews, r.visitors
    FROM {source} JOIN web_rollups r ON {common}"""
    if paths is Paths.INCLUDED or per_path:
        return f"{positive}\n      AND {_each_path(paths)}"
    if paths is Paths.SITE:
        return f"{positive}\n      AND r.path_id = 0"
    return f"""{positive}
      AND r.path_id = 0
    UNION ALL
    {select}, -r.pageviews, -r.visitors
    FROM {source} JOIN web_rollups r ON {common}
      AND r.path_id = ANY(ARRAY(SELECT id FROM exc))"""


def _each_path(paths: Paths) -> str:
    """The condition on `r` of the rows of each path counted: the included ones, or every path but the excluded."""
    return _INCLUDED if paths is Paths.INCLUDED else f"r.path_id <> 0 AND {_NOT_EXCLUDED}"


def _edge_rests(paths: Paths) -> str:
    """The hours of the split edges' days outside the period, as negative rows of each path (`per_path`): two
    ranges of the index, empty when their edge is not split."""
    return "\n    UNION ALL\n    ".join(
        f"""SELECT r.product_id, r.path_id, r.bucket, r.value, r.detail, -r.pageviews, -r.visitors
    FROM p JOIN web_rollups r ON r.account_id = $1 AND r.product_id = p.id AND r.dimension = '' AND r.grain = 'h'
      AND {rest}
      AND {_each_path(paths)}"""
        for rest in (HEAD_REST, TAIL_REST)
    )


def _sparse_series(alias: str, grain: str) -> str:
    """The buckets holding counts, as offsets from the bucket holding `since` (local time), with their counts:
    the resolver spreads them over the period's buckets (no series is built by joining every bucket)."""
    unit, seconds = {"h": ("hour", 3600), "d": ("day", 86400)}[grain]
    where = f"FILTER (WHERE {alias}.bucket IS NOT NULL)"
    return f"""coalesce(array_agg((date_part('epoch', {alias}.bucket - date_trunc('{unit}', p.since)) / {seconds})::int)
                {where}, '{{}}') AS series_offsets,
       coalesce(array_agg({alias}.pageviews) {where}, '{{}}') AS series_pageviews,
       coalesce(array_agg({alias}.visitors) {where}, '{{}}') AS series_visitors"""


@cache
def totals(paths: Paths, grain: str) -> KeptPlan:
    """The period's pageviews and visitors per bucket (local wall-clock time; only the buckets holding counts),
    and the period's counts of events. Rows: _product, series_offsets, series_pageviews, series_visitors (sparse),
    event_pageviews, event_visitors."""
    if paths is Paths.SITE:
        events = rows_of(Paths.SITE, "kind", grain, "\n      AND r.value = 'event'")
    else:
        events = f"""SELECT s.product_id, s.path_id, s.bucket, s.value, s.detail, s.pageviews, s.visitors
    FROM ({rows_of(paths, "", grain)}) AS s
    JOIN web_paths w ON w.id = s.path_id AND w.account_id = $1 AND w.event"""
    return KeptPlan(f"""
WITH {PERIOD}, counted AS (
    SELECT product_id, bucket, sum(pageviews)::bigint AS pageviews, sum(visitors)::bigint AS visitors
    FROM ({rows_of(paths, "", grain)}) AS x
    GROUP BY product_id, bucket
), events AS (
    SELECT product_id, sum(pageviews)::bigint AS pageviews, sum(visitors)::bigint AS visitors
    FROM ({events}) AS x
    GROUP BY product_id
), series AS (
    SELECT p.id AS product_id, {_sparse_series("c", grain)}
    FROM p LEFT JOIN counted c ON c.product_id = p.id
    GROUP BY p.id
)
SELECT p.id AS _product, s.series_offsets, s.series_pageviews, s.series_visitors,
       coalesce(max(e.pageviews), 0) AS event_pageviews, coalesce(max(e.visitors), 0) AS event_visitors
FROM p
JOIN series s ON s.product_id = p.id
LEFT JOIN events e ON e.product_id = p.id
GROUP BY p.id, s.series_offsets, s.series_pageviews, s.series_visitors
""")


# Pages rank by the period's counts, read from its whole days and, at its edges, from hours (a day row stands for
# 24 hour rows). $9 order ('visitors' / 'pageviews'), $10 offset, $11 limit + 1.
@cache
def pages(paths: Paths, grain: str, with_series: bool = True, months: bool = False) -> KeptPlan:
    """The period's top paths of each product, with their counts and (sparse) series. Rows: _product, rank,
    path_id, path, title, event, pageviews, visitors, series_offsets, series_pageviews, series_visitors (null
    without `with_series`: no series is read). `months`: whole months read from their sums (a period that may
    hold one)."""
    if months:
        days = rows_of(paths, "", "d", per_path=True, months=True)
    else:
        days = rows_of(paths, "", "d", DAYS, per_path=True)
    head = rows_of(paths, "", "h", HEAD_HOURS, per_path=True)
    tail = rows_of(paths, "", "h", TAIL_HOURS, per_path=True)
    step = _GRAIN_INTERVAL[grain]
    series_cte = series_columns = series_join = ""
    if with_series:
        # each page's rows read in the index's order and aggregated apart (no sort of every page's rows); the
        # row past the page, read only to tell that there are more, gets none
        series_cte = f"""), series AS MATERIALIZED (
    SELECT k.product_id, k.path_id, s.*
    FROM picked k
    JOIN p ON p.id = k.product_id
    CROSS JOIN LATERAL (
        SELECT {_sparse_series("r", grain)}
        FROM web_rollups r
        WHERE r.account_id = $1 AND r.product_id = k.product_id AND r.dimension = '' AND r.grain = '{grain}'
          AND r.path_id = k.path_id AND r.bucket < p.until AND r.bucket > p.since - {step}
          AND k.rank < $10 + $11
    ) AS s
"""
        series_columns = "s.series_offsets, s.series_pageviews, s.series_visitors"
        series_join = "JOIN series s ON s.product_id = k.product_id AND s.path_id = k.path_id\n"
    else:
        series_columns = "NULL::int[] AS series_offsets, NULL::bigint[] AS series_pageviews, NULL::bigint[] AS series_visitors"
    return KeptPlan(f"""
WITH {PERIOD}{_with(months, WHOLE_DAYS)}, counted AS (
    SELECT product_id, path_id, sum(pageviews)::bigint AS pageviews, sum(visitors)::bigint AS visitors
    FROM ({days}
    UNION ALL
    {head}
    UNION ALL
    {tail}
    UNION ALL
    {_edge_rests(paths)}) AS x
    GROUP BY product_id, path_id
    HAVING sum(pageviews) > 0
), ranked AS (
    SELECT c.*, row_number() OVER (
        PARTITION BY c.product_id
        ORDER BY CASE WHEN $9::text = 'pageviews' THEN c.pageviews ELSE c.visitors END DESC, c.path_id DESC
    ) AS rank
    FROM counted c
), picked AS MATERIALIZED (
    SELECT * FROM ranked WHERE rank > $10 AND rank <= $10 + $11
{series_cte})
SELECT k.product_id AS _product, k.rank, k.path_id, w.path, w.title, w.event, w.created_at, k.pageviews,
       k.visitors, {series_columns}
FROM picked k
JOIN web_paths w ON w.account_id = $1 AND w.product_id = k.product_id AND w.id = k.path_id
{series_join}ORDER BY k.product_id, k.rank
""")


# the values `counted` ranked per product, most visitors first, and the page asked ($9 offset, $10 limit + 1)
_RANKED = """), ranked AS (
    SELECT c.*, row_number() OVER (
        PARTITION BY c.product_id ORDER BY c.visitors DESC, c.pageviews DESC, c.value
    ) AS rank
    FROM counted c
)"""
_PAGE = """FROM ranked k
WHERE k.rank > $9 AND k.rank <= $9 + $10
ORDER BY k.product_id, k.rank"""


# Dimensions: the period's whole days (a dimension is counted per day). $9 offset, $10 limit + 1, $11 the value
# whose details are read (detail statements only).
@cache
def dimension_values(paths: Paths, dimension: str, months: bool = False) -> KeptPlan:
    """The top values of a dimension. Rows: _product, rank, value, pageviews, visitors, scheme (referrers: the
    most counted scheme of the value), campaign_id (campaigns). `months`: as for `pages`."""
    campaign = (
        "(SELECT c.id FROM web_campaigns c WHERE c.account_id = $1 AND c.product_id = k.product_id "
        "AND c.name = k.value)"
        if dimension == "campaign"
        else "NULL::bigint"
    )
    return KeptPlan(f"""
WITH {PERIOD}{_with(months, OVERLAPPED_DAYS)}, rows AS (
    {rows_of(paths, dimension, "d", months=months)}
), counted AS (
    SELECT product_id, value, sum(pageviews)::bigint AS pageviews, sum(visitors)::bigint AS visitors,
           (array_agg(detail ORDER BY pageviews DESC, detail))[1] AS scheme
    FROM rows
    GROUP BY product_id, value
    HAVING sum(pageviews) > 0
{_RANKED}
SELECT k.product_id AS _product, k.rank, k.value, k.pageviews, k.visitors, k.scheme, {campaign} AS campaign_id
{_PAGE}
""")


_OF_VALUE = "\n      AND r.value = $11::text"


@cache
def dimension_details(paths: Paths, dimension: str, months: bool = False) -> KeptPlan:
    """The details of one value of a dimension ($11): browser and system versions, regions, widths, a campaign's
    referrers. Rows: _product, rank, value (the detail), pageviews, visitors. `months`: as for `pages`."""
    return KeptPlan(f"""
WITH {PERIOD}{_with(months, OVERLAPPED_DAYS)}, rows AS (
    {rows_of(paths, dimension, "d", _OF_VALUE, months=months)}
), counted AS (
    SELECT product_id, detail AS value, sum(pageviews)::bigint AS pageviews, sum(visitors)::bigint AS visitors
    FROM rows
    GROUP BY product_id, detail
    HAVING sum(pageviews) > 0
{_RANKED}
SELECT k.product_id AS _product, k.rank, k.value, k.pageviews, k.visitors
{_PAGE}
""")


# The paths a referrer ($11) brought visitors to over the period's days. Rows: _product, rank, path_id, path,
# pageviews, visitors. ($5..$8 are ignored: the read names its referrer, not paths.)
@cache
def referrer_paths(months: bool = False) -> KeptPlan:
    """The paths a referrer brought visitors to (see above). `months`: as for `pages`."""
    rows = "\n    UNION ALL\n    ".join(
        f"""SELECT r.product_id, r.path_id, r.pageviews, r.visitors
    FROM {cte} AS p JOIN web_rollups r ON r.account_id = $1 AND r.product_id = p.id AND r.dimension = 'referrer'
        AND r.grain = '{grain}' AND {span} AND r.path_id <> 0{_OF_VALUE}"""
        for cte, grain, span in _sources("d", months)
    )
    return KeptPlan(f"""
WITH {PERIOD}{_with(months, OVERLAPPED_DAYS)}, counted AS (
    SELECT r.product_id, r.path_id, sum(r.pageviews)::bigint AS pageviews, sum(r.visitors)::bigint AS visitors
    FROM ({rows}) AS r
    GROUP BY r.product_id, r.path_id
    HAVING sum(r.pageviews) > 0
), ranked AS (
    SELECT c.*, row_number() OVER (
        PARTITION BY c.product_id ORDER BY c.visitors DESC, c.pageviews DESC, c.path_id DESC
    ) AS rank
    FROM counted c
)
SELECT k.product_id AS _product, k.rank, k.path_id, w.path, k.pageviews, k.visitors
FROM ranked k
JOIN web_paths w ON w.account_id = $1 AND w.product_id = k.product_id AND w.id = k.path_id
WHERE k.rank > $9 AND k.rank <= $9 + $10
ORDER BY k.product_id, k.rank
""")


# The campaign of an id ($5[1]) of the products: _product, name.
CAMPAIGN_NAMES = """
SELECT c.product_id AS _product, c.name
FROM web_campaigns c
WHERE c.account_id = $1 AND c.product_id = ANY($2::bigint[]) AND c.id = $3
"""

# A site's paths by id, after `$3` (0: from the first). Rows: _product, id, path, title, event, created_at; `$4` + 1 per
# product at most (the last one tells there are more).
PATHS = """
SELECT x.product_id AS _product, x.id, x.path, x.title, x.event, x.created_at
FROM (
    SELECT w.*, row_number() OVER (PARTITION BY w.product_id ORDER BY w.id) AS n
    FROM web_paths w
    WHERE w.account_id = $1 AND w.product_id = ANY($2::bigint[]) AND w.id > $3
) AS x
WHERE x.n <= $4 + 1
ORDER BY x.product_id, x.id
"""

# $1 account, $2 products, $3 since: the distinct sessions of the counted hits since then, read from the hits
# themselves (the rollups count first visits per path and bucket, not sessions), for a window of at most an
# hour (the `events_product_time` index reads it); a hit without a session is a visitor of its own
RECENT_VISITORS = """
SELECT e.product_id AS _product,
       count(DISTINCT e.web->>'session') FILTER (WHERE e.web->>'session' <> '')
       + count(*) FILTER (WHERE e.web->>'session' = '') AS visitors
FROM events e
WHERE e.account_id = $1 AND e.product_id = ANY($2::bigint[]) AND e.occurred_at >= $3
  AND e.web IS NOT NULL AND (e.web->>'bot')::integer = 0
GROUP BY e.product_id
"""
