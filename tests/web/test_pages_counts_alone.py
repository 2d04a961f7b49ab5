"""`WebAnalytics.pages` without `series` in the selection reads no series: the same pages and counts."""

from __future__ import annotations

import aiohttp

from tests.conftest import Server, Tenant, gql
from tests.web.three_pages import record_three_pages

PAGES = """query($product: ID!, $period: AnalyticsRange!) {
  node(id: $product) { ... on Product { webAnalytics {
    pages(period: $period, limit: 2, grain: DAY) { pages { path { path } pageviews visitors SERIES } more }
  } } }
}"""


async def test_counts_alone(http: aiohttp.ClientSession, server: Server, tenant: Tenant) -> None:
    await record_three_pages(http, server, tenant)
    period = {"since": "2026-03-01T00:00:00Z", "until": "2026-03-05T00:00:00Z"}
    variables = {"product": tenant.product_id, "period": period}
    full = await gql(
        http, server, PAGES.replace("SERIES", "series { size pageviews }"), variables, tenant.token
    )
    alone = await gql(http, server, PAGES.replace("SERIES", ""), variables, tenant.token)
    assert full.errors is None and alone.errors is None, (full.errors, alone.errors)
    pages = full.data["node"]["webAnalytics"]["pages"]
    assert pages["pages"][0] == {
        "path": {"path": "/a"},
        "pageviews": 3,
        "visitors": 3,
        "series": {"size": 4, "pageviews": [0, 1, 1, 1]},
    }
    assert pages["more"] is True
    counts = [{k: v for k, v in page.items() if k != "series"} for page in pages["pages"]]
    assert alone.data["node"]["webAnalytics"]["pages"] == {"pages": counts, "more": True}
    assert alone.statements == full.statements
