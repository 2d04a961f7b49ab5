"""Tokens limited to some products: nothing of the account's other products is read, changed, deleted or
downloaded through them, whichever id the client names (global ids, UUIDs, export ids), and nothing of the
account as a whole (the account itself, wider tokens, exports and requests over every product)."""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp
import pytest

from gateway.db.pool import Database
from resolvers.node import pk_of, to_global_id
from tests.conftest import Server, Tenant, gql

CREATE_TOKEN = """mutation($permissions: [Permission!]!, $products: [ID!]) {
  createToken(name: "limited", permissions: $permissions, productIds: $products) { secret token { id } } }"""


@dataclass
class Scoped:
    """An account with products A (the tenant's) and B, a token limited to A, and objects of each product."""

    tenant: Tenant
    token: str
    token_id: str
    b_pk: int
    ids: dict[str, dict[str, str]]  # product ("a", "b") -> type name -> global id

    @property
    def b_id(self) -> str:
        return str(to_global_id("Product", self.b_pk))


async def _objects(
    db: Database, http: aiohttp.ClientSession, server: Server, tenant: Tenant, pk: int
) -> dict[str, str]:
    """A segment, a report, definitions and a report run of product `pk`, made with the account's own token."""
    product_id = str(to_global_id("Product", pk))
    made = await gql(
        http,
        server,
        """mutation($p: ID!) {
             createSegment(input: {productId: $p, identifier: "ios", name: "iOS", filter: {os: ["iOS"]}}) { id }
             createReport(input: {name: "r", type: "dashboard", productId: $p}) { id }
           }""",
        {"p": product_id},
        token=tenant.token,
    )
    assert made.errors is None, made.body
    event = await db.fetchval(
        "INSERT INTO event_definitions (account_id, product_id, name) VALUES ($1, $2, 'tap') RETURNING id",
        tenant.account_pk,
        pk,
    )
    prop = await db.fetchval(
        """INSERT INTO property_definitions (account_id, product_id, scope, name)
           VALUES ($1, $2, 'device', 'plan') RETURNING id""",
        tenant.account_pk,
        pk,
    )
    report_pk = pk_of(made.data["createReport"]["id"], "Report")
    run = await db.fetchval(
        """INSERT INTO report_runs (account_id, report_id, product_id, definition, starts_at, ends_at, status)
           VALUES ($1, $2, $3, '{}', now(), now(), 'finished') RETURNING id""",
        tenant.account_pk,
        report_pk,
        pk,
    )
    return {
        "Product": product_id,
        "Segment": made.data["createSegment"]["id"],
        "Report": made.data["createReport"]["id"],
        "EventDefinition": str(to_global_id("EventDefinition", event)),
        "PropertyDefinition": str(to_global_id("PropertyDefinition", prop)),
        "ReportRun": str(to_global_id("ReportRun", run)),
    }


@pytest.fixture
async def scoped(db: Database, http: aiohttp.ClientSession, server: Server, tenant: Tenant) -> Scoped:
    b_pk = await db.fetchval(
        "INSERT INTO products (account_id, name, app_key) VALUES ($1, 'b', md5(random()::text)) RETURNING id",
        tenant.account_pk,
    )
    ids = {
        "a": await _objects(db, http, server, tenant, tenant.product_pk),
        "b": await _objects(db, http, server, tenant, b_pk),
    }
    made = await gql(
        http, server, CREATE_TOKEN, {"permissions": ["ADMIN"], "products": [tenant.product_id]}, tenant.token
    )
    assert made.errors is None, made.body
    secret, token_id = made.data["createToken"]["secret"], made.data["createToken"]["token"]["id"]
    return Scoped(tenant, secret, token_id, b_pk, ids)


