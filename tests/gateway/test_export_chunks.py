"""The writer of export files' chunks: what the exports' own tests do not see from outside.

The hash of a file whose head is written last (XLS) and of a file compressed on the fly (GoatCounter's
`csv_gzip`) is the SHA-256 of the bytes a download streams, and a writer whose attempt was replaced cannot
start its file over the new attempt's chunks.
"""

from __future__ import annotations

import gzip
import hashlib
import random

import pytest

from gateway.background.export_chunks import ChunkWriter, put_chunk, read_chunks
from gateway.background.jobs import JobLost
from gateway.db.pool import Database
from tests.conftest import Tenant


async def _export(db: Database, tenant: Tenant, attempt: int) -> int:
    """An export as a worker holds it: running, claimed by `attempt`."""
    return int(
        await db.fetchval(
            """INSERT INTO exports (account_id, product_id, kind, format, status, attempt, heartbeat_at)
               VALUES ($1, $2, 'events', 'xls', 'running', $3, now()) RETURNING id""",
            tenant.account_pk,
            tenant.product_pk,
            attempt,
        )
    )


async def _stored(db: Database, export_id: int) -> list[bytes]:
    return [data async for data in read_chunks(db, export_id)]


async def _closed(db: Database, writer: ChunkWriter, head: bytes = b"") -> list[bytes]:
    """Close the writer: the stored chunks, after checking the hash and size it gave are the stored file's."""
    digest = await writer.close(head)
    stored = await _stored(db, writer.export_id)
    assert digest == hashlib.sha256(b"".join(stored)).hexdigest()
    assert writer.size == len(b"".join(stored))
    return stored


async def test_a_head_written_last_comes_first_in_the_file_and_its_hash(db: Database, tenant: Tenant) -> None:
    export_id = await _export(db, tenant, 1)
    writer = await ChunkWriter(db, export_id, 1, reserve_head=True).start()
    for part in (b"sheet one,", b"", b"sheet two,", b"tail"):
        await writer.add(part)
    stored = await _closed(db, writer, b"head known at the end,")
    assert stored == [b"head known at the end,", b"sheet one,", b"sheet two,", b"tail"]


async def test_a_compressed_file_is_one_gzip_stream_whose_hash_is_the_stored_bytes(
    db: Database, tenant: Tenant
) -> None:
    export_id = await _export(db, tenant, 1)
    writer = await ChunkWriter(db, export_id, 1, gzip_level=5).start()
    # text that compresses little, so the compressor hands out bytes on most writes and the file has many chunks
    rng = random.Random(7)
    parts = [
        "".join(rng.choice("abcdefghijklmnopqrstuvwxyz,\n") for _ in range(40_000)).encode() for _ in range(4)
    ]
    for part in parts:
        await writer.add(part)
    stored = await _closed(db, writer)
    assert len(stored) > 2
    assert gzip.decompress(b"".join(stored)) == b"".join(parts)


async def test_a_replaced_attempt_cannot_start_its_file_over_the_new_one(
    db: Database, tenant: Tenant
) -> None:
    # attempt 2 took the export over and wrote a chunk; attempt 1's worker only now starts writing
    export_id = await _export(db, tenant, 2)
    await put_chunk(db, export_id, 2, 0, b"the new attempt's rows")
    with pytest.raises(JobLost):
        await ChunkWriter(db, export_id, 1).start()
    assert await _stored(db, export_id) == [b"the new attempt's rows"]
    # the export's own attempt starts its file from scratch
    writer = await ChunkWriter(db, export_id, 2).start()
    assert await _stored(db, export_id) == []
    await writer.add(b"again")
    assert await _closed(db, writer) == [b"again"]
