"""Ended months of web rollups summed into rows of their own (migration 054, `gateway.ingest.web.months`): the
reads of a period take its whole months from them, and answer exactly what they answer from the days.

Hits over five months of a site in Amsterdam (a clock change in two of them) are read through pages (every path
filter), every dimension, details and a referrer's paths, over periods whose edges fall on month boundaries,
inside months, on split days and within one month: before the months are summed, after, after a hit dated in a
summed month (its version moves, so the read goes back to days at once), and after the month is summed again.
"""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import asyncpg
import pytest

from gateway.background.web_months import WebMonths
from gateway.db.pool import Database
from gateway.ingest.web import months
from gateway.ingest.web.months import build_month, build_months
from tests.conftest import Server, Tenant, gql, new_tenant

ZONE = ZoneInfo("Europe/Amsterdam")
AGENTS = (
    "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 "
    "Mobile/15E148 Safari/604.1",
)
PATHS = ("/", "/a", "/b", "/c", "/docs/x")
REFERRERS = (
    None,
    "https://news.example.org/item",
    "https://search.example.com/q",
    "https://blog.example.net/",
)
SCREENS = ("1920", "375,812,3", "1024", None)
LOCATIONS = ("NL", "US-CA", "FR", None)
LANGUAGES = ("nl", "en-US", "fr", None)
QUERIES = (None, None, "utm_campaign=spring&utm_source=news", "utm_campaign=fall")

RECORD = """mutation($product: ID!, $hits: [PageviewInput!]!) {
  recordPageviews(productId: $product, pageviews: $hits) { outcome }
}"""
READ = """query($product: ID!, $period: AnalyticsRange!, $paths: WebPathFilter, $browser: String!,
             $referrer: String!) {
  node(id: $product) { ... on Product { webAnalytics {
    pages(period: $period, paths: $paths, limit: 50, grain: DAY) {
      pages { path { path } pageviews visitors series { pageviews } } more
    }
    byPageviews: pages(period: $period, paths: $paths, limit: 3, offset: 1, orderBy: PAGEVIEWS, grain: DAY) {
      pages { path { path } pageviews visitors } more
    }
    referrers: breakdown(dimension: REFERRER, period: $period, paths: $paths, limit: 50) { ...stats }
    browsers: breakdown(dimension: BROWSER, period: $period, paths: $paths, limit: 50) { ...stats }
    systems: breakdown(dimension: SYSTEM, period: $period, paths: $paths, limit: 50) { ...stats }
    sizes: breakdown(dimension: SIZE, period: $period, paths: $paths, limit: 50) { ...stats }
    locations: breakdown(dimension: LOCATION, period: $period, paths: $paths, limit: 50) { ...stats }
    languages: breakdown(dimension: LANGUAGE, period: $period, paths: $paths, limit: 50) { ...stats }
    campaigns: breakdown(dimension: CAMPAIGN, period: $period, paths: $paths, limit: 50) { ...stats }
    versions: breakdownDetails(dimension: BROWSER, value: $browser, period: $period, paths: $paths) { ...stats }
    regions: breakdownDetails(dimension: LOCATION, value: "US", period: $period, paths: $paths) { ...stats }
    referred: breakdownDetails(dimension: REFERRER, value: $referrer, period: $period) { ...stats }
  } } }
}
fragment stats on WebStatList { stats { value pageviews visitors } more }"""
FILTERS: tuple[dict[str, Any] | None, ...] = (
    None,
    {"includeNames": ["/a", "/b", "/docs/x"]},
    {"excludeNames": ["/"]},
)


def _local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ZONE).astimezone(UTC)


def _month_after_next() -> tuple[int, int, int]:
    today = datetime.now(ZONE)
    months = today.year * 12 + today.month - 1 + 2
    return months // 12, months % 12 + 1, 1


# [since, until): month boundaries, inside months, split edges (more than 12 hours of a day), one month, a day
PERIODS = (
    (_local(2026, 6, 1), _local(2026, 10, 1)),
    (_local(2026, 5, 14, 13, 30), _local(2026, 10, 20, 8)),
    (_local(2026, 6, 30, 22), _local(2026, 9, 1, 3)),
    (_local(2026, 6, 30, 3), _local(2026, 9, 1, 20)),
    (_local(2026, 7, 1), _local(2026, 8, 1)),
    (_local(2026, 8, 3), _local(2026, 8, 20, 17)),
    (_local(2026, 9, 30, 23, 30), _local(2026, 10, 1, 0, 30)),
    (_local(2025, 11, 1), _local(2026, 11, 1)),
    # from May to the end of the month after this one: the month running now is whole in the period (as in the
    # dashboard's "this year"), and read from its days
    (_local(2026, 5, 1), _local(*_month_after_next())),
)


