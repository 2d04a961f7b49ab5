"""Filters of people lists (`Product.devices(where:)`): by property value, by events done in a period, by the
time a person last changed, by identity. Each becomes one condition of the list's statement."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import orjson
import strawberry

from gateway.ingest.people import DEFAULT_SOURCE
from resolvers.errors import UserError
from resolvers.filters import MAX_FILTER_VALUES, TimeRange, user_ids_condition
from resolvers.pagination import Condition

_TEXT = "#>> ARRAY[]::text[]"
# `{0}`: the condition's one parameter, a JSON object {source, name, value}
_PROPERTY = (
    "EXISTS (SELECT FROM person_properties AS pp WHERE pp.account_id = t.account_id AND pp.person_id = t.id "
    "AND pp.source = ({0}::text::jsonb->>'source') AND pp.name = lower({0}::text::jsonb->>'name') AND ({test}))"
)
_TESTS = {
    "equals": f"pp.value {_TEXT} = ({{0}}::text::jsonb->>'value')",
    "contains": f"strpos(pp.value {_TEXT}, {{0}}::text::jsonb->>'value') > 0",
    "greater_than": "pp.number > ({0}::text::jsonb->>'value')::float8",
    "less_than": "pp.number < ({0}::text::jsonb->>'value')::float8",
    "exists": "true",
}
# {0}: {key, since, until, at_least}
_EVENTS = (
    "(SELECT COALESCE(sum(e.count), 0) FROM events AS e WHERE e.device_id = t.id AND e.account_id = t.account_id "
    "AND e.product_id = t.product_id "
    "AND e.key = ({0}::text::jsonb->>'key') "
    "AND e.occurred_at >= COALESCE(({0}::text::jsonb->>'since')::timestamptz, '-infinity') "
    "AND e.occurred_at < COALESCE(({0}::text::jsonb->>'until')::timestamptz, 'infinity')) "
    "{comparison} ({0}::text::jsonb->>'at_least')::bigint"
)


@strawberry.enum(description="How a property's value is compared.")
class PropertyTest(enum.Enum):
    EQUALS = "equals"
    NOT_EQUALS = "not_equals"
    CONTAINS = "contains"
    GREATER_THAN = "greater_than"
    LESS_THAN = "less_than"
    EXISTS = "exists"
    NOT_EXISTS = "not_exists"


@strawberry.input(description="A condition on one property of a person (names are case-insensitive).")
class PropertyCondition:
    name: str
    test: PropertyTest = PropertyTest.EQUALS
    value: str | None = strawberry.field(
        default=None,
        description="Compared as text (EQUALS, NOT_EQUALS, CONTAINS) or as a number (GREATER_THAN, LESS_THAN).",
    )
    source: str = strawberry.field(default=DEFAULT_SOURCE, description="The system of records.")


@strawberry.input(
    description="People who did (or did not do) an event, at least a number of times, in a period."
)
class EventCondition:
    key: str
    period: TimeRange | None = None
    at_least: int = 1
    did: bool = True


@strawberry.input(description="Which people a list holds; every condition given must hold.")
class PeopleFilter:
    identity: str | None = strawberry.field(
        default=None, description="Known by this name (case-insensitive)."
    )
    identities: list[str] | None = strawberry.field(
        default=None, description="Known by one of these names (case-insensitive)."
    )
    user_ids: list[str] | None = strawberry.field(
        default=None,
        description="Whose current user (`latestAlias`, their newest alias) is one of these (case-insensitive).",
    )
    device_ids: list[str] | None = strawberry.field(
        default=None, description="Whose own id (`deviceId`) is one of these."
    )
    segments: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Matched by one of these segments."
    )
    has_properties: list[str] | None = strawberry.field(
        default=None, description="Holding one of these properties, in any system of records."
    )
    properties: list[PropertyCondition] | None = None
    events: list[EventCondition] | None = None
    updated_since: datetime | None = strawberry.field(
        default=None,
        description="Changed (any write about them) at or after this time. For delta syncs: the read waits for "
        "the writes in progress, so asking next for what changed since the time this read was sent misses no "
        "change.",
    )


def _bounded(name: str, values: list[Any]) -> list[Any]:
    if len(values) > MAX_FILTER_VALUES:
        raise UserError(f"`{name}` lists more than {MAX_FILTER_VALUES} values")
    return values


def _json(value: dict[str, Any]) -> str:
    return orjson.dumps(value).decode()


def _property(condition: PropertyCondition) -> Condition:
    test = condition.test.value
    negated = test in ("not_equals", "not_exists")
    positive = {"not_equals": "equals", "not_exists": "exists"}.get(test, test)
    if positive not in ("exists",) and condition.value is None:
        raise UserError(
            f"Property condition on {condition.name!r}: `value` is required with {condition.test.name}"
        )
    if positive in ("greater_than", "less_than"):
        try:
            float(condition.value or "")
        except ValueError as exc:
            raise UserError(f"Property condition on {condition.name!r}: `value` must be a number") from exc
    sql = _PROPERTY.replace("{test}", _TESTS[positive])
    document = {"source": condition.source, "name": condition.name, "value": condition.value}
    return Condition(("NOT " if negated else "") + sql, _json(document))


def _events(condition: EventCondition) -> Condition:
    if condition.at_least < 1:
        raise UserError("`atLeast` must be 1 or more")
    period = condition.period
    document = {
        "key": condition.key,
        "since": period.since.isoformat() if period and period.since else None,
        "until": period.until.isoformat() if period and period.until else None,
        "at_least": condition.at_least,
    }
    return Condition(_EVENTS.replace("{comparison}", ">=" if condition.did else "<"), _json(document))


def people_conditions(where: PeopleFilter | None) -> list[Condition]:
    """The conditions of a people list's statement (values as parameters)."""
    if where is None:
        return []
    conditions = []
    if where.identity is not None:
        conditions.append(
            Condition(
                "t.id = (SELECT i.person_id FROM person_identities AS i WHERE i.account_id = t.account_id "
                "AND i.product_id = t.product_id AND i.key = lower({0}))",
                where.identity,
            )
        )
    if where.identities is not None:
        conditions.append(
            Condition(
                "t.id IN (SELECT i.person_id FROM person_identities AS i WHERE i.account_id = t.account_id "
                "AND i.product_id = t.product_id AND i.key = ANY({0}::text[]))",
                tuple(name.lower() for name in _bounded("identities", where.identities)),
            )
        )
    conditions += user_ids_condition(where.user_ids, "t.id")
    if where.device_ids is not None:
        conditions.append(
            Condition("t.device_key = ANY({0}::text[])", tuple(_bounded("deviceIds", where.device_ids)))
        )
    if where.segments is not None:
        from resolvers.events.filters import segment_pks
        from resolvers.segments.types import segment_member_condition

        conditions.append(segment_member_condition("t.id", segment_pks(_bounded("segments", where.segments))))
    if where.has_properties is not None:
        conditions.append(
            Condition(
                "EXISTS (SELECT FROM person_properties AS pp WHERE pp.account_id = t.account_id "
                "AND pp.person_id = t.id AND pp.name = ANY({0}::text[]))",
                tuple(name.lower() for name in _bounded("hasProperties", where.has_properties)),
            )
        )
    if where.updated_since is not None:
        # a delta sync: the writes in progress are waited for, so none made before this read is missed
        conditions.append(Condition("t.updated_at >= {0}", where.updated_since, after_writes_to="devices"))
    conditions += [_property(c) for c in where.properties or []]
    conditions += [_events(c) for c in where.events or []]
    return conditions
