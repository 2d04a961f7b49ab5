"""The ingestion engine against a real PostgreSQL: Countly counting rules, refusals and group commit."""

from __future__ import annotations

import asyncio
import hashlib
import json
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from gateway.db.pool import Database
from gateway.ingest import EventInput, IngestEngine, Outcome, TrackRequest
from tests.ingest.conftest import MakeProduct, ProductRow
from tests.ingest.helpers import erow, req, srow, ts

T0 = (2024, 1, 15, 10, 0, 0)
DAY = datetime(2024, 1, 15)
HOUR = datetime(2024, 1, 15, 10)


async def test_session_counting(db: Database, engine: IngestEngine, product: ProductRow) -> None:
    p = product
    steps = [
        req(p, "d1", timestamp=ts(2024, 1, 15, 10, 0, 0), begin_session=True),
        req(p, "d1", timestamp=ts(2024, 1, 15, 10, 0, 30), session_duration=30),
        req(p, "d1", timestamp=ts(2024, 1, 15, 10, 1, 0), session_duration=10, end_session=True),
        # within the 15 s cooldown: extends the previous session, not counted
        req(p, "d1", timestamp=ts(2024, 1, 15, 10, 1, 10), begin_session=True),
        req(p, "d1", timestamp=ts(2024, 1, 15, 10, 1, 40), session_duration=100000, end_session=True),
        # after the cooldown: a new session
        req(p, "d1", timestamp=ts(2024, 1, 15, 10, 5, 0), begin_session=True),
        req(p, "d1", timestamp=ts(2024, 1, 15, 10, 6, 0), session_duration=-5),
    ]
    for step in steps:  # one by one, like a real SDK
        assert await engine.submit([step]) == [Outcome.STORED]
    expected = {"t": 2, "n": 1, "u": 1, "d": 30 + 10 + 86400 + 30, "e": 7}
    for grain, bucket in [
        ("h", HOUR),
        ("d", DAY),
        ("w", DAY),
        ("m", datetime(2024, 1, 1)),
        ("y", datetime(2024, 1, 1)),
    ]:
        assert await srow(db, p, grain, bucket) == expected, grain
    sessions = await db.fetch(
        "SELECT duration, ended_at FROM sessions WHERE product_id = $1 ORDER BY started_at", p.product_id
    )
    assert [s["duration"] for s in sessions] == [30 + 10 + 86400, 30]
    assert sessions[0]["ended_at"] == datetime(2024, 1, 15, 10, 1, 40, tzinfo=UTC)
    assert sessions[1]["ended_at"] is None


async def test_same_batch_equals_one_by_one(db: Database, engine: IngestEngine, product: ProductRow) -> None:
    p = product
    batch = [
        req(p, "d1", timestamp=ts(*T0), begin_session=True),
        req(p, "d1", timestamp=ts(2024, 1, 15, 10, 1, 0), session_duration=60, end_session=True),
        req(p, "d1", timestamp=ts(2024, 1, 15, 10, 1, 5), begin_session=True),
        req(p, "d2", timestamp=ts(*T0), begin_session=True),
    ]
    assert await engine.submit(batch) == [Outcome.STORED] * 4
    assert await srow(db, p, "d", DAY) == {"t": 2, "n": 2, "u": 2, "d": 60, "e": 4}
    assert await db.fetchval("SELECT count(*) FROM sessions WHERE product_id = $1", p.product_id) == 2


async def test_new_and_unique_users_in_product_timezone(
    db: Database, engine: IngestEngine, make_product: MakeProduct
) -> None:
    p = await make_product(timezone="America/New_York")  # UTC-5 in January
    # 04:30 UTC = Jan 14 23:30 local; 05:30 UTC = Jan 15 00:30 local; 06:30 UTC = Jan 15 01:30 local
    for hour in (4, 5, 6):
        await engine.submit([req(p, "u1", timestamp=ts(2024, 1, 15, hour, 30), begin_session=True)])
    await engine.submit([req(p, "u2", timestamp=ts(2024, 1, 15, 6, 45), begin_session=True)])
    jan14, jan15 = datetime(2024, 1, 14), datetime(2024, 1, 15)
    assert await srow(db, p, "d", jan14) == {"t": 1, "n": 1, "u": 1, "d": 0, "e": 1}
    assert await srow(db, p, "d", jan15) == {"t": 3, "n": 1, "u": 2, "d": 0, "e": 3}
    # Countly weeks: Jan 14 is in w2 (starts Jan 8), Jan 15 starts w3
    assert (await srow(db, p, "w", datetime(2024, 1, 8)))["u"] == 1
    assert (await srow(db, p, "w", jan15))["u"] == 2
    month = await srow(db, p, "m", datetime(2024, 1, 1))
    assert (month["t"], month["n"], month["u"]) == (4, 2, 2)
    assert (await srow(db, p, "h", datetime(2024, 1, 15, 1)))["u"] == 2
    assert (await srow(db, p, "h", datetime(2024, 1, 15, 0)))["u"] == 1
    # in UTC all of it would have been one day
    assert (await srow(db, p, "d", datetime(2024, 1, 15)))["t"] == 3


