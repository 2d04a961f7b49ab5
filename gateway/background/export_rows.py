"""Exports that name their fields: the rows of one of the graph's lists, read in chunks, written in any format.

The list is the one a client pages through (`resolvers/exports/sources.py`): the same listing, conditions and
order, read chunk by chunk after the last row's (sort value, id) with the listing's own SQL, so the file holds
exactly the list's rows, and a million rows never sit in memory together. The file's bytes are stored as they
are made (`ChunkWriter`), with chunk 0 reserved for a format whose first bytes are known only at the end (XLS).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from gateway.access.principal import Permission, Principal
from gateway.background.export_chunks import ChunkWriter
from gateway.background.export_formats import export_format
from gateway.db.pool import Database
from gateway.db.writes_in_progress import wait_for_writes
from resolvers.context import Context
from resolvers.exports.sources import list_source
from resolvers.exports.summaries import summary_source
from resolvers.pagination import PageRequest, tables_written_since

CHUNK = 5000
# how long a job waits for the writes in progress before a list of what changed since a time
WAIT_FOR_WRITES_SECONDS = 120.0
# kind -> the title of an XLS file's sheets
TITLES = {"events": "Events", "sessions": "Sessions", "devices": "Devices"}
SUMMARY_TITLES = {"product_days": "Days", "event_totals": "Events", "event_segments": "Segmentation"}

Progress = Callable[[float, int], Awaitable[None]]


@dataclass
class Written:
    rows: int
    size: int
    hash: str
    first_id: int | None
    last_id: int | None


def _columns(job: Any, fields: Any) -> tuple[list[tuple[str | None, str]], list[str], list[str], list[Any]]:
    """(columns, their SQL, their types, (index, value) of the columns that hold one value in every row)."""
    columns = [(column[0], column[1]) for column in job.fields]
    constants = [column[2] if len(column) > 2 else None for column in job.fields]
    expressions = ["NULL" if field is None else fields[field].sql for field, _ in columns]
    types = ["text" if field is None else fields[field].type for field, _ in columns]
    fill = [(i, value) for i, value in enumerate(constants) if value is not None]
    return columns, expressions, types, fill


def job_principal(job: Any) -> Principal:
    """Whom a job reads as: its account, limited to the products of the token that started it, if it was."""
    scope = (job.filter or {}).get("scope")
    return Principal(
        job.account_id, frozenset({Permission.READ}), products=None if scope is None else frozenset(scope)
    )


async def write_summary_export(db: Database, job: Any) -> Written:
    """Write the file of a summary export (figures from the rollups: a few thousand rows at most)."""
    source = summary_source(
        job.kind, job.account_id, job.product_ids or [job.product_id], job.filter, job.since, job.until
    )
    columns, expressions, types, fill = _columns(job, source.fields)
    selected = ", ".join(f"{sql} AS c{i}" for i, sql in enumerate(expressions))
    rows = await db.fetch(source.sql.format(columns=selected), *source.params)
    file = export_format(job.format, [header for _, header in columns], types, SUMMARY_TITLES[job.kind])
    chunks = await ChunkWriter(db, job.id, job.attempt, reserve_head=file.reserves_head).start()
    await chunks.add(file.start())
    batch = [list(row.values()) for row in rows]
    for values in batch:
        for i, value in fill:
            values[i] = value
    await chunks.add(file.rows(batch, 0))
    tail, head = file.finish()
    await chunks.add(tail)
    digest = await chunks.close(head)
    return Written(rows=file.written, size=chunks.size, hash=digest, first_id=None, last_id=None)


async def write_listed_export(db: Database, job: Any, progress: Progress) -> Written:
    """Write the file of a job with `fields` (an export of a list); `job` is the claimed row's values."""
    if job.kind in SUMMARY_TITLES:
        return await write_summary_export(db, job)
    if job.kind == "person":
        from gateway.background.person_data import write_person_data

        return await write_person_data(db, job)
    source = list_source(job.kind, job.product_id, job.filter, job.since, job.until)
    ctx = Context(db=db, principal=job_principal(job))
    columns, expressions, types, fill = _columns(job, source.fields)
    listing = source.listing
    selected = ", ".join(f"{sql} AS c{i}" for i, sql in enumerate(expressions))
    request = PageRequest(first=CHUNK, after=None, order=source.order, conditions=source.conditions)

    # a list of what changed since a time: the writes in progress first (a job may wait longer than a request)
    written_since = tables_written_since([request])
    if written_since:
        await wait_for_writes(db, sorted(written_since), at_most=WAIT_FOR_WRITES_SECONDS)
    params: list[Any] = [source.parent_id]
    total = int(await db.fetchval(listing.count_sql(ctx, request, "$1", params), *params) or 0)

    file = export_format(job.format, [header for _, header in columns], types, TITLES.get(job.kind, "Export"))
    chunks = await ChunkWriter(db, job.id, job.attempt, reserve_head=file.reserves_head).start()
    await chunks.add(file.start())
    first_id = last_id = None
    width = len(columns)
    while True:
        params = [source.parent_id]
        where = listing.where_sql(ctx, request, params)
        params.append(CHUNK)
        rows = await db.fetch(
            f"SELECT {selected}, {source.order.column} AS _sort, t.id AS _id FROM {listing.table} t {listing.join} "
            f"WHERE {listing.parent_sql} = $1{where} ORDER BY {listing.order_sql(request)} LIMIT ${len(params)}",
            *params,
        )
        if not rows:
            break
        batch = [list(row.values())[:width] for row in rows]
        for values in batch:
            for i, value in fill:
                values[i] = value
        await chunks.add(file.rows(batch, max(total - file.written - len(batch), 0)))
        first_id = first_id if first_id is not None else rows[0]["_id"]
        last_id = rows[-1]["_id"]
        request = PageRequest(
            first=CHUNK,
            after=(rows[-1]["_sort"], last_id),
            order=source.order,
            conditions=source.conditions,
        )
        await progress(min(file.written / total, 1.0) if total else 1.0, file.written)
        if len(rows) < CHUNK:
            break
    tail, head = file.finish()
    await chunks.add(tail)
    digest = await chunks.close(head)
    return Written(rows=file.written, size=chunks.size, hash=digest, first_id=first_id, last_id=last_id)
