"""Delta syncs (`updated_since`) see every device changed since the given time, with writes still in progress.

A sync asks for the devices changed since the previous sync was sent. A write that commits after a sync's read
must then be found by the sync itself (it waits for the writes in progress) or by the next one (the write's
`updated_at` is no earlier than the moment it became a write in progress): never by neither. The writes here are
the ingestion engine's own batches (`gateway.ingest.writer.write_batch`), in transactions the test holds open.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import aiohttp

from gateway.db.pool import Database
from gateway.ingest.model import TrackRequest
from gateway.ingest.writer import write_batch
from tests.adapters.followanalytics.helpers import call
from tests.adapters.followanalytics.test_exports import _export
from tests.conftest import Server, Tenant


async def _sync(http: aiohttp.ClientSession, server: Server, tenant: Tenant, since: datetime) -> set[str]:
    stamp = since.isoformat().replace("+00:00", "Z")
    reply = await call(
        http, server, "GET", f"/api/apps/{tenant.product_id}/devices?updated_since={stamp}", tenant.token
    )
    assert reply.status == 200, reply.text
    return {device["device_id"] for device in reply.json["result"]["devices"]}


def _request(tenant: Tenant, device: str) -> TrackRequest:
    return TrackRequest(tenant.account_pk, tenant.product_pk, device, properties={"plan": "pro"})


async def test_a_write_committed_after_a_sync_read_is_seen_by_that_sync_or_the_next(
    http: aiohttp.ClientSession, server: Server, db: Database, tenant: Tenant
) -> None:
    # the write is in progress (its rows written, not committed) when the sync is sent
    previous = datetime.now(UTC)
    async with db.transaction() as tx:
        await asyncio.sleep(0.02)  # the transaction began before the sync is sent, as a group commit's may
        await write_batch(tx, [_request(tenant, "written-during-the-sync")])
        sent = datetime.now(UTC)
        first = asyncio.create_task(_sync(http, server, tenant, previous))
        await asyncio.sleep(0.3)  # the sync reads (or, as it should, waits) while the write is in progress
    second = await _sync(http, server, tenant, sent)
    assert "written-during-the-sync" in (await first) | second
    # here the sync waited for it: its own reply holds it
    assert "written-during-the-sync" in await first


async def test_a_transaction_that_began_before_a_sync_and_wrote_after_it_is_seen_by_the_next(
    http: aiohttp.ClientSession, server: Server, db: Database, tenant: Tenant
) -> None:
    previous = datetime.now(UTC)
    async with db.transaction() as tx:
        await tx.execute("SELECT 1")  # the transaction has begun (now() is fixed), and has written nothing
        await asyncio.sleep(0.02)
        sent = datetime.now(UTC)
        first = await _sync(http, server, tenant, previous)  # nothing in progress writes devices yet
        await write_batch(tx, [_request(tenant, "written-after-the-sync")])
    assert "written-after-the-sync" not in first
    assert "written-after-the-sync" in await _sync(http, server, tenant, sent)


async def test_a_sync_waits_only_for_writes_of_devices(
    http: aiohttp.ClientSession, server: Server, db: Database, tenant: Tenant
) -> None:
    async with db.transaction() as tx:
        # a transaction with an id that writes no devices, but reads them (as a people search writing its
        # results does), and writes elsewhere (another application's, an export's chunks)
        await tx.execute("CREATE TEMPORARY TABLE unrelated (x int) ON COMMIT DROP")
        await tx.execute("INSERT INTO unrelated SELECT count(*) FROM devices")
        assert await _sync(http, server, tenant, datetime.now(UTC)) == set()


async def test_a_delta_export_waits_for_the_writes_in_progress(
    http: aiohttp.ClientSession, server: Server, db: Database, tenant: Tenant
) -> None:
    previous = datetime.now(UTC)
    stamp = previous.isoformat().replace("+00:00", "Z")
    path = f"/api/apps/{tenant.product_id}/devices_export.csv?updated_since={stamp}&skip_email=true"
    async with db.transaction() as tx:
        await write_batch(tx, [_request(tenant, "exported-during-the-write")])
        exported = asyncio.create_task(_export(http, server, tenant, path))
        await asyncio.sleep(0.3)  # the job starts (and waits)
    status, _, body = await exported
    assert status == 200
    assert "exported-during-the-write" in body.decode("utf-8")
