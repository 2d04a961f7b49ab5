"""`/i/bulk`: the `requests` parameter's forms and errors, items falling back to the top-level app key."""

from __future__ import annotations

import json

import aiohttp

from gateway.db.pool import Database
from tests.adapters.countly.helpers import call, get
from tests.conftest import Server, Tenant


async def _devices(db: Database, tenant: Tenant) -> set[str]:
    rows = await db.fetch("SELECT device_key FROM devices WHERE product_id = $1", tenant.product_pk)
    return {row["device_key"] for row in rows}


async def test_missing_and_invalid_requests(http: aiohttp.ClientSession, server: Server) -> None:
    missing = {"result": 'Missing parameter "requests"'}
    assert (await get(http, server, "/i/bulk")).body == missing
    answer = await get(http, server, "/i/bulk", requests="[not json")
    assert (answer.status, answer.body) == (400, missing)
    answer = await get(http, server, "/i/bulk", requests='{"a":1}')
    assert (answer.status, answer.body) == (400, {"result": 'Invalid parameter "requests"'})
    answer = await call(http, server, "POST", "/i/bulk", json={"requests": 5})
    assert (answer.status, answer.body) == (400, {"result": 'Invalid parameter "requests"'})


async def test_string_and_array_requests(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant, db: Database
) -> None:
    items = [
        {"app_key": tenant.app_key, "device_id": "b1", "begin_session": 1, "metrics": {"_os": "Android"}},
        {"device_id": "b2", "begin_session": "1", "metrics": json.dumps({"_os": "iOS"})},
        {"app_key": tenant.app_key, "begin_session": 1},
        "not an object",
        {"device_id": "b3", "events": [{"key": "buy", "count": 2, "sum": 3.5}]},
    ]
    answer = await call(
        http, server, "POST", "/i/bulk", data={"app_key": tenant.app_key, "requests": json.dumps(items)}
    )
    assert (answer.status, answer.body) == (200, {"result": "Success"})
    assert await _devices(db, tenant) == {"b1", "b2", "b3"}
    answer = await call(
        http,
        server,
        "POST",
        "/i/bulk",
        json={"app_key": tenant.app_key, "requests": [{"device_id": "b4", "session_duration": 30}]},
    )
    assert (answer.status, answer.body) == (200, {"result": "Success"})
    assert "b4" in await _devices(db, tenant)
    os_rows = await db.fetch(
        "SELECT DISTINCT value FROM session_rollups WHERE product_id = $1 AND dimension = 'os'",
        tenant.product_pk,
    )
    assert {row["value"] for row in os_rows} == {"Android", "iOS"}


async def test_items_without_any_app_key_or_bad_items_are_skipped(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant, db: Database
) -> None:
    items = [
        {"device_id": "nokey"},
        {"app_key": "unknown", "device_id": "u1"},
        {"app_key": tenant.app_key, "device_id": "x" * 5000},
        {"app_key": tenant.app_key, "device_id": "kept", "events": "[{broken"},
    ]
    answer = await get(http, server, "/i/bulk", requests=json.dumps(items))
    assert (answer.status, answer.body) == (200, {"result": "Success"})
    assert await _devices(db, tenant) == {"kept"}
