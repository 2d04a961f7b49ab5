"""`nodeByUuid`: an object of the caller's by its UUID, whatever its type; found once, remembered by each process
(resolvers/node.py), which must change nothing a client can see: another account's UUID stays unknown, a
deleted object is gone, an object of another type is not taken for the one asked."""

from __future__ import annotations

import aiohttp

from gateway.db.pool import Database
from tests.conftest import Server, Tenant, gql, new_tenant

BY_UUID = "query($u: UUID!) { nodeByUuid(uuid: $u) { __typename id ... on Report { name } } }"


async def test_found_remembered_and_still_scoped(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant, db: Database
) -> None:
    created = await gql(
        http,
        server,
        'mutation { createReport(input: {name: "Weekly", type: "custom"}) { id uuid } }',
        token=tenant.token,
    )
    assert created.errors is None, created.body
    report = created.data["createReport"]
    other = await new_tenant(db)

    for _ in range(2):  # found, then remembered
        mine = await gql(http, server, BY_UUID, {"u": report["uuid"]}, tenant.token)
        assert mine.data["nodeByUuid"] == {"__typename": "Report", "id": report["id"], "name": "Weekly"}
        # another account's token, before and after the owner's lookups were remembered
        theirs = await gql(http, server, BY_UUID, {"u": report["uuid"]}, other.token)
        assert theirs.data == {"nodeByUuid": None}

    product_uuid = await db.fetchval("SELECT uuid::text FROM products WHERE id = $1", tenant.product_pk)
    product = await gql(http, server, BY_UUID, {"u": product_uuid}, tenant.token)
    assert product.data["nodeByUuid"]["__typename"] == "Product"

    deleted = await gql(
        http,
        server,
        "mutation($id: ID!) { deleteReport(id: $id) { deletedId } }",
        {"id": report["id"]},
        tenant.token,
    )
    assert deleted.errors is None, deleted.body
    gone = await gql(http, server, BY_UUID, {"u": report["uuid"]}, tenant.token)
    assert gone.data == {"nodeByUuid": None}
    unknown = await gql(http, server, BY_UUID, {"u": "00000000-0000-4000-8000-000000000000"}, tenant.token)
    assert unknown.data == {"nodeByUuid": None}
