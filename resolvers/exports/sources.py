"""What an export reads, per kind: the graph's own list (a `Listing`, its parent, its filter's conditions and its
order) and the fields a file may hold, each an SQL expression giving the value the graph's field gives.

An export of a list is the list itself: the worker (`gateway/background/export_rows.py`) reads the same listing
with the same conditions and order as the connection a client pages through, chunk by chunk after the last row's
key, so a file holds exactly the rows of the list. Field names are the graph's (`Event.key`, `Session.startedAt`,
`Device.osVersion`, ...); their values are written as the graph answers them (`values.py` of the worker).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from strawberry.utils.str_converters import to_camel_case

from gateway.ingest.rules import METRIC_COLUMNS
from resolvers import json_leaves
from resolvers.context import Context
from resolvers.devices.types import ALIASES_SQL, LATEST_ALIAS_SQL, PROPERTIES_BY_SOURCE_SQL, latest_alias_of
from resolvers.errors import UserError
from resolvers.pagination import Condition, Listing, Order


@dataclass(frozen=True)
class ExportField:
    """A field of an exported row: its SQL (over the listed table, alias `t`) and the type of its values.

    A value read from another table by a few columns of the row has its `lookup` too (`sql` is the same lookup
    for one row): a chunk looks each distinct key up once (`resolvers/lookups.py`)."""

    sql: str
    # text, int, float, time (timestamptz), json (text of a JSON value), bool
    type: str
    lookup: json_leaves.Lookup | None = None


def _text(sql: str) -> ExportField:
    return ExportField(sql, "text")


def _looked_up(leaf: json_leaves.JsonLeaf) -> ExportField:
    """The text value of a leaf read from another table (the graph's own, `json_leaves.Lookup`)."""
    assert leaf.lookup is not None
    return ExportField(leaf.sql, "text", leaf.lookup)


EVENT_FIELDS: Mapping[str, ExportField] = {
    "id": _text(json_leaves.global_id("Event").sql),
    "key": _text("t.key"),
    "timestamp": ExportField("t.occurred_at", "time"),
    "deviceId": _looked_up(json_leaves.device_key("t.device_id")),
    "userId": _looked_up(latest_alias_of("t.device_id")),
    "sessionId": _text(json_leaves.global_id("Session", "t.session_id").sql),
    "segmentation": ExportField("t.segmentation::text", "json"),
    "count": ExportField("t.count", "int"),
    "sum": ExportField("t.sum", "float"),
    "duration": ExportField("t.duration", "float"),
    "path": _text("t.path"),
    "title": _text("t.title"),
    "referrer": _text("t.referrer"),
    "isPageview": ExportField("(t.path IS NOT NULL)", "bool"),
}
SESSION_FIELDS: Mapping[str, ExportField] = {
    "id": _text(json_leaves.global_id("Session").sql),
    "deviceId": _looked_up(json_leaves.device_key("t.device_id")),
    "userId": _looked_up(latest_alias_of("t.device_id")),
    "startedAt": ExportField("t.started_at", "time"),
    "endedAt": ExportField("t.ended_at", "time"),
    "duration": ExportField("t.duration", "int"),
}
DEVICE_FIELDS: Mapping[str, ExportField] = {
    "id": _text(json_leaves.global_id("Device").sql),
    "deviceId": _text("t.device_key"),
    "latestAlias": _text(LATEST_ALIAS_SQL),
    "knownAs": _text(f"COALESCE({LATEST_ALIAS_SQL}, t.device_key)"),
    "aliases": ExportField(ALIASES_SQL, "json"),
    "updatedAt": ExportField("t.updated_at", "time"),
    "propertiesBySource": ExportField(PROPERTIES_BY_SOURCE_SQL, "json"),
    "productId": _text(json_leaves.global_id("Product", "t.product_id").sql),
    "firstSeen": ExportField("t.first_seen", "time"),
    "lastSeen": ExportField("t.last_seen", "time"),
    **{to_camel_case(name): _text(f"t.{name}") for name in (*METRIC_COLUMNS, "country", "city")},
}
FIELDS_OF_KIND: Mapping[str, Mapping[str, ExportField]] = {
    "events": EVENT_FIELDS,
    "sessions": SESSION_FIELDS,
    "devices": DEVICE_FIELDS,
}


@dataclass(frozen=True)
class ListSource:
    """The list an export of a list reads."""

    listing: Listing[Any]
    parent_id: int
    conditions: tuple[Condition, ...]
    order: Order
    fields: Mapping[str, ExportField]
    # how the list's rows are counted, when there is a cheaper way than counting them (events: the page index)
    counter: Callable[[Context], Awaitable[int]] | None = None

    async def total(self, ctx: Context) -> int:
        """How many rows the list holds (the graph's `totalCount`, or `eventCount` for events)."""
        if self.counter is not None:
            return await self.counter(ctx)
        return await self.listing.count_rows(ctx, self.parent_id, self.conditions)


def check_fields(kind: str, fields: list[tuple[str | None, str]]) -> None:
    """Every named field must be one the kind's rows have."""
    from resolvers.exports.summaries import SUMMARY_FIELDS

    known = FIELDS_OF_KIND.get(kind) or SUMMARY_FIELDS.get(kind)
    if known is None:
        raise UserError(f"Exports of {kind} take no `fields`")
    for name, _ in fields:
        if name is not None and name not in known:
            raise UserError(f"`{name}` is not a field of exported {kind}: one of {', '.join(known)}")


def list_source(
    kind: str,
    product_pk: int,
    stored_filter: dict[str, Any] | None,
    since: datetime | None,
    until: datetime | None,
) -> ListSource:
    """The list of an export job: its kind, product, stored filter (`filter` column) and period."""
    from resolvers.filters import (
        TimeRange,
        device_ids_condition,
        identities_condition,
        time_conditions,
        user_ids_condition,
    )

    stored = stored_filter or {}
    period = TimeRange(since=since, until=until)
    if kind == "events":
        from resolvers.events.filters import EventFilter, list_conditions
        from resolvers.events.pages import event_count
        from resolvers.events.types import PRODUCT_EVENTS

        order = Order("t.occurred_at", descending=stored.get("order") != "oldest")
        where = EventFilter.from_json(stored.get("events"))
        conditions = list_conditions(period, where)

        # counting a million events' rows read them from disk in a cold export (8.7 s of 21 for 1M rows)
        async def count(ctx: Context) -> int:
            return await event_count(ctx, product_pk, period, where)

        return ListSource(PRODUCT_EVENTS, product_pk, tuple(conditions), order, EVENT_FIELDS, count)
    if kind == "sessions":
        from resolvers.sessions.types import PRODUCT_SESSIONS, SESSION_ORDER

        conditions = time_conditions("t.started_at", period) + device_ids_condition(stored.get("device_ids"))
        conditions += identities_condition(stored.get("identities")) + user_ids_condition(
            stored.get("user_ids")
        )
        return ListSource(PRODUCT_SESSIONS, product_pk, tuple(conditions), SESSION_ORDER, SESSION_FIELDS)
    if kind == "devices":
        from resolvers.devices.types import ACCOUNT_PEOPLE, DEVICE_ORDER, PRODUCT_DEVICES
        from resolvers.people.filters import PeopleFilter, people_conditions
        from resolvers.segments.types import SEGMENT_MEMBERS

        conditions = time_conditions("t.last_seen", period)
        people = stored.get("people")
        if people:
            conditions += people_conditions(
                PeopleFilter(
                    identities=people.get("identities"),
                    user_ids=people.get("user_ids"),
                    device_ids=people.get("device_ids"),
                    segments=people.get("segments"),
                    updated_since=datetime.fromisoformat(people["updated_since"])
                    if people.get("updated_since")
                    else None,
                )
            )
        segment = stored.get("segment")
        if segment is not None:
            return ListSource(SEGMENT_MEMBERS, int(segment), tuple(conditions), DEVICE_ORDER, DEVICE_FIELDS)
        account = stored.get("account_people")
        if account is not None:  # `everyProduct`: the people of every product of the account (`Query.people`)
            return ListSource(ACCOUNT_PEOPLE, int(account), tuple(conditions), DEVICE_ORDER, DEVICE_FIELDS)
        return ListSource(PRODUCT_DEVICES, product_pk, tuple(conditions), DEVICE_ORDER, DEVICE_FIELDS)
    raise UserError(f"Exports of {kind} are not lists")
