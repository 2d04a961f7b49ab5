"""Countly's user details are the person's properties (`person_properties`): read back as `Device.properties`
and as the `properties` column of device exports, merged with the device an `old_device_id` joins, and kept in
no column of `devices` (migration 047 dropped the empty leftover the engine still read and wrote)."""

from __future__ import annotations

import csv
import io
import json

import aiohttp

from gateway.db.pool import Database
from tests.adapters.countly.helpers import get
from tests.conftest import Server, Tenant, gql
from tests.graph.test_exports import _finished

DEVICES = """
query ($p: ID!) { node(id: $p) { ... on Product { devices(first: 10) { nodes { deviceId properties } } } } }
"""


async def test_user_details_are_the_persons_properties(
    http: aiohttp.ClientSession, server: Server, db: Database, tenant: Tenant
) -> None:
    assert not await db.fetchval(
        "SELECT count(*) FROM information_schema.columns WHERE table_name = 'devices' AND column_name = 'properties'"
    )
    details = {"name": "Ann", "custom": {"plan": "pro", "seats": 3}}
    answer = await get(
        http, server, "/i", app_key=tenant.app_key, device_id="old", user_details=json.dumps(details)
    )
    assert answer.status == 200
    details = {"email": "ann@example.com", "custom": {"plan": "team"}}
    answer = await get(
        http, server, "/i", app_key=tenant.app_key, device_id="new", user_details=json.dumps(details)
    )
    assert answer.status == 200
    # the old device joins the new one: its details join the new one's (the later value of a name wins)
    answer = await get(http, server, "/i", app_key=tenant.app_key, device_id="new", old_device_id="old")
    assert answer.status == 200
    reply = await gql(http, server, DEVICES, {"p": tenant.product_id}, tenant.token)
    expected = {"name": "Ann", "email": "ann@example.com", "plan": "team", "seats": 3}
    assert reply.data["node"]["devices"]["nodes"] == [{"deviceId": "new", "properties": expected}]

    started = await gql(
        http,
        server,
        "mutation($p: ID!) { startExport(input: {productId: $p, kind: DEVICES, format: CSV}) { id } }",
        {"p": tenant.product_id},
        tenant.token,
    )
    export = await _finished(http, server, tenant, started.data["startExport"]["id"])
    async with http.get(
        server.url + export["downloadUrl"], headers={"Authorization": f"Bearer {tenant.token}"}
    ) as r:
        rows = list(csv.DictReader(io.StringIO((await r.read()).decode())))
    assert [(row["device_key"], json.loads(row["properties"])) for row in rows] == [("new", expected)]
