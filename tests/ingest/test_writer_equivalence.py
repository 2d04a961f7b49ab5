"""The writer stores exactly what the previous writer (reference_writer.py) stored, row by row.

Random batches (time zones with DST changes and odd offsets, duplicates, device merges, sessions, metrics,
segmentation, sums and durations, user details) are written through both into two products of one time zone;
every table is then compared with ids replaced by what they stand for (device keys, session ordinals).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from gateway.db.pool import Database
from gateway.ingest import EventInput, TrackRequest
from gateway.ingest.writer import write_batch
from tests.ingest.conftest import MakeProduct, ProductRow
from tests.ingest.reference_writer import reference_write_batch

# every id is replaced: devices by their key, sessions by their rank in id order (allocated in the same order)
SESSION_RANK = "(SELECT id, row_number() OVER (ORDER BY id) AS rank FROM sessions WHERE product_id = $1)"
TABLES = {
    "devices": f"""
        SELECT d.device_key, d.account_id, d.first_seen, d.last_seen, d.os, d.os_version, d.device, d.resolution,
               d.carrier, d.app_version, d.locale, d.country, d.city, d.location,
               o.rank AS open_session, d.last_session_end, d.last_request_hash, d.last_begin_at,
               l.rank AS last_session
        FROM devices d LEFT JOIN {SESSION_RANK} o ON o.id = d.open_session_id
        LEFT JOIN {SESSION_RANK} l ON l.id = d.last_session_id
        WHERE d.product_id = $1 ORDER BY d.device_key""",
    "sessions": f"""
        SELECT r.rank, s.account_id, d.device_key, s.started_at, s.duration, s.ended_at
        FROM sessions s JOIN {SESSION_RANK} r ON r.id = s.id JOIN devices d ON d.id = s.device_id
        WHERE s.product_id = $1 ORDER BY r.rank""",
    "events": f"""
        SELECT e.account_id, d.device_key, r.rank, e.key, e.count, e.sum, e.duration, e.segmentation::text,
               e.occurred_at, e.path, e.title, e.referrer
        FROM events e JOIN devices d ON d.id = e.device_id LEFT JOIN {SESSION_RANK} r ON r.id = e.session_id
        WHERE e.product_id = $1 ORDER BY e.id""",
    "session_rollups": """
        SELECT account_id, dimension, value, grain, bucket, t, n, u, d, e FROM session_rollups
        WHERE product_id = $1 ORDER BY dimension, value, grain, bucket""",
    "event_rollups": """
        SELECT account_id, key, seg_key, seg_value, grain, bucket, c, s, dur FROM event_rollups
        WHERE product_id = $1 ORDER BY key, seg_key, seg_value, grain, bucket""",
    "event_definitions": """
        SELECT account_id, name, total, first_used, last_used FROM event_definitions
        WHERE product_id = $1 ORDER BY name""",
    "person_properties": """
        SELECT d.device_key, p.account_id, p.source, p.name, p.value::text, p.number, p.set_at
        FROM person_properties p JOIN devices d ON d.id = p.person_id
        WHERE p.product_id = $1 ORDER BY d.device_key, p.source, p.name""",
    "person_identities": """
        SELECT i.account_id, i.key, i.identity, d.device_key, i.kind
        FROM person_identities i JOIN devices d ON d.id = i.person_id
        WHERE i.product_id = $1 ORDER BY i.key""",
    "property_definitions": """
        SELECT account_id, scope, name, data_type, first_seen, last_seen FROM property_definitions
        WHERE product_id = $1 ORDER BY scope, name""",
}

SCENARIOS = [
    ("America/New_York", datetime(2024, 11, 3, 4, 0, tzinfo=UTC)),  # 01:00-02:00 local twice
    ("Europe/Berlin", datetime(2024, 3, 31, 0, 0, tzinfo=UTC)),  # 02:00-03:00 local skipped
    ("Australia/Lord_Howe", datetime(2024, 4, 6, 13, 0, tzinfo=UTC)),  # back by 30 minutes
    ("Asia/Kathmandu", datetime(2023, 12, 31, 15, 0, tzinfo=UTC)),  # +05:45, across a new year
    ("UTC", datetime(2024, 2, 28, 22, 0, tzinfo=UTC)),  # a leap day
]


def _value(rnd: random.Random) -> Any:
    return rnd.choice(
        ["a", "b", "", 1, 2.5, 3.0, True, False, -7, 1e-7, 1e-05, 1e300, -0.0, 2**63, None, "null"]
    )


def _event(rnd: random.Random, start: datetime, nested: bool) -> EventInput:
    at = start + timedelta(minutes=rnd.randrange(-90, 240))
    # values as clients send them, invalid ones included (the planner normalises them)
    count: Any = rnd.choice([1, 1, 2, 0, -3, 2**40, "5"])
    total: Any = rnd.choice([None, 1.5, 0.1, -2.0, 10, "3.5"])
    return EventInput(
        key=rnd.choice(["buy", "view", "login", "", "ünï"]),
        count=count,
        sum=total,
        duration=rnd.choice([None, 0.25, 4.0]),
        segmentation=rnd.choice(
            [
                None,
                {},
                {"plan": "pro"},
                {"plan": _value(rnd), "n": _value(rnd)},
                {"x": [1] if nested else 1, "": "y"},
            ]
        ),
        timestamp=rnd.choice([None, None, str(int(at.timestamp() * 1000)), str(int(at.timestamp()))]),
        path=rnd.choice([None, "/a"]),
        title=rnd.choice([None, "T"]),
        referrer=None,
    )


def _requests(
    rnd: random.Random, product: ProductRow, start: datetime, count: int, nested: bool
) -> list[TrackRequest]:
    devices = [f"dev{i}" for i in range(8)]
    requests = []
    for _ in range(count):
        at = start + timedelta(minutes=rnd.randrange(0, 180), seconds=rnd.randrange(60))
        requests.append(
            TrackRequest(
                account_id=product.account_id,
                product_id=product.product_id,
                device_key=rnd.choice(devices),
                timestamp=str(int(at.timestamp() * 1000)),
                begin_session=rnd.random() < 0.35,
                session_duration=rnd.choice([None, None, 30, -5, 100000, 7]),
                end_session=rnd.random() < 0.25,
                metrics=rnd.choice(
                    [{}, {"_os": rnd.choice(["Android", "iOS"]), "_app_version": rnd.choice(["1.0", "1.1"])}]
                ),
                events=[_event(rnd, start, nested) for _ in range(rnd.choice([0, 0, 1, 3]))],
                # a merged device's key names the person it joined from then on (migration 020), where the
                # previous writer made a new device of it: only keys seen nowhere else are merged
                old_device_key=f"old{rnd.getrandbits(64)}" if rnd.random() < 0.1 else None,
                user_details=rnd.choice([None, {"name": "n", "custom": {"tier": rnd.choice(["a", 1])}}]),
                country=rnd.choice([None, "DE", "TR"]),
                city=rnd.choice([None, "Berlin"]),
                location=rnd.choice([None, "", "1,2"]),
                dedupe_hash=rnd.choice([None, "h1", "h2", "h3"]),
            )
        )
    return requests


def _without_account(row: Any, product: ProductRow) -> tuple[Any, ...]:
    assert row["account_id"] == product.account_id
    return tuple(value for name, value in row.items() if name != "account_id")


# nested: some segmentation holds a list, so those batches' events go by COPY; flat: every batch's events go
# as STORE's JSON document
@pytest.mark.parametrize("nested", [True, False], ids=["nested", "flat"])
@pytest.mark.parametrize(("timezone", "start"), SCENARIOS)
async def test_writer_stores_what_the_previous_writer_stored(
    db: Database, make_product: MakeProduct, timezone: str, start: datetime, nested: bool
) -> None:
    old, new = await make_product(timezone=timezone), await make_product(timezone=timezone)
    rnd = random.Random(f"{timezone}-{start}-{nested}")
    for _ in range(30):
        seed, size = rnd.random(), rnd.choice([1, 2, 5, 12, 30])
        for product, writer in ((old, reference_write_batch), (new, write_batch)):
            batch = _requests(random.Random(seed), product, start, size, nested)
            async with db.transaction() as tx:
                outcomes = await writer(tx, batch)
            if product is old:
                expected = outcomes
        assert outcomes == expected
    for table, query in TABLES.items():
        # one account per product: each row's account must be its product's
        before = [_without_account(row, old) for row in await db.fetch(query, old.product_id)]
        after = [_without_account(row, new) for row in await db.fetch(query, new.product_id)]
        assert after == before, table
        assert before or table == "property_definitions", table