async def test_metrics_per_value(db: Database, engine: IngestEngine, product: ProductRow) -> None:
    p = product
    android = {"_os": "Android", "_os_version": "14.1", "_device": "Pixel 8", "_app_version": "1.2.3"}
    await engine.submit(
        [
            req(p, "a1", timestamp=ts(*T0), begin_session=True, metrics=android, country="TR"),
            req(p, "a2", timestamp=ts(*T0), begin_session=True, metrics=android, country="US"),
            req(p, "i1", timestamp=ts(*T0), begin_session=True, metrics={"_os": "iOS"}, city="Paris"),
            # metrics without begin_session: not counted, but they update the device
            req(p, "w1", timestamp=ts(*T0), metrics={"_os": "Linux"}),
        ]
    )
    assert await srow(db, p, "d", DAY, "os", "Android") == {"t": 2, "n": 2, "u": 2, "d": 0, "e": 0}
    assert (await srow(db, p, "d", DAY, "os", "iOS"))["t"] == 1
    assert (await srow(db, p, "d", DAY, "os", "Linux"))["t"] == 0
    assert (await srow(db, p, "y", datetime(2024, 1, 1), "app_version", "1.2.3"))["u"] == 2
    assert (await srow(db, p, "d", DAY, "os_version", "14.1"))["n"] == 2
    assert (await srow(db, p, "d", DAY, "country", "TR"))["t"] == 1
    devices = {
        r["device_key"]: r
        for r in await db.fetch("SELECT * FROM devices WHERE product_id = $1", p.product_id)
    }
    assert devices["w1"]["os"] == "Linux"
    assert devices["a1"]["device"] == "Pixel 8" and devices["a1"]["country"] == "TR"
    assert devices["i1"]["city"] == "Paris"
    # a second session of a1 the same day: t grows, u does not
    await engine.submit([req(p, "a1", timestamp=ts(2024, 1, 15, 12), begin_session=True, metrics=android)])
    assert await srow(db, p, "d", DAY, "os", "Android") == {"t": 3, "n": 2, "u": 2, "d": 0, "e": 0}


async def test_events_with_segmentation(db: Database, engine: IngestEngine, product: ProductRow) -> None:
    p = product
    events = [
        EventInput("buy", count=2, sum=10.5, duration=3, segmentation={"item": "a", "qty": 1}),
        EventInput("buy", segmentation={"item": "b", "nested": {"x": 1}}, sum=1),
        EventInput("view", path="/home", title="Home"),
        EventInput("", count=5),  # no key: ignored
    ]
    assert await engine.submit([req(p, "d1", timestamp=ts(*T0), events=events)]) == [Outcome.STORED]
    assert await erow(db, p, "buy", "d", DAY) == {"c": 3, "s": 11.5, "dur": 3.0}
    assert await erow(db, p, "buy", "h", HOUR, "item", "a") == {"c": 2, "s": 10.5, "dur": 3.0}
    assert await erow(db, p, "buy", "y", datetime(2024, 1, 1), "item", "b") == {"c": 1, "s": 1.0, "dur": 0.0}
    assert (await erow(db, p, "buy", "d", DAY, "qty", "1"))["c"] == 2
    assert (await erow(db, p, "buy", "d", DAY, "nested", "{'x': 1}"))["c"] == 0
    rows = await db.fetch(
        "SELECT key, count, sum, segmentation, path FROM events WHERE product_id = $1 ORDER BY id",
        p.product_id,
    )
    assert [(r["key"], r["count"]) for r in rows] == [("buy", 2), ("buy", 1), ("view", 1)]
    assert rows[0]["segmentation"] == {"item": "a", "qty": 1}
    assert rows[2]["path"] == "/home"
    defs = await db.fetch(
        "SELECT name, total, first_used FROM event_definitions WHERE product_id = $1 ORDER BY name",
        p.product_id,
    )
    assert [(d["name"], d["total"]) for d in defs] == [("buy", 3), ("view", 1)]
    props = await db.fetch(
        "SELECT scope, name, data_type FROM property_definitions WHERE product_id = $1 ORDER BY name",
        p.product_id,
    )
    assert [(r["scope"], r["name"], r["data_type"]) for r in props] == [
        ("event", "item", "string"),
        ("event", "qty", "number"),
    ]
    # rollups add up across batches
    await engine.submit([req(p, "d2", timestamp=ts(*T0), events=[EventInput("buy", count=1, sum=2)])])
    assert await erow(db, p, "buy", "d", DAY) == {"c": 4, "s": 13.5, "dur": 3.0}
    assert (
        await db.fetchval(
            "SELECT total FROM event_definitions WHERE product_id = $1 AND name = 'buy'", p.product_id
        )
        == 4
    )


