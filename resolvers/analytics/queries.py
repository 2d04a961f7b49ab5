"""Read functions over the rollups: typed results, one statement each."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from gateway.ingest.buckets import week_start, zone_of
from resolvers.analytics import sql
from resolvers.analytics.batching import RowSource

# grain letter -> the interval of one bucket (weeks are shortened at the end of a year in SQL)
GRAIN_INTERVALS: dict[str, str] = {"h": "1 hour", "d": "1 day", "w": "7 days", "m": "1 month", "y": "1 year"}
DIMENSIONS: tuple[str, ...] = (
    "",
    "os",
    "os_version",
    "device",
    "resolution",
    "carrier",
    "app_version",
    "locale",
    "country",
)


@dataclass(frozen=True)
class SessionPoint:
    """One bucket of session/user counters; `value` is the metric value ('' for the totals)."""

    bucket: datetime  # bucket start, naive, in the product's local time
    value: str
    t: int  # sessions
    n: int  # new users
    u: int  # unique users
    d: int  # duration, seconds
    e: int  # requests


@dataclass(frozen=True)
class EventPoint:
    """One bucket of one event key; `segment` is the segmentation value ('' without segmentation)."""

    key: str
    segment: str
    bucket: datetime
    c: int
    s: float
    dur: float


@dataclass
class EventKeys:
    """The event keys of a product and, per key, its segmentation keys and their values."""

    keys: list[str] = field(default_factory=list)
    segments: dict[str, dict[str, list[str]]] = field(default_factory=dict)


def _check_grain(grain: str) -> str:
    grain = grain.lower()[:1]
    if grain not in GRAIN_INTERVALS:
        raise ValueError(f"unknown grain {grain!r}")
    return grain


async def session_series(
    db: RowSource,
    account_id: int,
    product_id: int,
    start: datetime,
    end: datetime,
    grain: str,
    dimension: str = "",
) -> list[SessionPoint]:
    """Per-bucket t/n/u/d/e between `start` and `end` (aware, or naive = UTC); per value for a dimension."""
    if dimension not in DIMENSIONS:
        raise ValueError(f"unknown dimension {dimension!r}")
    grain = _check_grain(grain)
    rows = await db.fetch(
        sql.SESSION_SERIES, account_id, [product_id], start, end, grain, GRAIN_INTERVALS[grain], dimension
    )
    return [SessionPoint(r["bucket"], r["value"], r["t"], r["n"], r["u"], r["d"], r["e"]) for r in rows]


async def event_series(
    db: RowSource,
    account_id: int,
    product_id: int,
    keys: list[str] | None,
    start: datetime,
    end: datetime,
    grain: str,
    segmentation: str | None = None,
    merged: bool = False,
) -> list[EventPoint]:
    """Per-bucket c/s/dur of `keys` (None: every key of the product), by key and bucket (`merged`: the keys
    summed, key ''); per value of the segmentation key `segmentation` when given."""
    grain = _check_grain(grain)
    if keys is None and merged and not segmentation:
        # every key's totals are kept per bucket (migration 052)
        rows = await db.fetch(
            sql.EVENT_TOTALS_SERIES, account_id, [product_id], start, end, grain, GRAIN_INTERVALS[grain]
        )
        return [EventPoint("", "", r["bucket"], r["c"], r["s"], r["dur"]) for r in rows]
    statements = (
        (sql.EVENT_SERIES, sql.EVENT_SERIES_EVERY_KEY)
        if not merged
        else (sql.EVENT_SERIES_MERGED, sql.EVENT_SERIES_EVERY_KEY_MERGED)
    )
    rows = await db.fetch(
        statements[0] if keys is not None else statements[1],
        account_id,
        [product_id],
        start,
        end,
        grain,
        GRAIN_INTERVALS[grain],
        list(keys) if keys is not None else None,
        segmentation or "",
    )
    return [EventPoint(r["key"], r["seg_value"], r["bucket"], r["c"], r["s"], r["dur"]) for r in rows]


async def event_keys(db: RowSource, account_id: int, product_id: int) -> EventKeys:
    """Every event key of the product with its segmentation keys and values."""
    result = EventKeys()
    for row in await db.fetch(sql.EVENT_KEYS, account_id, [product_id]):
        key = row["key"]
        if key not in result.segments:
            result.keys.append(key)
            result.segments[key] = {}
        if row["seg_key"]:
            result.segments[key].setdefault(row["seg_key"], []).append(row["seg_value"])
    return result


# -- several grains in one statement (Countly's nested documents) and period summaries (its dashboard) ----------

ALL_GRAINS: tuple[str, ...] = ("y", "m", "w", "d", "h")


@dataclass(frozen=True)
class RollupRow:
    """One stored session rollup row; `dimension` '' (and `value` '') are the totals."""

    grain: str
    bucket: datetime  # bucket start, naive, in the product's local time
    dimension: str
    value: str
    t: int
    n: int
    u: int
    d: int
    e: int


@dataclass(frozen=True)
class EventRollupRow:
    """One stored event rollup row; `segment` is '' for the per-key totals."""

    key: str
    grain: str
    bucket: datetime
    segment: str
    c: int
    s: float
    dur: float


def _grains(grains: list[str] | tuple[str, ...]) -> list[str]:
    return sorted({_check_grain(grain) for grain in grains}) or list(ALL_GRAINS)


async def session_rollups(
    db: RowSource,
    account_id: int,
    product_id: int,
    start: datetime,
    end: datetime,
    grains: list[str] | tuple[str, ...] = ALL_GRAINS,
    dimensions: list[str] | tuple[str, ...] = ("",),
) -> list[RollupRow]:
    """The stored rows of every asked grain and dimension whose bucket overlaps [start, end)."""
    _check_dimensions(dimensions)
    rows = await db.fetch(
        sql.SESSION_ROLLUPS, account_id, [product_id], start, end, _grains(grains), list(dimensions)
    )
    return [
        RollupRow(
            str(r["grain"]), r["bucket"], r["dimension"], r["value"], r["t"], r["n"], r["u"], r["d"], r["e"]
        )
        for r in rows
    ]


def _check_dimensions(dimensions: list[str] | tuple[str, ...]) -> None:
    for dimension in dimensions:
        if dimension not in DIMENSIONS:
            raise ValueError(f"unknown dimension {dimension!r}")


async def event_rollups(
    db: RowSource,
    account_id: int,
    product_id: int,
    keys: list[str],
    start: datetime,
    end: datetime,
    grains: list[str] | tuple[str, ...] = ALL_GRAINS,
    segmentation: str | None = None,
) -> list[EventRollupRow]:
    """The stored rows of `keys` (per value of `segmentation` when given) overlapping [start, end)."""
    rows = await db.fetch(
        sql.EVENT_ROLLUPS,
        account_id,
        [product_id],
        start,
        end,
        _grains(grains),
        list(keys),
        segmentation or "",
    )
    return [
        EventRollupRow(r["key"], str(r["grain"]), r["bucket"], r["seg_value"], r["c"], r["s"], r["dur"])
        for r in rows
    ]


@dataclass
class PeriodTotals:
    """Session numbers of one local, day-aligned range [start, end) with unique users (estimated or exact)."""

    start: datetime
    end: datetime
    t: int = 0
    n: int = 0
    u: int = 0
    d: int = 0
    e: int = 0
    u_exact: bool = True
    days: list[RollupRow] = field(default_factory=list)
    # dimension -> value -> [t, n, u] (daily uniques summed)
    metrics: dict[str, dict[str, list[int]]] = field(default_factory=dict)


def local_day_range(start: datetime, end: datetime, timezone: str) -> tuple[datetime, datetime]:
    """[start, end) (aware) as local midnights: start floored, end raised to the next midnight."""
    zone = zone_of(timezone)
    first = start.astimezone(zone).replace(tzinfo=None, hour=0, minute=0, second=0, microsecond=0)
    last_moment = end.astimezone(zone).replace(tzinfo=None)
    last = last_moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if last < last_moment:
        last += timedelta(days=1)
    return first, max(last, first + timedelta(days=1))


def _next_month(day: datetime) -> datetime:
    return (
        day.replace(year=day.year + 1, month=1, day=1)
        if day.month == 12
        else day.replace(month=day.month + 1, day=1)
    )


def unique_users(start: datetime, end: datetime, stored: dict[tuple[str, datetime], int]) -> tuple[int, bool]:
    """Unique users of the local day range [start, end) from stored per-bucket uniques.

    Exact when the range is one stored bucket (a day, a Countly week, a month or a year). Otherwise the
    smallest of three upper bounds: the sum over the largest whole buckets tiling the range, the sum over the
    months covering it and the sum over the weeks covering it (Countly's estimate).
    """
    units: list[tuple[str, datetime]] = []
    day = start
    while day < end:
        year_end = day.replace(year=day.year + 1, month=1, day=1)
        month_end = _next_month(day)
        week = week_start(day)
        if day.month == 1 and day.day == 1 and year_end <= end:
            units.append(("y", day))
            day = year_end
        elif day.day == 1 and month_end <= end:
            units.append(("m", day))
            day = month_end
        elif week == day and min(week + timedelta(days=7), year_end) <= end:
            units.append(("w", day))
            day = min(week + timedelta(days=7), year_end)
        else:
            units.append(("d", day))
            day += timedelta(days=1)
    tiled = sum(stored.get(unit, 0) for unit in units)
    if len(units) == 1:
        return tiled, True
    by_month = by_week = 0
    month = start.replace(day=1)
    while month < end:
        by_month += stored.get(("m", month), 0)
        month = _next_month(month)
    week = week_start(start)
    while week < end:
        by_week += stored.get(("w", week), 0)
        # Countly weeks restart on 1 January: a year's last week is shorter
        week = min(week + timedelta(days=7), week.replace(year=week.year + 1, month=1, day=1))
    return min(tiled, by_month, by_week), False


async def period_totals(
    db: RowSource,
    account_id: int,
    product_id: int,
    timezone: str,
    ranges: list[tuple[datetime, datetime]],
    dimensions: list[str],
) -> list[PeriodTotals]:
    """Totals of each range (local days) and, per metric dimension, per value; two statements in all.

    The values are summed per range in SQL: a dashboard asks six ranges of a few hundred day rows each.
    """
    if not ranges:
        return []
    zone = zone_of(timezone)
    local = [local_day_range(start, end, timezone) for start, end in ranges]
    first = min(start for start, _ in local).replace(tzinfo=zone)
    last = max(end for _, end in local).replace(tzinfo=zone)
    rows = await session_rollups(db, account_id, product_id, first, last, ("d", "w", "m", "y"), ("",))
    _check_dimensions(dimensions)
    value_rows = (
        await db.fetch(
            sql.SESSION_VALUE_RANGE_TOTALS,
            account_id,
            [product_id],
            [start for start, _ in local],
            [end for _, end in local],
            dimensions,
        )
        if dimensions
        else []
    )
    stored = {(row.grain, row.bucket): row.u for row in rows}
    days = [row for row in rows if row.grain == "d"]
    result = []
    for number, (start, end) in enumerate(local, start=1):
        totals = PeriodTotals(start=start, end=end)
        totals.days = [row for row in days if start <= row.bucket < end]
        for row in totals.days:
            totals.t += row.t
            totals.n += row.n
            totals.d += row.d
            totals.e += row.e
        totals.u, totals.u_exact = unique_users(start, end, stored)
        for dimension in dimensions:
            totals.metrics[dimension] = {}
        for summed in value_rows:
            if summed["range"] == number:
                totals.metrics[summed["dimension"]][summed["value"]] = [summed["t"], summed["n"], summed["u"]]
        result.append(totals)
    return result


@dataclass(frozen=True)
class EventTotals:
    """Count, sum and duration of every event key over one range."""

    c: int = 0
    s: float = 0.0
    dur: float = 0.0


async def event_range_totals(
    db: RowSource, account_id: int, product_id: int, ranges: list[tuple[datetime, datetime]]
) -> list[EventTotals]:
    """Every key's events summed over each local day range [start, end) (local midnights); one statement."""
    if not ranges:
        return []
    rows = await db.fetch(
        sql.EVENT_RANGE_TOTALS,
        account_id,
        [product_id],
        [start for start, _ in ranges],
        [end for _, end in ranges],
    )
    found = {row["range"]: EventTotals(row["c"], row["s"], row["dur"]) for row in rows}
    return [found.get(number, EventTotals()) for number in range(1, len(ranges) + 1)]


# -- the same stored rows as columns: one list per field, for reads of thousands of buckets ---------------------


@dataclass(frozen=True)
class RollupColumns:
    """`session_rollups` transposed: element i of every list is one stored row, in the same order.

    Buckets are local wall-clock text (`2026-11-23T14:00:00`); `dimensions` '' (and `values` '') are totals.
    """

    grains: list[str] = field(default_factory=list)
    buckets: list[str] = field(default_factory=list)
    dimensions: list[str] = field(default_factory=list)
    values: list[str] = field(default_factory=list)
    t: list[int] = field(default_factory=list)
    n: list[int] = field(default_factory=list)
    u: list[int] = field(default_factory=list)
    d: list[int] = field(default_factory=list)
    e: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class EventRollupColumns:
    """`event_rollups` transposed: element i of every list is one stored row, in the same order."""

    keys: list[str] = field(default_factory=list)
    grains: list[str] = field(default_factory=list)
    buckets: list[str] = field(default_factory=list)
    segments: list[str] = field(default_factory=list)
    c: list[int] = field(default_factory=list)
    s: list[float] = field(default_factory=list)
    dur: list[float] = field(default_factory=list)


async def session_rollup_columns(
    db: RowSource,
    account_id: int,
    product_id: int,
    start: datetime,
    end: datetime,
    grains: list[str] | tuple[str, ...] = ALL_GRAINS,
    dimensions: list[str] | tuple[str, ...] = ("",),
) -> RollupColumns:
    """What `session_rollups` reads, as one list per field (PostgreSQL builds the lists: one row, no objects)."""
    _check_dimensions(dimensions)
    rows = await db.fetch(
        sql.SESSION_ROLLUP_COLUMNS, account_id, [product_id], start, end, _grains(grains), list(dimensions)
    )
    if not rows:
        return RollupColumns()
    r = rows[0]
    return RollupColumns(
        r["grains"], r["buckets"], r["dimensions"], r["vals"], r["t"], r["n"], r["u"], r["d"], r["e"]
    )


async def event_rollup_columns(
    db: RowSource,
    account_id: int,
    product_id: int,
    keys: list[str],
    start: datetime,
    end: datetime,
    grains: list[str] | tuple[str, ...] = ALL_GRAINS,
    segmentation: str | None = None,
) -> EventRollupColumns:
    """What `event_rollups` reads, as one list per field."""
    rows = await db.fetch(
        sql.EVENT_ROLLUP_COLUMNS,
        account_id,
        [product_id],
        start,
        end,
        _grains(grains),
        list(keys),
        segmentation or "",
    )
    if not rows:
        return EventRollupColumns()
    r = rows[0]
    return EventRollupColumns(r["keys"], r["grains"], r["buckets"], r["segments"], r["c"], r["s"], r["dur"])
