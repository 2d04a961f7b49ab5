"""The export worker: carries out export jobs started through the graph (`gateway.http.downloads` serves the files).

Jobs are claimed with `FOR UPDATE SKIP LOCKED`, so any number of gateway processes share the queue; a
running job beats every few seconds and a job whose worker stopped beating is taken over. Rows are read in
keyset chunks (by id), so an export of millions of rows never holds them all as Python objects.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import hashlib
import io
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from gateway.background.pageview_export import write_pageview_export
from gateway.background.tasks import cancel_and_wait
from gateway.db.pool import Database
from gateway.ingest.rules import METRIC_COLUMNS

log = logging.getLogger(__name__)

CHUNK = 5000
POLL_SECONDS = 2.0
STALE_SECONDS = 30

# per kind: the table and the columns written to the file, in order
EXPORT_COLUMNS: dict[str, tuple[str, list[str]]] = {
    "events": (
        "events",
        [
            "id",
            "device_id",
            "session_id",
            "key",
            "count",
            "sum",
            "duration",
            "segmentation",
            "occurred_at",
            "path",
            "title",
            "referrer",
        ],
    ),
    "sessions": ("sessions", ["id", "device_id", "started_at", "duration", "ended_at"]),
    "devices": (
        "devices",
        [
            "id",
            "device_key",
            "first_seen",
            "last_seen",
            *METRIC_COLUMNS,
            "country",
            "city",
            "properties",
        ],
    ),
}
TIME_COLUMN = {"events": "occurred_at", "sessions": "started_at", "devices": "last_seen"}

_FINISH = """
UPDATE exports SET status = 'finished', progress = 1, rows = $2, size = $3, hash = $4, first_cursor = $5,
       last_cursor = $6, finished_at = now(), expires_at = now() + make_interval(secs => $7 * 3600)
WHERE id = $1
"""

_CLAIM = """
UPDATE exports SET status = 'running', heartbeat_at = now()
WHERE id = (
    SELECT id FROM exports
    WHERE status = 'pending' OR (status = 'running' AND heartbeat_at < now() - make_interval(secs => $1))
    ORDER BY id FOR UPDATE SKIP LOCKED LIMIT 1)
