"""Strawberry types of the analytics graph: `ProductAnalytics` (attached to Product by the lead).

Totals of `uniqueUsers` over a range are the sum of the per-bucket uniques (exact when the range is one bucket
of the chosen granularity, an upper bound otherwise), as in Countly's period totals.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from gateway.ingest.buckets import zone_of
from resolvers.analytics.batching import ProductRows
from resolvers.analytics.columns import EventRollupColumns, RollupColumns, event_columns, session_columns
from resolvers.analytics.queries import EventRollupColumns as EventColumnRows
from resolvers.analytics.queries import RollupColumns as ColumnRows
from resolvers.analytics.queries import (
    event_keys,
    event_range_totals,
    event_rollup_columns,
    event_rollups,
    event_series,
    period_totals,
    session_rollup_columns,
    session_rollups,
    session_series,
)
from resolvers.analytics.trees import event_rollup_tree, session_rollup_tree, tree_value
from resolvers.context import ctx_of
from resolvers.selection import asks_for


@strawberry.enum
class Granularity(enum.Enum):
    HOUR = "h"
    DAY = "d"
    WEEK = "w"
    MONTH = "m"
    YEAR = "y"


@strawberry.enum
class Metric(enum.Enum):
    OS = "os"
    OS_VERSION = "os_version"
    DEVICE = "device"
    RESOLUTION = "resolution"
    CARRIER = "carrier"
    APP_VERSION = "app_version"
    LOCALE = "locale"
    COUNTRY = "country"


# stored letters and dimension names to enum members (thousands of rows per read: no Enum() call per row)
GRANULARITY_OF = {member.value: member for member in Granularity}
METRIC_OF = {member.value: member for member in Metric}
# the same as the names the columnar fields write in their JSON arrays
GRAIN_NAMES = {member.value: member.name for member in Granularity}
METRIC_NAMES = {member.value: member.name for member in Metric}


@strawberry.type(description="Session and user counters of one time bucket.")
class SessionBucket:
    bucket: datetime = strawberry.field(description="Bucket start, in the product's timezone.")
    sessions: int
    new_users: int
    unique_users: int
    duration: int = strawberry.field(description="Total session duration, seconds.")
    requests: int


@strawberry.type(description="Sessions and users over a range, with a series of buckets.")
class SessionStats:
    sessions: int
    new_users: int
    unique_users: int
    duration: int
    requests: int
    series: list[SessionBucket]


@strawberry.type(description="Sessions and users of one metric value (dots are kept as sent).")
class MetricValue:
    value: str
    sessions: int
    new_users: int
    unique_users: int


@strawberry.type(description="The values of one metric stored in a range (as sent: dots kept).")
class MetricValues:
    metric: Metric
    values: list[str]


_TREE_SHAPE = (
    'A year holds its months (`"1"`-`"12"`) and its Countly weeks (`"w<N>"`, N = ceil(day of year / 7) '
    'of the week\'s first day), a month its days, a day its hours (`"0"`-`"23"`), each in the product\'s '
    "local time. Every node holds its own counts by letter (zero counts left out) and, per value, the value's "
    "counts under the value as key (dots written as `:`; values that meet the same key are summed). In a "
    "node, a value named like a letter replaces the letter, and a time key replaces a value named like it "
    "(an OS version `10` beside the month `10`)."
)


@strawberry.type(
    description="Stored session buckets nested by calendar, the shape of Countly's time documents. "
    + _TREE_SHAPE
)
class RollupTree:
    tree: JSON = strawberry.field(
        description="The years by number. Letters: `t` sessions, `n` new users, `u` unique users, `d` "
        "duration (seconds), `e` requests for the totals; `t n u` for metric values; weeks keep `u` only."
    )
    values: list[MetricValues] = strawberry.field(
        description="Per metric asked, the values stored in the range (also those with zero counts)."
    )


@strawberry.type(
    description="Stored event buckets nested by calendar, the shape of Countly's event documents. "
    + _TREE_SHAPE
)
class EventRollupTree:
    tree: JSON = strawberry.field(
        description="The years by number. Letters: `c` count, `s` sum, `dur` duration, the keys asked summed; "
        "with a segmentation, only its values hold letters."
    )
    segments: list[str] = strawberry.field(
        description="The segmentation's values stored in the range (none without a segmentation)."
    )


@strawberry.type(description="Event counters of one time bucket.")
class EventBucket:
    bucket: datetime
    count: int
    sum: float
    duration: float


@strawberry.type(description="One segmentation value of an event key.")
class EventSegmentStats:
    value: str
    count: int
    sum: float
    duration: float
    series: list[EventBucket]


@strawberry.type(description="Totals and series of one event key.")
class EventKeyStats:
    key: str
    count: int
    sum: float
    duration: float
    # the series is built only when asked: a read of every key often wants their totals alone
    points: strawberry.Private[dict[datetime, list[float]]]
    timezone: strawberry.Private[str]

    @strawberry.field
    def series(self) -> list[EventBucket]:
        return _buckets(self.points, self.timezone)

    segments: list[EventSegmentStats]


@strawberry.type(description="Event counters of the requested keys.")
class EventStats:
    count: int
    sum: float
    duration: float
    series: list[EventBucket] = strawberry.field(description="All requested keys merged.")
    keys: list[EventKeyStats]


@strawberry.type(description="A segmentation key of an event and the values seen for it.")
class EventSegmentation:
    key: str
    values: list[str]


@strawberry.type(description="An event key with its segmentation keys.")
class EventKeyInfo:
    key: str
    segmentations: list[EventSegmentation]


MAX_RANGES = 12
MAX_EVENT_KEYS = 100


@strawberry.type(
    description="One stored session rollup bucket of any grain: totals (metric null) or one metric value."
)
class RollupBucket:
    grain: Granularity
    bucket: datetime = strawberry.field(description="Bucket start, in the product's timezone.")
    metric: Metric | None = strawberry.field(description="The metric of `value`; null for the totals.")
    value: str = strawberry.field(description="The metric value as sent (dots kept); '' for the totals.")
    sessions: int
    new_users: int
    unique_users: int = strawberry.field(description="Exact unique users of this bucket.")
    duration: int = strawberry.field(description="Total session duration, seconds (totals only).")
    requests: int = strawberry.field(description="Requests (totals only).")


@strawberry.type(
    description="One stored event rollup bucket of any grain: per key, or per segmentation value."
)
class EventRollupBucket:
    key: str
    grain: Granularity
    bucket: datetime = strawberry.field(description="Bucket start, in the product's timezone.")
    segment: str = strawberry.field(description="The segmentation value; '' for the key's totals.")
    count: int
    sum: float
    duration: float


@strawberry.input(description="A closed-open time range [since, until) of an analytics period.")
class AnalyticsRange:
    since: datetime
    until: datetime


@strawberry.type(description="Sessions and users of one metric in a period, per value.")
class MetricBreakdown:
    metric: Metric
    values: list[MetricValue]


@strawberry.type(description="Count, sum and duration of events.")
class EventTotals:
    count: int
    sum: float
    duration: float = strawberry.field(description="Seconds.")


@strawberry.type(
    description="Totals of one period (whole local days), with daily buckets and metric breakdowns."
)
class PeriodSummary:
    since: datetime = strawberry.field(description="First local midnight of the period.")
    until: datetime = strawberry.field(description="Local midnight after the period.")
    sessions: int
    new_users: int
    unique_users: int = strawberry.field(
        description="Exact when the period is one stored bucket (day, week, month, year), else an estimate."
    )
    unique_users_estimated: bool
    duration: int
    requests: int
    days: list[SessionBucket]
    metrics: list[MetricBreakdown]
    account_id: strawberry.Private[int]
    product_id: strawberry.Private[int]
    # the local day ranges of every period of the same `periods` field, and this one's index among them: the
    # events of all of them are read in one statement
    ranges: strawberry.Private[tuple[tuple[datetime, datetime], ...]]
    index: strawberry.Private[int]

    @strawberry.field(
        description="Occurrences of every event key in the period (daily buckets summed), with their sums "
        "and durations; one statement for all the periods of the field."
    )
    async def events(self, info: strawberry.Info) -> EventTotals:
        rows = ProductRows(ctx_of(info), self.product_id)
        found = (await event_range_totals(rows, self.account_id, self.product_id, list(self.ranges)))[
            self.index
        ]
        return EventTotals(count=found.c, sum=found.s, duration=found.dur)


def _grain_letters(grains: list[Granularity] | None) -> list[str]:
    return [grain.value for grain in grains] if grains else ["y", "m", "w", "d", "h"]


def _event_grain_letters(grains: list[Granularity] | None) -> list[str]:
    """The grains `eventRollups` and `eventRollupColumns` read: those asked but weeks (years when none is left)."""
    return [grain for grain in _grain_letters(grains) if grain != "w"] or ["y"]


def _buckets(points: dict[datetime, list[float]], timezone: str) -> list[EventBucket]:
    zone = zone_of(timezone)
    return [
        EventBucket(bucket=b.replace(tzinfo=zone), count=int(v[0]), sum=v[1], duration=v[2])
        for b, v in sorted(points.items())
    ]


@strawberry.type(description="Analytics of one product, read from time-bucketed rollups.")
class ProductAnalytics:
    account_id: strawberry.Private[int]
    product_id: strawberry.Private[int]
    timezone: strawberry.Private[str]

    def _rows(self, info: strawberry.Info) -> ProductRows:
        # reads of all the products of one request are batched into one statement per read shape
        return ProductRows(ctx_of(info), self.product_id)

    @strawberry.field(description="Sessions, new/unique users, duration and requests per bucket.")
    async def sessions(
        self,
        info: strawberry.Info,
        since: datetime,
        until: datetime,
        granularity: Granularity = Granularity.DAY,
    ) -> SessionStats:
        points = await session_series(
            self._rows(info), self.account_id, self.product_id, since, until, granularity.value
        )
        zone = zone_of(self.timezone)
        series = [
            SessionBucket(
                bucket=p.bucket.replace(tzinfo=zone),
                sessions=p.t,
                new_users=p.n,
                unique_users=p.u,
                duration=p.d,
                requests=p.e,
            )
            for p in points
        ]
        return SessionStats(
            sessions=sum(b.sessions for b in series),
            new_users=sum(b.new_users for b in series),
            unique_users=sum(b.unique_users for b in series),
            duration=sum(b.duration for b in series),
            requests=sum(b.requests for b in series),
            series=series,
        )

    @strawberry.field(description="Sessions and users per value of a metric (daily buckets summed).")
    async def breakdown(
        self, info: strawberry.Info, metric: Metric, since: datetime, until: datetime
    ) -> list[MetricValue]:
        points = await session_series(
            self._rows(info), self.account_id, self.product_id, since, until, "d", metric.value
        )
        totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
        for p in points:
            row = totals[p.value]
            row[0] += p.t
            row[1] += p.n
            row[2] += p.u
        ranked = sorted(totals.items(), key=lambda kv: (-kv[1][0], kv[0]))
        return [MetricValue(value=v, sessions=t, new_users=n, unique_users=u) for v, (t, n, u) in ranked]

    @strawberry.field(
        description="Count, sum and duration of events per bucket, optionally per segment value; of `keys`, "
        "or of every key stored in the range (by name) when `keys` is null."
    )
    async def events(
        self,
        info: strawberry.Info,
        *,
        keys: list[str] | None = None,
        since: datetime,
        until: datetime,
        granularity: Granularity = Granularity.DAY,
        segmentation: str | None = None,
    ) -> EventStats:
        db = self._rows(info)
        # a chart asks the merged series alone: PostgreSQL then sums the keys (one row a bucket, not a key and
        # bucket)
        per_key_asked = segmentation is not None or asks_for(info, "keys")
        totals = await event_series(
            db,
            self.account_id,
            self.product_id,
            keys,
            since,
            until,
            granularity.value,
            merged=not per_key_asked,
        )
        per_key: dict[str, dict[datetime, list[float]]] = defaultdict(dict)
        merged: dict[datetime, list[float]] = {}
        for p in totals:
            for target in (per_key[p.key], merged):
                row = target.setdefault(p.bucket, [0, 0.0, 0.0])
                row[0] += p.c
                row[1] += p.s
                row[2] += p.dur
        per_segment: dict[str, dict[str, dict[datetime, list[float]]]] = defaultdict(
            lambda: defaultdict(dict)
        )
        if segmentation:
            for p in await event_series(
                db, self.account_id, self.product_id, keys, since, until, granularity.value, segmentation
            ):
                per_segment[p.key][p.segment][p.bucket] = [p.c, p.s, p.dur]
        key_stats = []
        for key in (keys if keys is not None else list(per_key)) if per_key_asked else []:
            points = per_key.get(key, {})
            segments = [
                EventSegmentStats(
                    value=value,
                    count=sum(b.count for b in seg_series),
                    sum=sum(b.sum for b in seg_series),
                    duration=sum(b.duration for b in seg_series),
                    series=seg_series,
                )
                for value, points in sorted(per_segment.get(key, {}).items())
                for seg_series in [_buckets(points, self.timezone)]
            ]
            key_stats.append(
                EventKeyStats(
                    key=key,
                    count=int(sum(v[0] for v in points.values())),
                    sum=sum(v[1] for v in points.values()),
                    duration=sum(v[2] for v in points.values()),
                    points=points,
                    timezone=self.timezone,
                    segments=segments,
                )
            )
        all_series = _buckets(merged, self.timezone)
        return EventStats(
            count=sum(b.count for b in all_series),
            sum=sum(b.sum for b in all_series),
            duration=sum(b.duration for b in all_series),
            series=all_series,
            keys=key_stats,
        )

    @strawberry.field(description="The product's event keys with their segmentation keys and values.")
    async def event_keys(self, info: strawberry.Info) -> list[EventKeyInfo]:
        found = await event_keys(self._rows(info), self.account_id, self.product_id)
        return [
            EventKeyInfo(
                key=key,
                segmentations=[
                    EventSegmentation(key=seg, values=values) for seg, values in found.segments[key].items()
                ],
            )
            for key in found.keys
        ]

    @strawberry.field(
        description="Stored session buckets of several grains at once (hour, day, Countly week, month, year) "
        "overlapping [since, until): the totals and/or the values of metrics, each with its exact uniques."
    )
    async def rollups(
        self,
        info: strawberry.Info,
        since: datetime,
        until: datetime,
        grains: list[Granularity] | None = None,
        metrics: list[Metric] | None = None,
        totals: bool = True,
    ) -> list[RollupBucket]:
        dimensions = ([""] if totals else []) + [metric.value for metric in metrics or []]
        if not dimensions:
            return []
        rows = await session_rollups(
            self._rows(info),
            self.account_id,
            self.product_id,
            since,
            until,
            _grain_letters(grains),
            dimensions,
        )
        zone = zone_of(self.timezone)
        return [
            RollupBucket(
                grain=GRANULARITY_OF[row.grain],
                bucket=row.bucket.replace(tzinfo=zone),
                metric=METRIC_OF[row.dimension] if row.dimension else None,
                value=row.value,
                sessions=row.t,
                new_users=row.n,
                unique_users=row.u,
                duration=row.d,
                requests=row.e,
            )
            for row in rows
        ]

    @strawberry.field(
        description="Stored event buckets of several grains at once overlapping [since, until), per key, "
        "or per value of one segmentation key."
    )
    async def event_rollups(
        self,
        info: strawberry.Info,
        keys: list[str],
        since: datetime,
        until: datetime,
        grains: list[Granularity] | None = None,
        segmentation: str | None = None,
    ) -> list[EventRollupBucket]:
        if not keys:
            return []
        rows = await event_rollups(
            self._rows(info),
            self.account_id,
            self.product_id,
            keys[:MAX_EVENT_KEYS],
            since,
            until,
            _event_grain_letters(grains),
            segmentation,
        )
        zone = zone_of(self.timezone)
        return [
            EventRollupBucket(
                key=row.key,
                grain=GRANULARITY_OF[row.grain],
                bucket=row.bucket.replace(tzinfo=zone),
                segment=row.segment,
                count=row.c,
                sum=row.s,
                duration=row.dur,
            )
            for row in rows
        ]

    @strawberry.field(
        description="The buckets of `rollups` (same arguments, same order) as columns: one JSON array per "
        "field instead of one object per bucket, for charts and reads of thousands of buckets."
    )
    async def rollup_columns(
        self,
        info: strawberry.Info,
        since: datetime,
        until: datetime,
        grains: list[Granularity] | None = None,
        metrics: list[Metric] | None = None,
        totals: bool = True,
    ) -> RollupColumns:
        dimensions = ([""] if totals else []) + [metric.value for metric in metrics or []]
        if not dimensions:
            return session_columns(ColumnRows(), GRAIN_NAMES, METRIC_NAMES)
        rows = await session_rollup_columns(
            self._rows(info),
            self.account_id,
            self.product_id,
            since,
            until,
            _grain_letters(grains),
            dimensions,
        )
        return session_columns(rows, GRAIN_NAMES, METRIC_NAMES)

    @strawberry.field(
        description="The buckets of `eventRollups` (same arguments, same order) as columns: one JSON array "
        "per field instead of one object per bucket."
    )
    async def event_rollup_columns(
        self,
        info: strawberry.Info,
        keys: list[str],
        since: datetime,
        until: datetime,
        grains: list[Granularity] | None = None,
        segmentation: str | None = None,
    ) -> EventRollupColumns:
        if not keys:
            return event_columns(EventColumnRows(), GRAIN_NAMES)
        rows = await event_rollup_columns(
            self._rows(info),
            self.account_id,
            self.product_id,
            keys[:MAX_EVENT_KEYS],
            since,
            until,
            _event_grain_letters(grains),
            segmentation,
        )
        return event_columns(rows, GRAIN_NAMES)

    @strawberry.field(
        description="The buckets of `rollups` nested by calendar as one JSON tree, built by PostgreSQL: the "
        "totals at `grains` (none when `totals` is false) and the values of `metrics` at `metricGrains` "
        "(default: `grains`)."
    )
    async def rollup_tree(
        self,
        info: strawberry.Info,
        since: datetime,
        until: datetime,
        grains: list[Granularity] | None = None,
        metrics: list[Metric] | None = None,
        metric_grains: list[Granularity] | None = None,
        totals: bool = True,
    ) -> RollupTree:
        dimensions = [metric.value for metric in metrics or []]
        found = await session_rollup_tree(
            self._rows(info),
            self.account_id,
            self.product_id,
            since,
            until,
            _grain_letters(grains) if totals else [],
            _grain_letters(metric_grains if metric_grains is not None else grains) if dimensions else [],
            dimensions,
        )
        return RollupTree(
            tree=tree_value(found.text, ctx_of(info).raw_json),
            values=[
                MetricValues(metric=Metric(dimension), values=found.values.get(dimension, []))
                for dimension in dict.fromkeys(dimensions)
            ],
        )

    @strawberry.field(
        description="The buckets of `eventRollups` nested by calendar as one JSON tree, built by PostgreSQL "
        "(the keys summed; per value of `segmentation` when given)."
    )
    async def event_rollup_tree(
        self,
        info: strawberry.Info,
        keys: list[str],
        since: datetime,
        until: datetime,
        grains: list[Granularity] | None = None,
        segmentation: str | None = None,
    ) -> EventRollupTree:
        if not keys:
            return EventRollupTree(tree=JSON({}), segments=[])
        found = await event_rollup_tree(
            self._rows(info),
            self.account_id,
            self.product_id,
            list(dict.fromkeys(keys[:MAX_EVENT_KEYS])),
            since,
            until,
            _event_grain_letters(grains),
            segmentation,
        )
        return EventRollupTree(tree=tree_value(found.text, ctx_of(info).raw_json), segments=found.segments)

    @strawberry.field(
        description="Totals of several periods (each widened to whole local days; at most 12) and, per "
        "metric, per value ranked by sessions; two statements whatever the number of periods."
    )
    async def periods(
        self,
        info: strawberry.Info,
        ranges: list[AnalyticsRange],
        metrics: list[Metric] | None = None,
    ) -> list[PeriodSummary]:
        dimensions = [metric.value for metric in metrics or []]
        found = await period_totals(
            self._rows(info),
            self.account_id,
            self.product_id,
            self.timezone,
            [(r.since, r.until) for r in ranges[:MAX_RANGES]],
            dimensions,
        )
        zone = zone_of(self.timezone)
        local_ranges = tuple((totals.start, totals.end) for totals in found)
        summaries = []
        for index, totals in enumerate(found):
            breakdowns = []
            for dimension in dimensions:
                ranked = sorted(totals.metrics[dimension].items(), key=lambda kv: (-kv[1][0], kv[0]))
                breakdowns.append(
                    MetricBreakdown(
                        metric=Metric(dimension),
                        values=[
                            MetricValue(value=v, sessions=t, new_users=n, unique_users=u)
                            for v, (t, n, u) in ranked
                        ],
                    )
                )
            summaries.append(
                PeriodSummary(
                    since=totals.start.replace(tzinfo=zone),
                    until=totals.end.replace(tzinfo=zone),
                    sessions=totals.t,
                    new_users=totals.n,
                    unique_users=totals.u,
                    unique_users_estimated=not totals.u_exact,
                    duration=totals.d,
                    requests=totals.e,
                    days=[
                        SessionBucket(
                            bucket=row.bucket.replace(tzinfo=zone),
                            sessions=row.t,
                            new_users=row.n,
                            unique_users=row.u,
                            duration=row.d,
                            requests=row.e,
                        )
                        for row in totals.days
                    ],
                    metrics=breakdowns,
                    account_id=self.account_id,
                    product_id=self.product_id,
                    ranges=local_ranges,
                    index=index,
                )
            )
        return summaries
