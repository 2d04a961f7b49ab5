"""Filter inputs shared by the connections of several domains (time ranges, devices, keys)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from resolvers.node import pk_of
from resolvers.pagination import Condition


@strawberry.input(description="A half-open time range: since ≤ t < until; either end may be left open.")
class TimeRange:
    since: datetime | None = None
    until: datetime | None = None


def time_conditions(column: str, period: TimeRange | None) -> list[Condition]:
    if period is None:
        return []
    conditions = []
    if period.since is not None:
        conditions.append(Condition(f"{column} >= {{}}", period.since))
    if period.until is not None:
        conditions.append(Condition(f"{column} < {{}}", period.until))
    return conditions


def device_condition(device: strawberry.ID | None) -> list[Condition]:
    if device is None:
        return []
    return [Condition("t.device_id = {}", pk_of(device, "Device"))]
