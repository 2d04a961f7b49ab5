"""The dashboard in a real headless Chromium (Debian's, driven by Playwright) against the gateway on loopback.

One browser for the module, a page per test, and a small data set written through the graph's `record`
mutation: the tiles must show its exact numbers, the chart one point per bucket of the period, a switch of
period or product must update both, the live panel must count an event written while it is open, and an
export must download. Every test also checks that the page logged no error and asked no host but the
gateway (Chromium resolves every other name to "not found", so a CDN dependency could not even load).

Screenshots of the overview at desktop and phone width are saved in `tests/artifacts/` (git-ignored) for
people to look at. Skipped only when Chromium or Playwright is missing.
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from gateway.db.pool import Database
from tests.chromium import CHROMIUM, FLAGS
from tests.conftest import Server, Tenant, gql, new_tenant

playwright_api = pytest.importorskip("playwright.async_api")

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium binary (apt-get install -y chromium)")

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
SHOP_ZONE = "Europe/Berlin"
SITE_ZONE = "America/New_York"

RECORD = """mutation($product: ID!, $requests: [RecordInput!]!) {
  record(productId: $product, requests: $requests) { outcome }
}"""
CREATE_PRODUCT = """mutation($name: String!, $zone: String!) {
  createProduct(input: {name: $name, timezone: $zone}) { id }
}"""
RECORD_HITS = """mutation($product: ID!, $hits: [PageviewInput!]!) {
  recordPageviews(productId: $product, pageviews: $hits) { outcome }
}"""
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"
CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
UPDATE_PRODUCT = """mutation($id: ID!, $name: String!, $zone: String!) {
  updateProduct(id: $id, input: {name: $name, timezone: $zone}) { id }
}"""


@dataclass
class DataSet:
    """A tenant with two products (in two time zones) and what was written into them."""

    tenant: Tenant
    shop: str  # product ids
    site: str
    base: str


def local_noon(zone: str, days_ago: int) -> str:
    """Noon of the local day `days_ago` days before today in `zone` (always in the past), as ISO 8601."""
    tz = ZoneInfo(zone)
    today = datetime.now(tz).date()
    return datetime.combine(today - timedelta(days=days_ago), time(12), tz).isoformat()


def session(
    device: str, at: str | None, metrics: dict[str, str], country: str, events: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """A session of 60 seconds: its begin (with metrics and events) and its end; `at` None is now."""
    begin: dict[str, Any] = {
        "deviceId": device,
        "beginSession": True,
        "metrics": metrics,
        "country": country,
        "events": events,
    }
    end: dict[str, Any] = {"deviceId": device, "endSession": True, "sessionDuration": 60}
    if at is not None:
        begin["timestamp"] = at
        end["timestamp"] = (datetime.fromisoformat(at) + timedelta(seconds=60)).isoformat()
    return [begin, end]


async def record(
    http: aiohttp.ClientSession, server: Server, token: str, product: str, requests: list[dict[str, Any]]
) -> None:
    reply = await gql(http, server, RECORD, {"product": product, "requests": requests}, token)
    assert reply.errors is None, reply.errors
    assert {r["outcome"] for r in reply.data["record"]} == {"STORED"}, reply.data


@pytest.fixture(scope="module")
async def data(server: Server, db: Database) -> DataSet:
    """Shop (Berlin): 4 sessions and 5 events in the last 7 days (one of each now), 1 session and 1 event the
    7 days before; Site (New York): 2 sessions and 4 pageviews by 3 visitors in the last 7 days, no event."""
    tenant = await new_tenant(db)
    async with aiohttp.ClientSession() as http:
        await gql(
            http,
            server,
            UPDATE_PRODUCT,
            {"id": tenant.product_id, "name": "Shop", "zone": SHOP_ZONE},
            tenant.token,
        )
        reply = await gql(http, server, CREATE_PRODUCT, {"name": "Site", "zone": SITE_ZONE}, tenant.token)
        site = reply.data["createProduct"]["id"]
        android = {"_os": "Android", "_os_version": "14", "_app_version": "2.0"}
        ios = {"_os": "iOS", "_os_version": "17.4", "_app_version": "1.9"}
        shop: list[dict[str, Any]] = [
            *session(
                "d1",
                local_noon(SHOP_ZONE, 1),
                android,
                "DE",
                [{"key": "purchase", "count": 2, "sum": 10, "segmentation": {"plan": "pro"}}],
            ),
            *session("d2", local_noon(SHOP_ZONE, 2), ios, "FR", [{"key": "signup", "count": 1}]),
            *session(
                "d3",
                local_noon(SHOP_ZONE, 3),
                android,
                "DE",
                [{"key": "purchase", "count": 1, "sum": 5, "segmentation": {"plan": "free"}}],
            ),
            *session("d4", local_noon(SHOP_ZONE, 10), ios, "US", [{"key": "signup", "count": 1}]),
            *session("d5", None, android, "DE", [{"key": "open", "count": 1}]),
        ]
        for step in range(0, len(shop), 2):
            # one session at a time: its end must follow its begin
            await record(http, server, tenant.token, tenant.product_id, shop[step : step + 2])
        for device, days in (("e1", 1), ("e2", 2)):
            await record(
                http, server, tenant.token, site, session(device, local_noon(SITE_ZONE, days), ios, "US", [])
            )

        # the site's pages: 4 pageviews by 3 visitors (first visits of a path) in the last 7 days, 1 and 1 before
        def later(days: int, minutes: int) -> str:
            return (
                datetime.fromisoformat(local_noon(SITE_ZONE, days)) + timedelta(minutes=minutes)
            ).isoformat()

        firefox = {"userAgent": FIREFOX, "ip": "81.2.69.142"}
        chrome = {"userAgent": CHROME, "ip": "81.2.69.143"}
        hits = [
            {"path": "/", "title": "Home", "screen": "1920", "timestamp": later(1, 0), **firefox},
            {"path": "/pricing", "title": "Pricing", "timestamp": later(1, 1), **firefox},
            {"path": "/", "referrer": "https://news.test/x", "timestamp": later(2, 0), **chrome},
            {"path": "/", "timestamp": later(2, 2), **chrome},
            {"path": "/", "timestamp": later(9, 0), "userAgent": FIREFOX, "ip": "81.2.69.150"},
        ]
        reply = await gql(http, server, RECORD_HITS, {"product": site, "hits": hits}, tenant.token)
        assert reply.errors is None, reply.body
        assert {r["outcome"] for r in reply.data["recordPageviews"]} == {"STORED"}, reply.body
    return DataSet(tenant=tenant, shop=tenant.product_id, site=site, base=server.url)


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Any]:
    async with playwright_api.async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=list(FLAGS),
            # a profile of its own in a temporary folder, removed with the browser (Playwright's default)
        )
        yield launched
        await launched.close()


@dataclass
class Tab:
    """A page of its own browser context, with what it logged and asked for."""

    page: Any
    context: Any
    base: str
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def check_clean(self) -> None:
        assert not self.errors, self.errors
        gateway = urlsplit(self.base).netloc
        foreign = [
            u
            for u in self.requests
            if urlsplit(u).scheme not in ("blob", "data") and urlsplit(u).netloc != gateway
        ]
        assert not foreign, foreign


@asynccontextmanager
async def open_tab(browser: Any, data: DataSet, **options: Any) -> AsyncIterator[Tab]:
    """A page in a browser context of its own (desktop width, US English unless `options` say otherwise) that
    records what it logs and asks for."""
    context = await browser.new_context(
        **{"viewport": {"width": 1280, "height": 900}, "accept_downloads": True, "locale": "en-US", **options}
    )
    try:
        page = await context.new_page()
        page.set_default_timeout(15000)
        opened = Tab(page=page, context=context, base=data.base)
        page.on(
            "console",
            lambda m: (
                opened.errors.append(f"console {m.type}: {m.text}")
                if m.type in ("error", "warning")
                else None
            ),
        )
        page.on("pageerror", lambda e: opened.errors.append(f"page error: {e}"))
        page.on("request", lambda r: opened.requests.append(r.url))
        page.on("websocket", lambda ws: opened.requests.append(ws.url))
        yield opened
    finally:
        await context.close()


@pytest.fixture
async def tab(browser: Any, data: DataSet) -> AsyncIterator[Tab]:
    async with open_tab(browser, data) as opened:
        yield opened


async def sign_in(tab: Tab, data: DataSet, query: str = "") -> None:
    page = tab.page
    await page.goto(f"{data.base}/{query}")
    await page.fill("#email", data.tenant.email)
    await page.fill("#password", data.tenant.password)
    await page.click(".sign-in-form button[type=submit]")
    await page.wait_for_selector(".view[data-ready=true]")


async def tiles(page: Any) -> dict[str, int]:
    values = await page.eval_on_selector_all(
        ".tile[data-measure]",
        "els => els.map(e => [e.dataset.measure, Number(e.querySelector('.tile-value').dataset.value)])",
    )
    return dict(values)


async def changes(page: Any) -> dict[str, str]:
    values = await page.eval_on_selector_all(
        ".tile[data-measure]",
        "els => els.map(e => [e.dataset.measure, e.querySelector('.tile-change').lastChild.textContent])",
    )
    return dict(values)


async def chart_points(page: Any) -> int:
    return int(await page.get_attribute("figure.chart", "data-points"))


async def wait_view(page: Any, view: str, **url_has: str) -> None:
    await page.wait_for_selector(f".view[data-view={view}][data-ready=true]")
    for key, value in url_has.items():
        assert f"{key}={value}" in page.url, page.url


async def test_overview_shows_the_data_set_and_follows_period_and_product(tab: Tab, data: DataSet) -> None:
    page = tab.page
    await sign_in(tab, data, f"?product={data.shop}")
    # the last 7 days by default: 4 sessions of 60 s by 4 new devices, 5 events; the 7 days before: 1 and 1
    assert await tiles(page) == {
        "sessions": 4,
        "users": 4,
        "new-users": 4,
        "time-spent": 240,
        "pageviews": 0,
        "visitors": 0,
        "events": 5,
    }
    assert await changes(page) == {
        "sessions": "+300%",
        "users": "+300%",
        "new-users": "+300%",
        "time-spent": "+300%",
        "pageviews": "–",
        "visitors": "–",
        "events": "+400%",
    }
    # an app without pageviews: its tables only
    assert await page.locator("[data-table=pages]").count() == 0
    assert await chart_points(page) == 7
    assert await page.get_attribute("figure.chart", "data-total") == "4"
    assert await page.locator(".tile[data-measure=sessions] .tile-value").inner_text() == "4"
    assert await page.locator(".tile[data-measure=time-spent] .tile-value").inner_text() == "4m"
    # the tables: platforms ranked by sessions, countries named in the browser's language
    platforms = await page.locator("[data-table=platforms] tbody th").all_inner_texts()
    assert [p.strip() for p in platforms] == ["Android", "iOS"]
    countries = await page.locator("[data-table=countries] tbody th").all_inner_texts()
    assert [c.strip() for c in countries] == ["Germany", "France"]
    await page.click("[data-table=platforms] .card-foot button")
    versions = await page.locator("[data-table=platform-versions] tbody th").all_inner_texts()
    assert [v.strip() for v in versions] == ["14", "17.4"]
    assert await page.locator("[data-table=platforms] tbody td.num").first.inner_text() == "3"

    # keyboard: the events tile charts events
    await page.focus(".tile[data-measure=events]")
    await page.keyboard.press("Enter")
    assert await page.get_attribute(".tile[data-measure=events]", "aria-pressed") == "true"
    assert await page.get_attribute("figure.chart", "data-total") == "5"
    assert "measure=events" in page.url

    ARTIFACTS.mkdir(exist_ok=True)
    await page.click(".tile[data-measure=sessions]")
    await page.screenshot(path=str(ARTIFACTS / "dashboard-overview-desktop.png"), full_page=True)

    # 30 days: one point a day, the session and event 10 days ago included, nothing in the 30 days before
    await page.click("[data-period='30d']")
    await wait_view(page, "overview", period="30d")
    assert await tiles(page) == {
        "sessions": 5,
        "users": 5,
        "new-users": 5,
        "time-spent": 300,
        "pageviews": 0,
        "visitors": 0,
        "events": 6,
    }
    assert (await changes(page))["sessions"] == "new"
    assert await chart_points(page) == 30
    # today: one point an hour of the local day (23 to 25 of them)
    await page.click("[data-period=today]")
    await wait_view(page, "overview", period="today")
    zone = ZoneInfo(SHOP_ZONE)
    today = datetime.now(zone).date()
    hours = int(
        (
            datetime.combine(today + timedelta(days=1), time(0), zone)
            - datetime.combine(today, time(0), zone)
        ).total_seconds()
        // 3600
    )
    assert await chart_points(page) == hours
    assert (await tiles(page))["sessions"] == 1
    assert await page.get_attribute("figure.chart", "data-total") == "1"
    # 12 months, whole months: the events are the chart's months summed
    await page.click("[data-period='12m']")
    await wait_view(page, "overview", period="12m")
    assert ((await tiles(page))["sessions"], (await tiles(page))["events"]) == (5, 6)
    # a custom range of the 3 days of d3 .. d1
    await page.click("[data-period=custom]")
    first = today - timedelta(days=3)
    await page.fill("#custom-from", first.isoformat())
    await page.fill("#custom-to", (today - timedelta(days=1)).isoformat())
    await page.click(".custom-range button[type=submit]")
    await wait_view(page, "overview", period="custom", **{"from": first.isoformat()})
    assert (await tiles(page))["sessions"] == 3
    assert await chart_points(page) == 3
    # a long range charted by months that reach outside it (it does not start on the 1st): the events are
    # counted by the server, not summed from the chart
    long_first = today - timedelta(days=200)
    long_first -= timedelta(days=1) if long_first.day == 1 else timedelta(0)
    await page.fill("#custom-from", long_first.isoformat())
    await page.fill("#custom-to", today.isoformat())
    await page.click(".custom-range button[type=submit]")
    await wait_view(page, "overview", period="custom", **{"from": long_first.isoformat()})
    assert ((await tiles(page))["sessions"], (await tiles(page))["events"]) == (5, 6)
    # a week long ago: no chart but what to do
    await page.fill("#custom-from", "2020-01-01")
    await page.fill("#custom-to", "2020-01-07")
    await page.click(".custom-range button[type=submit]")
    await wait_view(page, "overview", period="custom", **{"from": "2020-01-01"})
    assert await page.locator(".empty-title").inner_text() == "Nothing was recorded in this period."
    assert data.tenant.app_key in await page.locator(".snippet").first.inner_text()

    # the other product, in New York: its own numbers
    await page.click("[data-period='7d']")
    await wait_view(page, "overview")
    await page.select_option("#product-picker", data.site)
    await wait_view(page, "overview", product=data.site.replace("=", "%3D"))
    assert await tiles(page) == {
        "sessions": 2,
        "users": 2,
        "new-users": 2,
        "time-spent": 120,
        "pageviews": 4,
        "visitors": 3,
        "events": 0,
    }
    assert (await changes(page))["pageviews"] == "+300%" and (await changes(page))["visitors"] == "+200%"
    assert await chart_points(page) == 7
    assert "America/New_York" in await page.locator("#period-text").inner_text()
    # pageviews per day on the chart; the web tables with their details
    await page.click(".tile[data-measure=pageviews]")
    assert await page.get_attribute("figure.chart", "data-total") == "4"
    assert await chart_points(page) == 7
    pages = await page.eval_on_selector_all(
        "[data-table=pages] tbody tr",
        "rows => rows.map(r => [r.children[0].textContent.trim(), r.children[1].textContent])",
    )
    assert pages == [["/", "2"], ["/pricing", "1"]]
    browsers = await page.locator("[data-table=browsers] tbody th").all_inner_texts()
    assert [b.strip() for b in browsers] == ["Firefox", "Chrome"]
    await page.click("[data-table=browsers] .row-toggle:text-is('Firefox')")
    await page.wait_for_selector("[data-table=browsers] .details li")
    assert "Firefox 120" in await page.locator("[data-table=browsers] .details").inner_text()
    await page.click("[data-table=pages] .row-toggle:text-is('/')")
    await page.wait_for_selector("[data-table=pages] .details li")
    assert "news.test" in await page.locator("[data-table=pages] .details").inner_text()
    # both kinds of data: the app's tables too
    assert await page.locator("[data-table=platforms]").count() == 1
    await page.evaluate("window.scrollTo(0, 0)")
    await page.screenshot(path=str(ARTIFACTS / "dashboard-overview-site-desktop.png"), full_page=True)
    # back in history: the shop again
    await page.go_back()
    await wait_view(page, "overview")
    assert (await tiles(page))["sessions"] == 4
    tab.check_clean()


async def test_overview_at_phone_width(browser: Any, data: DataSet) -> None:
    phone = {
        "viewport": {"width": 390, "height": 844},
        "device_scale_factor": 2,
        "is_mobile": True,
        "has_touch": True,
    }
    async with open_tab(browser, data, **phone) as tab:
        await sign_in(tab, data, f"?product={data.shop}")
        # one column: nothing wider than the screen
        width = await tab.page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, width
        ARTIFACTS.mkdir(exist_ok=True)
        await tab.page.screenshot(path=str(ARTIFACTS / "dashboard-overview-phone.png"), full_page=True)
        tab.check_clean()


async def test_sign_in_messages_and_a_pasted_token(
    tab: Tab, data: DataSet, db: Database, server: Server
) -> None:
    page = tab.page
    await page.goto(f"{data.base}/dashboard")
    await page.fill("#email", data.tenant.email)
    await page.fill("#password", "not the password")
    await page.click(".sign-in-form button[type=submit]")
    assert await page.locator("#sign-in-problem [role=alert]").inner_text() == "Wrong email or password."
    # ten failures lock an email for the hour: the dashboard says so
    locked = await new_tenant(db)
    async with aiohttp.ClientSession() as http:
        for _ in range(10):
            await gql(
                http,
                server,
                'mutation($e: String!) { login(email: $e, password: "nope-nope") { token } }',
                {"e": locked.email},
            )
    await page.fill("#email", locked.email)
    await page.fill("#password", locked.password)
    await page.click(".sign-in-form button[type=submit]")
    message = await page.locator("#sign-in-problem [role=alert]").inner_text()
    assert message.startswith("Too many failed sign-ins for this email"), message
    # a token pasted by hand (with or without "Bearer ") works
    await page.click(".token-card summary")
    await page.fill("#token", "not-a-token")
    await page.click(".token-form button[type=submit]")
    assert "does not accept this token" in await page.locator("#token-problem [role=alert]").inner_text()
    await page.fill("#token", f"Bearer {data.tenant.token}")
    await page.click(".token-form button[type=submit]")
    await wait_view(page, "overview")
    assert await page.locator("#account-name").inner_text() != ""
    # signing out forgets a pasted token, which keeps working elsewhere
    await page.click("#sign-out")
    await page.wait_for_selector("#email")
    assert await page.evaluate("sessionStorage.length") == 0
    async with aiohttp.ClientSession() as http:
        assert (await gql(http, server, "{ viewer { permissions } }", token=data.tenant.token)).status == 200
        # a token from signing in is revoked when signing out
        await sign_in(tab, data)
        own = await page.evaluate("sessionStorage.getItem('analytics-gateway.token')")
        assert own and own != data.tenant.token
        assert (await gql(http, server, "{ viewer { permissions } }", token=own)).status == 200
        await page.click("#sign-out")
        await page.wait_for_selector("#email")
        assert (await gql(http, server, "{ viewer { permissions } }", token=own)).status == 401
    # the failed sign-ins answered 401 and 429: the browser logs those responses, nothing else
    tab.errors[:] = [e for e in tab.errors if "status of 401" not in e and "status of 429" not in e]
    tab.check_clean()


async def test_events_page(tab: Tab, data: DataSet) -> None:
    page = tab.page
    await sign_in(tab, data, f"?product={data.shop}&view=events")
    rows = await page.eval_on_selector_all(
        ".events-table tbody tr",
        "rows => rows.map(r => Array.from(r.children).map(c => c.textContent.trim()))",
    )
    assert rows == [
        ["purchase", "3", "15", "5", "–"],
        ["open", "1", "0", "0", "–"],
        ["signup", "1", "0", "0", "–"],
    ]
    # the most frequent key is chosen, broken down by its first segmentation key
    assert "event=purchase" in page.url
    assert await chart_points(page) == 7
    assert await page.get_attribute("figure.chart", "data-total") == "3"
    breakdown = await page.eval_on_selector_all(
        "[data-event=purchase] .ranked-table tbody tr",
        "rows => rows.map(r => [r.children[0].textContent.trim(), r.children[1].textContent.trim()])",
    )
    assert breakdown == [["pro", "2"], ["free", "1"]]
    await page.click(".events-table a:text-is('signup')")
    await wait_view(page, "events", event="signup")
    assert await page.get_attribute("figure.chart", "data-total") == "1"
    tab.check_clean()


async def count_live_event(page: Any, server: Server, data: DataSet, device: str, key: str) -> int:
    """Record an event of `device` in the shop and wait until the live panel counts it; the count before."""
    before = int(await page.get_attribute("[data-live=events] .tile-value", "data-value"))
    async with aiohttp.ClientSession() as http:
        await record(
            http, server, data.tenant.token, data.shop, [{"deviceId": device, "events": [{"key": key}]}]
        )
    await page.wait_for_selector(f"[data-live=events] .tile-value[data-value='{before + 1}']")
    return before


async def test_live_panel_counts_an_event_written_now(tab: Tab, data: DataSet, server: Server) -> None:
    page = tab.page
    await sign_in(tab, data, f"?product={data.shop}&view=live")
    await page.wait_for_selector(".live-status[data-state=open]")
    await count_live_event(page, server, data, "live-1", "live_check")
    assert await page.locator(".feed li").first.locator(".feed-key").inner_text() == "live_check"
    assert await page.get_attribute("figure.chart", "data-points") == "30"
    # a site's pageview: a visitor without a device, counted by the gateway a few seconds later
    await page.select_option("#product-picker", data.site)
    await wait_view(page, "live")
    await page.wait_for_selector(".live-status[data-state=open]")
    visitors = int(await page.get_attribute("[data-live=visitors] .tile-value", "data-value"))
    hit = {"path": "/live", "userAgent": FIREFOX, "ip": "81.2.69.160"}
    async with aiohttp.ClientSession() as http:
        reply = await gql(http, server, RECORD_HITS, {"product": data.site, "hits": [hit]}, data.tenant.token)
        assert reply.data["recordPageviews"] == [{"outcome": "STORED"}]
    await page.wait_for_selector(".feed li .feed-key:text-is('pageview')")
    await page.wait_for_selector(f"[data-live=visitors] .tile-value[data-value='{visitors + 1}']")
    tab.check_clean()


async def test_live_panel_keeps_an_event_that_came_while_it_refreshed(
    tab: Tab, data: DataSet, server: Server
) -> None:
    """The panel reads its counts again when its socket opens. An event the subscription brings while that read
    is on its way, and which the read's answer does not hold yet, still counts once the answer arrives."""
    page = tab.page
    reads: list[Any] = []
    answered = asyncio.Event()

    async def hold_second_read(route: Any) -> None:
        if "LiveSince" not in (route.request.post_data or ""):
            await route.continue_()
            return
        reads.append(route)
        if len(reads) != 2:  # the first read draws the panel; the second is the socket's
            await route.continue_()
            return
        stale = await route.fetch()  # answered now, before the event below is stored
        await answered.wait()
        await route.fulfill(response=stale)

    await page.route("**/graphql", hold_second_read)
    await sign_in(tab, data, f"?product={data.shop}&view=live")
    await page.wait_for_selector(".live-status[data-state=open]")
    for _ in range(100):
        if len(reads) == 2:
            break
        await asyncio.sleep(0.05)
    assert len(reads) == 2
    await asyncio.sleep(0.5)  # the held read's answer is computed
    before = await count_live_event(page, server, data, "live-2", "while_read")
    answered.set()
    await asyncio.sleep(1.5)  # the stale answer lands; the panel redraws at most once a second
    assert int(await page.get_attribute("[data-live=events] .tile-value", "data-value")) == before + 1
    assert await page.locator(".feed li .feed-key:text-is('while_read')").count() == 1
    tab.check_clean()


