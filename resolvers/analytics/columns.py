"""Columnar analytics types: stored rollup buckets as one JSON array per field instead of one object per bucket.

A Countly dashboard document reads about 2,000 buckets. As objects, each bucket costs the executor a
completion of nine fields; as `[Int!]!` lists, graphql-core would still complete every element on its own.
A JSON array is one leaf whatever its length, so `rollupColumns` and `eventRollupColumns` answer the same
rows as `rollups` and `eventRollups`, in the same order, at a fraction of the cost; charts and exports want
columns anyway. Element i of every array describes bucket i.
"""

from __future__ import annotations

import strawberry
from strawberry.scalars import JSON

from resolvers.analytics.queries import EventRollupColumns as EventColumnRows
from resolvers.analytics.queries import RollupColumns as ColumnRows

_BUCKETS = (
    "Start of each bucket, in the product's local wall-clock time without offset (`2026-11-23T14:00:00`): "
    "a bucket holds a local hour, day, Countly week, month or year."
)
_GRAINS = "Grain of each bucket: `HOUR`, `DAY`, `WEEK`, `MONTH` or `YEAR` (`Granularity` names)."


@strawberry.type(
    description="Stored session rollup buckets as columns: one JSON array per field, element i of each "
    "array describing bucket i, in the order of `rollups` (grain, bucket, metric, value)."
)
class RollupColumns:
    size: int = strawberry.field(description="Number of buckets: the length of every array.")
    grains: JSON = strawberry.field(description=_GRAINS)
    buckets: JSON = strawberry.field(description=_BUCKETS)
    metrics: JSON = strawberry.field(
        description="Metric of each bucket's value (`Metric` names, e.g. `COUNTRY`); null for the totals."
    )
    values: JSON = strawberry.field(
        description="Metric value of each bucket as sent (dots kept); '' for the totals."
    )
    sessions: JSON = strawberry.field(description="Sessions per bucket (integers).")
    new_users: JSON = strawberry.field(description="New users per bucket (integers).")
    unique_users: JSON = strawberry.field(description="Exact unique users per bucket (integers).")
    duration: JSON = strawberry.field(
        description="Session duration per bucket, seconds (integers; totals only)."
    )
    requests: JSON = strawberry.field(description="Requests per bucket (integers; totals only).")


@strawberry.type(
    description="Stored event rollup buckets as columns: one JSON array per field, element i of each array "
    "describing bucket i, in the order of `eventRollups` (key, grain, bucket, segment)."
)
class EventRollupColumns:
    size: int = strawberry.field(description="Number of buckets: the length of every array.")
    keys: JSON = strawberry.field(description="Event key of each bucket.")
    grains: JSON = strawberry.field(description=_GRAINS)
    buckets: JSON = strawberry.field(description=_BUCKETS)
    segments: JSON = strawberry.field(
        description="Segmentation value of each bucket; '' for the key's totals."
    )
    count: JSON = strawberry.field(description="Event count per bucket (integers).")
    sum: JSON = strawberry.field(description="Sum per bucket (numbers).")
    duration: JSON = strawberry.field(description="Duration per bucket (numbers).")


def session_columns(
    rows: ColumnRows, grain_names: dict[str, str], metric_names: dict[str, str]
) -> RollupColumns:
    """The GraphQL columns of stored session rows (grain letters and dimensions as enum names)."""
    return RollupColumns(
        size=len(rows.grains),
        grains=JSON([grain_names[grain] for grain in rows.grains]),
        buckets=JSON(rows.buckets),
        metrics=JSON([metric_names[dimension] if dimension else None for dimension in rows.dimensions]),
        values=JSON(rows.values),
        sessions=JSON(rows.t),
        new_users=JSON(rows.n),
        unique_users=JSON(rows.u),
        duration=JSON(rows.d),
        requests=JSON(rows.e),
    )


def event_columns(rows: EventColumnRows, grain_names: dict[str, str]) -> EventRollupColumns:
    """The GraphQL columns of stored event rows (grain letters as enum names)."""
    return EventRollupColumns(
        size=len(rows.grains),
        keys=JSON(rows.keys),
        grains=JSON([grain_names[grain] for grain in rows.grains]),
        buckets=JSON(rows.buckets),
        segments=JSON(rows.segments),
        count=JSON(rows.c),
        sum=JSON(rows.s),
        duration=JSON(rows.dur),
    )
