"""`GET /exports/{id}/download`: the file of a finished export, streamed chunk by chunk from PostgreSQL.

`stream_export` writes a finished export's chunks into a response whatever front door serves it (the graph's
download URL here, GoatCounter's `/api/v0/export/{id}/download`): the file is never held in memory.
"""

from __future__ import annotations

from aiohttp import web

from gateway.access.principal import Permission
from gateway.access.tokens import bearer_token, principal_for_token
from gateway.db.pool import Database
from gateway.state import state_of
from resolvers.node import InvalidId, pk_of

# format -> (content type, file name extension)
FILE_TYPES = {
    "csv": ("text/csv; charset=utf-8", "csv"),
    "json": ("application/json; charset=utf-8", "json"),
    "csv_gzip": ("application/gzip", "csv.gz"),
}


async def stream_export(
    request: web.Request, db: Database, export_id: int, headers: dict[str, str]
) -> web.StreamResponse:
    """Stream the chunks of a finished export (whose access the caller checked) with `headers`."""
    response = web.StreamResponse(headers=headers)
    await response.prepare(request)
    seq = 0
    while True:
        data = await db.fetchval(
            "SELECT data FROM export_chunks WHERE export_id = $1 AND seq = $2", export_id, seq
        )
        if data is None:
            break
        await response.write(data)
        seq += 1
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
    row = await state.db.fetchrow(
        "SELECT product_id, format, status, size, hash FROM exports WHERE id = $1 AND account_id = $2",
        export_id,
        principal.account_id,
    )
    if row is None or not principal.may_use_product(row["product_id"]):
        return web.json_response({"error": "Export not found"}, status=404)
    if row["status"] == "expired":
        return web.json_response({"error": "The export's file has been deleted"}, status=410)
    if row["status"] != "finished":
        return web.json_response({"error": f"Export is {row['status']}"}, status=409)
    content_type, extension = FILE_TYPES[row["format"]]
    headers = {
        "Content-Type": content_type,
        "Content-Length": str(row["size"]),
        "Content-Disposition": f'attachment; filename="export-{export_id}.{extension}"',
        "Digest": f"sha-256={row['hash']}",
    }
    return await stream_export(request, state.db, export_id, headers)