async def test_per_event_timestamps(db: Database, engine: IngestEngine, product: ProductRow) -> None:
    p = product
    earlier_ms = str(int(datetime(2024, 1, 10, 8, 0, tzinfo=UTC).timestamp() * 1000))
    future = str(int(datetime(2099, 1, 1, tzinfo=UTC).timestamp()))
    await engine.submit(
        [
            req(
                p,
                "d1",
                timestamp=ts(*T0),
                events=[
                    EventInput("a", timestamp=earlier_ms),
                    EventInput("a"),
                    EventInput("b", timestamp=future),
                ],
            )
        ]
    )
    assert (await erow(db, p, "a", "d", datetime(2024, 1, 10)))["c"] == 1
    assert (await erow(db, p, "a", "d", DAY))["c"] == 1
    occurred = await db.fetch(
        "SELECT key, occurred_at FROM events WHERE product_id = $1 ORDER BY id", p.product_id
    )
    assert occurred[0]["occurred_at"] == datetime(2024, 1, 10, 8, tzinfo=UTC)
    assert occurred[1]["occurred_at"] == datetime(2024, 1, 15, 10, tzinfo=UTC)
    # a future timestamp is clamped to now
    assert abs((occurred[2]["occurred_at"] - datetime.now(UTC)).total_seconds()) < 60


async def test_events_belong_to_the_open_session(
    db: Database, engine: IngestEngine, product: ProductRow
) -> None:
    p = product
    await engine.submit([req(p, "old", timestamp=ts(*T0), begin_session=True)])
    await engine.submit(
        [
            req(p, "none", timestamp=ts(*T0), events=[EventInput("before")]),
            req(p, "old", timestamp=ts(*T0), events=[EventInput("in-old")]),
            # a session started in this batch: its events get its id once ids are allocated
            req(p, "new", timestamp=ts(*T0), begin_session=True, events=[EventInput("in-new")]),
            req(p, "new", timestamp=ts(2024, 1, 15, 10, 1), events=[EventInput("in-new")]),
            req(
                p, "new", timestamp=ts(2024, 1, 15, 10, 2), end_session=True, events=[EventInput("after-end")]
            ),
            req(
                p, "old", timestamp=ts(2024, 1, 15, 10, 3), begin_session=True, events=[EventInput("in-old2")]
            ),
        ]
    )
    sessions = {
        (r["device_key"], r["started_at"]): r["id"]
        for r in await db.fetch(
            "SELECT s.id, d.device_key, s.started_at FROM sessions s JOIN devices d ON d.id = s.device_id "
            "WHERE s.product_id = $1",
            p.product_id,
        )
    }
    t0, t3 = datetime(*T0, tzinfo=UTC), datetime(2024, 1, 15, 10, 3, tzinfo=UTC)
    rows = await db.fetch(
        "SELECT key, session_id FROM events WHERE product_id = $1 ORDER BY id", p.product_id
    )
    assert [(r["key"], r["session_id"]) for r in rows] == [
        ("before", None),
        ("in-old", sessions[("old", t0)]),
        ("in-new", sessions[("new", t0)]),
        ("in-new", sessions[("new", t0)]),
        ("after-end", sessions[("new", t0)]),  # events are counted before the end
        ("in-old2", sessions[("old", t3)]),
    ]


async def test_request_timestamps_13_digits_and_future(
    db: Database, engine: IngestEngine, product: ProductRow
) -> None:
    p = product
    ms = str(int(datetime(2024, 1, 15, 10, 0, tzinfo=UTC).timestamp() * 1000))
    await engine.submit([req(p, "d1", timestamp=ms, begin_session=True)])
    await engine.submit([req(p, "d2", timestamp="9999999999", begin_session=True)])
    assert (await srow(db, p, "h", HOUR))["t"] == 1
    now_local = datetime.now(UTC).replace(tzinfo=None, minute=0, second=0, microsecond=0)
    started = await db.fetchval(
        "SELECT s.started_at FROM sessions s JOIN devices d ON d.id = s.device_id "
        "WHERE d.product_id = $1 AND d.device_key = 'd2'",
        p.product_id,
    )
    assert abs((started - datetime.now(UTC)).total_seconds()) < 60
    assert (await srow(db, p, "h", now_local))["t"] >= 1


