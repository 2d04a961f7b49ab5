"""`updateEventDefinition` / `updatePropertyDefinition`: display name, description and visibility, checked,
shown by the graph and by KISSmetrics' Core API; tenancy and permissions as for other edits."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from gateway.db.pool import Database
from resolvers.node import to_global_id
from tests.adapters.kissmetrics.helpers import beacon
from tests.conftest import Server, Tenant, gql, new_tenant

DEFINITIONS = """
query($id: ID!) {
  node(id: $id) {
    ... on Product {
      eventDefinitions(first: 10) { nodes { id uuid name displayName description visible total } }
      properties(first: 10, scope: PERSON) { nodes { id uuid name displayName description visible dataType } }
    }
  }
}
"""
UPDATE_EVENT = """
mutation($id: ID!, $input: UpdateDefinitionInput!) {
  updateEventDefinition(id: $id, input: $input) { id uuid name displayName description visible total index }
}
"""
UPDATE_PROPERTY = """
mutation($id: ID!, $input: UpdateDefinitionInput!) {
  updatePropertyDefinition(id: $id, input: $input) { id uuid name displayName description visible dataType }
}
"""


async def _track(http: aiohttp.ClientSession, server: Server, tenant: Tenant) -> dict[str, Any]:
    """The tenant's definitions after a tracked event with a property."""
    await beacon(http, server, f"/e?_k={tenant.app_key}&_p=ann&_n=Signed%20Up&Plan=pro")
    return await _definitions(http, server, tenant)


async def _definitions(http: aiohttp.ClientSession, server: Server, tenant: Tenant) -> dict[str, Any]:
    """The product's event `signed up` and property `plan` as the graph shows them."""
    reply = await gql(http, server, DEFINITIONS, {"id": tenant.product_id}, tenant.token)
    assert reply.errors is None, reply.body
    product = reply.data["node"]
    event = next(e for e in product["eventDefinitions"]["nodes"] if e["name"] == "signed up")
    prop = next(p for p in product["properties"]["nodes"] if p["name"] == "plan")
    return {"event": event, "property": prop}


async def _core(http: aiohttp.ClientSession, server: Server, token: str, path: str) -> Any:
    async with http.get(server.url + path, headers={"Authorization": f"Bearer {token}"}) as response:
        assert response.status == 200, path
        return await response.json()


