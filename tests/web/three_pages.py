"""A small site for the pages tests: five pageviews of /a, /b and /c over three days of March 2026, recorded
through the graph (`recordPageviews`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import aiohttp

from tests.conftest import Server, Tenant, gql

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"
RECORD = """mutation($product: ID!, $hits: [PageviewInput!]!) {
  recordPageviews(productId: $product, pageviews: $hits) { outcome }
}"""


async def record_three_pages(http: aiohttp.ClientSession, server: Server, tenant: Tenant) -> None:
    """/a three times (a visitor each), /b and /c once, from 2026-03-02 to 2026-03-04 (UTC noon)."""
    day = datetime(2026, 3, 2, 12, tzinfo=UTC)
    hits = [
        {
            "path": path,
            "userAgent": FIREFOX,
            "ip": f"81.2.69.{n}",
            "timestamp": (day + timedelta(days=d)).isoformat(),
        }
        for n, (path, d) in enumerate([("/a", 0), ("/a", 1), ("/b", 1), ("/c", 2), ("/a", 2)], start=140)
    ]
    reply = await gql(http, server, RECORD, {"product": tenant.product_id, "hits": hits}, tenant.token)
    assert reply.errors is None, reply.errors
