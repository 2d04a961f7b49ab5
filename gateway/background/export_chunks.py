"""An export's file as chunks of `export_chunks`: the one writer of them (`ChunkWriter`), and reading them back.

Every export job writes its file through a `ChunkWriter`, whatever its format: the writer numbers the chunks,
counts the file's size and computes its SHA-256 (`exports.hash`, the downloads' `Digest`) as the chunks go, in
constant memory. Two options cover what the formats need beyond that: `gzip_level` compresses the file on the
fly (GoatCounter's `csv_gzip`), and `reserve_head` keeps chunk 0 for bytes known only once everything else is
written (XLS: the compound document's header and the workbook globals); such a file's hash is computed by
reading its chunks back in order at the end, since a SHA-256 is fed from the first byte on.

An export's job can be given to another attempt while a worker is still writing it: taken over after its worker
stalled, or started again because people in it were erased (`resolvers/people/erasure.py`). A chunk is stored
only while its writer's attempt is the export's: the insert takes a share lock of the export's row, so it waits
for a transaction raising the attempt and then sees the new one, and a stale writer stops (`JobLost`) at its next
chunk instead of adding one to the new attempt's file. Starting a file deletes the chunks of earlier attempts on
the same condition, so a stale writer that starts late cannot delete the chunks of the attempt that replaced it.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import AsyncIterator
from typing import Self

from gateway.background.jobs import JobLost
from gateway.db.pool import Database

_PUT = """INSERT INTO export_chunks (export_id, seq, data)
SELECT x.id, $3, $4 FROM exports x WHERE x.id = $1 AND x.attempt = $2 FOR SHARE"""

# the chunks of the export's earlier attempts go, when $2 is its attempt; rows: 1 when it is
_RESTART = """WITH mine AS (SELECT x.id FROM exports x WHERE x.id = $1 AND x.attempt = $2 FOR SHARE),
dropped AS (DELETE FROM export_chunks WHERE export_id IN (SELECT id FROM mine))
SELECT count(*) FROM mine"""


async def put_chunk(db: Database, export_id: int, attempt: int, seq: int, data: bytes) -> None:
    """Store chunk `seq` of the export's file, or raise `JobLost` when `attempt` is no longer the export's."""
    if await db.execute(_PUT, export_id, attempt, seq, data) != "INSERT 0 1":
        raise JobLost(f"exports {export_id}")


async def read_chunks(db: Database, export_id: int) -> AsyncIterator[bytes]:
    """The chunks of the export's file in order, up to the first one missing: one statement each, so a file is
    never held in memory and a slow reader (a download) holds no transaction."""
    seq = 0
    while True:
        data = await db.fetchval(
            "SELECT data FROM export_chunks WHERE export_id = $1 AND seq = $2", export_id, seq
        )
        if data is None:
            return
        yield data
        seq += 1


class ChunkWriter:
    """The file of one export's attempt, stored chunk by chunk as it is written (see the module docstring).

    `start` begins the file; each `add` of bytes is one chunk (compressed first with `gzip_level`; nothing is
    stored for no bytes); `close` stores the rest (the reserved head, the compressor's last bytes) and gives the
    file's SHA-256. `size` is the stored file's length.
    """

    def __init__(
        self,
        db: Database,
        export_id: int,
        attempt: int,
        *,
        reserve_head: bool = False,
        gzip_level: int | None = None,
    ) -> None:
        if reserve_head and gzip_level is not None:
            raise ValueError("a compressed file has no head to write last")
        self.db = db
        self.export_id = export_id
        self.attempt = attempt
        self.reserve_head = reserve_head
        self.size = 0
        self._seq = 1 if reserve_head else 0
        # with a reserved head, the file's hash is only known from its chunks read back at the end
        self._digest = None if reserve_head else hashlib.sha256()
        # wbits 31: one gzip member
        self._compressor = None if gzip_level is None else zlib.compressobj(gzip_level, zlib.DEFLATED, 31)

    async def start(self) -> Self:
        """Begin the file from scratch (a job taken over from a stopped worker starts again): the chunks an earlier
        attempt stored are deleted; `JobLost` when the writer's attempt is no longer the export's."""
        if not await self.db.fetchval(_RESTART, self.export_id, self.attempt):
            raise JobLost(f"exports {self.export_id}")
        return self

    async def add(self, data: bytes) -> None:
        """Store the file's next bytes (one chunk)."""
        await self._put(data if self._compressor is None else self._compressor.compress(data))

    async def close(self, head: bytes = b"") -> str:
        """Store the end of the file and the reserved `head` (only a writer that reserved one takes one); the
        file's SHA-256, in hex."""
        if head and not self.reserve_head:
            raise ValueError("no head was reserved")
        if self._compressor is not None:
            await self._put(self._compressor.flush())
        if self._digest is not None:
            return self._digest.hexdigest()
        await put_chunk(self.db, self.export_id, self.attempt, 0, head)
        self.size += len(head)
        digest = hashlib.sha256()
        async for data in read_chunks(self.db, self.export_id):
            digest.update(data)
        return digest.hexdigest()

    async def _put(self, data: bytes) -> None:
        if not data:
            return
        await put_chunk(self.db, self.export_id, self.attempt, self._seq, data)
        self._seq += 1
        self.size += len(data)
        if self._digest is not None:
            self._digest.update(data)
