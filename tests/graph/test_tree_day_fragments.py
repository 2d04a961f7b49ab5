"""The calendar trees keep each whole, ended day's text (migration 010) and never serve a day that changed since;
kept days expire (migration 011, `gateway.background.housekeeping`).

Every read here is compared with a read made after the product's kept days were dropped, which renders every
day from the rollups as the trees did before they kept any. Changes go through each path that writes rollups:
the ingestion (late data through Countly `/i`), and plain INSERT, UPDATE, DELETE and TRUNCATE.
"""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp

from gateway.db.pool import Database
from resolvers.analytics.kept_days import expire_kept_days
from resolvers.analytics.tree_sql import KEPT_DAYS
from resolvers.analytics.trees import event_rollup_tree, session_rollup_tree
from tests.adapters.countly.helpers import get
from tests.conftest import Server, Tenant, gateway_with, new_tenant

DIMENSIONS = ["country", "os"]
VALUES = ["DE", "US", "1.0", "Android"]


def _local_midnight(timezone: str) -> datetime:
    """Today's local midnight in `timezone`, naive (as the rollups' buckets)."""
    now = datetime.now(ZoneInfo(timezone))
    return now.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)


async def _seed(db: Database, tenant: Tenant, today: datetime, seed: int, days: int = 20) -> None:
    """Session and event rollups at every grain over the last `days` days and today, with metric and
    segmentation values."""
    rng = random.Random(seed)
    sessions: list[tuple[Any, ...]] = []
    events: list[tuple[Any, ...]] = []
    for back in range(days, -1, -1):
        day = today - timedelta(days=back)
        buckets = [("d", day)] + [("h", day + timedelta(hours=h)) for h in rng.sample(range(24), 5)]
        for grain, bucket in buckets:
            sessions.append(("", "", grain, bucket, rng.randint(1, 9), rng.randint(0, 3), rng.randint(1, 9)))
            for dimension in DIMENSIONS:
                if grain == "d":
                    for value in rng.sample(VALUES, 2):
                        sessions.append((dimension, value, grain, bucket, rng.randint(1, 9), 0, 1))
            for seg_key, seg_value in (("", ""), ("plan", rng.choice(["free", "pro.1"]))):
                events.append(
                    ("buy", seg_key, seg_value, grain, bucket, rng.randint(1, 9), rng.random() * 10)
                )
    for grain, unit in (("m", "month"), ("y", "year"), ("w", "week")):
        starts = await db.fetch(
            f"SELECT DISTINCT date_trunc('{unit}', d) AS b FROM generate_series($1::timestamp, $2, '1 day') d",
            today - timedelta(days=days),
            today,
        )
        for row in starts:
            sessions.append(("", "", grain, row["b"], 50, 10, 40))
            sessions.append(("country", "DE", grain, row["b"], 5, 0, 1))
            events.append(("buy", "", "", grain, row["b"], 70, 7.5))
            events.append(("buy", "plan", "free", grain, row["b"], 30, 2.5))
    await db.execute(
        "INSERT INTO session_rollups (account_id, product_id, dimension, value, grain, bucket, t, n, u, d, e) "
        "SELECT $1, $2, d.*, 0, 0 FROM unnest($3::text[], $4::text[], $5::text[], $6::timestamp[], "
        "$7::bigint[], $8::bigint[], $9::bigint[]) AS d",
        tenant.account_pk,
        tenant.product_pk,
        *(list(column) for column in zip(*sessions, strict=True)),
    )
    await db.execute(
        "INSERT INTO event_rollups (account_id, product_id, key, seg_key, seg_value, grain, bucket, c, s) "
        "SELECT $1, $2, d.* FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::timestamp[], "
        "$8::bigint[], $9::float8[]) AS d",
        tenant.account_pk,
        tenant.product_pk,
        *(list(column) for column in zip(*events, strict=True)),
    )


