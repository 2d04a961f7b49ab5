"""Export files: `GET /exports/{id}/download` (bearer token of the export's account) and
`GET /exports/download?token=...` (a download link: no credentials, until it expires), streamed chunk by chunk
from PostgreSQL: a file is never held in memory. Dialects serve the same files at their own paths with their own
replies (`export_by_link`, `stream_export` with their headers: FollowAnalytics' links, GoatCounter's
`/api/v0/export/{id}/download`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from aiohttp import web

from gateway.access.principal import Permission
from gateway.access.tokens import bearer_token, principal_for_token
from gateway.background.export_chunks import read_chunks
from gateway.db.pool import Database
from gateway.state import state_of
from resolvers.exports.types import EXPORT_PRODUCTS
from resolvers.node import InvalidId, pk_of
from resolvers.scope import within_scope

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json; charset=utf-8",
    "xls": "application/vnd.ms-excel",
    "csv_gzip": "application/gzip",
}
# file name extensions that are not the format's name
EXTENSIONS = {"csv_gzip": "csv.gz"}
MAX_LINK_TOKEN = 200


@dataclass(frozen=True)
class ExportFile:
    id: int
    kind: str
    format: str
    status: str
    size: int
    hash: str | None


async def export_by_link(db: Database, token: str | None) -> ExportFile | None:
    """The export a download link's token opens, or None when the token is missing, unknown or expired."""
    if not token or len(token) > MAX_LINK_TOKEN:
        return None
    row = await db.fetchrow(
        "SELECT id, kind, format, status, size, hash, link_expires_at FROM exports WHERE link_hash = $1",
        hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest(),
    )
    if row is None or row["link_expires_at"] is None or row["link_expires_at"] <= datetime.now(UTC):
        return None
    return ExportFile(row["id"], row["kind"], row["format"], row["status"], row["size"], row["hash"])


class ExportFileGone(RuntimeError):
    """The file's chunks were deleted (erased people, expiry) while it was being sent."""


async def stream_export(
    request: web.Request, file: ExportFile, headers: dict[str, str] | None = None
) -> web.StreamResponse:
    """The file of a finished export (whose access the caller checked), with `headers` or the file's own.

    Chunks are read one at a time, each in its own statement, so a slow download holds no transaction. A chunk
    that is gone before the file's last byte (an erasure expired the file meanwhile) ends the download with
    `ExportFileGone`: before the first byte that is a 410 in the route's error shape; after it, the connection is
    cut (`error_shapes.reply_started`), so the client sees a broken transfer instead of waiting for bytes that will
    never come, or keeping a short file."""
    db = state_of(request).db
    chunks = read_chunks(db, file.id)
    data = await anext(chunks, None)
    if data is None and file.size > 0:
        raise web.HTTPGone(reason="The export's file has been deleted")
    extension = EXTENSIONS.get(file.format, file.format)
    response = web.StreamResponse(
        headers=headers
        or {
            "Content-Type": CONTENT_TYPES.get(file.format, "application/octet-stream"),
            "Content-Length": str(file.size),
            "Content-Disposition": f'attachment; filename="{file.kind}-{file.id}.{extension}"',
            "Digest": f"sha-256={file.hash}",
        }
    )
    await response.prepare(request)
    sent = seq = 0
    while data is not None:
        await response.write(data)
        sent += len(data)
        seq += 1
        data = await anext(chunks, None)
    if sent != file.size:
        raise ExportFileGone(f"export {file.id}: {sent} of {file.size} bytes, chunk {seq} is gone")
    await response.write_eof()
    return response


async def download_export(request: web.Request) -> web.StreamResponse:
    """The file of a finished export, for a bearer token of the export's account."""
    state = state_of(request)
    token = bearer_token(request.headers.get("Authorization"))
    principal = await principal_for_token(state.db, token) if token else None
    if principal is None or not principal.can(Permission.EXPORT):
        return web.json_response({"error": "Authentication required"}, status=401)
    try:
        export_id = pk_of(request.match_info["id"], "Export")
    except InvalidId:
        return web.json_response({"error": "Export not found"}, status=404)
    # a token limited to some products downloads only the exports of those (as it lists them)
    scope = principal.product_scope
    row = await state.db.fetchrow(
        "SELECT t.id, t.kind, t.format, t.status, t.size, t.hash FROM exports t WHERE t.id = $1 AND t.account_id = $2"
        f" AND ($3::bigint[] IS NULL OR ({within_scope('$3', products_sql=EXPORT_PRODUCTS)}))",
        export_id,
        principal.account_id,
        None if scope is None else list(scope),
    )
    if row is None:
        return web.json_response({"error": "Export not found"}, status=404)
    if row["status"] == "expired":
        return web.json_response({"error": "The export's file has been deleted"}, status=410)
    if row["status"] != "finished":
        return web.json_response({"error": f"Export is {row['status']}"}, status=409)
    file = ExportFile(row["id"], row["kind"], row["format"], row["status"], row["size"], row["hash"])
    return await stream_export(request, file)


async def download_by_link(request: web.Request) -> web.StreamResponse:
    """A download link: 200 with the file, 202 while it is written, 400 for a missing, unknown or expired token."""
    file = await export_by_link(state_of(request).db, request.rel_url.query.get("token"))
    if file is None:
        return web.json_response({"error": "The download token is missing, unknown or expired"}, status=400)
    if file.status in ("pending", "running"):
        return web.json_response({"status": file.status, "message": "The file is being written"}, status=202)
    if file.status == "expired":
        return web.json_response({"error": "The export's file has been deleted"}, status=400)
    if file.status != "finished":
        return web.json_response({"error": "The export failed"}, status=400)
    return await stream_export(request, file)