def _hits(rng: random.Random, start: datetime, end: datetime, count: int) -> list[dict[str, Any]]:
    span = (end - start).total_seconds()
    hits = []
    for _ in range(count):
        hit: dict[str, Any] = {
            "path": rng.choice(PATHS),
            "timestamp": (start + timedelta(seconds=rng.random() * span)).isoformat(),
            "userAgent": rng.choice(AGENTS),
            "session": f"s{rng.randrange(40)}",
        }
        for field, choices in (
            ("referrer", REFERRERS),
            ("screen", SCREENS),
            ("location", LOCATIONS),
            ("language", LANGUAGES),
            ("query", QUERIES),
        ):
            value = rng.choice(choices)
            if value is not None:
                hit[field] = value
        hits.append(hit)
    return hits


async def _record(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant, hits: list[dict[str, Any]]
) -> None:
    for i in range(0, len(hits), 200):
        reply = await gql(
            http, server, RECORD, {"product": tenant.product_id, "hits": hits[i : i + 200]}, tenant.token
        )
        assert reply.errors is None, reply.errors
        assert {r["outcome"] for r in reply.data["recordPageviews"]} == {"STORED"}


async def _reads(http: aiohttp.ClientSession, server: Server, tenant: Tenant) -> list[Any]:
    found = []
    for since, until in PERIODS:
        for paths in FILTERS:
            variables = {
                "product": tenant.product_id,
                "period": {"since": since.isoformat(), "until": until.isoformat()},
                "paths": paths,
                "browser": "Firefox",
                "referrer": "https://search.example.com/q",
            }
            reply = await gql(http, server, READ, variables, tenant.token)
            assert reply.errors is None, reply.errors
            found.append(reply.data["node"]["webAnalytics"])
    return found


async def _months(db: Database, tenant: Tenant) -> dict[datetime, tuple[int, int | None]]:
    rows = await db.fetch(
        "SELECT month, version, built FROM web_rollup_months WHERE account_id = $1 AND product_id = $2",
        tenant.account_pk,
        tenant.product_pk,
    )
    return {row["month"]: (row["version"], row["built"]) for row in rows}


async def test_summed_months_read_as_their_days(
    http: aiohttp.ClientSession, server: Server, db: Database
) -> None:
    tenant = await new_tenant(db, timezone="Europe/Amsterdam")
    rng = random.Random(54)
    await _record(http, server, tenant, _hits(rng, _local(2026, 5, 10), _local(2026, 10, 28), 1500))
    # hits on the months' edges, in local time
    edges = [_local(2026, m, 1) + timedelta(minutes=d) for m in (6, 7, 8, 9, 10) for d in (-30, 0, 30)]
    edge_hits = _hits(rng, edges[0], edges[-1], len(edges))
    for hit, moment in zip(edge_hits, edges, strict=True):
        hit["timestamp"] = moment.isoformat()
    await _record(http, server, tenant, edge_hits)
    # a hit now: the current month has its row, never summed while it lasts
    await _record(
        http, server, tenant, _hits(rng, datetime.now(UTC) - timedelta(minutes=1), datetime.now(UTC), 1)
    )

    stored = await _months(db, tenant)
    assert set(stored) >= {datetime(2026, m, 1) for m in range(5, 11)}
    current = datetime.now(ZONE).replace(tzinfo=None, day=1, hour=0, minute=0, second=0, microsecond=0)
    assert current in stored

    # read from days only, whatever a background pass did meanwhile
    await db.execute(
        "UPDATE web_rollup_months SET built = NULL WHERE account_id = $1 AND product_id = $2",
        tenant.account_pk,
        tenant.product_pk,
    )
    from_days = await _reads(http, server, tenant)

    await build_months(db)
    summed = await _months(db, tenant)
    for month, (version, built) in summed.items():
        assert built == (None if month == current else version), month
    assert await _reads(http, server, tenant) == from_days

    # the reads do take the summed months: a month row changed by hand shows (then summed again)
    await db.execute(
        """UPDATE web_rollups SET pageviews = pageviews + 1000
        WHERE account_id = $1 AND product_id = $2 AND grain = 'm' AND bucket = '2026-07-01' AND dimension = 'browser'
          AND path_id = 0 AND value = 'Firefox'""",
        tenant.account_pk,
        tenant.product_pk,
    )
    changed = await _reads(http, server, tenant)
    july = PERIODS.index((_local(2026, 7, 1), _local(2026, 8, 1))) * len(FILTERS)
    firefox = next(s for s in changed[july]["browsers"]["stats"] if s["value"] == "Firefox")
    before = next(s for s in from_days[july]["browsers"]["stats"] if s["value"] == "Firefox")
    assert firefox["pageviews"] == before["pageviews"] + 1000
    running = (len(PERIODS) - 1) * len(FILTERS)
    firefox = next(s for s in changed[running]["browsers"]["stats"] if s["value"] == "Firefox")
    before = next(s for s in from_days[running]["browsers"]["stats"] if s["value"] == "Firefox")
    assert firefox["pageviews"] == before["pageviews"] + 1000
    before = next(s for s in from_days[july]["browsers"]["stats"] if s["value"] == "Firefox")

    # a hit dated in a summed month moves its version: the read counts it at once, from the days
    await _record(
        http,
        server,
        tenant,
        [{**_hits(rng, _local(2026, 7, 9), _local(2026, 7, 10), 1)[0], "userAgent": AGENTS[0]}],
    )
    moved = await _months(db, tenant)
    assert moved[datetime(2026, 7, 1)][0] == summed[datetime(2026, 7, 1)][0] + 1
    assert moved[datetime(2026, 7, 1)][1] == summed[datetime(2026, 7, 1)][1]
    late = await _reads(http, server, tenant)
    firefox = next(s for s in late[july]["browsers"]["stats"] if s["value"] == "Firefox")
    assert firefox["pageviews"] == before["pageviews"] + 1

    await db.execute(
        "UPDATE web_rollup_months SET built = NULL WHERE account_id = $1 AND product_id = $2",
        tenant.account_pk,
        tenant.product_pk,
    )
    late_from_days = await _reads(http, server, tenant)
    assert late_from_days == late
    assert await build_months(db) >= 6
    assert await _reads(http, server, tenant) == late


