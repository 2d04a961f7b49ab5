"""`/o`: every row of the read-API table (checks in Countly's order), JSONP and old readers' `app_key`."""

from __future__ import annotations

import aiohttp

from gateway.access.app_keys import forget_app_keys
from gateway.db.pool import Database
from tests.adapters.countly.helpers import get
from tests.conftest import Server, Tenant, new_tenant


async def test_missing_app_id_is_checked_first(http: aiohttp.ClientSession, server: Server) -> None:
    answer = await get(http, server, "/o", method="nonsense")
    assert (answer.status, answer.body) == (400, {"result": 'Missing parameter "app_id"'})
    assert answer.headers["Content-Type"] == "application/json; charset=utf-8"


async def test_missing_api_key(http: aiohttp.ClientSession, server: Server, tenant: Tenant) -> None:
    answer = await get(http, server, "/o", app_id=tenant.product_id, method="sessions")
    assert (answer.status, answer.body) == (400, {"result": 'Missing parameter "api_key" or "auth_token"'})


async def test_wrong_key(http: aiohttp.ClientSession, server: Server, tenant: Tenant) -> None:
    answer = await get(http, server, "/o", app_id=tenant.product_id, api_key="agw_nope", method="sessions")
    assert (answer.status, answer.body) == (401, {"result": "User does not exist"})


async def test_unknown_app(http: aiohttp.ClientSession, server: Server, tenant: Tenant, db: Database) -> None:
    for app_id in ("UHJvZHVjdDo5OTk5OTk5", "garbage", "QWNjb3VudDox"):
        answer = await get(http, server, "/o", app_id=app_id, api_key=tenant.token, method="sessions")
        assert (answer.status, answer.body) == (401, {"result": "App does not exist"})
    other = await new_tenant(db)  # a foreign app behaves like a missing one
    answer = await get(http, server, "/o", app_id=other.product_id, api_key=tenant.token, method="sessions")
    assert (answer.status, answer.body) == (401, {"result": "App does not exist"})


async def test_no_right(http: aiohttp.ClientSession, server: Server, tenant: Tenant, db: Database) -> None:
    await db.execute("UPDATE api_tokens SET permissions = '{}' WHERE account_id = $1", tenant.account_pk)
    answer = await get(http, server, "/o", app_id=tenant.product_id, api_key=tenant.token, method="sessions")
    assert (answer.status, answer.body) == (401, {"result": "User does not have right"})


async def test_invalid_method(http: aiohttp.ClientSession, server: Server, tenant: Tenant) -> None:
    for method in ("nonsense", None):
        params = {"app_id": tenant.product_id, "api_key": tenant.token}
        if method:
            params["method"] = method
        answer = await get(http, server, "/o", **params)
        assert (answer.status, answer.body) == (400, {"result": "Invalid method"})


async def test_credentials_in_auth_token_and_header(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant
) -> None:
    answer = await get(
        http, server, "/o", app_id=tenant.product_id, auth_token=tenant.token, method="get_events"
    )
    assert (answer.status, answer.body) == (200, {"limits": LIMITS})
    async with http.get(
        server.url + "/o",
        params={"app_id": tenant.product_id, "method": "get_events"},
        headers={"countly-token": tenant.token},
    ) as response:
        assert response.status == 200


LIMITS = {"event_limit": 500, "event_segmentation_limit": 100, "event_segmentation_value_limit": 1000}


async def test_old_readers_with_app_key(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant, db: Database
) -> None:
    # an app key reads only a public product (issue 22, item 13): by default it is no read credential
    answer = await get(http, server, "/o", app_key=tenant.app_key, method="get_events")
    assert (answer.status, answer.body) == (400, {"result": 'Missing parameter "api_key" or "auth_token"'})
    await db.execute("UPDATE products SET public = true WHERE id = $1", tenant.product_pk)
    forget_app_keys()
    answer = await get(http, server, "/o", app_key=tenant.app_key, method="get_events")
    assert (answer.status, answer.body) == (200, {"limits": LIMITS})
    answer = await get(http, server, "/o", app_key="unknown", method="get_events")
    assert (answer.status, answer.body) == (401, {"result": "App does not exist"})


async def test_sdk_server_config(http: aiohttp.ClientSession, server: Server, tenant: Tenant) -> None:
    answer = await get(http, server, "/o/sdk", app_key=tenant.app_key, device_id="d", method="sc")
    assert (answer.status, answer.body) == (200, {})
    answer = await get(http, server, "/o/sdk", method="sc")
    assert (answer.status, answer.body) == (400, {"result": 'Missing parameter "app_key" or "device_id"'})
    answer = await get(http, server, "/o/sdk", app_key="nope", device_id="d", method="sc")
    assert (answer.status, answer.body) == (400, {"result": "App does not exist"})
