"""Filter inputs shared by the connections of several domains (time ranges, devices, keys)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from resolvers.errors import UserError
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


MAX_FILTER_VALUES = 10_000


def device_ids_condition(device_ids: list[str] | None) -> list[Condition]:
    """Rows (alias `t`, with a `device_id`) of the devices the product knows by these ids (`Device.deviceId`)."""
    if device_ids is None:
        return []
    if len(device_ids) > MAX_FILTER_VALUES:
        raise UserError(f"`deviceIds` lists more than {MAX_FILTER_VALUES} values")
    return [
        Condition(
            "t.device_id IN (SELECT d.id FROM devices d WHERE d.account_id = t.account_id "
            "AND d.product_id = t.product_id AND d.device_key = ANY({}::text[]))",
            tuple(device_ids),
        )
    ]


def identities_condition(identities: list[str] | None, column: str = "t.device_id") -> list[Condition]:
    """Rows (alias `t`) of the people the product knows by any of these names (identities, case-insensitive)."""
    if identities is None:
        return []
    if len(identities) > MAX_FILTER_VALUES:
        raise UserError(f"`identities` lists more than {MAX_FILTER_VALUES} values")
    return [
        Condition(
            f"{column} IN (SELECT i.person_id FROM person_identities i WHERE i.account_id = t.account_id "
            "AND i.product_id = t.product_id AND i.key = ANY({}::text[]))",
            tuple(name.lower() for name in identities),
        )
    ]


def user_ids_condition(user_ids: list[str] | None, column: str = "t.device_id") -> list[Condition]:
    """Rows (alias `t`) of the people whose current user is one of these (case-insensitive): their newest alias
    (`Device.latestAlias`, `Event.userId`), the same user a row of theirs answers."""
    if user_ids is None:
        return []
    if len(user_ids) > MAX_FILTER_VALUES:
        raise UserError(f"`userIds` lists more than {MAX_FILTER_VALUES} values")
    return [
        Condition(
            f"{column} IN (SELECT i.person_id FROM person_identities i WHERE i.account_id = t.account_id "
            "AND i.product_id = t.product_id AND i.key = ANY({}::text[]) AND i.kind <> 'primary' "
            "AND NOT EXISTS (SELECT FROM person_identities n WHERE n.account_id = i.account_id "
            "AND n.person_id = i.person_id AND n.kind <> 'primary' AND (n.created_at, n.key) > (i.created_at, i.key)))",
            tuple(name.lower() for name in user_ids),
        )
    ]
