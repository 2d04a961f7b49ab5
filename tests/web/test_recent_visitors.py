"""`WebAnalytics.recentVisitors`: the sessions of a site's hits of the last minutes, for live views."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import aiohttp

from gateway.db.pool import Database
from tests.conftest import Server, Tenant, gql, new_tenant

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"
CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
RECORD = """mutation($product: ID!, $hits: [PageviewInput!]!) {
  recordPageviews(productId: $product, pageviews: $hits) { outcome }
}"""
RECENT = """query($product: ID!, $since: DateTime!) {
  node(id: $product) { ... on Product { webAnalytics { recentVisitors(since: $since) } } }
}"""


def ago(minutes: float) -> str:
    return (datetime.now(UTC) - timedelta(minutes=minutes)).isoformat()


async def recent(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant, since: str, token: str = ""
) -> object:
    reply = await gql(
        http, server, RECENT, {"product": tenant.product_id, "since": since}, token or tenant.token
    )
    assert reply.errors is None, reply.errors
    node = reply.data["node"]
    return node and node["webAnalytics"]["recentVisitors"]


async def test_sessions_of_the_last_minutes(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant, db: Database
) -> None:
    hits = [
        {"path": "/", "userAgent": FIREFOX, "ip": "81.2.69.142", "timestamp": ago(3)},
        {"path": "/a", "userAgent": FIREFOX, "ip": "81.2.69.142", "timestamp": ago(2)},
        {"path": "/", "userAgent": CHROME, "ip": "81.2.69.143", "timestamp": ago(1)},
        {"path": "/", "userAgent": CHROME, "ip": "81.2.69.144", "timestamp": ago(90)},
        {"path": "/", "userAgent": "curl/8.0", "ip": "1.2.3.4", "timestamp": ago(1)},
    ]
    reply = await gql(http, server, RECORD, {"product": tenant.product_id, "hits": hits}, tenant.token)
    assert [r["outcome"] for r in reply.data["recordPageviews"]] == ["STORED"] * 4 + ["BOT"]
    # two sessions in the last 5 minutes; bots are not visitors
    assert await recent(http, server, tenant, ago(5)) == 2
    assert await recent(http, server, tenant, ago(1.5)) == 1
    # at most the last hour: the hit of 90 minutes ago is never counted
    assert await recent(http, server, tenant, ago(180)) == 2
    # nothing of another account's
    other = await new_tenant(db)
    assert await recent(http, server, other, ago(5)) == 0
    assert await recent(http, server, tenant, ago(5), token=other.token) is None
