"""The graph answers the caller's account, products and nested relations over real HTTP."""

from __future__ import annotations

import aiohttp

from tests.conftest import Server, Tenant, gql


async def test_account_and_products(http: aiohttp.ClientSession, server: Server, tenant: Tenant) -> None:
    reply = await gql(
        http,
        server,
        "{ account { id name products { totalCount nodes { id appKey timezone } } } }",
        token=tenant.token,
    )
    assert reply.status == 200, reply.body
    assert reply.errors is None
    account = reply.data["account"]
    assert account["id"] == tenant.account_id
    assert account["products"]["totalCount"] == 1
    assert account["products"]["nodes"][0] == {
        "id": tenant.product_id,
        "appKey": tenant.app_key,
        "timezone": "UTC",
    }
