"""Which events a list holds: the `EventFilter` input and the SQL conditions it stands for.

The same conditions serve the graph's event lists (`Product.events`) and the export of events
(`gateway/background/export_rows.py`), so a file holds exactly the events a list of the same filter pages through.
Ids that do not decode (a session id that is no Session id) match nothing rather than fail: a list filtered by
an unknown id is empty, as for an id of another account.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

import strawberry

from resolvers.errors import UserError
from resolvers.filters import (
    MAX_FILTER_VALUES,
    TimeRange,
    device_ids_condition,
    identities_condition,
    time_conditions,
    user_ids_condition,
)
from resolvers.node import InvalidId, pk_of
from resolvers.pagination import Condition
from resolvers.segments.types import segment_member_condition

T = TypeVar("T")


@strawberry.input(
    description="Which events to list: every criterion given must hold; each list matches any of its values."
)
class EventFilter:
    keys: list[str] | None = strawberry.field(default=None, description="Event names.")
    device_ids: list[str] | None = strawberry.field(
        default=None, description="Devices, by the id their SDK sent (`Device.deviceId`)."
    )
    identities: list[str] | None = strawberry.field(
        default=None, description="People, by any name they are known by (identities: device ids, aliases)."
    )
    user_ids: list[str] | None = strawberry.field(
        default=None,
        description="People, by their current user (`Event.userId`: their newest alias), case-insensitive.",
    )
    sessions: list[strawberry.ID] | None = strawberry.field(default=None, description="Sessions, by id.")
    segments: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Segments, by id: events of the devices each one matches."
    )

    def to_json(self) -> dict[str, list[str]]:
        """The filter as stored with an export job (`export_rows` reads it back with `from_json`)."""
        stored = {
            "keys": self.keys,
            "device_ids": self.device_ids,
            "identities": self.identities,
            "user_ids": self.user_ids,
            "sessions": self.sessions,
            "segments": self.segments,
        }
        return {name: [str(v) for v in values] for name, values in stored.items() if values is not None}

    @classmethod
    def from_json(cls, stored: dict[str, list[str]] | None) -> EventFilter | None:
        if not stored:
            return None
        return cls(
            keys=stored.get("keys"),
            device_ids=stored.get("device_ids"),
            identities=stored.get("identities"),
            user_ids=stored.get("user_ids"),
            sessions=[strawberry.ID(v) for v in stored["sessions"]] if "sessions" in stored else None,
            segments=[strawberry.ID(v) for v in stored["segments"]] if "segments" in stored else None,
        )


def segment_pks(ids: Sequence[str]) -> list[int]:
    """The primary keys of segment ids (ids that are not Segment ids are left out)."""
    return _pks(ids, "Segment")


def _pks(ids: Sequence[str], type_name: str) -> list[int]:
    found = []
    for global_id in ids:
        try:
            found.append(pk_of(global_id, type_name))
        except InvalidId:
            continue
    return found


def _checked(name: str, values: Sequence[T]) -> Sequence[T]:
    if len(values) > MAX_FILTER_VALUES:
        raise UserError(f"`{name}` lists more than {MAX_FILTER_VALUES} values")
    return values


def event_conditions(where: EventFilter | None) -> list[Condition]:
    """The conditions on `events` (alias `t`) of a filter."""
    if where is None:
        return []
    conditions = []
    if where.keys is not None:
        conditions.append(Condition("t.key = ANY({}::text[])", tuple(_checked("keys", where.keys))))
    conditions += device_ids_condition(where.device_ids)
    conditions += identities_condition(where.identities) + user_ids_condition(where.user_ids)
    if where.sessions is not None:
        conditions.append(
            Condition(
                "t.session_id = ANY({}::bigint[])",
                tuple(_pks(_checked("sessions", where.sessions), "Session")),
            )
        )
    if where.segments is not None:
        segments = _pks(_checked("segments", where.segments), "Segment")
        conditions.append(segment_member_condition("t.device_id", segments))
    return conditions


@dataclass(frozen=True)
class HourScope:
    """A list the page index can count (`page_index`): a time range and, optionally, event names only."""

    since: datetime | None
    until: datetime | None
    keys: list[str] | None


def hour_scope(period: TimeRange | None, where: EventFilter | None) -> HourScope | None:
    """The list's scope when the page index can count it, else None (filters by device, session or segment)."""
    if where is not None and (
        where.device_ids is not None
        or where.identities is not None
        or where.user_ids is not None
        or where.sessions is not None
        or where.segments is not None
    ):
        return None
    # events always have a name: an empty one matches nothing, where '' in event_hours counts every key
    keys = None if where is None or where.keys is None else [key for key in where.keys if key]
    return HourScope(
        since=period.since if period else None, until=period.until if period else None, keys=keys
    )


def list_conditions(period: TimeRange | None, where: EventFilter | None) -> list[Condition]:
    """Every condition of an event list: its period and its filter."""
    return time_conditions("t.occurred_at", period) + event_conditions(where)
