"""The export worker: carries out export jobs started through the graph (`gateway.http.downloads` serves the files).

Jobs run on the job runner (`gateway.background.jobs`): claimed with `FOR UPDATE SKIP LOCKED`, so any number
of gateway processes share the queue; a running job beats and a job whose worker stopped beating is taken
over. Rows are read in keyset chunks (by id), so an export of millions of rows never holds them all as Python
objects.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from gateway.background.export_chunks import ChunkWriter
from gateway.background.export_delivery import Delivery
from gateway.background.export_rows import Written, write_listed_export
from gateway.background.jobs import JobContext, JobQueue, JobWorker
from gateway.background.pageview_export import write_pageview_export
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

EXPORTS = JobQueue(
    table="exports",
    channel="exports",
    columns="id, account_id, product_id, kind, format, since, until, after_id, fields, filter, product_ids, "
    "link_expires_at",
    failure="Export failed ({})",
)
# per kind: the SQL expression of a column that is not one of the table's own (the devices' properties are the
# people's global property values, migration 020)
COLUMN_SQL = {
    "devices": {
        "properties": "(SELECT COALESCE(jsonb_object_agg(p.name, p.value), '{}') FROM person_properties p "
        "WHERE p.account_id = devices.account_id AND p.person_id = devices.id AND p.source = 'global') "
        "AS properties"
    }
}


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
    # exports that name their fields (gateway/background/export_rows.py): the columns and the list's filter
    fields: list[list[str | None]] | None = None
    filter: dict[str, Any] | None = None
    product_ids: list[int] | None = None
    # until when its download link opens the file (the file is kept at least as long)
    link_expires_at: datetime | None = None
    # the claim's attempt: chunks are stored for it only (gateway/background/export_chunks.py)
    attempt: int = 0


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return value


class ExportWorker(JobWorker):
    """Runs pending export jobs in the background of a gateway process (on `gateway.background.jobs`)."""

    queue = EXPORTS
    poll_seconds = POLL_SECONDS
    stale_seconds = STALE_SECONDS

    def __init__(self, db: Database, delivery: Delivery | None = None, ttl_hours: float = 24.0) -> None:
        super().__init__(db)
        self.delivery = delivery
        # how long a finished export's file is kept (the housekeeping deletes it then)
        self.ttl_hours = ttl_hours

    def _expiry(self, job: Job) -> datetime:
        """When a finished file is deleted: after the TTL, and not before its download link expires."""
        kept = datetime.now(UTC) + timedelta(hours=self.ttl_hours)
        return max(kept, job.link_expires_at) if job.link_expires_at is not None else kept

    async def _run(self, context: JobContext) -> None:
        row = context.row
        job = Job(**{name: row[name] for name in Job.__dataclass_fields__})
        if job.kind == "pageviews":
            await self._run_pageviews(job, context)
        elif job.fields is not None or job.kind not in EXPORT_COLUMNS:
            await self._run_listed(context, job)
        else:
            await self._run_fixed(context, job)
        if self.delivery is not None:
            await self.delivery.send_pending(self.db)

    async def start(self) -> None:
        await super().start()
        if self.delivery is not None:
            await self.delivery.start(self.db)

    async def stop(self) -> None:
        if self.delivery is not None:
            await self.delivery.stop()
        await super().stop()

    async def _run_listed(self, context: JobContext, job: Job) -> None:
        async def progress(value: float, rows: int) -> None:
            await context.progress(value, rows=rows)

        await self._finish(context, job, await write_listed_export(self.db, job, progress))

    async def _finish(self, context: JobContext, job: Job, written: Written) -> None:
        await context.finish(
            rows=written.rows,
            size=written.size,
            hash=written.hash,
            first_cursor=written.first_id,
            last_cursor=written.last_id,
            expires_at=self._expiry(job),
        )

    async def _run_fixed(self, context: JobContext, job: Job) -> None:
        table, columns = EXPORT_COLUMNS[job.kind]
        selected = ", ".join(COLUMN_SQL.get(job.kind, {}).get(column, column) for column in columns)
        time_column = TIME_COLUMN[job.kind]
        scope = (
            f"account_id = $1 AND product_id = $2 AND ($3::timestamptz IS NULL OR {time_column} >= $3) "
            f"AND ($4::timestamptz IS NULL OR {time_column} < $4)"
        )
        args = (job.account_id, job.product_id, job.since, job.until)
        total = await self.db.fetchval(
            f"SELECT count(*) FROM {table} WHERE {scope} AND id > $5", *args, job.after_id or 0
        )
        chunks = await ChunkWriter(self.db, job.id, job.attempt).start()
        file = ExportFile(job.format, columns)
        await chunks.add(file.header())
        last_id = job.after_id or 0
        first_id: int | None = None
        while True:
            rows = await self.db.fetch(
                f"SELECT {selected} FROM {table} WHERE {scope} AND id > $5 ORDER BY id LIMIT $6",
                *args,
                last_id,
                CHUNK,
            )
            if not rows:
                break
            await chunks.add(file.rows(rows))
            first_id = first_id if first_id is not None else rows[0]["id"]
            last_id = rows[-1]["id"]
            await context.progress(min(file.written / total, 1.0) if total else 1.0, rows=file.written)
        await chunks.add(file.footer())
        digest = await chunks.close()
        last_cursor = last_id if file.written else job.after_id
        await self._finish(context, job, Written(file.written, chunks.size, digest, first_id, last_cursor))

    async def _run_pageviews(self, job: Job, context: JobContext) -> None:
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
            await context.progress(min(rows / total, 1.0) if total else 1.0, rows=rows)

        written = await write_pageview_export(
            self.db,
            job.id,
            job.attempt,
            job.account_id,
            job.product_id,
            job.after_id,
            job.since,
            job.until,
            job.format == "csv_gzip",
            progress,
        )
        await self._finish(context, job, written)


class ExportFile:
    """The bytes of a fixed-shape export's file, part by part: CSV with a header row, or one JSON array."""

    def __init__(self, file_format: str, columns: list[str]) -> None:
        self.csv = file_format == "csv"
        self.columns = columns
        self.written = 0

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
