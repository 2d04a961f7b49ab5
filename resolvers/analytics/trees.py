"""Calendar trees: stored rollup buckets nested by year, month, day and hour, written as JSON by PostgreSQL.

The shape is Countly's time document (`adapters/countly/documents.py` answers `/o` with it): a year holds its
months and its Countly weeks (`w<N>`), a month its days, a day its hours; every node holds its own counts by
letter and, per metric value (dots written as `:`), that value's counts. The statements are in `tree_sql.py`;
here they are run. The text PostgreSQL wrote goes into a `/graphql` reply (or a shim's) as it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from gateway.execution.fast_path import RawJson
from gateway.json_text import loads_json
from resolvers.analytics import tree_sql
from resolvers.analytics.batching import RowSource


@dataclass(frozen=True)
class SessionTree:
    """The nested buckets as PostgreSQL wrote them (None: no counts), and per metric dimension the values
    stored in the range (as sent)."""

    text: str | None = None
    values: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class EventTree:
    """The nested buckets of the event keys as PostgreSQL wrote them (None: no counts), and the segmentation
    values stored in the range (as sent)."""

    text: str | None = None
    segments: list[str] = field(default_factory=list)


def tree_value(text: str | None, raw: bool) -> Any:
    """The tree for the reply: its text as it is (`RawJson`) when the caller writes JSON text, else objects."""
    if text is None:
        return {}
    return RawJson(text) if raw else loads_json(text)


async def session_rollup_tree(
    db: RowSource,
    account_id: int,
    product_id: int,
    start: datetime,
    end: datetime,
    grains: list[str],
    value_grains: list[str],
    dimensions: list[str],
) -> SessionTree:
    """The totals at `grains` (none when empty) and the values of `dimensions` at `value_grains`, nested.

    Letters: `t n u d e` for the totals, `t n u` for values, only `u` in weeks; zero counts are left out.
    """
    rows = await db.fetch(
        tree_sql.SESSION_ROLLUP_TREE,
        account_id,
        [product_id],
        start,
        end,
        grains,
        value_grains,
        [dimension for dimension in dimensions if dimension],
    )
    if not rows:
        return SessionTree()
    row = rows[0]
    values = loads_json(row["metric_values"]) if row["metric_values"] else {}
    return SessionTree(row["tree"], values)


async def event_rollup_tree(
    db: RowSource,
    account_id: int,
    product_id: int,
    keys: list[str],
    start: datetime,
    end: datetime,
    grains: list[str],
    segmentation: str | None,
) -> EventTree:
    """`c s dur` of the keys summed per bucket (per segmentation value when given), nested."""
    rows = await db.fetch(
        tree_sql.EVENT_ROLLUP_TREE,
        account_id,
        [product_id],
        start,
        end,
        grains,
        keys,
        segmentation or "",
    )
    if not rows:
        return EventTree()
    row = rows[0]
    return EventTree(row["tree"], list(row["segments"] or []))
