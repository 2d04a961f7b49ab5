"""Tenancy: a token of account A gets nothing of account B through any root field, node, nested field or mutation."""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp
import pytest

from gateway.db.pool import Database
from resolvers.node import to_global_id
from tests.conftest import Server, Tenant, gql, new_tenant
from tests.graph.seed import seed_product_tree


@dataclass
class Foreign:
    """Global ids of everything account B owns."""

    tenant: Tenant
    ids: dict[str, str]


@pytest.fixture
async def foreign(db: Database, http: aiohttp.ClientSession, server: Server) -> Foreign:
    b = await new_tenant(db)
    await seed_product_tree(db, b.account_pk, products=1, sessions_per_product=2, events_per_session=2)
    ids = {"Account": b.account_id, "Product": b.product_id}
    for table, type_name in [("devices", "Device"), ("sessions", "Session"), ("events", "Event")]:
        pk = await db.fetchval(f"SELECT min(id) FROM {table} WHERE account_id = $1", b.account_pk)
        ids[type_name] = str(to_global_id(type_name, pk))
    ids["ApiToken"] = str(
        to_global_id(
            "ApiToken", await db.fetchval("SELECT id FROM api_tokens WHERE account_id = $1", b.account_pk)
        )
    )
    created = await gql(
        http,
        server,
        """mutation($p: ID!) {
             createReport(input: {name: "r", type: "dashboard", productId: $p}) { id }
             createSegment(input: {productId: $p, identifier: "android", name: "Android", filter: {os: ["Android"]}}) { id }
             startExport(input: {productId: $p}) { id }
           }""",
        {"p": b.product_id},
        token=b.token,
    )
    assert created.errors is None, created.body
    ids["Report"] = created.data["createReport"]["id"]
    ids["Segment"] = created.data["createSegment"]["id"]
    ids["Export"] = created.data["startExport"]["id"]
    return Foreign(b, ids)


async def test_root_fields_show_only_own_account(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant, foreign: Foreign
) -> None:
    reply = await gql(
        http,
        server,
        """{ account { id products { nodes { id } } reports { totalCount } segments { totalCount }
                      exports { totalCount } tokens { totalCount } users { nodes { email } } }
             products { totalCount nodes { id } } reports { totalCount } segments { totalCount }
             exports { totalCount } }""",
        token=tenant.token,
    )
    assert reply.errors is None, reply.body
    data = reply.data
    assert data["account"]["id"] == tenant.account_id
    assert [p["id"] for p in data["products"]["nodes"]] == [tenant.product_id]
    assert [p["id"] for p in data["account"]["products"]["nodes"]] == [tenant.product_id]
    assert (
        data["reports"]["totalCount"] == data["segments"]["totalCount"] == data["exports"]["totalCount"] == 0
    )
    assert data["account"]["tokens"]["totalCount"] == 1
    assert [u["email"] for u in data["account"]["users"]["nodes"]] == [tenant.email]


async def test_node_of_another_account_is_null(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant, foreign: Foreign
) -> None:
    for type_name, global_id in foreign.ids.items():
        reply = await gql(
            http, server, "query($id: ID!) { node(id: $id) { id } }", {"id": global_id}, tenant.token
        )
        assert reply.status == 200 and reply.errors is None, (type_name, reply.body)
        assert reply.data == {"node": None}, type_name
        # the owner does see it
        own = await gql(
            http, server, "query($id: ID!) { node(id: $id) { id } }", {"id": global_id}, foreign.tenant.token
        )
        assert own.data == {"node": {"id": global_id}}, (type_name, own.body)
    many = await gql(
        http,
        server,
        "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
        {"ids": list(foreign.ids.values())},
        tenant.token,
    )
    assert many.data == {"nodes": [None] * len(foreign.ids)}