class Reads:
    """The trees of one product over one period, as kept and as rendered afresh."""

    def __init__(self, db: Database, tenant: Tenant, since: datetime, until: datetime) -> None:
        self.db, self.tenant, self.since, self.until = db, tenant, since, until

    async def read(self) -> list[Any]:
        account, product = self.tenant.account_pk, self.tenant.product_pk
        found: list[Any] = []
        for dimensions in ([], ["country"], DIMENSIONS):
            tree = await session_rollup_tree(
                self.db, account, product, self.since, self.until, list("ymwdh"), list("ymwd"), dimensions
            )
            found.append((tree.text, tree.values))
        for segmentation in (None, "plan"):
            events = await event_rollup_tree(
                self.db, account, product, ["buy"], self.since, self.until, list("ymwdh"), segmentation
            )
            found.append((events.text, sorted(events.segments)))
        return found

    async def fresh(self) -> list[Any]:
        await self.db.execute("DELETE FROM tree_day_fragments WHERE product_id = $1", self.tenant.product_pk)
        return await self.read()

    async def kept_days(self) -> list[datetime]:
        rows = await self.db.fetch(
            "SELECT DISTINCT day FROM tree_day_fragments WHERE product_id = $1 ORDER BY day",
            self.tenant.product_pk,
        )
        return [row["day"] for row in rows]

    async def assert_current(self) -> list[Any]:
        """The kept read equals a fresh one (and reading again with every day kept changes nothing)."""
        kept = await self.read()
        assert kept == await self.fresh()
        assert kept == await self.read()
        return kept


async def test_whole_ended_days_are_kept_and_used(db: Database) -> None:
    tenant = await new_tenant(db, "Asia/Kathmandu")
    today = _local_midnight("Asia/Kathmandu")
    await _seed(db, tenant, today, seed=1)
    zone = ZoneInfo("Asia/Kathmandu")
    # from noon 15 days ago (a partial first day) to the end of today
    since = (today - timedelta(days=15) + timedelta(hours=12)).replace(tzinfo=zone)
    until = (today + timedelta(days=1)).replace(tzinfo=zone)
    reads = Reads(db, tenant, since, until)
    first = await reads.read()
    assert first[0][0] is not None and first[3][0] is not None
    # the 14 whole days before today; not the partial first day, not today (the product's local day)
    assert await reads.kept_days() == [today - timedelta(days=back) for back in range(14, 0, -1)]
    assert await reads.read() == first

    # a kept day's text is what a read serves: proof that reads use them (restored by a fresh read)
    await db.execute(
        "UPDATE tree_day_fragments SET node = '\"t\":123456' WHERE product_id = $1 AND day = $2",
        tenant.product_pk,
        today - timedelta(days=3),
    )
    tampered = await reads.read()
    assert '"t":123456' in tampered[0][0]
    assert await reads.fresh() == first


async def test_every_change_of_the_rollups_moves_its_days(db: Database, tenant: Tenant) -> None:
    today = _local_midnight("UTC")
    await _seed(db, tenant, today, seed=2)
    reads = Reads(db, tenant, (today - timedelta(days=10)).replace(tzinfo=UTC), datetime.now(UTC))
    before = await reads.assert_current()
    day = today - timedelta(days=4)
    product = tenant.product_pk
    changes = [
        # a new hour, a new metric value and a new segmentation value on a kept day
        "INSERT INTO session_rollups (account_id, product_id, dimension, value, grain, bucket, t, n, u, d, e) "
        "VALUES ($1, $2, '', '', 'h', $3::timestamp + interval '3 hours', 1000, 0, 0, 0, 0) "
        "ON CONFLICT (product_id, dimension, grain, bucket, value) DO UPDATE SET t = session_rollups.t + 1000",
        "INSERT INTO session_rollups (account_id, product_id, dimension, value, grain, bucket, t, n, u, d, e) "
        "VALUES ($1, $2, 'country', 'FR', 'd', $3, 4, 0, 1, 0, 0)",
        "INSERT INTO event_rollups (account_id, product_id, key, seg_key, seg_value, grain, bucket, c, s, dur) "
        "VALUES ($1, $2, 'buy', 'plan', 'gold', 'd', $3, 2, 0, 0)",
        # updates and deletes
        "UPDATE session_rollups SET t = t + 1, u = u + 2 WHERE account_id = $1 AND product_id = $2 AND bucket = $3",
        "UPDATE event_rollups SET s = s + 0.5 WHERE account_id = $1 AND product_id = $2 AND bucket = $3",
        "DELETE FROM session_rollups WHERE account_id = $1 AND product_id = $2 AND grain = 'h' "
        "AND bucket >= $3 AND bucket < $3::timestamp + interval '1 day'",
        "DELETE FROM event_rollups WHERE account_id = $1 AND product_id = $2 AND bucket = $3",
    ]
    for change in changes:
        await db.execute(change, tenant.account_pk, product, day)
        after = await reads.assert_current()
        assert after != before, change
        before = after


