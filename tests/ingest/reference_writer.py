"""The ingestion writer as it was before devices were created with their final state (commit 3545ab1).

Kept to check that the current writer stores exactly what this one stored (test_writer_equivalence.py). The
planner and the helpers are shared; its statements are in reference_sql.py.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from gateway.db.pool import Transaction
from gateway.ingest.model import Outcome, TrackRequest
from gateway.ingest.people import STORE_DEFINITIONS_CTE, STORE_PROPERTIES_CTE, merge_people
from gateway.ingest.rules import DEVICE_COLUMNS, SESSION_ID, DeviceState, Planner, ProductInfo, precheck
from gateway.ingest.timestamps import parse_timestamp
from gateway.ingest.writer import _device_state, _document
from tests.ingest import reference_sql as sql

DeviceKey = tuple[int, str]

# creates missing devices and locks every device of the batch (an upsert that writes a version of each)
LOCK_DEVICES = """
INSERT INTO devices AS d (account_id, product_id, device_key, first_seen, last_seen)
SELECT (x.r->>3)::bigint, (x.r->>0)::bigint, x.r->>1, (x.r->>2)::timestamptz, (x.r->>2)::timestamptz
FROM jsonb_array_elements($1::text::jsonb) WITH ORDINALITY AS x(r, o)
ORDER BY x.o
ON CONFLICT (product_id, device_key) DO UPDATE SET last_seen = d.last_seen
RETURNING d.id, d.account_id, d.product_id, d.device_key, (d.xmax = 0) AS inserted, d.first_seen,
          d.last_seen, d.os, d.os_version, d.device, d.resolution, d.carrier, d.app_version, d.locale,
          d.country, d.city, d.location, d.open_session_id, d.last_session_end,
          d.last_request_hash, d.last_begin_at, d.last_session_id