async def test_a_sum_overtaken_by_a_write_records_nothing(
    http: aiohttp.ClientSession, server: Server, db: Database
) -> None:
    """A month is summed from one snapshot; a batch dated in it that commits after that snapshot makes the sum's
    record fail, so the month is read from its days until it is summed again."""
    tenant = await new_tenant(db)
    rng = random.Random(7)
    await _record(http, server, tenant, _hits(rng, _local(2026, 4, 2), _local(2026, 4, 28), 50))
    month = datetime(2026, 4, 1)
    (version, built) = (await _months(db, tenant))[month]
    assert built is None

    async with db.transaction(isolation="repeatable_read") as tx:
        found = await tx.fetchrow(months._VERSION, tenant.account_pk, tenant.product_pk, month)
        assert found is not None and found["version"] == version
        await tx.execute(months._SUM, tenant.account_pk, tenant.product_pk, month, months.DIMENSIONS)
        # a late hit commits meanwhile
        await _record(http, server, tenant, _hits(rng, _local(2026, 4, 5), _local(2026, 4, 6), 1))
        with pytest.raises(asyncpg.exceptions.SerializationError):
            await tx.execute(months._RECORD, tenant.account_pk, tenant.product_pk, month, version)
    assert (await _months(db, tenant))[month] == (version + 1, None)

    assert await build_month(db, tenant.account_pk, tenant.product_pk, month)
    assert (await _months(db, tenant))[month] == (version + 1, version + 1)
    pageviews = await db.fetchval(
        """SELECT sum(pageviews) FROM web_rollups WHERE account_id = $1 AND product_id = $2 AND grain = 'm'
           AND dimension = '' AND path_id = 0""",
        tenant.account_pk,
        tenant.product_pk,
    )
    assert pageviews == 51


async def test_the_background_pass_sums_ended_months(
    http: aiohttp.ClientSession, server: Server, db: Database
) -> None:
    tenant = await new_tenant(db)
    await _record(http, server, tenant, _hits(random.Random(3), _local(2026, 2, 3), _local(2026, 2, 25), 20))
    pass_ = WebMonths(db, interval=0.05)
    await pass_.start()
    try:
        for _ in range(200):
            version, built = (await _months(db, tenant))[datetime(2026, 2, 1)]
            if built == version:
                break
            await asyncio.sleep(0.05)
    finally:
        await pass_.stop()
    assert built == version


async def test_one_process_sums_a_month_at_a_time(
    http: aiohttp.ClientSession, server: Server, db: Database
) -> None:
    tenant = await new_tenant(db)
    await _record(http, server, tenant, _hits(random.Random(5), _local(2026, 1, 5), _local(2026, 1, 9), 10))
    month = datetime(2026, 1, 1)
    async with db.transaction() as other:
        assert await other.fetchval(months._CLAIM, tenant.account_pk, tenant.product_pk, month)
        assert not await build_month(db, tenant.account_pk, tenant.product_pk, month)
        assert (await _months(db, tenant))[month][1] is None
    assert await build_month(db, tenant.account_pk, tenant.product_pk, month)
    version, built = (await _months(db, tenant))[month]
    assert built == version
    # summed already: nothing to do
    assert await build_month(db, tenant.account_pk, tenant.product_pk, month)
