"""A download whose file goes away while it is sent (an erasure expired it) ends as a broken transfer: the client
gets an error, neither a short file that looks whole nor a connection left waiting for the bytes promised."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from gateway.db.pool import Database
from resolvers.node import to_global_id
from tests.conftest import Server, Tenant

CHUNK = 32 * 1024 * 1024  # far more than loopback's socket buffers hold: the server is still sending it


async def _finished_export(db: Database, tenant: Tenant, chunks: int) -> int:
    export_id = await db.fetchval(
        """INSERT INTO exports (account_id, product_id, kind, format, status, rows, size, hash)
           VALUES ($1, $2, 'events', 'csv', 'finished', 1, $3, 'x') RETURNING id""",
        tenant.account_pk,
        tenant.product_pk,
        chunks * CHUNK,
    )
    for seq in range(chunks):
        await db.execute(
            "INSERT INTO export_chunks (export_id, seq, data) VALUES ($1, $2, $3)",
            export_id,
            seq,
            bytes([65 + seq]) * CHUNK,
        )
    return int(export_id)


def _url(server: Server, export_id: int) -> str:
    return f"{server.url}/exports/{to_global_id('Export', export_id)}/download"


async def test_chunks_deleted_mid_download_break_the_transfer(
    http: aiohttp.ClientSession, server: Server, db: Database, tenant: Tenant
) -> None:
    export_id = await _finished_export(db, tenant, chunks=2)
    headers = {"Authorization": f"Bearer {tenant.token}"}
    async with asyncio.timeout(30):
        async with http.get(_url(server, export_id), headers=headers) as reply:
            assert (reply.status, reply.content_length) == (200, 2 * CHUNK)
            assert await reply.content.readexactly(65536) == b"A" * 65536
            await db.execute("DELETE FROM export_chunks WHERE export_id = $1", export_id)
            with pytest.raises(aiohttp.ClientPayloadError):
                await reply.read()
        # the session goes on with a new connection: the file is gone
        async with http.get(_url(server, export_id), headers=headers) as again:
            assert again.status == 410
            assert await again.json() == {"error": "The export's file has been deleted"}


async def test_a_whole_file_still_downloads_whole(
    http: aiohttp.ClientSession, server: Server, db: Database, tenant: Tenant
) -> None:
    export_id = await _finished_export(db, tenant, chunks=2)
    headers = {"Authorization": f"Bearer {tenant.token}"}
    async with http.get(_url(server, export_id), headers=headers) as reply:
        body = await reply.read()
    assert body == b"A" * CHUNK + b"B" * CHUNK
