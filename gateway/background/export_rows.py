"""Exports that name their fields: the rows of one of the graph's lists, read in chunks, written in any format.

The list is the one a client pages through (`resolvers/exports/sources.py`): the same listing, conditions and
order, read chunk by chunk after the last row's (sort value, id) with the listing's own SQL, so the file holds
exactly the list's rows, and a million rows never sit in memory together. The file's bytes are stored as they
are made (`ChunkWriter`), with chunk 0 reserved for a format whose first bytes are known only at the end (XLS).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from gateway.access.principal import Permission, Principal
from gateway.background.export_chunks import ChunkWriter
from gateway.background.export_formats import export_format
from gateway.db.pool import Database
from gateway.db.writes_in_progress import wait_for_writes
from resolvers import lookups
from resolvers.context import Context
from resolvers.exports.sources import ExportField, list_source
from resolvers.exports.summaries import summary_source
from resolvers.pagination import Listing, PageRequest, tables_written_since

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


def _columns(
    job: Any, fields: Mapping[str, ExportField]
) -> tuple[list[tuple[str | None, str]], list[ExportField | None], list[str], list[Any]]:
    """(columns, their fields (None: a column of no field), their types, (index, value) of the columns that
    hold one value in every row)."""
    columns = [(column[0], column[1]) for column in job.fields]
    constants = [column[2] if len(column) > 2 else None for column in job.fields]
    chosen = [None if field is None else fields[field] for field, _ in columns]
    types = ["text" if field is None else field.type for field in chosen]
    fill = [(i, value) for i, value in enumerate(constants) if value is not None]
    return columns, chosen, types, fill


def chunk_sql(
    listing: Listing[Any], request: PageRequest, chosen: list[ExportField | None], where: str, limit: str
) -> str:
    """The statement of a chunk of a list (its parent `$1`, its conditions `where`, `limit` rows): the chosen
    fields as c0, c1, ... (NULL for a column of none), then _sort and _id (the key of the next chunk), in the
    list's order. A field read from another table (`ExportField.lookup`: an event's device key and user) is read
    once per distinct key of the chunk, not once per row (`resolvers/lookups.py`)."""
    order = listing.order_sql(request)
    looked = lookups.by_keys((i, None if field is None else field.lookup) for i, field in enumerate(chosen))
    columns = [
        f"{'NULL' if field is None else field.sql} AS c{i}"
        for i, field in enumerate(chosen)
        if field is None or field.lookup is None
    ]
    columns += [f"{request.order.column} AS _sort", "t.id AS _id"]
    rows = f"FROM {listing.table} t {listing.join} WHERE {listing.parent_sql} = $1{where} "
    rows += f"ORDER BY {order} LIMIT {limit}"
    if not looked:
        return f"SELECT {', '.join(columns)} {rows}"
    columns += [*lookups.key_columns(looked), f"row_number() OVER (ORDER BY {order}) AS _r"]
    head, source, found = lookups.looked_up_once(f"SELECT {', '.join(columns)} {rows}", looked, "r", 0)
    values = ", ".join(f"{found.get(i, f'r.c{i}')} AS c{i}" for i in range(len(chosen)))
    return f"{head}SELECT {values}, r._sort, r._id FROM {source} ORDER BY r._r"


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
    columns, chosen, types, fill = _columns(job, source.fields)
    selected = ", ".join(
        f"{'NULL' if field is None else field.sql} AS c{i}" for i, field in enumerate(chosen)
    )
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
    columns, chosen, types, fill = _columns(job, source.fields)
    listing = source.listing
    request = PageRequest(first=CHUNK, after=None, order=source.order, conditions=source.conditions)

    # a list of what changed since a time: the writes in progress first (a job may wait longer than a request)
    written_since = tables_written_since([request])
    if written_since:
        await wait_for_writes(db, sorted(written_since), at_most=WAIT_FOR_WRITES_SECONDS)
    total = await source.total(ctx)

    file = export_format(job.format, [header for _, header in columns], types, TITLES.get(job.kind, "Export"))
    chunks = await ChunkWriter(db, job.id, job.attempt, reserve_head=file.reserves_head).start()
    await chunks.add(file.start())
    first_id = last_id = None
    width = len(columns)
    while True:
        params: list[Any] = [source.parent_id]
        where = listing.where_sql(ctx, request, params)
        params.append(CHUNK)
        rows = await db.fetch(chunk_sql(listing, request, chosen, where, f"${len(params)}"), *params)
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
