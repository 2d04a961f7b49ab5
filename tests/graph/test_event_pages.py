"""Numbered event pages (`Product.eventPage`) and counts (`Product.eventCount`) against a plain ordering.

The page index (`event_hours`, kept by triggers) finds where a page starts; these tests compare every page of
small data sets, in both orders, with periods that start and end inside hours and with name filters, against
the events sorted in Python, and check that deletes keep the index right.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp

from gateway.db.pool import Database
from resolvers.events.page_index import _HOUR_OF_ROW, _ROW_IN_RANGE
from tests.conftest import Server, Tenant, gql

BASE = datetime(2026, 3, 1, tzinfo=UTC)

PAGE = """
query ($id: ID!, $n: Int!, $size: Int, $period: TimeRange, $order: EventOrder!, $where: EventFilter) {
  node(id: $id) { ... on Product {
    eventPage(number: $n, first: $size, period: $period, orderBy: $order, where: $where) {
      nodes { id key timestamp }
      pageInfo { hasNextPage }
    }
    eventCount(period: $period, where: $where)
  } }
}
"""


async def _seed(db: Database, tenant: Tenant, n: int, seed: int) -> list[dict[str, Any]]:
    """`n` events spread over ~30 hours, several sharing a timestamp, with three names."""
    rng = random.Random(seed)
    device = await db.fetchval(
        """INSERT INTO devices (account_id, product_id, device_key, first_seen, last_seen)
           VALUES ($1, $2, 'd1', $3, $3) RETURNING id""",
        tenant.account_pk,
        tenant.product_pk,
        BASE,
    )
    rows = []
    for _ in range(n):
        at = BASE + timedelta(minutes=rng.randrange(0, 30 * 60), seconds=rng.choice([0, 0, 30]))
        rows.append((tenant.account_pk, tenant.product_pk, device, rng.choice(["a", "b", "c"]), at))
    await db.executemany(
        "INSERT INTO events (account_id, product_id, device_id, key, occurred_at) VALUES ($1, $2, $3, $4, $5)",
        rows,
    )
    found = await db.fetch("SELECT id, key, occurred_at FROM events WHERE product_id = $1", tenant.product_pk)
    return [dict(r) for r in found]


def _expected(
    events: list[dict[str, Any]],
    since: datetime | None,
    until: datetime | None,
    keys: list[str] | None,
    newest_first: bool,
) -> list[int]:
    chosen = [
        e
        for e in events
        if (since is None or e["occurred_at"] >= since)
        and (until is None or e["occurred_at"] < until)
        and (keys is None or e["key"] in keys)
    ]
    chosen.sort(key=lambda e: (e["occurred_at"], e["id"]), reverse=newest_first)
    return [e["id"] for e in chosen]


async def _pages(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant, size: int, variables: dict[str, Any]
) -> tuple[list[int], int]:
    from resolvers.node import from_global_id

    ids: list[int] = []
    count = -1
    for number in range(1, 200):
        reply = await gql(
            http,
            server,
            PAGE,
            {"id": tenant.product_id, "n": number, "size": size, **variables},
            tenant.token,
        )
        assert reply.errors is None, reply.errors
        page = reply.data["node"]["eventPage"]
        count = reply.data["node"]["eventCount"]
        ids += [from_global_id(node["id"])[1] for node in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            # the page after the last one is empty, not an error
            after = await gql(
                http,
                server,
                PAGE,
                {"id": tenant.product_id, "n": number + 1, "size": size, **variables},
                tenant.token,
            )
            assert after.data["node"]["eventPage"]["nodes"] == []
            return ids, count
    raise AssertionError("too many pages")


async def test_numbered_pages_equal_a_plain_ordering(
    http: aiohttp.ClientSession, server: Server, db: Database, tenant: Tenant
) -> None:
    events = await _seed(db, tenant, 180, seed=7)
    cases: list[tuple[datetime | None, datetime | None, list[str] | None]] = [
        (None, None, None),
        (BASE + timedelta(minutes=95, seconds=30), BASE + timedelta(hours=20, minutes=10), None),
        (BASE + timedelta(hours=3), BASE + timedelta(hours=9), ["a", "c"]),
        (BASE + timedelta(hours=4, minutes=5), BASE + timedelta(hours=4, minutes=50), None),
        (None, BASE + timedelta(hours=12, minutes=1), ["b"]),
        (BASE + timedelta(hours=29, minutes=59), None, ["a", ""]),
    ]
    for since, until, keys in cases:
        for newest_first in (False, True):
            for size in (1, 7, 50):
                period = {"since": since and since.isoformat(), "until": until and until.isoformat()}
                variables = {
                    "period": period,
                    "order": "NEWEST_FIRST" if newest_first else "OLDEST_FIRST",
                    "where": None if keys is None else {"keys": keys},
                }
                expected = _expected(events, since, until, keys, newest_first)
                ids, count = await _pages(http, server, tenant, size, variables)
                assert ids == expected, (since, until, keys, newest_first, size)
                assert count == len(expected)


async def test_the_row_a_page_starts_after_is_read_from_the_index_alone(db: Database, tenant: Tenant) -> None:
    """Within the hour a page starts in, the rows' times and ids come from `events_product_time` alone: the
    account is checked once on the product, not by visiting each row (which made page 1,000 read 601 rows)."""
    await _seed(db, tenant, 60, seed=3)
    span = (BASE, BASE + timedelta(hours=30))
    statement = _ROW_IN_RANGE.format(direction="DESC")
    async with db.transaction() as tx:
        # on a table this small the planner would rather read it whole: compare only the index's two ways
        await tx.execute("SET LOCAL enable_seqscan = off")
        await tx.execute("SET LOCAL enable_bitmapscan = off")
        plan = "\n".join(
            row[0]
            for row in await tx.fetch(
                f"EXPLAIN {statement}", tenant.account_pk, tenant.product_pk, span[0], None, span[1], 10
            )
        )
    assert "Index Only Scan using events_product_time" in plan, plan
    # still the caller's account's rows only: another account finds none of this product's
    found = await db.fetchrow(statement, tenant.account_pk, tenant.product_pk, span[0], None, span[1], 10)
    foreign = await db.fetchrow(
        statement, tenant.account_pk + 1, tenant.product_pk, span[0], None, span[1], 10
    )
    assert found is not None and foreign is None


async def test_the_hour_a_page_starts_in_is_read_from_the_index_alone(db: Database, tenant: Tenant) -> None:
    """The hourly counts come from `event_hours`' key, which holds them (migration 050): one heap page a row made
    page 1,000 of the 10M set visit 1,441 pages for 60 days of hours."""
    await _seed(db, tenant, 60, seed=4)
    args = (tenant.account_pk, tenant.product_pk, [""], None, None, 10)
    async with db.transaction() as tx:
        await tx.execute("SET LOCAL enable_seqscan = off")
        await tx.execute("SET LOCAL enable_bitmapscan = off")
        plan = "\n".join(
            row[0] for row in await tx.fetch(f"EXPLAIN {_HOUR_OF_ROW.format(direction='DESC')}", *args)
        )
    assert "Index Only Scan" in plan and "event_hours_pkey" in plan, plan


async def test_an_events_export_counts_its_rows_as_the_list_does(db: Database, tenant: Tenant) -> None:
    """An export's total (its progress) comes from the page index, as `eventCount` does: counting a million rows
    read them all from disk in a cold export. Filters the index cannot count are counted by their rows."""
    from gateway.access.principal import Permission, Principal
    from resolvers.context import Context
    from resolvers.exports.sources import list_source

    events = await _seed(db, tenant, 120, seed=5)
    ctx = Context(db=db, principal=Principal(tenant.account_pk, frozenset({Permission.READ})))
    inside = BASE + timedelta(hours=3, minutes=17)
    later = BASE + timedelta(hours=20, minutes=41)
    for since, until, keys in [
        (None, None, None),
        (inside, later, None),
        (inside, inside + timedelta(minutes=20), ["a"]),
        (None, later, ["b", "c"]),
    ]:
        stored = {"events": {"keys": keys}} if keys else None
        source = list_source("events", tenant.product_pk, stored, since, until)
        assert source.counter is not None
        assert await source.total(ctx) == len(_expected(events, since, until, keys, True))
    by_device = list_source("events", tenant.product_pk, {"events": {"device_ids": ["d1"]}}, inside, later)
    assert await by_device.total(ctx) == len(_expected(events, inside, later, None, True))


async def test_deleted_events_leave_the_pages_right(
    http: aiohttp.ClientSession, server: Server, db: Database, tenant: Tenant
) -> None:
    events = await _seed(db, tenant, 60, seed=11)
    gone = {e["id"] for e in events[::3]}
    await db.execute("DELETE FROM events WHERE id = ANY($1::bigint[])", list(gone))
    left = [e for e in events if e["id"] not in gone]
    ids, count = await _pages(http, server, tenant, 4, {"order": "OLDEST_FIRST"})
    assert ids == _expected(left, None, None, None, False)
    assert count == len(left)
    hours = await db.fetchval(
        "SELECT sum(rows) FROM event_hours WHERE product_id = $1 AND key = ''", tenant.product_pk
    )
    assert hours == len(left)


async def test_filters_the_index_cannot_count_page_by_the_rows(
    http: aiohttp.ClientSession, server: Server, db: Database, tenant: Tenant
) -> None:
    events = await _seed(db, tenant, 40, seed=3)
    expected = _expected(events, None, None, None, True)
    ids, count = await _pages(
        http, server, tenant, 6, {"order": "NEWEST_FIRST", "where": {"deviceIds": ["d1"]}}
    )
    assert ids == expected and count == len(expected)
    ids, count = await _pages(
        http, server, tenant, 6, {"order": "NEWEST_FIRST", "where": {"deviceIds": ["zz"]}}
    )
    assert ids == [] and count == 0


async def test_bad_page_numbers_are_user_errors(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant
) -> None:
    for number in (0, -3):
        reply = await gql(
            http, server, PAGE, {"id": tenant.product_id, "n": number, "order": "NEWEST_FIRST"}, tenant.token
        )
        assert reply.errors[0]["message"] == "`number` must be 1 or more"
