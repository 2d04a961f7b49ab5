"""Bad input gets a clear error and never a 500: malformed JSON, wrong types, unknown ids, bad documents."""

from __future__ import annotations

import aiohttp
import pytest

from tests.conftest import Server, Tenant, gql


@pytest.mark.parametrize(
    ("body", "content_type", "status", "message"),
    [
        (b"{not json", "application/json", 400, "The request body is not valid JSON"),
        (b"[1, 2]", "application/json", 400, "The request body must be a JSON object"),
        (b'{"query": 5}', "application/json", 400, "`query` must be a string"),
        (
            b'{"query": "{ account { id } }", "variables": [1]}',
            "application/json",
            400,
            "`variables` must be an object",
        ),
        (b'{"variables": {}}', "application/json", 400, "`query` is missing"),
        (
            b"query=%7B%7D",
            "application/x-www-form-urlencoded",
            415,
            "Send the request as Content-Type: application/json",
        ),
        (b"\xff\xfe", "application/json", 400, "The request body is not valid JSON"),
    ],
)
async def test_malformed_requests(
    http: aiohttp.ClientSession,
    server: Server,
    tenant: Tenant,
    body: bytes,
    content_type: str,
    status: int,
    message: str,
) -> None:
    headers = {"Content-Type": content_type, "Authorization": f"Bearer {tenant.token}"}
    async with http.post(server.url + "/graphql", data=body, headers=headers) as response:
        assert response.status == status
        payload = await response.json()
        assert payload == {"errors": [{"message": message}]}


async def test_unknown_and_malformed_ids(http: aiohttp.ClientSession, server: Server, tenant: Tenant) -> None:
    for global_id in ["nope", "UHJvZHVjdDo5OTk5OTk5OTk=", "", "VW5rbm93bjox"]:
        reply = await gql(
            http, server, "query($id: ID!) { node(id: $id) { id } }", {"id": global_id}, tenant.token
        )
        assert reply.status == 200 and reply.data == {"node": None}, (global_id, reply.body)
    update = await gql(
        http,
        server,
        'mutation { updateProduct(id: "garbage", input: {name: "x"}) { id } }',
        token=tenant.token,
    )
    assert update.errors[0]["message"] == "Product not found"
    wrong_type = await gql(
        http,
        server,
        "mutation($id: ID!) { deleteReport(id: $id) { deletedId } }",
        {"id": tenant.product_id},
        tenant.token,
    )
    assert wrong_type.errors[0]["message"] == "Report not found"


async def test_wrong_variable_types_and_invalid_documents(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant
) -> None:
    wrong = await gql(
        http, server, "query($n: Int) { products(first: $n) { totalCount } }", {"n": "ten"}, tenant.token
    )
    assert wrong.status == 400 and "data" not in wrong.body
    assert "Int cannot represent" in wrong.errors[0]["message"]
    unknown_field = await gql(http, server, "{ account { nope } }", token=tenant.token)
    assert unknown_field.status == 400 and "data" not in unknown_field.body
    unparseable = await gql(http, server, "{ account { ", token=tenant.token)
    assert unparseable.status == 400 and unparseable.errors[0]["message"].startswith("Syntax Error")
    legacy = await gql(http, server, "{ account { nope } }", token=tenant.token, accept="application/json")
    assert legacy.status == 200 and "data" not in legacy.body
    huge_int = await gql(http, server, "{ products(first: 99999999999) { totalCount } }", token=tenant.token)
    assert huge_int.status == 400


async def test_unknown_route_and_method(http: aiohttp.ClientSession, server: Server) -> None:
    async with http.get(server.url + "/nothing-here") as response:
        assert response.status == 404
    async with http.put(server.url + "/graphql") as response:
        assert response.status == 405