CHANGES = [
    ("Segment", 'mutation($id: ID!) { updateSegment(id: $id, input: {name: "x"}) { id } }'),
    ("Segment", "mutation($id: ID!) { deleteSegment(id: $id) { deletedId } }"),
    ("Report", 'mutation($id: ID!) { updateReport(id: $id, input: {name: "x"}) { id } }'),
    ("Report", "mutation($id: ID!) { deleteReport(id: $id) { deletedId } }"),
    (
        "EventDefinition",
        'mutation($id: ID!) { updateEventDefinition(id: $id, input: {displayName: "x"}) { id } }',
    ),
    (
        "PropertyDefinition",
        'mutation($id: ID!) { updatePropertyDefinition(id: $id, input: {displayName: "x"}) { id } }',
    ),
    ("Product", 'mutation($id: ID!) { updateProduct(id: $id, input: {name: "x"}) { id } }'),
    ("Product", "mutation($id: ID!) { deleteProduct(id: $id) { deletedId } }"),
    ("ReportRun", "mutation($id: ID!) { pollReportRun(id: $id) { id } }"),
]


async def _state(db: Database, scoped: Scoped, pk: int) -> dict[str, object]:
    """What the mutations above may change of product `pk`'s objects."""
    row = await db.fetchrow(
        """SELECT (SELECT array_agg(name ORDER BY id) FROM products WHERE id = $2) AS products,
                  (SELECT array_agg(name ORDER BY id) FROM segments WHERE product_id = $2) AS segments,
                  (SELECT array_agg(name ORDER BY id) FROM reports WHERE product_id = $2) AS reports,
                  (SELECT array_agg(display_name ORDER BY id) FROM event_definitions WHERE product_id = $2) AS events,
                  (SELECT array_agg(display_name ORDER BY id) FROM property_definitions WHERE product_id = $2)
                    AS properties,
                  (SELECT array_agg(polls ORDER BY id) FROM report_runs WHERE product_id = $2) AS polls
           FROM accounts WHERE id = $1""",
        scoped.tenant.account_pk,
        pk,
    )
    return dict(row)


@pytest.mark.parametrize(("type_name", "mutation"), CHANGES)
async def test_a_limited_token_changes_nothing_of_another_product(
    http: aiohttp.ClientSession, server: Server, db: Database, scoped: Scoped, type_name: str, mutation: str
) -> None:
    before = await _state(db, scoped, scoped.b_pk)
    reply = await gql(http, server, mutation, {"id": scoped.ids["b"][type_name]}, scoped.token)
    assert reply.errors and reply.errors[0]["extensions"]["code"] == "NOT_FOUND", reply.body
    assert reply.errors[0]["message"] == f"{type_name} not found"
    assert "iOS" not in str(reply.body)
    assert await _state(db, scoped, scoped.b_pk) == before
    # the same change of its own product's object is made
    own = await gql(http, server, mutation, {"id": scoped.ids["a"][type_name]}, scoped.token)
    assert own.errors is None, own.body


async def test_a_limited_token_makes_no_account_wide_report(
    http: aiohttp.ClientSession, server: Server, db: Database, scoped: Scoped
) -> None:
    wide = 'mutation { createReport(input: {name: "wide", type: "dashboard"}) { id } }'
    made = await gql(http, server, wide, token=scoped.token)
    assert made.errors and made.errors[0]["extensions"]["code"] == "FORBIDDEN", made.body
    made_any = "SELECT count(*) FROM reports WHERE account_id = $1 AND name = 'wide'"
    assert await db.fetchval(made_any, scoped.tenant.account_pk) == 0
    # the account's own token makes one
    assert (await gql(http, server, wide, token=scoped.tenant.token)).errors is None


async def test_a_limited_token_neither_deletes_nor_renames_the_account(
    http: aiohttp.ClientSession, server: Server, db: Database, scoped: Scoped
) -> None:
    account = scoped.tenant.account_id
    deleted = await gql(
        http,
        server,
        "mutation($id: ID!) { deleteAccount(id: $id) { deletedId } }",
        {"id": account},
        scoped.token,
    )
    assert deleted.errors and deleted.errors[0]["extensions"]["code"] == "FORBIDDEN", deleted.body
    renamed = await gql(
        http, server, 'mutation { updateAccount(name: "taken over") { name } }', token=scoped.token
    )
    assert renamed.errors and renamed.errors[0]["extensions"]["code"] == "FORBIDDEN", renamed.body
    row = await db.fetchrow("SELECT name FROM accounts WHERE id = $1", scoped.tenant.account_pk)
    assert row is not None and row["name"] != "taken over"


