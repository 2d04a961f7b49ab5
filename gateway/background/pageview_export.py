"""The file of a PAGEVIEWS export: a site's web hits after a cursor, one CSV row each (gzip-compressed for CSV_GZIP).

The rows are written by PostgreSQL (`COPY ... TO STDOUT (FORMAT csv)`), a chunk of ids at a time, compressed and
stored as the export's chunks as they come: an export of millions of hits never holds more than a chunk, and
Python never touches a row. The columns are those of GoatCounter's export format, version 2; the version number
leads the first column's name (`2Path`), as in GoatCounter's files, so that tools reading those read these.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from datetime import datetime
from typing import Any

from gateway.background.export_chunks import ChunkWriter
from gateway.background.export_rows import Written
from gateway.db.pool import Database

HEADER = b"2Path,Title,Event,UserAgent,Browser,System,Session,Bot,Referrer,Referrer scheme,Screen size,Location,FirstVisit,Date\n"
CHUNK_ROWS = 20_000
GZIP_LEVEL = 5

# the hits of the export: $1 account, $2 product, $5 / $6 the period (NULL: unbounded)
_HITS = """product_id = $2 AND web IS NOT NULL AND account_id = $1
      AND ($5::timestamptz IS NULL OR occurred_at >= $5) AND ($6::timestamptz IS NULL OR occurred_at < $6)"""

# the next chunk: the ids after $3, at most $4 of them
_BOUNDS = f"""
SELECT count(*) AS n, max(id) AS last, min(id) AS first FROM (
    SELECT id FROM events WHERE {_HITS} AND id > $3 ORDER BY id LIMIT $4
) AS chunk
"""

# the CSV columns of the hits with ids in ($3, $4]; '' is written as NULL, which COPY writes unquoted
_ROWS = f"""
SELECT coalesce(e.path, e.key),
       nullif(coalesce(e.title, ''), ''),
       CASE WHEN (e.web->>'event')::boolean THEN 1 ELSE 0 END,
       NULL::text,
       nullif(trim(concat(e.web->>'browser', ' ', e.web->>'browser_version')), ''),
       nullif(trim(concat(e.web->>'system', ' ', e.web->>'system_version')), ''),
       nullif(e.web->>'session', ''),
       coalesce((e.web->>'bot')::integer, 0),
       nullif(coalesce(e.referrer, ''), ''),
       nullif(e.web->>'referrer_scheme', ''),
       CASE WHEN coalesce((e.web->>'width')::integer, 0) > 0 THEN (e.web->>'width') || ',0,1' END,
       nullif(coalesce(nullif(e.web->>'region', ''), e.web->>'country'), ''),
       CASE WHEN (e.web->>'first_visit')::boolean THEN 1 ELSE 0 END,
       to_char(e.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
FROM events e
WHERE {_HITS} AND id > $3 AND id <= $4
ORDER BY e.id
"""


def _collector(parts: list[bytes]) -> Callable[[bytes], Coroutine[Any, Any, None]]:
    async def collect(data: bytes) -> None:
        parts.append(bytes(data))

    return collect


async def write_pageview_export(
    db: Database,
    export_id: int,
    attempt: int,
    account_id: int,
    product_id: int,
    after_id: int | None,
    since: datetime | None,
    until: datetime | None,
    compress: bool,
    progress: Callable[[int], Awaitable[None]],
) -> Written:
    """Write the export's file (its chunks) and say what was written; `progress(rows)` after each chunk."""
    out = await ChunkWriter(db, export_id, attempt, gzip_level=GZIP_LEVEL if compress else None).start()
    await out.add(HEADER)
    last = after_id or 0
    first: int | None = None
    rows = 0
    while True:
        bounds = await db.fetchrow(_BOUNDS, account_id, product_id, last, CHUNK_ROWS, since, until)
        assert bounds is not None
        if not bounds["n"]:
            break
        parts: list[bytes] = []
        collect = _collector(parts)
        async with db.pool.acquire() as conn:
            await conn.copy_from_query(
                _ROWS,
                account_id,
                product_id,
                last,
                bounds["last"],
                since,
                until,
                output=collect,
                format="csv",
            )
        await out.add(b"".join(parts))
        first = first if first is not None else bounds["first"]
        last = bounds["last"]
        rows += bounds["n"]
        await progress(rows)
    digest = await out.close()
    return Written(rows, out.size, digest, first, last if rows else after_id)