async def test_export_downloads(tab: Tab, data: DataSet, server: Server) -> None:
    page = tab.page
    await sign_in(tab, data, f"?product={data.shop}&view=exports")
    await page.uncheck(".export-form input[name=period]")
    await page.click(".export-form button[type=submit]")
    button = page.locator("[data-download]").first
    await button.wait_for()
    async with page.expect_download() as started:
        await button.click()
    download = await started.value
    assert download.suggested_filename.endswith(".csv")
    text = Path(await download.path()).read_text()  # noqa: ASYNC240 (a small file, in a test)
    rows = list(csv.DictReader(io.StringIO(text)))
    async with aiohttp.ClientSession() as http:
        reply = await gql(
            http,
            server,
            "query($id: ID!) { node(id: $id) { ... on Product { events { totalCount } } } }",
            {"id": data.shop},
            data.tenant.token,
        )
    assert len(rows) == reply.data["node"]["events"]["totalCount"] >= 4
    assert {"purchase", "signup"} <= {row["key"] for row in rows}
    assert await page.locator("[data-export][data-status=FINISHED]").count() >= 1
    tab.check_clean()


def test_artifacts_are_ignored_by_git() -> None:
    ignored = (Path(__file__).resolve().parents[2] / ".gitignore").read_text().splitlines()
    assert "tests/artifacts/" in ignored