async def test_a_limited_token_lists_no_logins_of_the_account(
    http: aiohttp.ClientSession, server: Server, db: Database, scoped: Scoped
) -> None:
    await db.execute(
        "INSERT INTO users (account_id, email, password_hash) VALUES ($1, 'owner@example.com', 'x')",
        scoped.tenant.account_pk,
    )
    query = "{ account { users { nodes { email } } } }"
    whole = await gql(http, server, query, token=scoped.tenant.token)
    assert whole.errors is None and {"email": "owner@example.com"} in whole.data["account"]["users"]["nodes"]
    limited = await gql(http, server, query, token=scoped.token)
    assert limited.errors and limited.errors[0]["extensions"]["code"] == "FORBIDDEN", limited.body
    assert "owner@example.com" not in str(limited.body)


async def test_a_limited_token_manages_only_tokens_within_its_products(
    http: aiohttp.ClientSession, server: Server, db: Database, scoped: Scoped
) -> None:
    wide = (await gql(http, server, "{ viewer { token { id } } }", token=scoped.tenant.token)).data["viewer"][
        "token"
    ]["id"]
    narrower = await gql(
        http, server, CREATE_TOKEN, {"permissions": ["READ"], "products": None}, scoped.token
    )
    narrower_id = narrower.data["createToken"]["token"]["id"]
    listed = await gql(http, server, "{ account { tokens { nodes { id } } } }", token=scoped.token)
    assert listed.errors is None, listed.body
    assert {t["id"] for t in listed.data["account"]["tokens"]["nodes"]} == {scoped.token_id, narrower_id}
    seen = await gql(http, server, "query($id: ID!) { node(id: $id) { id } }", {"id": wide}, scoped.token)
    assert seen.data == {"node": None}
    revoked = await gql(
        http, server, "mutation($id: ID!) { deleteToken(id: $id) { deletedId } }", {"id": wide}, scoped.token
    )
    assert revoked.errors and revoked.errors[0]["extensions"]["code"] == "NOT_FOUND", revoked.body
    assert (await gql(http, server, "{ viewer { permissions } }", token=scoped.tenant.token)).status == 200
    # tokens within its products it does revoke, itself included
    for token_id in (narrower_id, scoped.token_id):
        done = await gql(
            http,
            server,
            "mutation($id: ID!) { deleteToken(id: $id) { deletedId } }",
            {"id": token_id},
            scoped.token,
        )
        assert done.errors is None, done.body
    assert (await gql(http, server, "{ viewer { permissions } }", token=scoped.token)).status == 401


async def _finished_export(db: Database, scoped: Scoped, kind: str, **columns: object) -> str:
    """A finished export of the account (as made by its unlimited token), with a one-chunk file."""
    names = ["account_id", "product_id", "kind", "format", "status", "size", "hash", *columns]
    values = [
        scoped.tenant.account_pk,
        scoped.tenant.product_pk,
        kind,
        "json",
        "finished",
        2,
        "h",
        *columns.values(),
    ]
    pk = await db.fetchval(
        f"INSERT INTO exports ({', '.join(names)}) VALUES ({', '.join(f'${i + 1}' for i in range(len(values)))}) "
        "RETURNING id",
        *values,
    )
    await db.execute("INSERT INTO export_chunks (export_id, seq, data) VALUES ($1, 0, '[]')", pk)
    return str(to_global_id("Export", pk))