async def test_duplicates(db: Database, engine: IngestEngine, product: ProductRow) -> None:
    p = product
    first = req(p, "d1", timestamp=ts(*T0), begin_session=True, dedupe_hash="h1")
    assert await engine.submit([first]) == [Outcome.STORED]
    assert await engine.submit([first]) == [Outcome.DUPLICATE]
    again = [
        req(p, "d1", timestamp=ts(*T0), events=[EventInput("x")], dedupe_hash="h2"),
        req(p, "d1", timestamp=ts(*T0), events=[EventInput("x")], dedupe_hash="h2"),
    ]
    assert await engine.submit(again) == [Outcome.STORED, Outcome.DUPLICATE]
    assert await srow(db, p, "d", DAY) == {"t": 1, "n": 1, "u": 1, "d": 0, "e": 2}
    assert await db.fetchval("SELECT count(*) FROM events WHERE product_id = $1", p.product_id) == 1


async def test_old_device_merge(db: Database, engine: IngestEngine, product: ProductRow) -> None:
    p = product
    await engine.submit(
        [
            req(
                p,
                "anon",
                timestamp=ts(2024, 1, 10, 9),
                begin_session=True,
                metrics={"_os": "Android"},
                events=[EventInput("open")],
                user_details={"name": "Ann", "custom": {"plan": "pro"}},
            )
        ]
    )
    await engine.submit(
        [req(p, "user-42", timestamp=ts(*T0), old_device_key="anon", events=[EventInput("buy")])]
    )
    devices = await db.fetch("SELECT * FROM devices WHERE product_id = $1", p.product_id)
    assert [d["device_key"] for d in devices] == ["user-42"]
    merged = devices[0]
    assert merged["first_seen"] == datetime(2024, 1, 10, 9, tzinfo=UTC)
    assert merged["os"] == "Android"
    # user details are the person's properties, and the old device id names the merged person for good
    properties = await db.fetch(
        "SELECT name, value FROM person_properties WHERE person_id = $1 ORDER BY name", merged["id"]
    )
    assert [(r["name"], r["value"]) for r in properties] == [("name", "Ann"), ("plan", "pro")]
    identities = await db.fetch(
        "SELECT key, kind FROM person_identities WHERE person_id = $1 ORDER BY key", merged["id"]
    )
    assert [(r["key"], r["kind"]) for r in identities] == [("anon", "alias"), ("user-42", "primary")]
    owners = await db.fetch(
        "SELECT DISTINCT device_id FROM events WHERE product_id = $1 "
        "UNION SELECT DISTINCT device_id FROM sessions WHERE product_id = $1",
        p.product_id,
    )
    assert [o["device_id"] for o in owners] == [merged["id"]]
    # the merged user is not new again
    await engine.submit([req(p, "user-42", timestamp=ts(2024, 1, 16), begin_session=True)])
    month = await srow(db, p, "m", datetime(2024, 1, 1))
    assert (month["t"], month["n"], month["u"]) == (2, 1, 1)
    props = await db.fetch(
        "SELECT name FROM property_definitions WHERE product_id = $1 AND scope = 'device' ORDER BY name",
        p.product_id,
    )
    assert [r["name"] for r in props] == ["name", "plan"]


async def test_checksums(db: Database, engine: IngestEngine, make_product: MakeProduct) -> None:
    p = await make_product(salt="s3cret")
    payload = "app_key=k&device_id=d1&begin_session=1"
    sha1 = hashlib.sha1((payload + "s3cret").encode()).hexdigest().upper()  # noqa: S324
    sha256 = hashlib.sha256((payload + "s3cret").encode()).hexdigest().upper()
    outcomes = await engine.submit(
        [
            req(p, "d1", checksum_payload=payload, checksum=sha1, begin_session=True),
            req(p, "d2", checksum_payload=payload, checksum256=sha256.lower(), begin_session=True),
            req(p, "d3", checksum_payload=payload, checksum="0" * 40, begin_session=True),
            req(p, "d4", checksum_payload=payload, checksum256=sha1, begin_session=True),
            req(p, "d5", checksum_payload=payload, begin_session=True),
        ]
    )
    assert outcomes == [
        Outcome.STORED,
        Outcome.STORED,
        Outcome.CHECKSUM_MISMATCH,
        Outcome.CHECKSUM_MISMATCH,
        Outcome.CHECKSUM_MISSING,
    ]
    keys = await db.fetch("SELECT device_key FROM devices WHERE product_id = $1 ORDER BY 1", p.product_id)
    assert [k["device_key"] for k in keys] == ["d1", "d2"]


