"""FollowAnalytics with narrowed tokens: the login reply's `enable` flags say what a token's rights (fine-grained
ones included) and product scope allow, and every endpoint lets it do exactly that: 403 in the vendor's shape
without the rights, nothing of the apps outside its scope (404, or left out), and no way to widen its scope."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from typing import Any

import aiohttp

from adapters.followanalytics.enable import flags, is_admin
from gateway.access.tokens import principal_for_token
from gateway.db.pool import Database
from resolvers.node import to_global_id
from tests.adapters.followanalytics.helpers import call, seed_activity
from tests.adapters.followanalytics.test_profiles import attribute, gem_request
from tests.conftest import Server, Tenant, gql

CREATE = """
mutation ($name: String!, $permissions: [Permission!]!, $products: [ID!]) {
  createToken(name: $name, permissions: $permissions, productIds: $products) {
    secret token { permissions productIds }
  }
}
"""
FORBIDDEN = {
    "success": False,
    "status": 403,
    "message": "Your token does not allow this request.",
    "error_message": "Your token does not allow this request.",
}
GRANTABLE = (
    "apps",
    "downloads",
    "usage_analytics_view",
    "usage_analytics_manage",
    "segments_view",
    "segments_manage",
    "sor_manage",
    "apps_manage",
    "api_keys_manage",
    "gdpr_data_manage",
)


async def _token(
    http: aiohttp.ClientSession,
    server: Server,
    tenant: Tenant,
    permissions: list[str],
    products: list[str] | None = None,
    creator: str | None = None,
) -> str:
    reply = await gql(
        http,
        server,
        CREATE,
        {"name": "narrow", "permissions": permissions, "products": products},
        creator or tenant.token,
    )
    assert reply.errors is None, reply.body
    return str(reply.data["createToken"]["secret"])


async def _second_app(db: Database, tenant: Tenant) -> tuple[int, str]:
    pk = await db.fetchval(
        "INSERT INTO products (account_id, name, app_key) VALUES ($1, 'second', md5(random()::text)) RETURNING id",
        tenant.account_pk,
    )
    return pk, str(to_global_id("Product", pk))


async def test_enable_flags_follow_the_tokens_rights_and_scope(
    http: aiohttp.ClientSession, server: Server, db: Database, tenant: Tenant
) -> None:
    app = tenant.product_id

    async def granted(permissions: list[str], products: list[str] | None = None) -> set[str]:
        principal = await principal_for_token(db, await _token(http, server, tenant, permissions, products))
        assert principal is not None
        found = flags(principal)
        assert list(found)[:3] == ["apps", "campaign_view", "campaign_draft"] and len(found) == 24
        assert not any(value for flag, value in found.items() if flag not in GRANTABLE)
        return {flag for flag, value in found.items() if value}

    assert await granted(["ADMIN"]) == set(GRANTABLE)
    assert await granted(["READ"]) == {"apps", "downloads", "usage_analytics_view", "segments_view"}
    assert await granted(["WRITE"]) == {
        "apps",
        "downloads",
        "usage_analytics_view",
        "usage_analytics_manage",
        "segments_view",
        "segments_manage",
        "sor_manage",
    }
    assert await granted(["STATS"]) == {"usage_analytics_view"}
    assert await granted(["EXPORT"]) == {"downloads"}
    assert await granted(["READ_PRODUCTS", "UPDATE_PRODUCTS"]) == {"apps", "apps_manage"}
    assert await granted(["COUNT"]) == set()
    assert await granted(["COUNT", "READ"]) == {
        "apps",
        "downloads",
        "usage_analytics_view",
        "segments_view",
        "sor_manage",
    }
    assert await granted(["READ"], [app]) == {"apps", "downloads", "usage_analytics_view", "segments_view"}
    assert await granted(["ADMIN"], []) == {"apps_manage", "api_keys_manage"}  # limited to no app at all
    # `admin`: the whole entity
    for permissions, products, admin in (
        (["ADMIN"], None, True),
        (["ADMIN"], [app], False),
        (["WRITE"], None, False),
    ):
        principal = await principal_for_token(db, await _token(http, server, tenant, permissions, products))
        assert principal is not None and is_admin(principal) is admin
    # the login reply: the user's token, with every right
    reply = await call(
        http, server, "POST", "/api/login", json={"email": tenant.email, "password": tenant.password}
    )
    user = reply.json["result"]["user"]
    assert {flag for flag, value in user["enable"].items() if value} == set(GRANTABLE) and user[
        "admin"
    ] is True


async def test_endpoints_follow_a_narrowed_tokens_rights(
    http: aiohttp.ClientSession, server: Server, db: Database, tenant: Tenant
) -> None:
    app = tenant.product_id
    await seed_activity(db, tenant, devices=2, events_per_device=2)

    async def status(token: str, method: str, path: str, **kwargs: Any) -> int:
        reply = await call(http, server, method, path, token, **kwargs)
        if reply.status == 403:
            assert reply.json == FORBIDDEN, reply.text
        return reply.status

    products = await _token(http, server, tenant, ["READ_PRODUCTS"])
    assert await status(products, "GET", "/api/apps") == 200
    for path in (
        f"/api/apps/{app}/events",
        f"/api/apps/{app}/devices",
        "/api/segments",
        "/api/customer_profiles",
    ):
        assert await status(products, "GET", path) == 403, path
    assert await status(products, "GET", f"/api/apps/{app}/events_export?skip_email=true") == 403

    counting = await _token(http, server, tenant, ["COUNT"])
    assert await status(counting, "GET", "/api/apps") == 403
    stats = await _token(http, server, tenant, ["STATS"])
    assert await status(stats, "GET", f"/api/apps/{app}/sessions") == 403
    exporting = await _token(http, server, tenant, ["EXPORT"])
    assert await status(exporting, "GET", f"/api/apps/{app}/events_export?skip_email=true") == 200
    assert await status(exporting, "GET", f"/api/apps/{app}/events") == 403
    reading = await _token(http, server, tenant, ["READ"])
    assert await status(reading, "GET", f"/api/apps/{app}/events") == 200
    gdpr = {"json": {"users": ["d0"], "skip_email": True}}
    assert await status(reading, "POST", "/api/gdpr/access_user_data", **gdpr) == 403
    assert await status(reading, "POST", "/api/gdpr/delete_user_data", **gdpr) == 403

    # the attribute sync with a token: COUNT to write, READ to find the apps that know the customer
    for permissions, expected in ((["COUNT"], 403), (["READ"], 403), (["COUNT", "READ"], 200)):
        token = await _token(http, server, tenant, permissions)
        code, body = await gem_request(server, token, [attribute("plan", "gold", "d0")])
        assert code == expected, (permissions, body)
        if expected == 403:
            assert json.loads(body) == FORBIDDEN


async def test_a_token_limited_to_one_app_reaches_no_other(
    http: aiohttp.ClientSession, server: Server, db: Database, tenant: Tenant
) -> None:
    app = tenant.product_id
    other_pk, other = await _second_app(db, tenant)
    await seed_activity(db, tenant, devices=1, events_per_device=1)  # d0 in the first app
    await db.execute(
        "INSERT INTO devices (account_id, product_id, device_key, first_seen, last_seen) VALUES ($1, $2, 'd0', now(), now())",
        tenant.account_pk,
        other_pk,
    )
    admin = await _token(http, server, tenant, ["ADMIN"], [app])
    apps = await call(http, server, "GET", "/api/apps", admin)
    assert [a["identifier"] for a in apps.json["result"]["apps"]] == [app]
    for path in (f"/api/apps/{other}/events", f"/api/apps/{other}/events_export?skip_email=true"):
        assert (await call(http, server, "GET", path, admin)).status == 404, path
    profiles = await call(http, server, "GET", "/api/customer_profiles", admin)
    assert [p["applications"] for p in profiles.json["result"]["profiles"]] == [[app]]

    # its customer profiles export holds the people of its app only; the account's token's, of both apps
    async def exported_apps(token: str) -> list[str]:
        reply = await call(http, server, "GET", "/api/customer_profiles/export.csv?skip_email=true", token)
        callback = reply.json["result"]["callback"]
        for _ in range(200):
            async with http.get(server.url + callback[callback.index("/api/") :]) as response:
                if response.status != 202:
                    rows = list(csv.reader(io.StringIO((await response.read()).decode())))
                    return sorted(row[2] for row in rows[1:])
            await asyncio.sleep(0.05)
        raise AssertionError("the export never finished")

    assert await exported_apps(admin) == [app]
    assert await exported_apps(tenant.token) == sorted([app, other])

    # GDPR: the access file and the erasure see the person of its app only
    reply = await call(
        http, server, "POST", "/api/gdpr/access_user_data", admin, json={"users": ["d0"], "skip_email": True}
    )
    callback = reply.json["result"]["callback_url"]
    for _ in range(200):
        state = (await call(http, server, "GET", callback[callback.index("/api/") :], admin)).json
        if state["status"] == "processed":
            break
        await asyncio.sleep(0.05)
    async with http.get(state["download_urls"]["d0"]) as response:
        document = json.loads(await response.read())
    assert [person["product"] for person in document["people"]] == [f"app of {tenant.email.split('@')[0]}"]
    reply = await call(
        http, server, "POST", "/api/gdpr/delete_user_data", admin, json={"users": ["d0"], "skip_email": True}
    )
    assert reply.status == 200
    left = await db.fetch(
        "SELECT product_id FROM devices WHERE account_id = $1 AND device_key = 'd0'", tenant.account_pk
    )
    assert [row["product_id"] for row in left] == [other_pk]

    # the tokens it makes are limited to its app too
    made = await gql(http, server, CREATE, {"name": "n", "permissions": ["READ"], "products": None}, admin)
    assert made.errors is None and made.data["createToken"]["token"]["productIds"] == [app]
    widened = await gql(
        http, server, CREATE, {"name": "n", "permissions": ["READ"], "products": [other]}, admin
    )
    assert widened.errors is not None and widened.errors[0]["extensions"]["code"] == "NOT_FOUND"
