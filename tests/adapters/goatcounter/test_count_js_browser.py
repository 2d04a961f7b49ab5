"""The gateway's count.js in a real headless Chromium: a page on 127.0.0.1 counts its view and a click, which
read back through the GoatCounter API and the graph. Skipped only when no Chromium binary exists."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import web

from gateway.db.pool import Database
from tests.adapters.goatcounter.helpers import call, client, new_site, token
from tests.conftest import Server, gql
from tests.test_graphiql_browser import CHROMIUM

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium binary (apt-get install -y chromium)")

# a browser's user agent: Chromium's own headless one is a bot's, and is not counted
DESKTOP = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Browser page</title></head>
<body>
<p><a id="signup" href="#" data-goatcounter-click="signup-click" data-goatcounter-title="Sign up">Sign up</a></p>
<script data-goatcounter="{gateway}/count" data-goatcounter-settings='{{"allow_local": true}}'
        async src="{gateway}/count.js"></script>
<script>
  setTimeout(function () {{ document.getElementById('signup').click(); document.title = 'clicked'; }}, 1000);
</script>
</body></html>
"""


@pytest.fixture
async def page_server(server: Server) -> AsyncIterator[str]:
    """A page of a web site on its own loopback port, counting with the gateway's count.js."""

    async def page(_request: web.Request) -> web.Response:
        return web.Response(text=PAGE.format(gateway=server.url), content_type="text/html")

    app = web.Application()
    app.router.add_get("/shop/page.html", page)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}/shop/page.html?utm_campaign=launch"
    finally:
        await runner.cleanup()


async def test_count_js_counts_a_view_and_a_click_in_chromium(
    server: Server, page_server: str, db: Database
) -> None:
    # the gateway's /count is on 127.0.0.1: that host names the site
    site = await new_site(db, host="127.0.0.1")
    secret = await token(db, site, "stats")
    try:
        assert CHROMIUM is not None
        with tempfile.TemporaryDirectory(prefix="count-js-chromium-") as profile:
            proc = await asyncio.create_subprocess_exec(
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                "--disable-blink-features=AutomationControlled",
                f"--user-agent={DESKTOP}",
                f"--user-data-dir={profile}",
                "--virtual-time-budget=5000",
                "--dump-dom",
                page_server,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            stdout, stderr = await asyncio.wait_for(proc.communicate(), timeout=60)
        assert proc.returncode == 0, stderr.decode(errors="replace")[-2000:]
        assert "<title>clicked</title>" in stdout.decode(), "the page's click did not run"

        paths: list[dict[str, object]] = []
        async with client() as http:
            for _ in range(100):  # beacons arrive on their own time
                answer = await call(http, server.url + "/api/v0/paths", host=site.host, token=secret)
                paths = answer.json["paths"] if answer.status == 200 else []
                if len(paths) == 2:
                    break
                await asyncio.sleep(0.1)
        assert [(p["path"], p["title"], p["event"]) for p in paths] == [
            ("/shop/page.html", "Browser page", False),
            ("signup-click", "Sign up", True),
        ], paths
        async with client() as http:
            hits = await call(http, server.url + "/api/v0/stats/hits", host=site.host, token=secret)
            assert sorted((h["path"], h["count"]) for h in hits.json["hits"]) == [
                ("/shop/page.html", 1),
                ("signup-click", 1),
            ]
            browsers = await call(http, server.url + "/api/v0/stats/browsers", host=site.host, token=secret)
            assert browsers.json["stats"] == [{"id": "Chrome", "name": "Chrome", "count": 2}]
            campaigns = await call(http, server.url + "/api/v0/stats/campaigns", host=site.host, token=secret)
            assert [c["name"] for c in campaigns.json["stats"]] == ["launch"]
            sizes = await call(http, server.url + "/api/v0/stats/sizes", host=site.host, token=secret)
            assert sum(s["count"] for s in sizes.json["stats"] if s["id"] != "unknown") == 2
        from aiohttp import ClientSession

        today = datetime.now(UTC).date()
        async with ClientSession() as http:
            reply = await gql(
                http,
                server,
                """query ($id: ID!, $period: AnalyticsRange!) { node(id: $id) { ... on Product { webAnalytics {
                     totals(period: $period) { pageviews visitors eventVisitors } } } } }""",
                {
                    "id": site.tenant.product_id,
                    "period": {
                        "since": f"{today - timedelta(days=1)}T00:00:00Z",
                        "until": f"{today + timedelta(days=2)}T00:00:00Z",
                    },
                },
                token=site.tenant.token,
            )
        assert reply.errors is None, reply.body
        totals = reply.data["node"]["webAnalytics"]["totals"]
        assert (totals["pageviews"], totals["visitors"], totals["eventVisitors"]) == (2, 2, 1)
    finally:
        await db.execute("DELETE FROM product_hosts WHERE host = '127.0.0.1'")