async def test_refusals(
    db: Database, engine: IngestEngine, make_product: MakeProduct, product: ProductRow
) -> None:
    paused = await make_product(status="paused")
    other = await make_product()
    outcomes = await engine.submit(
        [
            req(paused, "d1", begin_session=True),
            req(product, "00000000-0000-0000-0000-000000000000", begin_session=True),
            # a product of another account behaves like a missing one
            req(ProductRow(other.account_id, product.product_id, ""), "d1", begin_session=True),
            req(ProductRow(product.account_id, 987654321, ""), "d1", begin_session=True),
            # the same device of the product, named by its own account, in the same batch
            req(product, "d1", begin_session=True),
        ]
    )
    assert outcomes == [
        Outcome.PRODUCT_PAUSED,
        Outcome.IGNORED_DEVICE,
        Outcome.UNKNOWN_PRODUCT,
        Outcome.UNKNOWN_PRODUCT,
        Outcome.STORED,
    ]
    rows = await db.fetch(
        "SELECT product_id, device_key FROM devices WHERE product_id = ANY($1::bigint[])",
        [paused.product_id, product.product_id],
    )
    assert [tuple(row) for row in rows] == [(product.product_id, "d1")]


async def test_group_commit(db: Database, product: ProductRow) -> None:
    p = product
    engine = IngestEngine(db, window_ms=5.0, max_batch=500)
    await engine.start()
    try:
        requests = [
            req(p, f"g{i % 40}", timestamp=ts(*T0), begin_session=True, events=[EventInput("e", count=1)])
            for i in range(200)
        ]
        results = await asyncio.gather(*(engine.submit([r]) for r in requests))
        # every answer came after its commit: everything is visible right away
        assert results == [[Outcome.STORED]] * 200
        assert (await srow(db, p, "d", DAY))["e"] == 200
        assert (await erow(db, p, "e", "d", DAY))["c"] == 200
        assert await db.fetchval("SELECT count(*) FROM events WHERE product_id = $1", p.product_id) == 200
        assert engine.stats.transactions <= 10, engine.stats
        assert engine.stats.requests == 200
    finally:
        await engine.stop()


async def test_a_device_created_meanwhile_by_another_transaction_retries_the_batch(
    db: Database, product: ProductRow
) -> None:
    from gateway.ingest.writer import write_batch

    p = product
    engine = IngestEngine(db, window_ms=0.0)
    await engine.start()
    try:
        async with db.transaction() as tx:
            # this transaction creates "race" and keeps it uncommitted while the engine plans the same device
            await write_batch(tx, [req(p, "race", timestamp=ts(*T0), begin_session=True)])
            late = asyncio.create_task(
                engine.submit(
                    [req(p, "race", timestamp=ts(*T0), begin_session=True, events=[EventInput("e")])]
                )
            )
            await asyncio.sleep(0.3)
            assert not late.done()  # waiting for the other transaction's device
        assert await late == [Outcome.STORED]
        assert engine.stats.retries >= 1
        devices = await db.fetch("SELECT id FROM devices WHERE product_id = $1", p.product_id)
        assert len(devices) == 1
        assert await db.fetchval("SELECT count(*) FROM sessions WHERE product_id = $1", p.product_id) == 2
        day = await srow(db, p, "d", DAY)
        assert (day["t"], day["n"], day["u"], day["e"]) == (2, 1, 1, 2)
        event_device = await db.fetchval("SELECT device_id FROM events WHERE product_id = $1", p.product_id)
        assert event_device == devices[0]["id"]
    finally:
        await engine.stop()


async def test_a_batch_locks_the_rows_batches_share_after_its_own_rows(
    db: Database, database_url: str, product: ProductRow
) -> None:
    # Every batch of a product updates the same rollup rows and holds them until it commits. A batch must write
    # the rows no other batch writes (events, sessions, devices) before it takes the shared ones, so that
    # concurrent batches queue for the shared rows only at the end of their STORE (sql.py).
    p = product
    engine = IngestEngine(db, window_ms=0.0)
    await engine.start()
    holder = await asyncpg.connect(database_url)
    other = await asyncpg.connect(database_url)
    try:
        await engine.submit([req(p, "first", timestamp=ts(*T0), begin_session=True)])
        async with holder.transaction():
            # the product's session rollups: what a concurrent batch of the product would hold
            await holder.execute("SELECT FROM session_rollups WHERE product_id = $1 FOR UPDATE", p.product_id)
            late = asyncio.create_task(
                engine.submit(
                    [req(p, "late", timestamp=ts(*T0), begin_session=True, events=[EventInput("e")])]
                )
            )
            waiting = 0
            for _ in range(250):
                waiting = await other.fetchval(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                    " AND datname = current_database() AND query LIKE '%WITH new_ids AS MATERIALIZED%'"
                )
                if waiting:
                    break
                await asyncio.sleep(0.02)
            assert waiting == 1  # the batch waits for a shared row...
            # ...with its new device already written: creating the same device now waits for the batch
            async with other.transaction():
                await other.execute("SET LOCAL lock_timeout = '200ms'")
                with pytest.raises(asyncpg.LockNotAvailableError):
                    await other.execute(
                        "INSERT INTO devices (account_id, product_id, device_key, first_seen, last_seen)"
                        " VALUES ($1, $2, 'late', now(), now())",
                        p.account_id,
                        p.product_id,
                    )
            assert not late.done()
        assert await late == [Outcome.STORED]
        assert engine.stats.retries == 0
        day = await srow(db, p, "d", DAY)
        assert (day["t"], day["n"], day["u"], day["e"]) == (2, 2, 2, 2)
        assert (await erow(db, p, "e", "d", DAY))["c"] == 1
    finally:
        await holder.close()
        await other.close()
        await engine.stop()


