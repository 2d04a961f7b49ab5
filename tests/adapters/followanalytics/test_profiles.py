"""Systems of records: the official Ruby gem's attribute sync, byte for byte, then the attributes read back
through customer profiles (JSON and export), the v3 attribute values, the graph and KISSmetrics' Core API: one
people model for every vendor."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from typing import Any

import aiohttp

from gateway.db.pool import Database
from tests.adapters.followanalytics.helpers import call
from tests.adapters.followanalytics.test_exports import _download
from tests.conftest import Server, Tenant, gql

SOR = "SOR-SDK_2a116e9c"


async def gem_request(server: Server, api_key: str, values: list[dict[str, Any]]) -> tuple[int, bytes]:
    """`Followanalytics::Attributes::Client#send_attributes` as the gem sends it: Oj.dump of the body (compact,
    keys in insertion order), RestClient.post with `content_type: :json` (rest-client 2.1 on Net::HTTP: its
    default Accept, User-Agent and Accept-Encoding), no Authorization header."""
    body = json.dumps(
        {"sor": SOR, "api_key": api_key, "customer_attribute_values": values}, separators=(",", ":")
    ).encode()
    host = server.url.removeprefix("http://")
    head = (
        "POST /api/attribute_values HTTP/1.1\r\n"
        "Accept: */*\r\n"
        "User-Agent: rest-client/2.1.0 (linux-gnu x86_64) ruby/2.7.0p0\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Accept-Encoding: gzip;q=1.0,deflate;q=0.6,identity;q=0.3\r\n"
        f"Host: {host}\r\n"
        "\r\n"
    ).encode()
    address, port = host.split(":")
    reader, writer = await asyncio.open_connection(address, int(port))
    writer.write(head + body)
    await writer.drain()
    response = await reader.read(65536)
    writer.close()
    status_line, _, rest = response.partition(b"\r\n")
    return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2]


def attribute(key: str, value: Any, customer: str, action: str | None = None) -> dict[str, Any]:
    found = {
        "attribute_key": key,
        "attribute_value": value,
        "customer_id": customer,
        "customer_id_type": "user_id",
    }
    if action is not None:
        found["action_type"] = action
    return found


async def test_the_gems_attribute_sync_reads_back_everywhere(
    http: aiohttp.ClientSession, server: Server, db: Database, tenant: Tenant
) -> None:
    for values in (
        [attribute("favorite_team", "PSG", "tim")],
        [attribute("first_name", "Tim", "tim")],
        [attribute("sports", "football", "tim", "ADD")],
        [attribute("sports", "tennis", "tim", "ADD")],
        [attribute("sports", "golf", "tim", "ADD")],
        [attribute("sports", "tennis", "tim", "REMOVE")],
        [attribute("to_forget", "x", "tim")],
        [attribute("to_forget", None, "tim")],
    ):
        status, body = await gem_request(server, tenant.app_key, values)
        assert status == 200, body
        assert json.loads(body) == {"success": True, "result": {"attribute_values": 1}}
    # customer profiles
    reply = await call(http, server, "GET", "/api/customer_profiles?customer_ids=tim", tenant.token)
    assert reply.status == 200, reply.text
    result = reply.json["result"]
    assert result["total_profiles"] == 1 and result["total_pages"] == 1
    assert result["profiles"] == [
        {
            "customer_id": "tim",
            "customer_id_type": "user_id",
            "attributes": {
                "global": {},
                SOR: {"favorite_team": "PSG", "first_name": "Tim", "sports": ["football", "golf"]},
            },
            "applications": [tenant.product_id],
        }
    ]
    only = await call(
        http, server, "GET", "/api/customer_profiles?attribute_keys=favorite_team", tenant.token
    )
    assert only.json["result"]["profiles"][0]["attributes"] == {"global": {}, SOR: {"favorite_team": "PSG"}}
    none = await call(http, server, "GET", "/api/customer_profiles?attribute_keys=nothing", tenant.token)
    assert none.json["result"]["profiles"] == []
    # v3
    reply = await call(
        http,
        server,
        "GET",
        f"/api/attribute_values?sor_id={SOR}&customer_id=tim&customer_type=user_id",
        tenant.token,
        headers={"Accept": "application/vnd.fa.v3"},
    )
    assert reply.json == {
        "customer_id": "tim",
        "customer_id_type": "user_id",
        "attribute_values": {"favorite_team": "PSG", "first_name": "Tim", "sports": ["football", "golf"]},
    }
    # the graph: the same person's property values, in the SOR
    found = await gql(
        http,
        server,
        'query ($p: ID!) { node(id: $p) { ... on Product { person(identity: "tim") { propertyValues(source: null) { name source value } } } } }',
        {"p": tenant.product_id},
        tenant.token,
    )
    values = {(v["source"], v["name"]): v["value"] for v in found.data["node"]["person"]["propertyValues"]}
    assert values == {
        (SOR, "favorite_team"): "PSG",
        (SOR, "first_name"): "Tim",
        (SOR, "sports"): ["football", "golf"],
    }
    # KISSmetrics' Core API: the product's people properties are the same definitions
    product_uuid = await db.fetchval("SELECT uuid FROM products WHERE id = $1", tenant.product_pk)
    async with http.get(
        f"{server.url}/core/products/{product_uuid}/properties?limit=100",
        headers={"Authorization": f"Bearer {tenant.token}", "Accept": "application/json"},
    ) as response:
        properties = json.loads(await response.text())
    names = {p["name"] for p in properties["data"]}
    assert {"favorite_team", "first_name", "sports"} <= names and "to_forget" in names
    # the export: one row per profile
    reply = await call(http, server, "GET", "/api/customer_profiles/export.csv?skip_email=true", tenant.token)
    _, _, body = await _download(http, reply.json["result"]["callback"])
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    assert [(r["customer_id"], r["customer_id_type"], r["application"]) for r in rows] == [
        ("tim", "user_id", tenant.product_id)
    ]
    assert json.loads(rows[0]["attributes"]) == {
        SOR: {"favorite_team": "PSG", "first_name": "Tim", "sports": ["football", "golf"]}
    }


async def test_attribute_sync_errors_and_keys(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant
) -> None:
    status, body = await gem_request(server, "not-a-key", [attribute("a", "b", "tim")])
    assert (
        status == 401
        and json.loads(body)["message"] == "You need to sign in or provide a valid authentication token."
    )
    for values, message in (
        ([], "customer_attribute_values must list 1 to 1000 attribute values"),
        ([{"attribute_value": 1, "customer_id": "x"}], "customer_attribute_values[0]: missing attribute_key"),
        (
            [attribute("a", 1, "x", "TOGGLE")],
            "customer_attribute_values[0]: action_type must be ADD or REMOVE",
        ),
        ([attribute("a", None, "x", "ADD")], "customer_attribute_values[0]: ADD needs an attribute_value"),
    ):
        status, body = await gem_request(server, tenant.app_key, values)
        assert (status, json.loads(body)) == (
            400,
            {"success": False, "status": 400, "message": message, "error_message": message},
        )
    # an API token works too: the customer goes to the account's apps that know them, or its first app
    status, _ = await gem_request(server, tenant.token, [attribute("city", "Paris", "new-customer")])
    assert status == 200
    reply = await call(http, server, "GET", "/api/customer_profiles?customer_ids=new-customer", tenant.token)
    assert reply.json["result"]["profiles"][0]["attributes"][SOR] == {"city": "Paris"}