async def test_late_data_through_countly_moves_its_day(
    http: aiohttp.ClientSession, server: Server, db: Database, tenant: Tenant
) -> None:
    today = _local_midnight("UTC")
    await _seed(db, tenant, today, seed=3)
    reads = Reads(db, tenant, (today - timedelta(days=10)).replace(tzinfo=UTC), datetime.now(UTC))
    before = await reads.assert_current()
    late = today - timedelta(days=5) + timedelta(hours=7, minutes=30)
    millis = int(late.replace(tzinfo=UTC).timestamp() * 1000)
    for params in (
        {"begin_session": 1, "metrics": '{"_os": "iOS"}'},
        {"events": '[{"key": "buy", "count": 3, "sum": 2.5, "segmentation": {"plan": "late"}}]'},
        {"end_session": 1, "session_duration": 40},
    ):
        answer = await get(
            http,
            server,
            "/i",
            app_key=tenant.app_key,
            device_id="late-device",
            timestamp=millis,
            **params,
        )
        assert answer.status == 200, answer.text
    after = await reads.assert_current()
    assert after != before
    assert '"7":{' in after[0][0]  # the late hour
    assert "late" in after[4][1]  # its segmentation value, listed beside the events tree


async def test_truncating_the_rollups_drops_every_kept_day(db: Database, tenant: Tenant) -> None:
    today = _local_midnight("UTC")
    await _seed(db, tenant, today, seed=4, days=3)
    reads = Reads(db, tenant, (today - timedelta(days=3)).replace(tzinfo=UTC), datetime.now(UTC))
    await reads.read()
    assert await reads.kept_days()
    async with db.pool.acquire() as conn:
        transaction = conn.transaction()
        await transaction.start()
        try:
            await conn.execute("TRUNCATE session_rollups")
            assert await conn.fetchval("SELECT count(*) FROM tree_day_fragments") == 0
        finally:
            await transaction.rollback()
    assert await reads.kept_days()


async def test_deleting_a_product_deletes_its_days(db: Database, tenant: Tenant) -> None:
    today = _local_midnight("UTC")
    await _seed(db, tenant, today, seed=5, days=3)
    await Reads(db, tenant, (today - timedelta(days=3)).replace(tzinfo=UTC), datetime.now(UTC)).read()
    await db.execute("DELETE FROM products WHERE id = $1", tenant.product_pk)
    for table in ("tree_day_fragments", "tree_day_versions"):
        assert (
            await db.fetchval(f"SELECT count(*) FROM {table} WHERE product_id = $1", tenant.product_pk) == 0
        )


async def test_long_and_odd_periods(db: Database, tenant: Tenant) -> None:
    """Periods reaching the ends of the calendar, longer than the days that may be kept, empty or reversed:
    the same as rendered afresh, with at most KEPT_DAYS days kept, the most recent ones."""
    today = _local_midnight("UTC")
    await _seed(db, tenant, today, seed=6, days=40)
    now = datetime.now(UTC)
    first, last = datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)
    for since, until in (
        (first, last),
        (first, now),
        (now - timedelta(days=3 * 365), now),
        (now - timedelta(days=5), last),
        (now, now - timedelta(days=5)),
        (now - timedelta(days=2), now - timedelta(days=2)),
    ):
        reads = Reads(db, tenant, since, until)
        await reads.assert_current()
        kept = await reads.kept_days()
        assert len(kept) <= KEPT_DAYS
        if kept:
            assert kept[-1] == today - timedelta(days=1)
    reads = Reads(db, tenant, now - timedelta(days=3 * 365), now)
    await reads.fresh()
    assert len(await reads.kept_days()) == KEPT_DAYS