@pytest.mark.parametrize("parallel", [2, 4])
async def test_batches_naming_the_same_devices_do_not_run_at_once(
    db: Database, make_product: MakeProduct, parallel: int
) -> None:
    # one request per batch, several batches in flight: without waiting, each new device would be created by
    # several transactions at once and all but one would start over
    product = await make_product()
    engine = IngestEngine(db, window_ms=0.0, max_batch=1, parallel=parallel)
    await engine.start()
    try:
        requests = [
            req(product, f"same{i // 10}", timestamp=ts(*T0), begin_session=True, events=[EventInput("e")])
            for i in range(30)
        ]
        results = await asyncio.gather(*(engine.submit([r]) for r in requests))
        assert results == [[Outcome.STORED]] * 30
        assert engine.stats.retries == 0
        assert engine.stats.transactions == 30
        day = await srow(db, product, "d", DAY)
        assert (day["t"], day["n"], day["u"], day["e"]) == (30, 3, 3, 30)
    finally:
        await engine.stop()


async def test_queue_and_commit_times_and_device_waits_are_measured(
    db: Database, make_product: MakeProduct
) -> None:
    product = await make_product()
    gathering = IngestEngine(db, window_ms=150.0)
    await gathering.start()
    try:
        assert await gathering.submit([req(product, "q1", timestamp=ts(*T0), begin_session=True)]) == [
            Outcome.STORED
        ]
        stats = gathering.stats
        # the write waited for the gathering window, then for its transaction
        assert stats.queue_seconds.count() == 1 and 0.14 <= stats.queue_seconds.total() < 5
        assert stats.commit_seconds.count() == 1 and 0 < stats.commit_seconds.total() < 5
        assert stats.device_waits == 0
    finally:
        await gathering.stop()

    # one request per batch, all naming one device: each batch after the first waits for the one before
    serial = IngestEngine(db, window_ms=0.0, max_batch=1, parallel=2)
    await serial.start()
    try:
        requests = [req(product, "q2", timestamp=ts(*T0), events=[EventInput("e")]) for _ in range(10)]
        results = await asyncio.gather(*(serial.submit([r]) for r in requests))
        assert results == [[Outcome.STORED]] * 10
        stats = serial.stats
        assert stats.device_waits == 9
        assert stats.queue_seconds.count() == stats.commit_seconds.count() == stats.batches == 10
        # the last write waited for the nine commits before its own
        assert stats.queue_seconds.total() > 0.5 * stats.commit_seconds.total()
    finally:
        await serial.stop()


async def test_deleting_a_product_deletes_its_events(
    db: Database, engine: IngestEngine, make_product: MakeProduct
) -> None:
    kept, deleted = await make_product(), await make_product()
    for p in (kept, deleted):
        await engine.submit([req(p, "d", timestamp=ts(*T0), begin_session=True, events=[EventInput("e")])])
    await db.execute("DELETE FROM products WHERE id = $1", deleted.product_id)
    count = "SELECT count(*) FROM events WHERE product_id = $1"
    assert await db.fetchval(count, deleted.product_id) == 0
    assert await db.fetchval(count, kept.product_id) == 1
    await db.execute("DELETE FROM accounts WHERE id = $1", kept.account_id)
    assert await db.fetchval(count, kept.product_id) == 0


# PostgreSQL refuses NUL characters in text, and NaN or infinities in JSON (which json writes for them, where
# orjson would write null): such a request makes the shared transaction fail
@pytest.mark.parametrize(
    "bad_event",
    [
        EventInput("bro\x00ken"),
        EventInput("nan", segmentation={"v": float("nan")}),
        EventInput("inf", segmentation={"v": [1, {"w": float("-inf")}]}),
    ],
    ids=["nul", "nan", "nested-infinity"],
)
async def test_failing_request_does_not_fail_the_others(
    db: Database, product: ProductRow, bad_event: EventInput
) -> None:
    p = product
    engine = IngestEngine(db, window_ms=20.0, max_batch=500)
    await engine.start()
    try:
        good = [req(p, f"ok{i}", timestamp=ts(*T0), events=[EventInput("fine")]) for i in range(5)]
        bad = req(p, "bad", timestamp=ts(*T0), events=[bad_event])
        results = await asyncio.gather(
            *(engine.submit([r]) for r in good[:2]),
            engine.submit([bad]),
            *(engine.submit([r]) for r in good[2:]),
            return_exceptions=True,
        )
        assert isinstance(results[2], Exception)
        assert [r for i, r in enumerate(results) if i != 2] == [[Outcome.STORED]] * 5
        assert engine.stats.failures == 1
        assert (await erow(db, p, "fine", "d", DAY))["c"] == 5
        assert (
            await db.fetchval(
                "SELECT count(*) FROM devices WHERE product_id = $1 AND device_key = 'bad'", p.product_id
            )
            == 0
        )
    finally:
        await engine.stop()