# WCAG's contrast ratio of an element's text against the first opaque background behind it
CONTRASTS = """selectors => {
  const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length === 3 || c[3] > 0.9) return c;
    }
    return [255, 255, 255];
  };
  const out = [];
  for (const selector of selectors) {
    for (const el of document.querySelectorAll(selector)) {
      if (!el.offsetParent) continue;
      const a = lum(rgb(getComputedStyle(el).color));
      const b = lum(background(el));
      out.push([selector, (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)]);
    }
  }
  return out;
}"""

TEXT = [
    ".brand",
    ".picker-label",
    ".tabs a",
    ".period-buttons button",
    ".period-text",
    ".tile-label",
    ".tile-value",
    ".tile-change",
    ".tile-sub",
    "h2",
    ".ranked-table th",
    ".ranked-table td",
    ".link-button",
    ".chart-data summary",
]


@pytest.mark.parametrize("scheme", ["light", "dark"])
async def test_text_contrast_in_both_schemes(browser: Any, data: DataSet, scheme: str) -> None:
    async with open_tab(browser, data, color_scheme=scheme) as tab:
        await sign_in(tab, data, f"?product={data.shop}")
        background = await tab.page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert (background == "rgb(15, 18, 22)") == (scheme == "dark"), background
        found = await tab.page.evaluate(CONTRASTS, TEXT)
        assert {selector for selector, _ in found} == set(TEXT)
        low = [(selector, round(ratio, 2)) for selector, ratio in found if ratio < 4.5]
        assert not low, f"text below WCAG AA (4.5:1) in the {scheme} scheme: {low}"
        tab.check_clean()
