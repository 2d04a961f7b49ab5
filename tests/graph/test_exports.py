"""Exports: a started job is carried out by the worker and its file downloads with its hash."""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import json

import aiohttp
import pytest

from gateway.db.pool import Database
from gateway.ingest.rules import METRIC_COLUMNS
from tests.conftest import Server, Tenant, gql
from tests.graph.seed import seed_product_tree

STATUS = """query($id: ID!) { node(id: $id) { ... on Export {
  status progress rows size hash firstCursor lastCursor downloadUrl error kind format } } }"""


async def _finished(http: aiohttp.ClientSession, server: Server, tenant: Tenant, export_id: str) -> dict:
    for _ in range(100):
        reply = await gql(http, server, STATUS, {"id": export_id}, tenant.token)
        export = reply.data["node"]
        if export["status"] in ("FINISHED", "FAILED"):
            return dict(export)
        await asyncio.sleep(0.1)
    raise AssertionError("the export did not finish")


async def test_csv_and_json_exports_with_continuation(
    http: aiohttp.ClientSession, server: Server, db: Database, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    from resolvers.node import to_global_id

    # small chunks, so that the file is written and downloaded in several pieces
    monkeypatch.setattr("gateway.background.exports.CHUNK", 5)

    [product] = await seed_product_tree(
        db, tenant.account_pk, products=1, sessions_per_product=3, events_per_session=4
    )
    product_id = str(to_global_id("Product", product))
    started = await gql(
        http,
        server,
        "mutation($p: ID!) { startExport(input: {productId: $p, kind: EVENTS, format: CSV}) { id status } }",
        {"p": product_id},
        tenant.token,
    )
    assert started.data["startExport"]["status"] == "PENDING"
    export = await _finished(http, server, tenant, started.data["startExport"]["id"])
    assert export["status"] == "FINISHED" and export["rows"] == 12 and export["progress"] == 1.0
    async with http.get(
        server.url + export["downloadUrl"], headers={"Authorization": f"Bearer {tenant.token}"}
    ) as r:
        assert r.status == 200 and r.content_type == "text/csv"
        content = await r.read()
    assert len(content) == export["size"] and hashlib.sha256(content).hexdigest() == export["hash"]
    rows = list(csv.DictReader(io.StringIO(content.decode())))
    assert len(rows) == 12 and {row["key"] for row in rows} == {"tap"}
    assert [int(row["id"]) for row in rows] == sorted(int(row["id"]) for row in rows)
    chunks = await db.fetchval(
        "SELECT count(*) FROM export_chunks c JOIN exports x ON x.id = c.export_id WHERE x.account_id = $1",
        tenant.account_pk,
    )
    assert chunks == 4  # the header and three chunks of at most 5 rows

    # someone else's token cannot download it
    async with http.get(server.url + export["downloadUrl"]) as r:
        assert r.status == 401

    more = await gql(
        http,
        server,
        "mutation($p: ID!, $after: String) { startExport(input: {productId: $p, format: JSON, afterCursor: $after}) { id } }",
        {"p": product_id, "after": str(int(export["lastCursor"]) - 2)},
        tenant.token,
    )
    tail = await _finished(http, server, tenant, more.data["startExport"]["id"])
    assert tail["rows"] == 2 and tail["lastCursor"] == export["lastCursor"]
    async with http.get(
        server.url + tail["downloadUrl"], headers={"Authorization": f"Bearer {tenant.token}"}
    ) as r:
        records = json.loads(await r.read())
    assert [rec["id"] for rec in records] == [int(export["lastCursor"]) - 1, int(export["lastCursor"])]


async def test_a_devices_export_holds_every_metric_column(
    http: aiohttp.ClientSession, server: Server, db: Database, tenant: Tenant
) -> None:
    from resolvers.node import to_global_id

    [product] = await seed_product_tree(
        db, tenant.account_pk, products=1, sessions_per_product=3, events_per_session=1
    )
    await db.execute("UPDATE devices SET os = 'Android', os_version = '14' WHERE product_id = $1", product)
    started = await gql(
        http,
        server,
        "mutation($p: ID!) { startExport(input: {productId: $p, kind: DEVICES, format: CSV}) { id } }",
        {"p": str(to_global_id("Product", product))},
        tenant.token,
    )
    export = await _finished(http, server, tenant, started.data["startExport"]["id"])
    assert export["status"] == "FINISHED", export
    async with http.get(
        server.url + export["downloadUrl"], headers={"Authorization": f"Bearer {tenant.token}"}
    ) as r:
        content = (await r.read()).decode()
    reader = csv.DictReader(io.StringIO(content))
    # every metric the engine stores on a device, in its order
    assert reader.fieldnames == [
        "id",
        "device_key",
        "first_seen",
        "last_seen",
        *METRIC_COLUMNS,
        "country",
        "city",
        "properties",
    ]
    rows = list(reader)
    devices = await db.fetchval("SELECT count(*) FROM devices WHERE product_id = $1", product)
    assert len(rows) == devices > 0
    assert {(row["os"], row["os_version"]) for row in rows} == {("Android", "14")}


async def test_a_file_is_kept_while_its_download_link_opens_it(
    http: aiohttp.ClientSession, server: Server, db: Database, tenant: Tenant
) -> None:
    """Finished files are deleted after GATEWAY_EXPORT_TTL_HOURS (24), but not before their 7-day link expires;
    PAGEVIEWS exports have GoatCounter's columns only (no `fields`, no XLS)."""
    from resolvers.node import to_global_id

    [product] = await seed_product_tree(
        db, tenant.account_pk, products=1, sessions_per_product=1, events_per_session=2
    )
    product_id = str(to_global_id("Product", product))
    started = await gql(
        http,
        server,
        """mutation($p: ID!) { startExport(input: {productId: $p, kind: EVENTS, format: CSV, delivery: {link: true}})
           { id linkExpiresAt } }""",
        {"p": product_id},
        tenant.token,
    )
    assert started.errors is None, started.body
    export = await _finished(http, server, tenant, started.data["startExport"]["id"])
    assert export["status"] == "FINISHED"
    kept = await gql(
        http,
        server,
        "query($id: ID!) { node(id: $id) { ... on Export { expiresAt linkExpiresAt } } }",
        {"id": started.data["startExport"]["id"]},
        tenant.token,
    )
    node = kept.data["node"]
    assert node["linkExpiresAt"] and node["expiresAt"] >= node["linkExpiresAt"]

    for shape in ("format: XLS", 'format: CSV, fields: [{field: "path"}]', "format: JSON"):
        refused = await gql(
            http,
            server,
            f"mutation($p: ID!) {{ startExport(input: {{productId: $p, kind: PAGEVIEWS, {shape}}}) {{ id }} }}",
            {"p": product_id},
            tenant.token,
        )
        assert refused.errors and "PAGEVIEWS exports are CSV or CSV_GZIP" in refused.errors[0]["message"], (
            shape
        )
