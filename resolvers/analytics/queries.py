"""Read functions over the rollups: typed results, one statement each."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from gateway.db import Database
from resolvers.analytics import sql

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
    db: Database,
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
        sql.SESSION_SERIES, account_id, product_id, start, end, grain, GRAIN_INTERVALS[grain], dimension
    )
    return [SessionPoint(r["bucket"], r["value"], r["t"], r["n"], r["u"], r["d"], r["e"]) for r in rows]


async def event_series(
    db: Database,
    account_id: int,
    product_id: int,
    keys: list[str],
    start: datetime,
    end: datetime,
    grain: str,
    segmentation: str | None = None,
) -> list[EventPoint]:
    """Per-bucket c/s/dur of `keys`; per value of the segmentation key `segmentation` when given."""
    grain = _check_grain(grain)
    rows = await db.fetch(
        sql.EVENT_SERIES,
        account_id,
        product_id,
        start,
        end,
        grain,
        GRAIN_INTERVALS[grain],
        list(keys),
        segmentation or "",
    )
    return [EventPoint(r["key"], r["seg_value"], r["bucket"], r["c"], r["s"], r["dur"]) for r in rows]


async def event_keys(db: Database, account_id: int, product_id: int) -> EventKeys:
    """Every event key of the product with its segmentation keys and values."""
    result = EventKeys()
    for row in await db.fetch(sql.EVENT_KEYS, account_id, product_id):
        key = row["key"]
        if key not in result.segments:
            result.keys.append(key)
            result.segments[key] = {}
        if row["seg_key"]:
            result.segments[key].setdefault(row["seg_key"], []).append(row["seg_value"])
    return result