async def test_stop_flushes_pending(db: Database, product: ProductRow) -> None:
    engine = IngestEngine(db, window_ms=1000.0, max_batch=500)
    await engine.start()
    task = asyncio.create_task(engine.submit([req(product, "d1", timestamp=ts(*T0), begin_session=True)]))
    await asyncio.sleep(0.01)
    await engine.stop()
    assert await task == [Outcome.STORED]
    assert (await srow(db, product, "d", DAY))["t"] == 1


async def test_two_engines_same_database_do_not_double_count(
    db: Database, database_url: str, product: ProductRow
) -> None:
    other_db = await Database.connect(database_url, min_size=1, max_size=4)
    engines = [
        IngestEngine(db, window_ms=1.0, max_batch=50),
        IngestEngine(other_db, window_ms=1.0, max_batch=50),
    ]
    try:
        for e in engines:
            await e.start()
        jobs = []
        for i in range(300):
            device = f"c{(i * 7) % 30}"
            r = req(product, device, timestamp=ts(*T0), begin_session=True, events=[EventInput("k", sum=1)])
            jobs.append(engines[i % 2].submit([r]))
        results = await asyncio.gather(*jobs)
        assert all(r == [Outcome.STORED] for r in results)
        day = await srow(db, product, "d", DAY)
        assert (day["t"], day["n"], day["u"], day["e"]) == (300, 30, 30, 300)
        assert (await erow(db, product, "k", "d", DAY))["c"] == 300
    finally:
        for e in engines:
            await e.stop()
        await other_db.close()


async def test_notify_after_commit(db: Database, database_url: str, product: ProductRow) -> None:
    received: list[dict[str, int]] = []
    conn = await asyncpg.connect(database_url)
    try:
        await conn.add_listener("ingest", lambda *args: received.append(json.loads(args[3])))
        engine = IngestEngine(db)
        await engine.start()
        await engine.submit(
            [
                req(
                    product,
                    "d1",
                    timestamp=ts(*T0),
                    begin_session=True,
                    events=[EventInput("a"), EventInput("b")],
                )
            ]
        )
        await engine.stop()
        for _ in range(50):
            if any(n["product_id"] == product.product_id for n in received):
                break
            await asyncio.sleep(0.02)
        mine = [n for n in received if n["product_id"] == product.product_id]
        assert mine == [
            {
                "product_id": product.product_id,
                "account_id": product.account_id,
                "requests": 1,
                "events": 2,
                "sessions": 1,
            }
        ]
    finally:
        await conn.close()


@pytest.mark.parametrize("count", [1, 50])
async def test_statements_per_batch_do_not_grow(db: Database, product: ProductRow, count: int) -> None:
    from gateway.db.pool import start_counting

    counter = start_counting()
    engine = IngestEngine(db, window_ms=0.0)  # started here, so its task inherits the counter
    await engine.start()
    try:
        batch = [
            req(
                product,
                f"s{i}",
                timestamp=ts(*T0),
                begin_session=True,
                session_duration=5,
                metrics={"_os": "Android"},
                events=[EventInput("e", segmentation={"k": "v"})],
                user_details={"name": "x"},
            )
            for i in range(count)
        ]
        before = counter.count
        await engine.submit(batch)
        # products and devices locked in one statement, everything else written in one
        assert counter.count - before == 2
    finally:
        await engine.stop()


async def test_overflowing_sums_and_null_looking_text(
    db: Database, engine: IngestEngine, product: ProductRow
) -> None:
    # a rollup sum that overflows to infinity is stored as such; text containing "null" is stored as sent
    p = product
    events = [EventInput("null", sum=1.7e308, segmentation={"null": "null"}) for _ in range(2)]
    assert await engine.submit([req(p, "null", timestamp=ts(*T0), events=events)]) == [Outcome.STORED]
    assert await erow(db, p, "null", "d", DAY) == {"c": 2, "s": float("inf"), "dur": 0.0}
    assert (await erow(db, p, "null", "h", HOUR, "null", "null"))["s"] == float("inf")
    assert await srow(db, p, "d", DAY) == {"t": 0, "n": 0, "u": 0, "d": 0, "e": 1}


