"""`analytics-gateway seed --pageviews`: the seeded web rollups are those the ingestion would have written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp

from gateway.cli.seed import seed
from gateway.cli.seed_web import build_web_rollups
from gateway.db.pool import Database
from gateway.ingest.web.months import build_months
from tests.conftest import Server, gql, new_tenant
from tests.web.test_web_analytics import CHROME, FIREFOX, at, record

ROLLUPS = """SELECT dimension, grain, path_id, bucket, value, detail, pageviews, visitors FROM web_rollups
             WHERE product_id = $1 ORDER BY 1, 2, 3, 4, 5, 6"""


async def test_rebuilt_rollups_equal_the_ingested_ones(
    http: aiohttp.ClientSession, server: Server, db: Database
) -> None:
    """Hits sent through recordPageviews, then their rollups summed again from the stored hits by the seeding's
    statement: the same rows (the seeding builds its rollups that way)."""
    tenant = await new_tenant(db, timezone="Europe/Amsterdam")
    hits: list[dict[str, Any]] = [
        {
            "path": "/a",
            "title": "A",
            "userAgent": FIREFOX,
            "ip": "81.2.69.142",
            "timestamp": at(9),
            "screen": "1920",
        },
        {"path": "/a", "userAgent": FIREFOX, "ip": "81.2.69.142", "timestamp": at(23)},
        {"path": "/b", "userAgent": CHROME, "ip": "81.2.69.143", "timestamp": at(11), "location": "NL-NB"},
        {
            "path": "/b",
            "userAgent": FIREFOX,
            "ip": "81.2.69.142",
            "timestamp": at(3, day=1),
            "query": "utm_campaign=spring",
            "referrer": "https://news.test/x",
            "screen": "390,844,3",
        },
        {"path": "click", "event": True, "session": "s1", "timestamp": at(4, day=1)},
        {"path": "/bot", "userAgent": "curl/8.0", "ip": "1.2.3.4", "timestamp": at(5)},
        {"path": "/c", "noSession": True, "timestamp": at(6), "referrer": "https://www.google.com/search"},
    ]
    outcomes = await record(http, server, tenant, hits)
    assert [o["outcome"] for o in outcomes].count("STORED") == 6
    await build_months(db)  # March 2026 has ended: the gateway's pass sums it, as the seeding does
    ingested = [tuple(r) for r in await db.fetch(ROLLUPS, tenant.product_pk)]
    assert ingested and any(row[1] == "m" for row in ingested)
    await build_web_rollups(db, [tenant.product_pk], 3, datetime(2026, 3, 4, tzinfo=UTC))
    assert [tuple(r) for r in await db.fetch(ROLLUPS, tenant.product_pk)] == ingested


TOTALS = """
query Totals($product: ID!, $period: AnalyticsRange!) {
  node(id: $product) { ... on Product { webAnalytics {
    totals(period: $period, grain: DAY) { pageviews visitors eventPageviews }
    browsers: breakdown(dimension: BROWSER, period: $period, limit: 20) { stats { value pageviews } }
    pages(period: $period, limit: 1) { pages { path { path } pageviews } }
  } } }
}
"""


async def test_seeded_pageviews_agree_with_their_hits(
    http: aiohttp.ClientSession, server: Server, db: Database
) -> None:
    tenant = await new_tenant(db)
    now = datetime(2026, 3, 10, tzinfo=UTC)
    result = await seed(
        db,
        account_id=tenant.account_pk,
        account="seeded-web",
        devices=5,
        events=20,
        pageviews=3000,
        days=5,
        now=now,
        progress=False,
    )
    assert result.pageviews == 3000 and result.product_ids == [tenant.product_pk]
    raw = await db.fetchrow(
        """SELECT count(*) AS hits, count(*) FILTER (WHERE (web->>'first_visit')::boolean) AS visitors,
                  count(*) FILTER (WHERE (web->>'event')::boolean) AS events
           FROM events WHERE product_id = $1 AND web IS NOT NULL AND (web->>'bot')::integer = 0""",
        tenant.product_pk,
    )
    bots = await db.fetchval(
        "SELECT count(*) FROM events WHERE product_id = $1 AND (web->>'bot')::integer > 0", tenant.product_pk
    )
    assert bots > 0 and raw["hits"] + bots == 3000
    period = {"since": (now - timedelta(days=6)).isoformat(), "until": now.isoformat()}
    reply = await gql(
        http, server, TOTALS, {"product": tenant.product_id, "period": period}, token=tenant.token
    )
    assert reply.errors is None, reply.body
    web = reply.data["node"]["webAnalytics"]
    totals = web["totals"]
    # pageviews and visitors count the events' hits too (eventPageviews: of which events)
    assert (totals["pageviews"], totals["visitors"], totals["eventPageviews"]) == (
        raw["hits"],
        raw["visitors"],
        raw["events"],
    )
    assert sum(s["pageviews"] for s in web["browsers"]["stats"]) == raw["hits"]
    assert web["pages"]["pages"][0]["path"]["path"] == "/"  # the Zipf head