"""


async def reference_write_batch(tx: Transaction, requests: list[TrackRequest]) -> list[Outcome]:
    """The writer as it was: every device of the batch inserted or locked by one upsert, then updated."""
    now = datetime.now(UTC)
    product_ids = sorted({r.product_id for r in requests})
    products = {
        row["id"]: ProductInfo(row["id"], row["account_id"], row["status"], row["salt"], row["timezone"])
        for row in await tx.fetch(sql.PRODUCTS, product_ids)
    }
    outcomes: list[Outcome | None] = [precheck(r, products.get(r.product_id)) for r in requests]
    times = [parse_timestamp(r.timestamp, now) for r in requests]

    # every device the accepted requests name (old devices of a merge included), earliest time first seen
    wanted: dict[DeviceKey, tuple[int, datetime]] = {}
    for request, outcome, at in zip(requests, outcomes, times, strict=True):
        if outcome is not None:
            continue
        names = [request.device_key]
        if request.old_device_key and request.old_device_key != request.device_key:
            names.append(request.old_device_key)
        for name in names:
            key = (request.product_id, name)
            seen = wanted.get(key)
            if seen is None or at < seen[1]:
                wanted[key] = (request.account_id, at)
    if not wanted:
        return [o or Outcome.STORED for o in outcomes]

    locks = [(*key, at, account_id) for key, (account_id, at) in sorted(wanted.items())]
    rows = await tx.fetch(LOCK_DEVICES, _document(locks))
    devices = {(row["product_id"], row["device_key"]): _device_state(row) for row in rows}

    planner = Planner(products, now)
    for i, (request, at) in enumerate(zip(requests, times, strict=True)):
        if outcomes[i] is not None:
            continue
        old = None
        if request.old_device_key and request.old_device_key != request.device_key:
            old = devices[(request.product_id, request.old_device_key)]
        outcomes[i] = planner.apply(request, at, devices[(request.product_id, request.device_key)], old)

    await _store(tx, planner, list(devices.values()))
    return [o or Outcome.STORED for o in outcomes]


_STORE_PEOPLE = f"WITH {STORE_DEFINITIONS_CTE}, {STORE_PROPERTIES_CTE} SELECT 1".replace("$12", "$1").replace(
    "$13", "$2"
)


async def _store(tx: Transaction, plan: Planner, devices: list[DeviceState]) -> None:
    ids: dict[int, int] = {}
    if plan.new_sessions:
        allocated = await tx.fetch(sql.SESSION_IDS, len(plan.new_sessions))
        ids = dict(zip(sorted(plan.new_sessions, reverse=True), (r["id"] for r in allocated), strict=True))
        await tx.copy_records(
            "sessions",
            [
                (
                    ids[s.temp_id],
                    s.account_id,
                    s.product_id,
                    s.device_id,
                    s.started_at,
                    s.duration,
                    s.ended_at,
                )
                for s in plan.new_sessions.values()
            ],
            sql.SESSION_COLUMNS,
        )
    if plan.session_updates:
        updates = [
            (i, u.duration_delta, u.ended_at, u.set_end) for i, u in sorted(plan.session_updates.items())
        ]
        await tx.execute(sql.UPDATE_SESSIONS, _document(updates))
    if plan.events:
        for row in plan.events_in_new_sessions:
            row[SESSION_ID] = ids[row[SESSION_ID]]
        await tx.copy_records("events", plan.events, sql.EVENT_COLUMNS)
    if plan.merged:
        olds = [d.id for d in plan.merged]
        targets = [d.final().id for d in plan.merged]
        await tx.execute(sql.MOVE_SESSIONS, olds, targets)
        await tx.execute(sql.MOVE_EVENTS, olds, targets)
        await merge_people(tx, olds, targets)
        await tx.execute(sql.DELETE_DEVICES, olds)
    touched = sorted((d for d in devices if d.touched and d.merged_into is None), key=lambda d: d.id)
    if touched:
        rows = [
            (
                d.id,
                d.first_seen,
                d.last_seen,
                *[d.attrs.get(name) for name in DEVICE_COLUMNS],
                _resolve_session(d.open_session_id, ids),
                d.last_session_end,
                d.last_request_hash,
                d.last_begin_at,
                _resolve_session(d.last_session_id, ids),
            )
            for d in touched
        ]
        await tx.execute(sql.UPDATE_DEVICES, _document(rows))
    await _store_rollups(tx, plan)
    # people (migration 020) were added after this writer: it writes them with STORE's own parts
    if plan.people.writes or plan.people.definitions:
        await tx.execute(_STORE_PEOPLE, *plan.people.rows())


async def _store_rollups(tx: Transaction, plan: Planner) -> None:
    accounts = {p.id: p.account_id for p in plan.products.values()}
    session_rows = plan.session_rollup_rows()
    if session_rows:
        await tx.execute(sql.UPSERT_SESSION_ROLLUPS, _document(session_rows))
    event_rows = plan.event_rollup_rows()
    if event_rows:
        await tx.execute(sql.UPSERT_EVENT_ROLLUPS, _document(event_rows, floats=True))
    if plan.event_definitions:
        rows = [(*k, *v, accounts[k[0]]) for k, v in sorted(plan.event_definitions.items())]
        await tx.execute(sql.UPSERT_EVENT_DEFINITIONS, _document(rows))
    if plan.property_definitions:
        rows = [(*k, *v, accounts[k[0]]) for k, v in sorted(plan.property_definitions.items())]
        await tx.execute(sql.UPSERT_PROPERTY_DEFINITIONS, _document(rows))
    if plan.notices:
        payloads = [
            json.dumps({"product_id": pid, "account_id": accounts[pid], **counts}, separators=(",", ":"))
            for pid, counts in sorted(plan.notices.items())
        ]
        await tx.execute(sql.NOTIFY, payloads)


def _resolve_session(session_id: int | None, ids: dict[int, int]) -> int | None:
    """A real session id for a possibly temporary one."""
    if session_id is None or session_id > 0:
        return session_id
    return ids[session_id]