def _varied_requests(p: ProductRow, start: datetime) -> list[TrackRequest]:
    """Requests of a few devices every 7 minutes from `start`: sessions, metrics, events with segmentation."""
    requests = []
    for i in range(60):
        at = start + timedelta(minutes=7 * i)
        device = f"v{i % 4}"
        events = [
            EventInput(
                f"k{j % 3}", count=j + 1, sum=j * 0.5, duration=1.25, segmentation={"s": f"x{i % 2}", "n": j}
            )
            for j in range(i % 3)
        ]
        requests.append(
            req(
                p,
                device,
                timestamp=str(int(at.timestamp() * 1000)),
                begin_session=i % 5 == 0,
                session_duration=30 if i % 2 else None,
                end_session=i % 5 == 4,
                metrics={"_os": "Android" if i % 3 else "iOS", "_app_version": f"1.{i % 2}"},
                events=events,
            )
        )
    return requests


ROLLUPS = {
    "session_rollups": "SELECT dimension, value, grain, bucket, t, n, u, d, e FROM session_rollups"
    " WHERE product_id = $1 ORDER BY 1, 2, 3, 4",
    "event_rollups": "SELECT key, seg_key, seg_value, grain, bucket, c, s, dur FROM event_rollups"
    " WHERE product_id = $1 ORDER BY 1, 2, 3, 4, 5",
}


@pytest.mark.parametrize(
    ("timezone", "start"),
    [
        ("America/New_York", datetime(2024, 11, 3, 4, 0, tzinfo=UTC)),  # 01:00-02:00 local happens twice
        ("Australia/Lord_Howe", datetime(2024, 4, 6, 13, 0, tzinfo=UTC)),  # clocks go back 30 minutes
        ("Asia/Kathmandu", datetime(2023, 12, 31, 15, 0, tzinfo=UTC)),  # +05:45, across a new year
    ],
)
async def test_rollups_of_a_batch_equal_those_of_single_requests(
    db: Database, engine: IngestEngine, make_product: MakeProduct, timezone: str, start: datetime
) -> None:
    batched, single = await make_product(timezone=timezone), await make_product(timezone=timezone)
    assert set(await engine.submit(_varied_requests(batched, start))) == {Outcome.STORED}
    for request in _varied_requests(single, start):
        assert await engine.submit([request]) == [Outcome.STORED]
    for table, query in ROLLUPS.items():
        rows = await db.fetch(query, batched.product_id)
        assert len(rows) > 40, table
        assert rows == await db.fetch(query, single.product_id), table


async def test_extreme_instants_are_stored_as_the_binary_codecs_store_them(
    db: Database, engine: IngestEngine, make_product: MakeProduct
) -> None:
    # asyncpg sends 0001-01-01 00:00 (UTC, or naive) as -infinity: rows sent as JSON documents must match
    p = await make_product(timezone="Asia/Tokyo")
    year_1 = "0001-01-01T00:00:00Z"
    await engine.submit([req(p, "d1", timestamp=ts(*T0), events=[EventInput("e", timestamp=year_1)])])
    buckets = await db.fetch(
        "SELECT grain, bucket::text FROM event_rollups WHERE product_id = $1 AND key = 'e' ORDER BY grain",
        p.product_id,
    )
    assert [(r["grain"], r["bucket"]) for r in buckets] == [
        ("d", "-infinity"),
        ("h", "0001-01-01 09:00:00"),
        ("m", "-infinity"),
        ("w", "-infinity"),
        ("y", "-infinity"),
    ]
    first = "SELECT first_used::text FROM event_definitions WHERE product_id = $1 AND name = 'e'"
    assert await db.fetchval(first, p.product_id) == "-infinity"
    await engine.submit([req(p, "d1", timestamp=year_1, events=[EventInput("f")])])
    device = "SELECT first_seen::text FROM devices WHERE product_id = $1 AND device_key = 'd1'"
    assert await db.fetchval(device, p.product_id) == "-infinity"


async def test_a_time_without_local_buckets_fails_only_its_submitter(
    db: Database, make_product: MakeProduct
) -> None:
    p = await make_product(timezone="America/New_York")  # year 1, 00:30 UTC is before year 1 there
    engine = IngestEngine(db, window_ms=20.0)
    await engine.start()
    try:
        bad = req(p, "bad", timestamp="0001-01-01T00:30:00Z", begin_session=True)
        good = req(p, "good", timestamp=ts(*T0), begin_session=True)
        results = await asyncio.gather(engine.submit([bad]), engine.submit([good]), return_exceptions=True)
        assert isinstance(results[0], OverflowError)
        assert results[1] == [Outcome.STORED]
        keys = await db.fetch("SELECT device_key FROM devices WHERE product_id = $1", p.product_id)
        assert [k["device_key"] for k in keys] == ["good"]
    finally:
        await engine.stop()