async def test_nested_fields_never_cross_accounts(
    http: aiohttp.ClientSession, server: Server, db: Database, tenant: Tenant, foreign: Foreign
) -> None:
    # a session of A's product pointing at B's device must not reveal B's device (foreign keys are not trusted)
    b_device = await db.fetchval(
        "SELECT min(id) FROM devices WHERE account_id = $1", foreign.tenant.account_pk
    )
    await db.execute(
        "INSERT INTO sessions (account_id, product_id, device_id, started_at) VALUES ($1, $2, $3, now())",
        tenant.account_pk,
        tenant.product_pk,
        b_device,
    )
    reply = await gql(
        http,
        server,
        "{ products { nodes { sessions { nodes { device { id deviceId } } } } } }",
        token=tenant.token,
    )
    # the device is not visible: the non-null field fails as not found, and nothing of B is in the reply
    assert reply.errors[0]["extensions"]["code"] == "NOT_FOUND", reply.body
    assert reply.errors[0]["path"][-1] == "device"
    assert "dev-" not in str(reply.body)


MUTATIONS = [
    ("Product", 'mutation($id: ID!) { updateProduct(id: $id, input: {name: "x"}) { id } }'),
    ("Product", "mutation($id: ID!) { deleteProduct(id: $id) { deletedId } }"),
    ("Report", 'mutation($id: ID!) { updateReport(id: $id, input: {name: "x"}) { id } }'),
    ("Report", "mutation($id: ID!) { deleteReport(id: $id) { deletedId } }"),
    ("Segment", 'mutation($id: ID!) { updateSegment(id: $id, input: {name: "x"}) { id } }'),
    ("Segment", "mutation($id: ID!) { deleteSegment(id: $id) { deletedId } }"),
    ("ApiToken", "mutation($id: ID!) { deleteToken(id: $id) { deletedId } }"),
    ("Account", "mutation($id: ID!) { deleteAccount(id: $id) { deletedId } }"),
    ("Product", 'mutation($id: ID!) { createReport(input: {name: "r", type: "t", productId: $id}) { id } }'),
    (
        "Product",
        'mutation($id: ID!) { createSegment(input: {productId: $id, identifier: "s", name: "s"}) { id } }',
    ),
    ("Product", "mutation($id: ID!) { startExport(input: {productId: $id}) { id } }"),
    (
        "Product",
        'mutation($id: ID!) { recordEvents(productId: $id, deviceId: "d", events: [{key: "k"}]) { outcome } }',
    ),
]


@pytest.mark.parametrize(("type_name", "mutation"), MUTATIONS)
async def test_mutations_on_another_account_are_not_found(
    http: aiohttp.ClientSession,
    server: Server,
    db: Database,
    tenant: Tenant,
    foreign: Foreign,
    type_name: str,
    mutation: str,
) -> None:
    reply = await gql(http, server, mutation, {"id": foreign.ids[type_name]}, token=tenant.token)
    assert reply.data is None or all(v is None for v in reply.data.values()), reply.body
    assert reply.errors[0]["extensions"]["code"] == "NOT_FOUND", reply.body
    assert reply.errors[0]["message"] == f"{type_name} not found"
    # B's objects are untouched
    counts = await db.fetchrow(
        """SELECT (SELECT count(*) FROM products WHERE account_id = $1 AND name <> 'x') AS products,
                  (SELECT count(*) FROM reports WHERE account_id = $1 AND name = 'r') AS reports,
                  (SELECT count(*) FROM segments WHERE account_id = $1 AND name = 'Android') AS segments,
                  (SELECT count(*) FROM api_tokens WHERE account_id = $1) AS tokens,
                  (SELECT count(*) FROM events WHERE account_id = $1) AS events""",
        foreign.tenant.account_pk,
    )
    assert dict(counts) == {"products": 2, "reports": 1, "segments": 1, "tokens": 1, "events": 4}
    mine = await db.fetchrow(
        "SELECT (SELECT count(*) FROM reports WHERE account_id = $1) + (SELECT count(*) FROM segments WHERE account_id = $1) AS n",
        tenant.account_pk,
    )
    assert mine["n"] == 0


