"""`WebAnalytics.pages` counts a period from whole days and, at its edges, from hours; an edge of more than 12
hours is read as its day less the hours outside the period. Whatever the period's edges, in UTC or across a clock
change, the counts equal the hits whose local hour overlaps the period, and the hourly series add up to them."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from gateway.db.pool import Database
from tests.conftest import Server, gql, new_tenant

RECORD = """mutation($product: ID!, $hits: [PageviewInput!]!) {
  recordPageviews(productId: $product, pageviews: $hits) { outcome }
}"""
PAGES = """query($product: ID!, $period: AnalyticsRange!) {
  node(id: $product) { ... on Product { webAnalytics {
    pages(period: $period, limit: 5, grain: HOUR) { pages { path { path } pageviews visitors series { pageviews } } }
  } } }
}"""
PATHS = ("/a", "/b", "/c")
# hours from the first local midnight: inside whole days, near the split threshold (12 h), just after midnight,
# on a half hour; in Amsterdam the second day is 2026-03-29, whose 02:00 does not exist (avoided)
SINCE_HOURS = (0, 3, 11, 11.5, 12, 13, 22, 23.5, 25, 30, 37)
UNTIL_HOURS = (1, 12, 24, 25, 35, 36, 36.5, 37, 47, 48, 49, 60, 71, 72)


def _wall(tz: ZoneInfo, hours: float) -> datetime:
    """The local wall-clock time `hours` after the first day's local midnight, in UTC."""
    start = datetime(2026, 3, 28)
    return (start + timedelta(hours=hours)).replace(tzinfo=tz).astimezone(UTC)


@pytest.mark.parametrize("timezone", ["UTC", "Europe/Amsterdam"])
async def test_pages_at_any_edges(
    http: aiohttp.ClientSession, server: Server, db: Database, timezone: str
) -> None:
    tz = ZoneInfo(timezone)
    tenant = await new_tenant(db, timezone=timezone)
    first = _wall(tz, 0)
    moments = [first + timedelta(minutes=20 + 60 * h) for h in range(72)]
    hits = [(PATHS[h % 3], moment) for h, moment in enumerate(moments)]
    hits += [("/a", moment) for moment in moments[::5]] + [("/b", moment) for moment in moments[1::7]]
    reply = await gql(
        http,
        server,
        RECORD,
        {
            "product": tenant.product_id,
            "hits": [{"path": path, "noSession": True, "timestamp": t.isoformat()} for path, t in hits],
        },
        tenant.token,
    )
    assert reply.errors is None, reply.errors
    assert {r["outcome"] for r in reply.data["recordPageviews"]} == {"STORED"}

    def local_hour(moment: datetime) -> datetime:
        return moment.astimezone(tz).replace(tzinfo=None, minute=0, second=0, microsecond=0)

    for since_h in SINCE_HOURS:
        for until_h in (h for h in UNTIL_HOURS if h > since_h):
            since, until = _wall(tz, since_h), _wall(tz, until_h)
            low = since.astimezone(tz).replace(tzinfo=None) - timedelta(hours=1)
            high = until.astimezone(tz).replace(tzinfo=None)
            expected = Counter(path for path, t in hits if low < local_hour(t) < high)
            period = {"since": since.isoformat(), "until": until.isoformat()}
            read = await gql(
                http, server, PAGES, {"product": tenant.product_id, "period": period}, tenant.token
            )
            assert read.errors is None, read.errors
            pages = read.data["node"]["webAnalytics"]["pages"]["pages"]
            got = {page["path"]["path"]: page["pageviews"] for page in pages}
            assert got == dict(expected), (timezone, since_h, until_h)
            for page in pages:
                assert page["visitors"] == page["pageviews"]
                assert sum(page["series"]["pageviews"]) == page["pageviews"], (timezone, since_h, until_h)
            views = [page["pageviews"] for page in pages]
            assert views == sorted(views, reverse=True)
