"""People in the ingestion engine: identities, person properties, aliases and once-per-second events.

The data model (migration 020): a person is a row of `devices`; `person_identities` holds every name a
product knows it by (case-insensitive, unique per product); `person_properties` its current property values
per system of records (`source`, 'global' by default). What lives here, for the engine's batch (writer.py):

- `PeoplePlan`: what a batch writes to people besides the device rows: property values (Countly user details,
  KISSmetrics properties, the graph's property mutations) and their definitions (scope 'device'), changes of
  set-valued properties (values added and removed, applied to the stored set in SQL, in the batch's
  transaction: two changes of one set at once both count), and the events already seen this batch for requests
  whose events count once per person, key and second.
- `event_probes` / `seen_events`: those events looked up among the stored ones, in the batch's LOCK statement.
- `survivor`: which of two persons an alias keeps (the one known first), whatever the order of its names.
- `MERGE_PEOPLE`: a merge (Countly `old_device_id` or an alias; rules.Planner._merge) moves the merged person's
  identities and properties to the person it joins, beside its sessions and events (writer._store).
- `STORE_DEFINITIONS_CTE`, `STORE_PROPERTIES_CTE`: STORE's parts that write the plan (`PeoplePlan.rows`).

Names are compared in lower case in SQL (`lower()`), which is what the identities' and properties' keys hold.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from math import isfinite
from typing import TYPE_CHECKING, Any

import orjson

from gateway.ingest.model import EventInput, SetChange, TrackRequest
from gateway.ingest.timestamps import parse_timestamp

if TYPE_CHECKING:
    from gateway.db.pool import Transaction
    from gateway.ingest.rules import DeviceState

DEFAULT_SOURCE = "global"
MAX_NAME_CHARS = 255
ONE_SECOND = timedelta(seconds=1)

# (person state, source, lower-case name) -> its latest write in the batch
PropertyKey = tuple[int, str, str]
# (product, person id, event key, second) of an event that counts once
EventSecond = tuple[int, str, datetime]


def numeric(value: Any) -> float | None:
    """The numeric reading of a property value: a number, or text that reads as a finite one."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        text = value.strip()
        if not text or text[0] not in "+-.0123456789":  # "nan", "inf", "1_000" are text
            return None
        try:
            number = float(text)
        except ValueError:
            return None
        if "_" in text:
            return None
    else:
        return None
    return number if isfinite(number) else None


def data_type(value: Any) -> str:
    """A value's type for its property definition: `number` when it reads as one (text included)."""
    if isinstance(value, bool):
        return "boolean"
    if numeric(value) is not None:
        return "number"
    if isinstance(value, dict | list):
        return "object"
    return "string"


def survivor(a: DeviceState, b: DeviceState) -> tuple[DeviceState, DeviceState]:
    """(kept, merged) of two persons an alias joins: the one known first is kept (a stored one before one
    this batch creates, then the earlier id), so the order of the alias' names changes nothing."""
    if (a.inserted, a.id) <= (b.inserted, b.id):
        return a, b
    return b, a


@dataclass
class _Write:
    state: DeviceState
    product_id: int
    account_id: int
    source: str
    name: str
    value: Any  # None: remove the property (unless `change` is set)
    at: datetime
    # a change of the stored set instead of a value: (values added, values removed), disjoint
    change: tuple[list[Any], list[Any]] | None = None


