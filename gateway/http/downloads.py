"""`GET /exports/{id}/download`: the file of a finished export, streamed chunk by chunk from PostgreSQL."""

from __future__ import annotations

from aiohttp import web

from gateway.access.principal import Permission
from gateway.access.tokens import bearer_token, principal_for_token
from gateway.state import state_of
from resolvers.node import InvalidId, pk_of


async def download_export(request: web.Request) -> web.StreamResponse:
    """The file of a finished export, for a bearer token of the export's account."""
    state = state_of(request)
    token = bearer_token(request.headers.get("Authorization"))
    principal = await principal_for_token(state.db, token) if token else None
    if principal is None or not principal.can(Permission.READ):
        return web.json_response({"error": "Authentication required"}, status=401)
    try:
        export_id = pk_of(request.match_info["id"], "Export")
    except InvalidId:
        return web.json_response({"error": "Export not found"}, status=404)
    row = await state.db.fetchrow(
        "SELECT format, status, size, hash FROM exports WHERE id = $1 AND account_id = $2",
        export_id,
        principal.account_id,
    )
    if row is None:
        return web.json_response({"error": "Export not found"}, status=404)
    if row["status"] != "finished":
        return web.json_response({"error": f"Export is {row['status']}"}, status=409)
    response = web.StreamResponse(
        headers={
            "Content-Type": ("text/csv" if row["format"] == "csv" else "application/json")
            + "; charset=utf-8",
            "Content-Length": str(row["size"]),
            "Content-Disposition": f'attachment; filename="export-{export_id}.{row["format"]}"',
            "Digest": f"sha-256={row['hash']}",
        }
    )
    await response.prepare(request)
    seq = 0
    while True:
        data = await state.db.fetchval(
            "SELECT data FROM export_chunks WHERE export_id = $1 AND seq = $2", export_id, seq
        )
        if data is None:
            break
        await response.write(data)
        seq += 1
    await response.write_eof()
    return response