async def test_reads_racing_changes_keep_no_stale_day(db: Database, tenant: Tenant) -> None:
    """Readers keep days while other transactions change them: once all have finished, every kept day in use
    is current (a day kept from rows a change had not committed yet carries the version before it)."""
    today = _local_midnight("UTC")
    await _seed(db, tenant, today, seed=7, days=12)
    reads = Reads(db, tenant, (today - timedelta(days=12)).replace(tzinfo=UTC), datetime.now(UTC))
    rng = random.Random(7)

    async def change() -> None:
        for _ in range(40):
            day = today - timedelta(days=rng.randint(1, 11))
            async with db.transaction() as tx:
                await tx.execute(
                    "UPDATE session_rollups SET t = t + 1 WHERE account_id = $1 AND product_id = $2 "
                    "AND grain = 'h' AND bucket >= $3 AND bucket < $3::timestamp + interval '1 day'",
                    tenant.account_pk,
                    tenant.product_pk,
                    day,
                )
                await tx.execute(
                    "UPDATE event_rollups SET c = c + 1 WHERE account_id = $1 AND product_id = $2 "
                    "AND grain = 'd' AND bucket = $3",
                    tenant.account_pk,
                    tenant.product_pk,
                    day,
                )
                await asyncio.sleep(0.002)

    async def read() -> None:
        for _ in range(10):
            await reads.read()

    await asyncio.gather(change(), change(), read(), read(), read())
    kept = await reads.read()
    assert kept == await reads.fresh()


async def test_the_order_of_grains_dimensions_and_keys_shares_the_kept_days(
    db: Database, tenant: Tenant
) -> None:
    today = _local_midnight("UTC")
    await _seed(db, tenant, today, seed=8, days=5)
    since, until = (today - timedelta(days=5)).replace(tzinfo=UTC), datetime.now(UTC)
    account, product = tenant.account_pk, tenant.product_pk
    sessions = [
        await session_rollup_tree(db, account, product, since, until, grains, value_grains, dimensions)
        for grains, value_grains, dimensions in (
            (list("ymwdh"), list("ymwd"), ["country", "os"]),
            (list("hdwmy"), list("dwmy"), ["os", "country", "os"]),
        )
    ]
    events = [
        await event_rollup_tree(db, account, product, keys, since, until, list("ymwdh"), None)
        for keys in (["buy", "sell"], ["sell", "buy", "buy"])
    ]
    assert sessions[0] == sessions[1] and sessions[0].text is not None
    assert events[0] == events[1] and events[0].text is not None
    kept = await db.fetchval(
        "SELECT count(DISTINCT variant) FROM tree_day_fragments WHERE product_id = $1", tenant.product_pk
    )
    assert kept == 2


async def test_another_account_neither_reads_nor_keeps_the_days(db: Database, tenant: Tenant) -> None:
    today = _local_midnight("UTC")
    await _seed(db, tenant, today, seed=9, days=4)
    since, until = (today - timedelta(days=4)).replace(tzinfo=UTC), datetime.now(UTC)
    stranger = await new_tenant(db)
    for _ in range(2):  # before and after the owner's read has kept the days
        tree = await session_rollup_tree(
            db, stranger.account_pk, tenant.product_pk, since, until, list("ymwdh"), list("ymwd"), ["country"]
        )
        events = await event_rollup_tree(
            db, stranger.account_pk, tenant.product_pk, ["buy"], since, until, list("ymwdh"), "plan"
        )
        assert tree.text is None and tree.values == {}
        assert events.text is None and events.segments == []
        await Reads(db, tenant, since, until).read()
    assert (
        await db.fetchval(
            "SELECT count(*) FROM tree_day_fragments WHERE account_id <> $1 AND product_id = $2",
            tenant.account_pk,
            tenant.product_pk,
        )
        == 0
    )


TTL = timedelta(days=62)


