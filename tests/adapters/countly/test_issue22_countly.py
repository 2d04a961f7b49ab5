"""Regressions of issue 22 on the Countly paths, each with the request that reproduced it.

2 one timestamp poisoned a device for good, 3 `/i/bulk` lost a whole batch for one bad item, 4 bad input got 500s
(NUL, NaN, deep JSON, timestamps at the ends of the calendar, sums of 1e308), 12 Countly paths answered in GraphQL's
format, 13 an app key read its product's analytics, 14 the web SDK's health check became a person.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from gateway.access.app_keys import forget_app_keys
from gateway.db.pool import Database
from tests.adapters.countly.helpers import call, get
from tests.conftest import Server, Tenant, gql
from tests.test_graphiql_browser import CHROMIUM, _chromium_run

SUCCESS = {"result": "Success"}
ROOT = Path(__file__).resolve().parents[3]
WEB_SDK = ROOT / "node_modules" / "countly-sdk-web" / "lib" / "countly.js"


async def devices(db: Database, tenant: Tenant) -> set[str]:
    rows = await db.fetch("SELECT device_key FROM devices WHERE product_id = $1", tenant.product_pk)
    return {row["device_key"] for row in rows}


async def write(http: aiohttp.ClientSession, server: Server, tenant: Tenant, **params: Any) -> Any:
    answer = await get(http, server, "/i", app_key=tenant.app_key, **params)
    return answer.status, answer.body


# --- 2: one timestamp poisoned a device for good ------------------------------------------------------------


@pytest.mark.parametrize(
    "timestamp",
    ["0001-01-01T00:00:00Z", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00"],
)
async def test_2_a_timestamp_at_the_ends_of_the_calendar_poisons_nothing(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant, db: Database, timestamp: str
) -> None:
    assert await write(http, server, tenant, device_id="P", timestamp=timestamp) == (200, SUCCESS)
    # every later write of P, a merge from P and recordSession still work
    assert await write(http, server, tenant, device_id="P", begin_session=1) == (200, SUCCESS)
    assert await write(http, server, tenant, device_id="P2", old_device_id="P", begin_session=1) == (
        200,
        SUCCESS,
    )
    record = """mutation($p: ID!) { recordSession(productId: $p, deviceId: "P2", action: END) { outcome } }"""
    reply = await gql(http, server, record, {"p": tenant.product_id}, token=tenant.token)
    assert reply.errors is None and reply.data["recordSession"]["outcome"] == "STORED", reply.body
    first_seen = await db.fetchval(
        "SELECT first_seen FROM devices WHERE product_id = $1 AND device_key = 'P2'", tenant.product_pk
    )
    assert first_seen.tzinfo is not None and first_seen >= datetime(1970, 1, 1, tzinfo=UTC)


# --- 3: /i/bulk lost a whole batch for one bad item -------------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [
        {"device_id": "bad", "timestamp": "0001-01-01T00:00:00+14:00"},
        {"device_id": "bad", "user_details": '{"a": NaN, "b": 1}'},
        {"device_id": "b\x00ad", "begin_session": 1},
        {"device_id": "bad", "events": [{"key": "k", "sum": 1e308}, {"key": "k", "sum": 1e308}]},
        {"device_id": "bad", "metrics": {"_os": "x" * 10_000}, "begin_session": 1},
    ],
    ids=["timestamp", "nan", "nul", "sum", "long-metric"],
)
async def test_3_one_bad_item_does_not_lose_the_batch(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant, db: Database, bad: dict[str, Any]
) -> None:
    requests = [{"device_id": "ok1", "begin_session": 1}, bad, {"device_id": "ok2", "begin_session": 1}]
    body = json.dumps(requests, allow_nan=True)
    answer = await call(http, server, "POST", "/i/bulk", data={"app_key": tenant.app_key, "requests": body})
    assert (answer.status, answer.body) == (200, SUCCESS)
    stored = await devices(db, tenant)
    assert {"ok1", "ok2"} <= stored and len(stored) == 3  # the bad item's data normalised, not lost


async def test_3_an_item_the_graph_refuses_is_skipped_alone(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant, db: Database
) -> None:
    requests = [
        {"device_id": "ok1", "begin_session": 1},
        {"device_id": "x" * 600, "begin_session": 1},  # the graph refuses device ids over 500 characters
        {"device_id": "ok2", "begin_session": 1},
    ]
    answer = await call(
        http, server, "POST", "/i/bulk", data={"app_key": tenant.app_key, "requests": json.dumps(requests)}
    )
    assert (answer.status, answer.body) == (200, SUCCESS)
    assert await devices(db, tenant) == {"ok1", "ok2"}


# --- 4: bad input got 500s ---------------------------------------------------------------------------------------


DEEP = "[" * 1000 + "]" * 1000


@pytest.mark.parametrize(
    "params",
    [
        {"device_id": "d\x00", "begin_session": 1, "metrics": '{"_os": "A\\u0000ndroid"}'},
        {"device_id": "d", "events": '[{"key": "k\\u0000", "segmentation": {"s\\u0000": "v\\u0000"}}]'},
        {"device_id": "d", "user_details": '{"name": "x\\u0000", "custom": {"k": "\\ud800"}}'},
        {"device_id": "d", "user_details": '{"a": NaN, "b": Infinity, "c": 1e999}'},
        {"device_id": "d", "events": DEEP},
        {"device_id": "d", "events": '[{"key": "k", "segmentation": ' + DEEP + "}]"},
        {"device_id": "d", "user_details": '{"a": ' + DEEP + "}"},
        {"device_id": "d", "metrics": DEEP},
        {"device_id": "d", "timestamp": "9999-12-31T23:59:59.999999-12:00"},
        {"device_id": "d", "events": '[{"key": "k", "timestamp": "0001-01-01T00:00:00+14:00"}]'},
        {"device_id": "d", "events": '[{"key": "k", "count": 1e400, "dur": -1e308}]'},
        {"device_id": "d", "events": '[{"key": "k", "segmentation": {"n": 1' + "0" * 5000 + "}}]"},
        {"device_id": "d", "location": "\x00", "city": "\ud800", "country_code": "T\x00R"},
        {"device_id": "d", "checksum256": "\u00e9" * 64},
        {"device_id": "d", "session_duration": "9" * 400, "begin_session": "1"},
    ],
)
async def test_4_bad_input_is_stored_normalised_or_ignored(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant, params: dict[str, Any]
) -> None:
    status, body = await write(http, server, tenant, **params)
    assert (status, body) == (200, SUCCESS)


@pytest.mark.parametrize(
    "params",
    [
        {"requests": DEEP},
        {"requests": '[{"device_id": "d", "user_details": ' + DEEP + "}]"},
        {"requests": '[{"device_id": "d\\u0000"}]'},
    ],
)
async def test_4_bad_bulk_parameters(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant, params: dict[str, Any]
) -> None:
    answer = await get(http, server, "/i/bulk", app_key=tenant.app_key, **params)
    assert answer.status in (200, 400) and "result" in answer.body


@pytest.mark.parametrize(
    "period", [DEEP, "[" + DEEP + "," + DEEP + "]", "[1e999, 1]", '["a", "b"]', "[0, 1e20]"]
)
async def test_4_bad_periods_are_invalid(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant, period: str
) -> None:
    params = {"api_key": tenant.token, "app_id": tenant.product_id, "method": "sessions", "period": period}
    answer = await call(http, server, "POST", "/o", data=params)  # too long for a URL (8 KiB)
    assert (answer.status, answer.body) == (400, {"result": "Invalid period"})


async def test_4_huge_sums_leave_events_readable(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant
) -> None:
    events = json.dumps([{"key": "big", "count": 1, "sum": 1e308, "dur": 1e308}])
    for _ in range(3):  # the second write to the same hour answered 500, and reads failed after it
        assert await write(http, server, tenant, device_id="d", events=events) == (200, SUCCESS)
    answer = await get(
        http, server, "/o", api_key=tenant.token, app_id=tenant.product_id, method="events", event="big"
    )
    assert answer.status == 200, answer.text
    query = """query($p: ID!, $s: DateTime!, $u: DateTime!) { node(id: $p) { ... on Product {
        analytics { events(keys: ["big"], since: $s, until: $u) { keys { key sum duration } } } } } }"""
    now = datetime.now(UTC)
    variables = {
        "p": tenant.product_id,
        "s": "2000-01-01T00:00:00Z",
        "u": now.replace(year=now.year + 1).isoformat(),
    }
    reply = await gql(http, server, query, variables, token=tenant.token)
    assert reply.errors is None, reply.body
    (key,) = reply.data["node"]["analytics"]["events"]["keys"]
    assert key["sum"] == 3 * 2.0**53


# --- 12: Countly paths answer in Countly's format ------------------------------------------------------------------


async def test_12_errors_of_countly_paths_are_countly_messages(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant
) -> None:
    limit = server.settings.limits.max_body_bytes
    answer = await call(http, server, "POST", "/i", data={"app_key": tenant.app_key, "pad": "x" * limit})
    assert (answer.status, answer.body) == (413, {"result": "Request entity too large"})
    answer = await call(http, server, "PUT", "/i")
    assert (answer.status, answer.body) == (405, {"result": "Method not allowed"})
    answer = await get(http, server, "/o", api_key=tenant.token, app_id="A" * 5000, method="sessions")
    assert answer.status in (400, 401) and set(answer.body) == {"result"}


# --- 13: an app key read its product's analytics ---------------------------------------------------------------------


async def test_13_an_app_key_reads_only_a_public_product(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant
) -> None:
    missing = (400, {"result": 'Missing parameter "api_key" or "auth_token"'})
    answer = await get(http, server, "/o/analytics/dashboard", app_key=tenant.app_key)
    assert (answer.status, answer.body) == missing
    answer = await get(http, server, "/o", app_key=tenant.app_key, method="sessions")
    assert (answer.status, answer.body) == missing
    update = "mutation($id: ID!, $p: Boolean) { updateProduct(id: $id, input: {public: $p}) { public } }"
    reply = await gql(http, server, update, {"id": tenant.product_id, "p": True}, token=tenant.token)
    assert reply.errors is None and reply.data["updateProduct"]["public"] is True
    forget_app_keys()  # other processes see the change within the key's time to live (5 s)
    answer = await get(http, server, "/o/analytics/dashboard", app_key=tenant.app_key)
    assert answer.status == 200 and "30days" in answer.body
    # the app key still writes, and reads nothing else of the account
    assert await write(http, server, tenant, device_id="w") == (200, SUCCESS)
    reply = await gql(http, server, update, {"id": tenant.product_id, "p": False}, token=tenant.token)
    assert reply.data["updateProduct"]["public"] is False
    forget_app_keys()
    answer = await get(http, server, "/o/analytics/dashboard", app_key=tenant.app_key)
    assert (answer.status, answer.body) == missing
    created = await gql(
        http, server, 'mutation { createProduct(input: {name: "n"}) { public } }', token=tenant.token
    )
    assert created.data["createProduct"]["public"] is False  # off by default


# --- 14: SDK health checks are the product's SDK health, never people ------------------------------------------


HEALTH = """query($p: ID!) { node(id: $p) { ... on Product { sdkHealth(first: 10) { nodes {
    day sdkName sdkVersion checks errorLogs warningLogs backoffs longestBackoffRun failedRequests
    lastStatusCode lastErrorMessage } } } } }"""


async def test_14_health_checks_are_not_people(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant, db: Database
) -> None:
    hc = {"el": 2, "wl": 1, "sc": 500, "em": json.dumps("Internal server error"), "bom": 3, "cbom": 2}
    common = {"device_id": "undefined", "sdk_name": "javascript_native_web", "sdk_version": "26.1.1"}
    for check in (hc, {"el": 0, "wl": 0, "sc": -1, "em": "", "bom": 0, "cbom": 0}):
        answer = await call(
            http,
            server,
            "POST",
            "/i",
            data={
                "app_key": tenant.app_key,
                "hc": json.dumps(check),
                "metrics": '{"_app_version":"1"}',
                **common,
            },
        )
        assert (answer.status, answer.body) == (200, SUCCESS)
    assert await devices(db, tenant) == set()
    reply = await gql(http, server, HEALTH, {"p": tenant.product_id}, token=tenant.token)
    assert reply.errors is None, reply.body
    (day,) = reply.data["node"]["sdkHealth"]["nodes"]
    assert day["sdkName"] == "javascript_native_web" and day["sdkVersion"] == "26.1.1"
    assert (day["checks"], day["errorLogs"], day["warningLogs"], day["backoffs"]) == (2, 2, 1, 3)
    assert (day["longestBackoffRun"], day["failedRequests"]) == (2, 1)
    assert (day["lastStatusCode"], day["lastErrorMessage"]) == (-1, "")


@pytest.mark.skipif(CHROMIUM is None or not WEB_SDK.exists(), reason="needs chromium and npm countly-sdk-web")
async def test_14_the_real_web_sdk_in_a_browser(server: Server, tenant: Tenant, db: Database) -> None:
    """countly-sdk-web 26.x in headless Chromium: its start (a health check) is SDK health, not a person; the
    session it then begins is one device with the id the SDK generated. (It takes HeadlessChrome for a bot
    unless told otherwise, and then sends nothing but the health check, with `device_id=undefined`.)"""
    page = f"""<!doctype html><html><body><script src="/countly.js"></script><script>
        Countly.init({{app_key: "{tenant.app_key}", url: "{server.url}", session_update: 60, ignore_bots: false}});
        Countly.track_sessions();
        </script></body></html>"""

    async def serve_page(_request: web.Request) -> web.Response:
        return web.Response(text=page, content_type="text/html")

    async def serve_sdk(_request: web.Request) -> web.FileResponse:
        return web.FileResponse(WEB_SDK)

    app = web.Application()
    app.router.add_get("/", serve_page)
    app.router.add_get("/countly.js", serve_sdk)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        await _chromium_run(f"http://127.0.0.1:{runner.addresses[0][1]}/", "--dump-dom")
        for _ in range(100):  # the SDK's requests may land a moment after the page is done
            checks = await db.fetchval(
                "SELECT coalesce(sum(checks), 0) FROM sdk_health WHERE product_id = $1", tenant.product_pk
            )
            people = await devices(db, tenant)
            if checks and people:
                break
            await asyncio.sleep(0.1)
    finally:
        await runner.cleanup()
    assert checks >= 1, "the SDK's health check was not stored as SDK health"
    assert "undefined" not in people and len(people) == 1, people
