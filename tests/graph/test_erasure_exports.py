"""Erasing people reaches the export files that hold them: files written before expire with the erasure, exports
being written start again after it (the stale writer stores no more chunks), and files of anonymous counts stay."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from gateway.background.export_chunks import put_chunk
from gateway.background.jobs import JobLost
from gateway.db.pool import Database
from tests.conftest import Server, Tenant, gql
from tests.graph.test_exports import _finished

RECORD = """mutation ($product: ID!, $requests: [RecordInput!]!) {
  record(productId: $product, requests: $requests) { outcome }
}"""
START = """mutation($p: ID!, $kind: ExportKind!, $fields: [ExportFieldInput!]) {
  startExport(input: {productId: $p, kind: $kind, format: CSV, fields: $fields}) { id }
}"""
STATUS = """query($id: ID!) { node(id: $id) { ... on Export { status rows downloadUrl } } }"""
ERASE = """mutation($names: [String!]!) { erasePeople(identities: $names) { erased } }"""


async def _status(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant, export_id: str
) -> dict[str, Any]:
    reply = await gql(http, server, STATUS, {"id": export_id}, tenant.token)
    assert reply.errors is None, reply.errors
    return dict(reply.data["node"])


async def _export(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant, kind: str, fields: list[str] | None = None
) -> dict[str, Any]:
    columns = None if fields is None else [{"field": name} for name in fields]
    started = await gql(
        http, server, START, {"p": tenant.product_id, "kind": kind, "fields": columns}, tenant.token
    )
    assert started.errors is None, started.errors
    export_id = started.data["startExport"]["id"]
    return {"id": export_id, **await _finished(http, server, tenant, export_id)}


async def _people(http: aiohttp.ClientSession, server: Server, tenant: Tenant) -> None:
    requests = [
        {"deviceId": device, "beginSession": True, "events": [{"key": "tap"}, {"key": "buy", "sum": 9.5}]}
        for device in ("alice-phone", "bob-phone")
    ]
    reply = await gql(
        http, server, RECORD, {"product": tenant.product_id, "requests": requests}, tenant.token
    )
    assert reply.errors is None and {r["outcome"] for r in reply.data["record"]} == {"STORED"}, reply.body


async def _download(http: aiohttp.ClientSession, server: Server, tenant: Tenant, url: str) -> int:
    async with http.get(server.url + url, headers={"Authorization": f"Bearer {tenant.token}"}) as r:
        await r.read()
        return r.status


async def test_files_written_before_the_erasure_expire_with_it(
    http: aiohttp.ClientSession, server: Server, db: Database, tenant: Tenant
) -> None:
    await _people(http, server, tenant)
    events = await _export(http, server, tenant, "EVENTS")
    devices = await _export(http, server, tenant, "DEVICES")
    days = await _export(http, server, tenant, "PRODUCT_DAYS", ["day", "sessions"])
    assert (events["status"], events["rows"], devices["rows"]) == ("FINISHED", 4, 2)

    erased = await gql(http, server, ERASE, {"names": ["alice-phone"]}, tenant.token)
    assert erased.errors is None and erased.data["erasePeople"]["erased"] == 1

    for export in (events, devices):
        assert (await _status(http, server, tenant, export["id"]))["status"] == "EXPIRED"
        assert await _download(http, server, tenant, export["downloadUrl"]) == 410
    # the per-day counts identify no one: kept
    assert (await _status(http, server, tenant, days["id"]))["status"] == "FINISHED"
    assert await _download(http, server, tenant, days["downloadUrl"]) == 200
    chunks = await db.fetch(
        "SELECT DISTINCT x.kind FROM export_chunks c JOIN exports x ON x.id = c.export_id WHERE x.account_id = $1",
        tenant.account_pk,
    )
    assert [row["kind"] for row in chunks] == ["product_days"]
    # exported again: without her
    assert (await _export(http, server, tenant, "EVENTS"))["rows"] == 2


async def test_an_export_being_written_starts_again_after_the_erasure(
    http: aiohttp.ClientSession, server: Server, db: Database, tenant: Tenant
) -> None:
    await _people(http, server, tenant)
    # an events export as a worker holds it while writing: claimed (attempt 1, beating) with a chunk written
    export_pk = await db.fetchval(
        """INSERT INTO exports (account_id, product_id, kind, format, status, attempt, heartbeat_at)
           VALUES ($1, $2, 'events', 'csv', 'running', 1, now()) RETURNING id""",
        tenant.account_pk,
        tenant.product_pk,
    )
    await put_chunk(db, export_pk, 1, 0, b"rows read before the erasure")

    erased = await gql(http, server, ERASE, {"names": ["alice-phone"]}, tenant.token)
    assert erased.errors is None and erased.data["erasePeople"]["erased"] == 1

    # the stale writer stores nothing more
    with pytest.raises(JobLost):
        await put_chunk(db, export_pk, 1, 1, b"more rows of the old attempt")
    # the server's worker writes it again from the start, without her
    from resolvers.node import to_global_id

    export = await _finished(http, server, tenant, str(to_global_id("Export", export_pk)))
    assert (export["status"], export["rows"]) == ("FINISHED", 2)
    assert await db.fetchval("SELECT attempt FROM exports WHERE id = $1", export_pk) == 3
    data = b"".join(
        row["data"]
        for row in await db.fetch(
            "SELECT data FROM export_chunks WHERE export_id = $1 ORDER BY seq", export_pk
        )
    )
    assert b"rows read before the erasure" not in data and b"old attempt" not in data