async def test_a_limited_token_reads_no_export_over_other_products(
    http: aiohttp.ClientSession, server: Server, db: Database, scoped: Scoped
) -> None:
    a, b = scoped.tenant.product_pk, scoped.b_pk
    own = await _finished_export(db, scoped, "events")
    both = await _finished_export(db, scoped, "product_days", product_ids=[a, b])
    everyone = await _finished_export(
        db, scoped, "devices", filter={"account_people": scoped.tenant.account_pk}
    )
    everyone_of_a = await _finished_export(
        db, scoped, "devices", filter={"account_people": scoped.tenant.account_pk, "scope": [a]}
    )
    person = await _finished_export(db, scoped, "person", filter={"identity": "d0", "products": None})
    person_of_a = await _finished_export(db, scoped, "person", filter={"identity": "d0", "products": [a]})
    visible, hidden = [own, everyone_of_a, person_of_a], [both, everyone, person]

    listed = await gql(
        http,
        server,
        "{ exports(first: 100) { nodes { id } } account { exports(first: 100) { nodes { id } } } }",
        token=scoped.token,
    )
    assert listed.errors is None, listed.body
    assert {e["id"] for e in listed.data["exports"]["nodes"]} == set(visible)
    assert {e["id"] for e in listed.data["account"]["exports"]["nodes"]} == set(visible)
    products = await gql(
        http,
        server,
        "query($p: ID!) { node(id: $p) { ... on Product { exports(first: 100) { nodes { id } } } } }",
        {"p": scoped.tenant.product_id},
        scoped.token,
    )
    assert {e["id"] for e in products.data["node"]["exports"]["nodes"]} == set(visible)
    nodes = await gql(
        http,
        server,
        "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
        {"ids": visible + hidden},
        scoped.token,
    )
    assert nodes.data == {"nodes": [{"id": i} for i in visible] + [None] * len(hidden)}

    for export_id, status in [(i, 200) for i in visible] + [(i, 404) for i in hidden]:
        for token in (scoped.token, scoped.tenant.token):
            async with http.get(
                f"{server.url}/exports/{export_id}/download", headers={"Authorization": f"Bearer {token}"}
            ) as response:
                expected = 200 if token == scoped.tenant.token else status
                assert response.status == expected, (export_id, token == scoped.token)


async def test_a_limited_token_does_not_follow_a_request_over_every_product(
    http: aiohttp.ClientSession, server: Server, scoped: Scoped
) -> None:
    asked = """mutation($p: ID) { requestPersonData(identities: ["d0"], productId: $p) { uuid } }"""
    wide = await gql(http, server, asked, {"p": None}, scoped.tenant.token)
    narrow = await gql(http, server, asked, {"p": scoped.tenant.product_id}, scoped.tenant.token)
    assert wide.errors is None and narrow.errors is None, (wide.body, narrow.body)
    follow = "query($u: UUID!) { personRequest(uuid: $u) { uuid files { identity downloadLink } } }"
    for request, visible in ((wide, False), (narrow, True)):
        uuid = request.data["requestPersonData"]["uuid"]
        seen = await gql(http, server, follow, {"u": uuid}, scoped.token)
        assert seen.errors is None, seen.body
        assert (seen.data["personRequest"] is not None) is visible, seen.body
        assert (await gql(http, server, follow, {"u": uuid}, scoped.tenant.token)).data["personRequest"]


async def test_a_limited_token_follows_only_erasures_within_its_products(
    http: aiohttp.ClientSession, server: Server, scoped: Scoped
) -> None:
    erase = """mutation($p: ID) { erasePeople(identities: ["nobody"], productId: $p) { uuid asked } }"""
    wide = await gql(http, server, erase, {"p": None}, scoped.tenant.token)
    other = await gql(http, server, erase, {"p": scoped.b_id}, scoped.tenant.token)
    narrow = await gql(http, server, erase, {"p": scoped.tenant.product_id}, scoped.tenant.token)
    own = await gql(http, server, erase, {"p": None}, scoped.token)
    follow = "query($u: UUID!) { personRequest(uuid: $u) { uuid asked erased } }"
    for request, visible in ((wide, False), (other, False), (narrow, True), (own, True)):
        assert request.errors is None, request.body
        uuid = request.data["erasePeople"]["uuid"]
        seen = await gql(http, server, follow, {"u": uuid}, scoped.token)
        assert seen.errors is None, seen.body
        assert (seen.data["personRequest"] is not None) is visible, seen.body
        assert (await gql(http, server, follow, {"u": uuid}, scoped.tenant.token)).data["personRequest"]