async def test_missing_or_invalid_token_is_401_json(http: aiohttp.ClientSession, server: Server) -> None:
    for headers in ({}, {"Authorization": "Bearer agw_not-a-token"}, {"Authorization": "Basic abc"}):
        async with http.post(
            server.url + "/graphql", json={"query": "{ account { id } }"}, headers=headers
        ) as r:
            assert r.status == 401
            assert r.content_type == "application/json"
            body = await r.json()
            assert "data" not in body
            assert body["errors"][0]["message"].startswith(("Authentication required", "Invalid token"))
            assert r.headers["WWW-Authenticate"].startswith("Bearer")


async def test_rows_pointing_at_another_account_reveal_nothing_of_it(
    http: aiohttp.ClientSession, server: Server, db: Database, tenant: Tenant, foreign: Foreign
) -> None:
    """Rows of A that name B's rows (events and sessions carry no foreign key to devices; a row written wrongly
    or by hand) are read as if B's rows did not exist, whichever way a list is built (PostgreSQL's JSON or
    Python's objects), and count nothing of B's for A."""
    b = foreign.tenant.account_pk
    b_device = await db.fetchval("SELECT min(id) FROM devices WHERE account_id = $1", b)
    a_device = await db.fetchval(
        """INSERT INTO devices (account_id, product_id, device_key, first_seen, last_seen)
           VALUES ($1, $2, 'mine', now(), now()) RETURNING id""",
        tenant.account_pk,
        tenant.product_pk,
    )
    await db.execute(
        """INSERT INTO events (account_id, product_id, device_id, key, occurred_at) VALUES ($1, $2, $3, 'k', now())""",
        tenant.account_pk,
        tenant.product_pk,
        b_device,
    )
    # B's rows naming A's product and A's person: not A's data
    await db.execute(
        """INSERT INTO events (account_id, product_id, device_id, key, occurred_at) VALUES ($1, $2, $3, 'b', now())""",
        b,
        tenant.product_pk,
        a_device,
    )
    await db.execute(
        "INSERT INTO sessions (account_id, product_id, device_id, started_at) VALUES ($1, $2, $3, now())",
        b,
        tenant.product_pk,
        b_device,
    )
    events = await gql(
        http,
        server,
        """{ products { nodes { hasData events { nodes { key deviceId } }
                                devices(where: {events: [{key: "b"}]}) { nodes { deviceId } } } } }""",
        token=tenant.token,
    )
    assert events.errors is None, events.body
    [product] = events.data["products"]["nodes"]
    assert product["events"]["nodes"] == [{"key": "k", "deviceId": None}]
    assert product["devices"]["nodes"] == [] and product["hasData"] is True  # A's own event
    await db.execute(
        "DELETE FROM events WHERE account_id = $1 AND product_id = $2", tenant.account_pk, tenant.product_pk
    )
    await db.execute(
        "INSERT INTO sessions (account_id, product_id, device_id, started_at) VALUES ($1, $2, $3, now())",
        tenant.account_pk,
        tenant.product_pk,
        b_device,
    )
    sessions = await gql(
        http, server, "{ products { nodes { hasData sessions { nodes { deviceId } } } } }", token=tenant.token
    )
    # the session's device is not found (a non-null field fails), and nothing of B is in the reply
    assert sessions.errors and sessions.errors[0]["extensions"]["code"] == "NOT_FOUND", sessions.body
    assert "dev-" not in str(sessions.body)
    await db.execute("DELETE FROM sessions WHERE account_id = $1", tenant.account_pk)
    alone = await gql(http, server, "{ products { nodes { hasData } } }", token=tenant.token)
    assert alone.data["products"]["nodes"] == [{"hasData": False}]  # B's session of A's product is not A's
