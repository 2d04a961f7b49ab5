"""Web analytics in the graph: hits recorded with recordPageviews read back through Product.webAnalytics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp

from gateway.db.pool import Database
from tests.conftest import Server, Tenant, gql, new_tenant

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"
CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
DAY = datetime(2026, 3, 2, tzinfo=UTC)

RECORD = """
mutation Record($product: ID!, $hits: [PageviewInput!]!, $source: HitSource!, $sessions: Boolean!) {
  recordPageviews(productId: $product, pageviews: $hits, source: $source, requireSession: $sessions) {
    outcome problems { field message }
  }
}
"""


async def record(
    http: aiohttp.ClientSession,
    server: Server,
    tenant: Tenant,
    hits: list[dict[str, Any]],
    source: str = "SERVER",
    sessions: bool = True,
) -> list[dict[str, Any]]:
    reply = await gql(
        http,
        server,
        RECORD,
        {"product": tenant.product_id, "hits": hits, "source": source, "sessions": sessions},
        token=tenant.token,
    )
    assert reply.errors is None, reply.body
    return reply.data["recordPageviews"]


def at(hour: int, day: int = 0) -> str:
    return (DAY + timedelta(days=day, hours=hour)).isoformat()


WEB = """
query Web($product: ID!, $period: AnalyticsRange!, $paths: WebPathFilter, $grain: WebGrain!) {
  node(id: $product) { ... on Product { webAnalytics {
    paths(limit: 10) { paths { id path title event } more }
    totals(period: $period, paths: $paths, grain: $grain) {
      pageviews visitors eventPageviews eventVisitors series { grain start size pageviews visitors }
    }
    pages(period: $period, paths: $paths, limit: 2, grain: $grain) {
      pages { path { path title event } pageviews visitors series { start size visitors } } more
    }
    browsers: breakdown(dimension: BROWSER, period: $period, paths: $paths) {
      stats { value name pageviews visitors } more
    }
    sizes: breakdown(dimension: SIZE, period: $period, paths: $paths) { stats { value visitors } }
    referrers: breakdown(dimension: REFERRER, period: $period, paths: $paths) {
      stats { value referrerScheme visitors }
    }
    locations: breakdown(dimension: LOCATION, period: $period, paths: $paths) { stats { value name visitors } }
    campaigns: breakdown(dimension: CAMPAIGN, period: $period, paths: $paths) { stats { id value visitors } }
    versions: breakdownDetails(dimension: BROWSER, value: "Firefox", period: $period, paths: $paths) {
      stats { value name visitors }
    }
    regions: breakdownDetails(dimension: LOCATION, value: "NL", period: $period) { stats { value name visitors } }
  } } }
}
"""


async def read(
    http: aiohttp.ClientSession,
    server: Server,
    tenant: Tenant,
    paths: dict[str, Any] | None = None,
    grain: str = "DAY",
) -> dict[str, Any]:
    period = {"since": DAY.isoformat(), "until": (DAY + timedelta(days=2)).isoformat()}
    reply = await gql(
        http,
        server,
        WEB,
        {"product": tenant.product_id, "period": period, "paths": paths, "grain": grain},
        token=tenant.token,
    )
    assert reply.errors is None, reply.body
    return reply.data["node"]["webAnalytics"]


async def test_recorded_hits_read_back(http: aiohttp.ClientSession, server: Server, db: Database) -> None:
    tenant = await new_tenant(db)
    results = await record(
        http,
        server,
        tenant,
        [
            {
                "path": "/a/",
                "title": "A",
                "userAgent": FIREFOX,
                "ip": "81.2.69.142",
                "timestamp": at(9),
                "screen": "1920",
            },
            {"path": "/a", "userAgent": FIREFOX, "ip": "81.2.69.142", "timestamp": at(10)},
            {
                "path": "/b",
                "userAgent": CHROME,
                "ip": "81.2.69.143",
                "timestamp": at(11),
                "location": "NL-NB",
            },
            {
                "path": "/b",
                "userAgent": FIREFOX,
                "ip": "81.2.69.142",
                "timestamp": at(3, day=1),
                "query": "utm_campaign=spring",
                "referrer": "https://news.test/x",
            },
            {"path": "click", "event": True, "session": "s1", "timestamp": at(4, day=1)},
            {"path": "/bot", "userAgent": "curl/8.0", "ip": "1.2.3.4", "timestamp": at(5)},
            {"path": "", "session": "s", "timestamp": at(5)},
            {"path": "/none"},
        ],
    )
    assert [r["outcome"] for r in results] == ["STORED"] * 5 + ["BOT", "REFUSED", "REFUSED"]
    assert results[6]["problems"] == [
        {"field": "path", "message": "must be set"},
        {"field": "path", "message": "must be longer than 1 characters"},
    ]
    assert results[7]["problems"][0]["field"] == "session"

    web = await read(http, server, tenant)
    assert [(p["path"], p["title"], p["event"]) for p in web["paths"]["paths"]] == [
        ("/a", "A", False),
        ("/b", "", False),
        ("click", "", True),
    ]  # bots name no path
    totals = web["totals"]
    assert (totals["pageviews"], totals["visitors"], totals["eventPageviews"], totals["eventVisitors"]) == (
        5,
        4,
        1,
        1,
    )
    assert totals["series"] == {
        "grain": "DAY",
        "start": "2026-03-02T00:00:00",
        "size": 2,
        "pageviews": [3, 2],
        "visitors": [2, 2],
    }
    pages = web["pages"]
    # most visitors first, then the newest path
    assert [(p["path"]["path"], p["pageviews"], p["visitors"]) for p in pages["pages"]] == [
        ("/b", 2, 2),
        ("click", 1, 1),
    ]
    assert pages["more"] is True and pages["pages"][0]["series"]["visitors"] == [1, 1]
    assert web["browsers"]["stats"] == [
        {"value": "Firefox", "name": "Firefox", "pageviews": 3, "visitors": 2},
        {"value": "", "name": "", "pageviews": 1, "visitors": 1},
        {"value": "Chrome", "name": "Chrome", "pageviews": 1, "visitors": 1},
    ]
    assert [s["value"] for s in web["sizes"]["stats"]] == [
        "phone",
        "tablet",
        "desktop",
        "desktophd",
        "unknown",
    ]
    assert [s["visitors"] for s in web["sizes"]["stats"]] == [0, 0, 1, 0, 3]
    assert {(s["value"], s["referrerScheme"]) for s in web["referrers"]["stats"]} == {
        ("", "o"),
        ("https://news.test/x", "c"),
    }
    assert {s["value"]: s["name"] for s in web["locations"]["stats"]} == {
        "GB": "United Kingdom",
        "NL": "Netherlands",
        "": "",
    }
    assert [s["value"] for s in web["campaigns"]["stats"]] == ["spring"] and web["campaigns"]["stats"][0][
        "id"
    ]
    assert web["versions"]["stats"] == [{"value": "120", "name": "Firefox 120", "visitors": 2}]
    assert web["regions"]["stats"] == [{"value": "NL-NB", "name": "Noord-Brabant", "visitors": 1}]

    hourly = await read(http, server, tenant, grain="HOUR")
    series = hourly["totals"]["series"]
    assert series["size"] == 48 and series["pageviews"][9:12] == [1, 1, 1] and series["pageviews"][27] == 1

    a_id = web["paths"]["paths"][0]["id"]
    only_a = await read(http, server, tenant, paths={"include": [a_id]})
    assert (only_a["totals"]["pageviews"], only_a["totals"]["visitors"]) == (2, 1)
    assert only_a["browsers"]["stats"] == [
        {"value": "Firefox", "name": "Firefox", "pageviews": 2, "visitors": 1}
    ]
    without_a = await read(http, server, tenant, paths={"exclude": [a_id]})
    assert (without_a["totals"]["pageviews"], without_a["totals"]["visitors"]) == (3, 3)
    assert [p["path"]["path"] for p in without_a["pages"]["pages"]] == ["/b", "click"]
    by_name = await read(http, server, tenant, paths={"includeNames": ["/b", "click"]})
    assert (by_name["totals"]["pageviews"], by_name["totals"]["eventPageviews"]) == (3, 1)


EVERY_FIELD = """
query Every($period: AnalyticsRange!, $n: Int!) {
  products(first: $n) { nodes { webAnalytics {
    paths(limit: 5) { paths { id path } more }
    totals(period: $period) { visitors series { size visitors } }
    daily: totals(period: $period, grain: DAY, paths: {exclude: []}) { visitors }
    pages(period: $period, limit: 3) { pages { path { path } visitors series { visitors } } more }
    breakdown(dimension: BROWSER, period: $period) { stats { value visitors } }
    sizes: breakdown(dimension: SIZE, period: $period) { stats { value visitors } }
    breakdownDetails(dimension: BROWSER, value: "Firefox", period: $period) { stats { name visitors } }
    referrer: breakdownDetails(dimension: REFERRER, value: "", period: $period) { stats { name visitors } }
  } } }
}
"""


async def test_every_read_is_one_statement_whatever_the_products(
    http: aiohttp.ClientSession, server: Server, db: Database
) -> None:
    """The web analytics of 2 or 12 products cost the same statements: one per field (no N+1)."""
    counts = []
    for scale in (2, 12):
        tenant = await new_tenant(db)
        for n in range(scale - 1):
            pk = await db.fetchval(
                "INSERT INTO products (account_id, name, app_key) VALUES ($1, $2, md5(random()::text)) RETURNING id",
                tenant.account_pk,
                f"site {n}",
            )
            other = Tenant(tenant.account_pk, tenant.token, pk, "", tenant.email, tenant.password)
            hits = [
                {"path": f"/p{i}", "userAgent": FIREFOX, "ip": f"81.2.69.{i}", "timestamp": at(i)}
                for i in range(n + 1)
            ]
            await record(http, server, other, hits)
        period = {"since": DAY.isoformat(), "until": (DAY + timedelta(days=1)).isoformat()}
        reply = await gql(http, server, EVERY_FIELD, {"period": period, "n": scale}, token=tenant.token)
        assert reply.errors is None, reply.body
        nodes = reply.data["products"]["nodes"]
        assert len(nodes) == scale
        assert sum(node["webAnalytics"]["totals"]["visitors"] for node in nodes) == sum(range(1, scale))
        counts.append(reply.statements)
    assert counts[0] == counts[1], counts


PART_OF_A_DAY = """
query Part($product: ID!, $period: AnalyticsRange!) {
  node(id: $product) { ... on Product { webAnalytics {
    totals(period: $period, grain: HOUR) { pageviews series { start size pageviews } }
    daily: totals(period: $period, grain: DAY) { series { start size pageviews } }
    pages(period: $period, grain: HOUR) { pages { path { path } pageviews series { size pageviews } } }
  } } }
}
"""


async def test_a_period_within_a_day_across_a_clock_change(
    http: aiohttp.ClientSession, server: Server, db: Database
) -> None:
    """Amsterdam's clocks go forward at 02:00 on 2026-03-29: the local hours 00, 01, 03, 04 (UTC 23-02). Hours of
    a period shorter than a day are counted once, and a series has the local buckets the period overlaps."""
    tenant = await new_tenant(db, timezone="Europe/Amsterdam")
    night = datetime(2026, 3, 28, 23, tzinfo=UTC)  # 00:00 local
    hits = [
        {"path": "/n", "noSession": True, "timestamp": (night + timedelta(minutes=30 + 60 * i)).isoformat()}
        for i in range(4)
    ]
    assert [r["outcome"] for r in await record(http, server, tenant, hits)] == ["STORED"] * 4
    period = {"since": night.isoformat(), "until": (night + timedelta(hours=4)).isoformat()}
    reply = await gql(
        http, server, PART_OF_A_DAY, {"product": tenant.product_id, "period": period}, token=tenant.token
    )
    assert reply.errors is None, reply.body
    web = reply.data["node"]["webAnalytics"]
    # local wall-clock buckets 00:00 to 04:00 (02:00 does not exist but is a bucket of the local series)
    assert web["totals"]["pageviews"] == 4
    assert web["totals"]["series"] == {
        "start": "2026-03-29T00:00:00",
        "size": 5,
        "pageviews": [1, 1, 0, 1, 1],
    }
    assert web["daily"]["series"] == {"start": "2026-03-29T00:00:00", "size": 1, "pageviews": [4]}
    [page] = web["pages"]["pages"]
    assert page["pageviews"] == 4 and page["series"] == {"size": 5, "pageviews": [1, 1, 0, 1, 1]}