RETURNING id, account_id, product_id, kind, format, since, until, after_id
"""


@dataclass
class Job:
    id: int
    account_id: int
    product_id: int
    kind: str
    format: str
    since: datetime | None
    until: datetime | None
    after_id: int | None


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return value


class ExportWorker:
    """Runs pending export jobs in the background of a gateway process."""

    def __init__(self, db: Database, ttl_hours: float = 24.0) -> None:
        self.db = db
        # how long a finished export's file is kept (the housekeeping deletes it then)
        self.ttl_hours = ttl_hours
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._listener: asyncpg.pool.PoolConnectionProxy | None = None

    async def start(self) -> None:
        listener = await self.db.pool.acquire()
        await listener.add_listener("exports", self._notified)
        self._listener = listener
        self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        if self._listener is not None:
            with contextlib.suppress(Exception):
                await self._listener.remove_listener("exports", self._notified)
            await self.db.pool.release(self._listener)

    def _notified(self, *_: object) -> None:
        self._wake.set()

    async def _loop(self) -> None:
        while True:
            try:
                while await self.run_one():
                    pass
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("export worker failed; retrying")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=POLL_SECONDS)

    async def run_one(self) -> bool:
        """Claim and finish one job; False when none is waiting."""
        row = await self.db.fetchrow(_CLAIM, STALE_SECONDS)
        if row is None:
            return False
        job = Job(**dict(row))
        try:
            await self._run(job)
        except Exception as exc:
            log.exception("export %s failed", job.id)
            await self.db.execute(
                "UPDATE exports SET status = 'failed', error = $2, finished_at = now() WHERE id = $1",
                job.id,
                f"Export failed ({type(exc).__name__})",
            )
        return True

    async def _run(self, job: Job) -> None:
        if job.kind == "pageviews":
            await self._run_pageviews(job)
            return
        table, columns = EXPORT_COLUMNS[job.kind]
        time_column = TIME_COLUMN[job.kind]
        scope = (
            f"account_id = $1 AND product_id = $2 AND ($3::timestamptz IS NULL OR {time_column} >= $3) "
            f"AND ($4::timestamptz IS NULL OR {time_column} < $4)"
        )
        args = (job.account_id, job.product_id, job.since, job.until)
        total = await self.db.fetchval(
            f"SELECT count(*) FROM {table} WHERE {scope} AND id > $5", *args, job.after_id or 0
        )
        # a job taken over from a stopped worker starts again from scratch
        await self.db.execute("DELETE FROM export_chunks WHERE export_id = $1", job.id)
        file = ExportFile(job.id, job.format, columns)
        await self._store(file, file.header())
        last_id = job.after_id or 0
        first_id: int | None = None
        while True:
            rows = await self.db.fetch(
                f"SELECT {', '.join(columns)} FROM {table} WHERE {scope} AND id > $5 ORDER BY id LIMIT $6",
                *args,
                last_id,
                CHUNK,
            )
            if not rows:
                break
            await self._store(file, file.rows(rows))
            first_id = first_id if first_id is not None else rows[0]["id"]
            last_id = rows[-1]["id"]
            await self.db.execute(
                "UPDATE exports SET progress = $2, rows = $3, heartbeat_at = now() WHERE id = $1",
                job.id,
                min(file.written / total, 1.0) if total else 1.0,
                file.written,
            )
        await self._store(file, file.footer())
        await self.db.execute(
            _FINISH,
            job.id,
            file.written,
            file.size,
            file.digest.hexdigest(),
            first_id,
            last_id if file.written else job.after_id,
            self.ttl_hours,
        )

    async def _run_pageviews(self, job: Job) -> None:
        """A site's web hits (gateway/background/pageview_export.py)."""
        total = await self.db.fetchval(
            "SELECT count(*) FROM events WHERE product_id = $2 AND web IS NOT NULL AND account_id = $1 AND id > $3 "
            "AND ($4::timestamptz IS NULL OR occurred_at >= $4) AND ($5::timestamptz IS NULL OR occurred_at < $5)",
            job.account_id,
            job.product_id,
            job.after_id or 0,
            job.since,
            job.until,
        )

        async def progress(rows: int) -> None:
            await self.db.execute(
                "UPDATE exports SET progress = $2, rows = $3, heartbeat_at = now() WHERE id = $1",
                job.id,
                min(rows / total, 1.0) if total else 1.0,
                rows,
            )

        written = await write_pageview_export(
            self.db,
            job.id,
            job.account_id,
            job.product_id,
            job.after_id,
            job.since,
            job.until,
            job.format == "csv_gzip",
            progress,
        )
        await self.db.execute(
            _FINISH,
            job.id,
            written.rows,
            written.size,
            written.sha256,
            written.first_id,
            written.last_id,
            self.ttl_hours,
        )

    async def _store(self, file: ExportFile, data: bytes) -> None:
        if not data:
            return
        file.size += len(data)
        file.digest.update(data)
        await self.db.execute(
            "INSERT INTO export_chunks (export_id, seq, data) VALUES ($1, $2, $3)",
            file.export_id,
            file.chunks,
            data,
        )
        file.chunks += 1


class ExportFile:
    """The file of one export as it is written, chunk by chunk: CSV with a header row, or one JSON array."""

    def __init__(self, export_id: int, file_format: str, columns: list[str]) -> None:
        self.export_id = export_id
        self.csv = file_format == "csv"
        self.columns = columns
        self.written = 0
        self.size = 0
        self.chunks = 0
        self.digest = hashlib.sha256()

    def header(self) -> bytes:
        if not self.csv:
            return b"["
        buffer = io.StringIO()
        csv.writer(buffer).writerow(self.columns)
        return buffer.getvalue().encode("utf-8")

    def rows(self, rows: list[asyncpg.Record]) -> bytes:
        buffer = io.StringIO()
        writer = csv.writer(buffer) if self.csv else None
        for row in rows:
            if writer is not None:
                writer.writerow([_cell(row[c]) for c in self.columns])
            else:
                record = {c: _cell(row[c]) if isinstance(row[c], datetime) else row[c] for c in self.columns}
                buffer.write(("," if self.written else "") + json.dumps(record, separators=(",", ":")))
            self.written += 1
        return buffer.getvalue().encode("utf-8")

    def footer(self) -> bytes:
        return b"" if self.csv else b"]"
