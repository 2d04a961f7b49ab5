"""The vendor's fields of each list and the graph's field each one is: for JSON replies and for export files.

`fields=a,b` picks a list's fields, in that order; a requested field the list does not have is null (as the
real API answers); some fields are always there (a device's `device_id` and `application_id`). A vendor field
with no graph field (`None`) is null everywhere. A device is a person of the people model; its users are the
names it gained besides its own id (its aliases), the newest being its current user; an event's or a session's
`user_id` is the current user of its person (null when it has none).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson


@dataclass(frozen=True)
class Field:
    """A vendor field: the node's key whose value it is as it stands, or a function of the node (neither: null)."""

    graph: str | None  # the graph field of the exported objects (None: no value)
    key: str | None = None
    read: Callable[[dict[str, Any]], Any] | None = None


def _of(name: str) -> Field:
    return Field(name, key=name)


# how shape_all reads a field of a node: a key of it, a function of it, or a constant
_KEY, _CALL, _CONSTANT = 0, 1, 2


def _json(text: str | None) -> Any:
    return None if text is None else orjson.loads(text)


def _none() -> Field:
    return Field(None)


@dataclass(frozen=True)
class FieldSet:
    fields: Mapping[str, Field]
    always: tuple[str, ...] = ()

    def chosen(self, requested: list[str] | None) -> list[str]:
        """The vendor field names of a reply: `always`, then the requested ones (or every known field)."""
        names = list(self.fields) if not requested else requested
        return list(dict.fromkeys([*self.always, *names]))

    def shape_all(
        self, nodes: list[dict[str, Any]], names: list[str], extra: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """Each node as the vendor's object of these fields, in their order (`extra`: values of some of them);
        how each field is read is worked out once for all (a page holds up to 1,000 nodes)."""
        values = extra or {}
        plan: list[tuple[str, int, Any]] = []
        for name in names:
            field = None if name in values else self.fields.get(name)
            if field is not None and field.key is not None:
                plan.append((name, _KEY, field.key))
            elif field is not None and field.read is not None:
                plan.append((name, _CALL, field.read))
            else:
                plan.append((name, _CONSTANT, values.get(name)))
        return [
            {
                name: node.get(how) if kind == _KEY else how(node) if kind == _CALL else how
                for name, kind, how in plan
            }
            for node in nodes
        ]

    def columns(self, names: list[str], constants: dict[str, str] | None = None) -> list[dict[str, Any]]:
        """The export's `fields` input for these vendor fields (headers are the vendor's names)."""
        constants = constants or {}
        columns = []
        for name in names:
            field = self.fields.get(name)
            if name in constants:
                columns.append({"field": None, "header": name, "value": constants[name]})
            else:
                columns.append({"field": None if field is None else field.graph, "header": name})
        return columns


EVENTS = FieldSet(
    {
        "name": _of("key"),
        "date_utc": _of("timestamp"),
        "device_id": _of("deviceId"),
        # the user its person is known by now (its newest alias): the gateway records which device did
        # something, not which of its users was signed in then
        "user_id": _of("userId"),
        "session_id": _of("sessionId"),
        # read as the stored JSON text, so that PostgreSQL can build the whole page (`Event.segmentationText`)
        "details": Field("segmentation", read=lambda node: _json(node.get("segmentationText"))),
    }
)
SESSIONS = FieldSet(
    {
        "session_id": _of("id"),
        "device_id": _of("deviceId"),
        "user_id": _of("userId"),
        "start_date_utc": _of("startedAt"),
        "end_date_utc": _of("endedAt"),
        "duration": _of("duration"),
    }
)
DEVICES = FieldSet(
    {
        "device_id": _of("deviceId"),
        "application_id": _none(),  # the app's identifier: the same for every device of a reply
        "current_user_id": _of("latestAlias"),
        "users": _of("aliases"),
        "first_seen_utc": _of("firstSeen"),
        "last_seen_utc": _of("lastSeen"),
        "os": _of("os"),
        "os_version": _of("osVersion"),
        "device_model": _of("device"),
        "resolution": _of("resolution"),
        "carrier": _of("carrier"),
        "app_version": _of("appVersion"),
        "locale": _of("locale"),
        "country": _of("country"),
        "city": _of("city"),
    },
    always=("device_id", "application_id"),
)