async def test_edits_show_in_the_graph_and_the_core_api(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant
) -> None:
    found = await _track(http, server, tenant)
    event, prop = found["event"], found["property"]
    assert (event["displayName"], event["description"], event["visible"]) == (None, None, True)

    changed = await gql(
        http,
        server,
        UPDATE_EVENT,
        {
            "id": event["id"],
            "input": {
                "displayName": "  Signed up (web)  ",
                "description": "First visit\nwith a form",
                "visible": False,
            },
        },
        tenant.token,
    )
    assert changed.errors is None, changed.body
    assert changed.data["updateEventDefinition"] == {
        **{k: event[k] for k in ("id", "uuid", "name", "total")},
        "displayName": "Signed up (web)",
        "description": "First visit\nwith a form",
        "visible": False,
        "index": 1,
    }
    changed = await gql(
        http,
        server,
        UPDATE_PROPERTY,
        {"id": prop["id"], "input": {"displayName": "Plan", "description": "Billing plan"}},
        tenant.token,
    )
    assert changed.errors is None, changed.body
    assert changed.data["updatePropertyDefinition"]["displayName"] == "Plan"
    assert changed.data["updatePropertyDefinition"]["visible"] is True  # omitted: unchanged

    # the Core API's objects, as a detail and in the product's lists
    detail = await _core(http, server, tenant.token, f"/core/events/{event['uuid']}")
    assert {k: detail["data"][k] for k in ("name", "display_name", "description", "is_visible")} == {
        "name": "signed up",
        "display_name": "Signed up (web)",
        "description": "First visit\nwith a form",
        "is_visible": False,
    }
    product_uuid = detail["data"]["product_id"]
    listed = await _core(http, server, tenant.token, f"/core/products/{product_uuid}/properties")
    plan = next(p for p in listed["data"] if p["id"] == prop["uuid"])
    assert (plan["display_name"], plan["description"], plan["is_visible"]) == ("Plan", "Billing plan", True)

    # later tracking calls keep the edits (the engine updates usage, not documentation)
    await beacon(http, server, f"/e?_k={tenant.app_key}&_p=bob&_n=signed%20up&plan=team")
    after = await _definitions(http, server, tenant)
    assert after["event"]["displayName"] == "Signed up (web)" and after["event"]["total"] == 2
    assert after["property"]["description"] == "Billing plan"

    # null or blank resets: the Core API shows the name again; visibility back on
    reset = await gql(
        http,
        server,
        UPDATE_EVENT,
        {"id": event["id"], "input": {"displayName": None, "description": "   ", "visible": True}},
        tenant.token,
    )
    assert reset.errors is None, reset.body
    row = reset.data["updateEventDefinition"]
    assert (row["displayName"], row["description"], row["visible"]) == (None, None, True)
    detail = await _core(http, server, tenant.token, f"/core/events/{event['uuid']}")
    assert detail["data"]["display_name"] == "signed up" and detail["data"]["description"] is None


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({}, "Nothing to update"),
        ({"displayName": "x" * 256}, "`displayName` is longer than 255 characters"),
        ({"displayName": "two\nlines"}, "`displayName` must be one line"),
        ({"displayName": "nul\u0000"}, "`displayName` must be one line"),
        ({"description": "d" * 2001}, "`description` is longer than 2000 characters"),
        ({"description": "bell\u0007"}, "`description` must not hold control characters"),
        ({"visible": None}, "`visible` must be true or false"),
    ],
)
async def test_invalid_changes_are_refused_by_name(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant, changes: dict[str, Any], message: str
) -> None:
    found = await _track(http, server, tenant)
    for mutation, definition in ((UPDATE_EVENT, found["event"]), (UPDATE_PROPERTY, found["property"])):
        reply = await gql(http, server, mutation, {"id": definition["id"], "input": changes}, tenant.token)
        assert reply.status == 200 and reply.data is None, reply.body
        assert reply.errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
        assert reply.errors[0]["message"].startswith(message), reply.errors
    unchanged = await _definitions(http, server, tenant)
    assert unchanged["event"]["displayName"] is None and unchanged["property"]["visible"] is True


async def test_other_accounts_ids_and_read_tokens(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant, db: Database
) -> None:
    found = await _track(http, server, tenant)
    other = await new_tenant(db)
    for mutation, kind, definition in (
        (UPDATE_EVENT, "EventDefinition", found["event"]),
        (UPDATE_PROPERTY, "PropertyDefinition", found["property"]),
    ):
        ids = [
            definition["id"],  # another account's definition
            str(to_global_id(kind, 10**12)),  # none at all
            str(to_global_id("Product", tenant.product_pk)),  # an id of another type
            "not-an-id",
        ]
        for id_ in ids:
            reply = await gql(
                http, server, mutation, {"id": id_, "input": {"displayName": "Mine"}}, other.token
            )
            assert reply.errors[0]["extensions"]["code"] == "NOT_FOUND", (id_, reply.body)
            assert reply.errors[0]["message"] == f"{kind} not found"
    # the owner's definitions are untouched
    after = await _definitions(http, server, tenant)
    assert after["event"]["displayName"] is None and after["property"]["displayName"] is None

    token = await gql(
        http,
        server,
        'mutation { createToken(name: "reader", permissions: [READ]) { secret } }',
        token=tenant.token,
    )
    assert token.errors is None, token.body
    refused = await gql(
        http,
        server,
        UPDATE_EVENT,
        {"id": found["event"]["id"], "input": {"visible": False}},
        token.data["createToken"]["secret"],
    )
    assert refused.errors[0]["extensions"]["code"] == "FORBIDDEN", refused.body
