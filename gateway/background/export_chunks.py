"""Storing a chunk of an export's file, for the attempt that writes it only.

An export's job can be given to another attempt while a worker is still writing it: taken over after its worker
stalled, or started again because people in it were erased (`resolvers/people/erasure.py`). A chunk is stored
only while its writer's attempt is the export's: the insert takes a share lock of the export's row, so it waits
for a transaction raising the attempt and then sees the new one, and a stale writer stops (`JobLost`) at its next
chunk instead of adding one to the new attempt's file.
"""

from __future__ import annotations

from gateway.background.jobs import JobLost
from gateway.db.pool import Database

_PUT = """INSERT INTO export_chunks (export_id, seq, data)
SELECT x.id, $3, $4 FROM exports x WHERE x.id = $1 AND x.attempt = $2 FOR SHARE"""


async def put_chunk(db: Database, export_id: int, attempt: int, seq: int, data: bytes) -> None:
    """Store chunk `seq` of the export's file, or raise `JobLost` when `attempt` is no longer the export's."""
    if await db.execute(_PUT, export_id, attempt, seq, data) != "INSERT 0 1":
        raise JobLost(f"exports {export_id}")