def _key(value: Any) -> bytes:
    """What set members are compared by: their JSON text, keys sorted."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        return repr(value).encode()


def changed_set(current: Any, added: list[Any], removed: list[Any]) -> list[Any]:
    """A set-valued property after a change, as the `person_set_change` SQL function (migration 046) computes
    it: the current value as a list (a single value is a set of one, none an empty set), then the values added,
    each once, in the order first seen, without the values removed."""
    members = [] if current is None else (list(current) if isinstance(current, list) else [current])
    gone = {_key(value) for value in removed}
    kept, seen = [], set()
    for value in members + list(added):
        key = _key(value)
        if key not in gone and key not in seen:
            seen.add(key)
            kept.append(value)
    return kept


def _then(earlier: _Write | None, later: _Write) -> _Write:
    """One write of a person's property standing for two made in this order in a batch.

    A value replaces what was there, unless the value there was set at a later time (the client's); a set change
    applies to the value written before it (in Python, when it is known) or joins the change before it (the
    stored set, read in SQL, is then changed once by both)."""
    if earlier is None:
        return later
    at = max(earlier.at, later.at)
    if later.change is None:
        return later if earlier.change is not None or later.at >= earlier.at else earlier
    added, removed = later.change
    if earlier.change is None:
        return _Write(
            later.state, later.product_id, later.account_id, later.source, later.name,
            changed_set(earlier.value, added, removed), at,
        )  # fmt: skip
    change = then_change(SetChange(*earlier.change), added, removed)
    return _Write(
        later.state, later.product_id, later.account_id, later.source, later.name, None, at,
        (change.added, change.removed),
    )  # fmt: skip


def then_change(earlier: SetChange | None, added: list[Any], removed: list[Any]) -> SetChange:
    """One change of a set standing for `earlier` and then (`added`, `removed`): the values added, and the values
    removed, by the two (disjoint: a value added after it was removed is added, and the other way round)."""
    gone, new = {_key(v) for v in removed}, {_key(v) for v in added}
    before_added, before_removed = (earlier.added, earlier.removed) if earlier else ([], [])
    return SetChange(
        [v for v in before_added if _key(v) not in gone] + [v for v in added if _key(v) not in gone],
        [v for v in before_removed if _key(v) not in new] + list(removed),
    )


@dataclass
class PeoplePlan:
    """What one batch writes to people; see the module docstring."""

    writes: dict[tuple[int, str, str], _Write] = field(default_factory=dict)
    # (product, lower name) -> [data_type, first_seen, last_seen, account]
    definitions: dict[tuple[int, str], list[Any]] = field(default_factory=dict)
    # events stored before the batch (from LOCK) and in it, for requests with events_once_per_second
    seen: set[EventSecond] = field(default_factory=set)

    def set_properties(
        self,
        device: DeviceState,
        account_id: int,
        values: dict[str, Any],
        at: datetime,
        source: str = DEFAULT_SOURCE,
    ) -> None:
        """Set (a value) or remove (None) properties of `device` at time `at`; later writes of a batch win."""
        for raw_name, value in values.items():
            self._write(device, account_id, raw_name, value, at, source, None)

    def change_sets(
        self,
        device: DeviceState,
        account_id: int,
        changes: dict[str, SetChange],
        at: datetime,
        source: str = DEFAULT_SOURCE,
    ) -> None:
        """Add values to and remove values from set-valued properties of `device`: applied to the stored sets
        by STORE, in the batch's transaction (the person is locked), so that no concurrent change is lost."""
        for raw_name, change in changes.items():
            change = then_change(None, change.added, change.removed)
            self._write(device, account_id, raw_name, None, at, source, (change.added, change.removed))

    def _write(
        self,
        device: DeviceState,
        account_id: int,
        raw_name: str,
        value: Any,
        at: datetime,
        source: str,
        change: tuple[list[Any], list[Any]] | None,
    ) -> None:
        name = str(raw_name).strip()
        if not name:
            return
        lowered = name.lower()
        key = (id(device), source, lowered)
        write = _Write(device, device.product_id, account_id, source, lowered, value, at, change)
        self.writes[key] = _then(self.writes.get(key), write)
        if value is None and change is None:
            return
        definition = self.definitions.get((device.product_id, lowered))
        kind = data_type(value if change is None else change[0])
        if definition is None:
            self.definitions[(device.product_id, lowered)] = [kind, at, at, account_id]
        else:
            if definition[0] != kind:
                definition[0] = "string"
            definition[1] = min(definition[1], at)
            definition[2] = max(definition[2], at)

    def fresh_events(self, device: DeviceState, events: list[EventInput], at: datetime) -> list[EventInput]:
        """The events of a request that count once per person, key and second and were not seen yet."""
        kept = []
        for event in events:
            occurred = at if event.timestamp is None else parse_timestamp(event.timestamp, at)
            second = (device.id, event.key, occurred.replace(microsecond=0))
            if second in self.seen:
                continue
            self.seen.add(second)
            kept.append(event)
        return kept

    def rows(self) -> tuple[str, str]:
        """STORE's two documents of people ($12, $13): definitions and property writes, sorted by key (the
        order their rows are locked in).

        Writes are keyed by the person they end with: a person merged in this batch hands its writes to the
        one it joined, where they combine in the order they were made (`_then`)."""
        final: dict[tuple[int, str, str], _Write] = {}
        for write in self.writes.values():
            key = (write.state.final().id, write.source, write.name)
            final[key] = _then(final.get(key), write)
        writes = [
            (
                w.account_id,
                person,
                source,
                name,
                w.product_id,
                _json(w.value),
                numeric(w.value),
                w.at,
                *_change(w),
            )  # fmt: skip
            for (person, source, name), w in sorted(
                final.items(), key=lambda item: (item[1].account_id, item[0])
            )
        ]
        definitions = [
            (product_id, name, kind, first, last, account)
            for (product_id, name), (kind, first, last, account) in sorted(self.definitions.items())
        ]
        return orjson.dumps(definitions).decode(), orjson.dumps(writes).decode()


def _change(write: _Write) -> tuple[str | None, str | None]:
    """A write's set change as STORE reads it: the values added and removed as JSON arrays (null: a value)."""
    if write.change is None:
        return None, None
    added, removed = write.change
    return _json(added), _json(removed)


def _json(value: Any) -> str | None:
    """A property value as JSON text (None: removed). Values that JSON cannot hold exactly (NaN, infinities,
    integers beyond 64 bits) are kept as their text."""
    if value is None:
        return None
    if isinstance(value, float) and not isfinite(value):
        return orjson.dumps(repr(value)).decode()
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return orjson.dumps(str(value)).decode()


def event_probes(
    requests: Iterable[TrackRequest], now: datetime
) -> list[tuple[int, str, str, datetime, int]]:
    """The (product, identity, event key, second, account) of every event that counts once per person, key
    and second: LOCK looks for them among the stored events."""
    probes = []
    for request in requests:
        if not request.events_once_per_second or not request.events:
            continue
        at = parse_timestamp(request.timestamp, now)
        for event in request.events:
            occurred = at if event.timestamp is None else parse_timestamp(event.timestamp, now)
            second = occurred.replace(microsecond=0)
            probes.append((request.product_id, request.device_key, event.key, second, request.account_id))
    return probes


def seen_events(rows: Iterable[Any]) -> set[EventSecond]:
    """The stored events LOCK found for the probes: (person id, key, second)."""
    return {(row["id"], row["device_key"], row["first_seen"]) for row in rows}


# After a merge's sessions and events have moved (writer._store), before the merged devices are deleted:
# their identities now name the person they joined, and their properties join its own (the value set last
# wins, per system of records and name). $1 the merged device ids, $2 the ids of the persons they joined.
MERGE_PEOPLE = """
WITH m AS (
    SELECT * FROM unnest($1::bigint[], $2::bigint[]) AS m(old_id, new_id)
), identities AS (
    UPDATE person_identities AS i SET person_id = m.new_id, kind = 'alias'
    FROM m WHERE i.person_id = m.old_id
), properties AS (
    INSERT INTO person_properties AS t (account_id, product_id, person_id, source, name, value, number, set_at)
    SELECT DISTINCT ON (p.account_id, m.new_id, p.source, p.name)
           p.account_id, p.product_id, m.new_id, p.source, p.name, p.value, p.number, p.set_at
    FROM person_properties AS p JOIN m ON p.person_id = m.old_id
    ORDER BY p.account_id, m.new_id, p.source, p.name, p.set_at DESC
    ON CONFLICT (account_id, person_id, source, name) DO UPDATE
    SET value = EXCLUDED.value, number = EXCLUDED.number, set_at = EXCLUDED.set_at, updated_at = statement_timestamp()
    WHERE EXCLUDED.set_at > t.set_at
)
SELECT 1
"""

# STORE's parts (gateway/ingest/sql.py) that write the batch's people: its property values and the
# definitions of person properties, so that a batch still costs two statements.
# $12 definitions (scope 'device'): product_id, name, data_type, first_seen, last_seen, account_id; sorted by
#     key. A name whose values were of several types becomes `string`. Shared between batches, like the other
#     definitions: this CTE comes first in STORE's text (see the ordering note there).
# $13 writes: account_id, person_id, source, name (lower case), product_id, value (JSON text; null: remove),
#     number, set_at, then for a change of a set instead of a value: the values added and removed (JSON arrays;
#     null for a value); sorted by key. A value older than the one kept is neither written nor removed. A set's
#     change applies to the stored set (`person_set_change`, migration 046), whenever it was set: the person is
#     locked (LOCK), so the set read here is the last one committed and none is written by another transaction
#     before this one commits; two changes of one set at the same moment both count.
STORE_DEFINITIONS_CTE = """
person_property_definitions AS (
    INSERT INTO property_definitions AS p (account_id, product_id, scope, name, data_type, first_seen, last_seen)
    SELECT (x.r->>5)::bigint, (x.r->>0)::bigint, 'device', lower(x.r->>1), x.r->>2, (x.r->>3)::timestamptz,
           (x.r->>4)::timestamptz
    FROM jsonb_array_elements($12::text::jsonb) WITH ORDINALITY AS x(r, o)
    ORDER BY x.o
    ON CONFLICT (product_id, scope, name) DO UPDATE
    SET data_type = CASE WHEN p.data_type = EXCLUDED.data_type THEN p.data_type ELSE 'string' END,
        first_seen = LEAST(p.first_seen, EXCLUDED.first_seen),
        last_seen = GREATEST(p.last_seen, EXCLUDED.last_seen), last_sent = now()
)"""
STORE_PROPERTIES_CTE = """
property_writes AS (
    SELECT (x.r->>0)::bigint AS account_id, (x.r->>1)::bigint AS person_id, x.r->>2 AS source,
           lower(x.r->>3) AS name, (x.r->>4)::bigint AS product_id, (x.r->>5)::jsonb AS value,
           (x.r->>6)::float8 AS number, (x.r->>7)::timestamptz AS set_at, (x.r->>8)::jsonb AS added,
           (x.r->>9)::jsonb AS removed, x.o
    FROM jsonb_array_elements($13::text::jsonb) WITH ORDINALITY AS x(r, o)
), removed_properties AS (
    DELETE FROM person_properties AS t USING property_writes AS w
    WHERE w.value IS NULL AND w.added IS NULL AND t.account_id = w.account_id AND t.person_id = w.person_id
      AND t.source = w.source AND t.name = w.name AND t.set_at <= w.set_at
), written_properties AS (
    INSERT INTO person_properties AS t (account_id, product_id, person_id, source, name, value, number, set_at)
    SELECT w.account_id, w.product_id, w.person_id, w.source, w.name, w.value, w.number, w.set_at
    FROM property_writes AS w WHERE w.value IS NOT NULL ORDER BY w.o
    ON CONFLICT (account_id, person_id, source, name) DO UPDATE
    SET value = EXCLUDED.value, number = EXCLUDED.number, set_at = EXCLUDED.set_at, updated_at = statement_timestamp()
    WHERE EXCLUDED.set_at >= t.set_at
), changed_sets AS (
    INSERT INTO person_properties AS t (account_id, product_id, person_id, source, name, value, number, set_at)
    SELECT w.account_id, w.product_id, w.person_id, w.source, w.name,
           person_set_change(s.value, w.added, w.removed), NULL, w.set_at
    FROM property_writes AS w
    LEFT JOIN person_properties AS s
      ON s.account_id = w.account_id AND s.person_id = w.person_id AND s.source = w.source AND s.name = w.name
    WHERE w.added IS NOT NULL ORDER BY w.o
    ON CONFLICT (account_id, person_id, source, name) DO UPDATE
    SET value = EXCLUDED.value, number = NULL, set_at = GREATEST(t.set_at, EXCLUDED.set_at),
        updated_at = statement_timestamp()
)"""


async def merge_people(tx: Transaction, olds: list[int], targets: list[int]) -> None:
    """Move the identities and properties of merged devices to the persons they joined."""
    await tx.execute(MERGE_PEOPLE, olds, targets)
