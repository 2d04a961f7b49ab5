"""Writes one batch of requests inside one open transaction.

A batch costs the same few round trips whatever it holds: it locks its products and its devices in one
statement (sql.LOCK), is planned in Python, then stores everything in one statement (sql.STORE; its events by
COPY after it when they cannot be a JSON document). Round trips, not server time, are what a batch waits for:
each one waits behind the HTTP work of the event loop.

Order of locks (the same in every gateway process, so concurrent processes do not deadlock): the batch's
products, its existing device rows sorted by (product_id, device_key), then new rows and the rollup and
definition rows of STORE (one statement text, so the same order everywhere; each upsert sorted by its key). A
transaction waits for another one only on a row that one holds already, and on a device both create; the
second then finds the device created and retries the batch.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from math import isfinite
from typing import Any

import asyncpg
import orjson

from gateway.db.pool import Transaction
from gateway.ingest import people, sdk_health, sql
from gateway.ingest.model import Outcome, TrackRequest
from gateway.ingest.rules import (
    DEVICE_COLUMNS,
    SESSION_ID,
    DeviceState,
    Planner,
    ProductInfo,
    ignored_device,
    precheck,
)
from gateway.ingest.timestamps import parse_timestamp
from gateway.input_values import EARLIEST, LATEST, aware

DeviceKey = tuple[int, str]


def _instant(value: datetime | None) -> datetime | None:
    """A stored instant as the planner compares it: aware, within the calendar (rows written before values were
    normalised may hold -infinity, which asyncpg reads as a naive datetime)."""
    if value is None or (value.tzinfo is not None and EARLIEST <= value <= LATEST):
        return value
    return aware(value)


def _device_state(row: asyncpg.Record) -> DeviceState:
    first_seen, last_seen = _instant(row["first_seen"]), _instant(row["last_seen"])
    assert first_seen is not None and last_seen is not None
    return DeviceState(
        id=row["id"],
        account_id=row["account_id"],
        product_id=row["product_id"],
        device_key=row["device_key"],
        inserted=row["inserted"],
        first_seen=first_seen,
        last_seen=last_seen,
        attrs={name: row[name] for name in DEVICE_COLUMNS},
        open_session_id=row["open_session_id"],
        last_session_end=_instant(row["last_session_end"]),
        last_request_hash=row["last_request_hash"],
        last_begin_at=_instant(row["last_begin_at"]),
        last_session_id=row["last_session_id"],
    )


_NO_ATTRS = dict.fromkeys(DEVICE_COLUMNS)


def _new_device(device_id: int, account_id: int, key: DeviceKey, at: datetime) -> DeviceState:
    """A device the batch creates, as the row INSERT_DEVICES would have held right after its creation."""
    return DeviceState(
        id=device_id,
        account_id=account_id,
        product_id=key[0],
        device_key=key[1],
        inserted=True,
        first_seen=at,
        last_seen=at,
        attrs=dict(_NO_ATTRS),
        open_session_id=None,
        last_session_end=None,
        last_request_hash=None,
        last_begin_at=None,
        last_session_id=None,
    )


class DeviceCreatedConcurrently(Exception):
    """Another transaction created a device this batch was about to create: the batch is retried."""


async def write_batch(tx: Transaction, requests: list[TrackRequest]) -> list[Outcome]:
    """Validate, count and store `requests` in the open transaction `tx`; one outcome per request."""
    now = datetime.now(UTC)
    products, locked, stored_events = await _lock(tx, requests, now)
    outcomes: list[Outcome | None] = [precheck(r, products.get(r.product_id)) for r in requests]
    times = [parse_timestamp(r.timestamp, now) for r in requests]
    # SDK health checks name no device: counted apart, and marked STORED (sdk_health.py)
    health = sdk_health.plan(requests, outcomes, {p.id: p.timezone for p in products.values()}, times)

    # every device the accepted requests name (old devices of a merge included), earliest time first seen
    wanted: dict[DeviceKey, tuple[int, datetime]] = {}
    for request, outcome, at in zip(requests, outcomes, times, strict=True):
        if outcome is not None:
            continue
        for name in _device_names(request):
            key = (request.product_id, name)
            seen = wanted.get(key)
            if seen is None or at < seen[1]:
                wanted[key] = (request.account_id, at)
    if not wanted:
        await sdk_health.store(tx, health)
        return [o or Outcome.STORED for o in outcomes]

    # the devices of refused requests were locked too (or given an id that is never used); the names of one
    # person (aliases, other cases) share its state
    devices: dict[DeviceKey, DeviceState] = {}
    by_id: dict[int, DeviceState] = {}
    for key, (account_id, at) in wanted.items():
        row = locked[key]
        state = by_id.get(row["id"])
        if state is None:
            state = by_id[row["id"]] = (
                _new_device(row["id"], account_id, (key[0], row["device_key"]), at)
                if row["inserted"]
                else _device_state(row)
            )
        elif row["inserted"] and at < state.first_seen:
            state.first_seen = state.last_seen = at
        devices[key] = state

    planner = Planner(products, now)
    planner.people.seen = stored_events
    for i, (request, at) in enumerate(zip(requests, times, strict=True)):
        if outcomes[i] is not None:
            continue
        old = None
        if request.old_device_key and request.old_device_key != request.device_key:
            old = devices[(request.product_id, request.old_device_key)]
        outcomes[i] = planner.apply(request, at, devices[(request.product_id, request.device_key)], old)

    await _store(tx, planner, list(by_id.values()))
    await sdk_health.store(tx, health)
    return [o or Outcome.STORED for o in outcomes]


def _device_names(request: TrackRequest) -> list[str]:
    """The device keys a request names: its device, and the old device of a merge."""
    if request.old_device_key and request.old_device_key != request.device_key:
        return [request.device_key, request.old_device_key]
    return [request.device_key]


async def _lock(
    tx: Transaction, requests: list[TrackRequest], now: datetime
) -> tuple[dict[int, ProductInfo], dict[DeviceKey, asyncpg.Record], set[people.EventSecond]]:
    """Lock the batch's products and the devices its requests name, in one statement (sql.LOCK) before the
    requests are checked (which needs the products): the products found, each device's row by the name asked,
    and the stored events of requests whose events count once per second (`people.event_probes`)."""
    product_ids = sorted({r.product_id for r in requests})
    # with the account each request names: only the product's own account locks its devices
    keys = {
        (request.product_id, name, request.account_id)
        for request in requests
        if not ignored_device(request) and not sdk_health.is_health_check(request)
        for name in _device_names(request)
    }
    probes = people.event_probes(requests, now)
    rows = await tx.fetch(
        sql.LOCK, _document(sorted(keys)), product_ids, _document(probes) if probes else "[]"
    )
    products: dict[int, ProductInfo] = {}
    locked: dict[DeviceKey, asyncpg.Record] = {}
    stored_events = []
    for row in rows:
        kind = row["kind"]
        if kind == "d":
            locked[(row["product_id"], row["asked"])] = row
        elif kind == "p":
            products[row["id"]] = ProductInfo(
                row["id"], row["account_id"], row["status"], row["salt"], row["timezone"]
            )
        else:
            stored_events.append(row)
    return products, locked, people.seen_events(stored_events)


def _device_row(d: DeviceState) -> tuple[Any, ...]:
    """A device's state as STORE's rows of updated devices (and the start of its new devices' rows); session
    ids may still be temporary (negative): STORE resolves them."""
    return (
        d.id,
        d.first_seen,
        d.last_seen,
        *[d.attrs.get(name) for name in DEVICE_COLUMNS],
        d.open_session_id,
        d.last_session_end,
        d.last_request_hash,
        d.last_begin_at,
        d.last_session_id,
    )


async def _store(tx: Transaction, plan: Planner, devices: list[DeviceState]) -> None:
    """Everything in one statement (STORE; the events by COPY after it when they cannot be a JSON document),
    then merges (rare)."""
    # before the sessions that reference them; devices merged away in this batch too, as they were before
    created = sorted((d for d in devices if d.inserted), key=lambda d: (d.product_id, d.device_key))
    touched = sorted(
        (d for d in devices if d.touched and d.merged_into is None and not d.inserted), key=lambda d: d.id
    )
    temp_ids = sorted(plan.new_sessions, reverse=True)
    sessions = [
        (s.temp_id, s.account_id, s.product_id, s.device_id, s.started_at, s.duration, s.ended_at)
        for s in plan.new_sessions.values()
    ]
    updates = [(i, u.duration_delta, u.ended_at, u.set_end) for i, u in sorted(plan.session_updates.items())]
    accounts = {p.id: p.account_id for p in plan.products.values()}
    event_definitions = [(*k, *v, accounts[k[0]]) for k, v in sorted(plan.event_definitions.items())]
    property_definitions = [(*k, *v, accounts[k[0]]) for k, v in sorted(plan.property_definitions.items())]
    notices = [
        json.dumps({"product_id": pid, "account_id": accounts[pid], **counts}, separators=(",", ":"))
        for pid, counts in sorted(plan.notices.items())
    ]
    events = _events_document(plan)
    try:
        stored = await tx.fetchrow(
            sql.STORE,
            temp_ids,
            _document(sessions),
            _document([(*_device_row(d), d.product_id, d.device_key, d.account_id) for d in created]),
            _document([_device_row(d) for d in touched]),
            _document(updates),
            _document(plan.session_rollup_rows()),
            _document(plan.event_rollup_rows(), floats=True),
            _document(event_definitions),
            _document(property_definitions),
            notices,
            "[]" if events is None else events,
            *plan.people.rows(),
        )
    except asyncpg.UniqueViolationError as error:
        # a device, or its primary identity (migration 020's trigger): another batch has just created it
        if error.table_name in ("devices", "person_identities"):
            raise DeviceCreatedConcurrently from error
        raise
    assert stored is not None
    if plan.events and events is None:
        ids = dict(zip(temp_ids, stored["session_ids"], strict=True))
        for row in plan.events_in_new_sessions:
            row[SESSION_ID] = ids[row[SESSION_ID]]
        await tx.copy_records("events", plan.events, sql.EVENT_COLUMNS)
    if plan.merged:
        olds = [d.id for d in plan.merged]
        targets = [d.final().id for d in plan.merged]
        await tx.execute(sql.MOVE_SESSIONS, olds, targets)
        await tx.execute(sql.MOVE_EVENTS, olds, targets)
        await people.merge_people(tx, olds, targets)
        await tx.execute(sql.DELETE_DEVICES, olds)


def _events_document(plan: Planner) -> str | None:
    """The batch's events as STORE's JSON document, or None when they must go by COPY: when a segmentation
    holds a value whose orjson text PostgreSQL would not read as the jsonb codec's (`rules.plain_json`), or
    text orjson refuses (lone surrogates). Their sums and durations are finite or None (the planner's)."""
    if not plan.events or not plan.plain_segmentation:
        return None
    try:
        return _document(plan.events)  # type: ignore[arg-type]  # rows are lists, which serialize alike
    except TypeError:
        return None


def _document(rows: list[tuple[Any, ...]], *, floats: bool = False) -> str:
    """`rows` as one JSON array of arrays, read by the statements with `jsonb_array_elements` (see sql.py).

    Values must reach PostgreSQL as they would through asyncpg's codecs. orjson writes two kinds differently:
    the two instants asyncpg sends as -infinity / infinity (year 1 and the end of year 9999), and NaN and
    infinities (null). Both are rare, so the finished document is searched for them (a false alarm only costs
    a second pass). `floats`: the rows may hold floats and never NULL, so a null can only be such a float.
    """
    doc = orjson.dumps(rows)
    if (floats and b"null" in doc) or _YEAR_1 in doc or _YEAR_9999 in doc:
        doc = orjson.dumps([tuple(_as_asyncpg_sends(value) for value in row) for row in rows])
    return doc.decode()


_YEAR_1, _YEAR_9999 = b"0001-01-01T00:00:00", b"9999-12-31T23:59:59.999999"
# pgproto's datetime codec sends these (naive, or aware in UTC) as PostgreSQL's -infinity and infinity
_NEGATIVE_INFINITY = (datetime(1, 1, 1), datetime(1, 1, 1, tzinfo=UTC))
_INFINITY = (
    datetime(9999, 12, 31, 23, 59, 59, 999999),
    datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
)


def _as_asyncpg_sends(value: Any) -> Any:
    """`value`, or the text PostgreSQL reads as what asyncpg would send for it."""
    if type(value) is float:
        if isfinite(value):
            return value
        return "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, datetime):
        if value in _NEGATIVE_INFINITY:
            return "-infinity"
        if value in _INFINITY:
            return "infinity"
    return value