async def _age(db: Database, tenant: Tenant, before: datetime | None = None) -> int:
    """Make the product's kept days (those before `before`, or all) look kept 100 days ago; how many rows."""
    status = await db.execute(
        "UPDATE tree_day_fragments SET kept_at = now() - interval '100 days' "
        "WHERE product_id = $1 AND ($2::timestamp IS NULL OR day < $2)",
        tenant.product_pk,
        before,
    )
    return int(status.split()[-1])


async def _kept_at(db: Database, tenant: Tenant) -> dict[datetime, list[bool]]:
    """Per kept day, whether each of its rows was kept within the last hour."""
    rows = await db.fetch(
        "SELECT day, kept_at > now() - interval '1 hour' AS recent FROM tree_day_fragments "
        "WHERE product_id = $1 ORDER BY day, variant",
        tenant.product_pk,
    )
    found: dict[datetime, list[bool]] = {}
    for row in rows:
        found.setdefault(row["day"], []).append(row["recent"])
    return found


async def test_expired_days_are_deleted_and_kept_again_by_the_next_read(db: Database, tenant: Tenant) -> None:
    today = _local_midnight("UTC")
    await _seed(db, tenant, today, seed=10, days=8)
    reads = Reads(db, tenant, (today - timedelta(days=8)).replace(tzinfo=UTC), datetime.now(UTC))
    first = await reads.read()
    kept = await reads.kept_days()
    assert len(kept) == 8
    aged = await _age(db, tenant, before=today - timedelta(days=3))
    assert aged > 3  # several chunks below

    assert await expire_kept_days(db, TTL, chunk_rows=3) == aged
    assert await reads.kept_days() == kept[-3:]
    assert await expire_kept_days(db, TTL) == 0

    assert await reads.read() == first
    assert await reads.kept_days() == kept
    assert all(all(recent) for recent in (await _kept_at(db, tenant)).values())
    assert await reads.fresh() == first


async def test_a_day_rendered_again_after_a_change_is_kept_afresh(db: Database, tenant: Tenant) -> None:
    today = _local_midnight("UTC")
    await _seed(db, tenant, today, seed=11, days=5)
    reads = Reads(db, tenant, (today - timedelta(days=5)).replace(tzinfo=UTC), datetime.now(UTC))
    await reads.read()
    await _age(db, tenant)
    changed = today - timedelta(days=2)
    await db.execute(
        "UPDATE session_rollups SET t = t + 1 WHERE account_id = $1 AND product_id = $2 AND bucket = $3",
        tenant.account_pk,
        tenant.product_pk,
        changed,
    )
    changed_read = await reads.read()
    recent = await _kept_at(db, tenant)
    # the three sessions trees wrote that day again, the two event trees did not (their rows did not change)
    assert sorted(recent[changed]) == [False, False, True, True, True]
    assert not any(any(flags) for day, flags in recent.items() if day != changed)
    await expire_kept_days(db, TTL)
    assert await reads.kept_days() == [changed]
    assert changed_read == await reads.fresh()


async def test_the_gateway_sweeps_expired_days_in_the_background(
    db: Database, tenant: Tenant, migrated: str, tmp_path: Path
) -> None:
    today = _local_midnight("UTC")
    await _seed(db, tenant, today, seed=12, days=3)
    reads = Reads(db, tenant, (today - timedelta(days=3)).replace(tzinfo=UTC), datetime.now(UTC))
    await reads.read()
    kept = await reads.kept_days()
    assert len(kept) == 3

    # kept for good: nothing is swept
    await _age(db, tenant)
    async with gateway_with(migrated, tmp_path, kept_days_ttl_days=0, housekeeping_seconds=0.1):
        await asyncio.sleep(0.5)
    assert await reads.kept_days() == kept

    async with gateway_with(migrated, tmp_path, kept_days_ttl_days=62, housekeeping_seconds=0.1):
        for _ in range(50):
            if not await reads.kept_days():
                break
            await asyncio.sleep(0.1)
        assert await reads.kept_days() == []
        # a day kept again is fresh: the sweeps that follow leave it alone
        await reads.read()
        await asyncio.sleep(0.4)
        assert await reads.kept_days() == kept
