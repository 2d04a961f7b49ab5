"""Exports: `POST /api/v0/export`, `GET /api/v0/export/{id}` and its download, over the graph's PAGEVIEWS exports.

An export holds a site's hits after `start_from_hit_id` as a gzip CSV (GoatCounter's format, version 2); its
`last_hit_id` is the cursor of the next one. The download streams the stored file.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web

from adapters.goatcounter import gojson, replies
from adapters.goatcounter.api import ApiCall, numeric_id
from adapters.goatcounter.gotime import rfc3339
from adapters.goatcounter.params import Obj, read_body, whole_number
from adapters.goatcounter.replies import ApiError
from gateway.http.downloads import ExportFile, stream_export
from resolvers.node import to_global_id

BODY = Obj("apiExportRequest", {"start_from_hit_id": "int64"})
KEPT = "exports are kept for 24 hours; this export file has been deleted"


def file_name(export: dict[str, Any]) -> str:
    """GoatCounter's name of an export's file: its site's code, when it was made, and its start."""
    created = datetime.fromisoformat(export["createdAt"])
    start = int(export["afterCursor"] or 0)
    return f"goatcounter-export-{export['product']['siteCode']}-{created.strftime('%Y%m%dT%H%M%SZ')}-{start}.csv.gz"


def export_json(export: dict[str, Any]) -> dict[str, Any]:
    """An export as GoatCounter's API shows it."""
    finished = export["status"] in ("FINISHED", "EXPIRED")
    size_mb = max(0.1, export["size"] / 1024 / 1024) if finished else None
    return {
        "id": numeric_id(export["id"]),
        "site_id": numeric_id(export["product"]["id"]),
        "start_from_hit_id": int(export["afterCursor"] or 0),
        "last_hit_id": int(export["lastCursor"] or export["afterCursor"] or 0) if finished else None,
        "path": file_name(export),
        "created_at": rfc3339(datetime.fromisoformat(export["createdAt"])),
        "finished_at": rfc3339(datetime.fromisoformat(export["finishedAt"]))
        if export["finishedAt"]
        else None,
        "num_rows": export["rows"] if finished else None,
        "size": f"{size_mb:.1f}" if size_mb is not None else None,
        "hash": f"sha256-{export['hash']}" if finished and export["hash"] else None,
        "error": export["error"],
    }


async def start(call: ApiCall) -> web.StreamResponse:
    """POST /api/v0/export: start an export of the site's hits after `start_from_hit_id`."""
    await call.authorize("export")
    body = await read_body(call.request, BODY)
    site = await call.site()
    after = body.get("start_from_hit_id") or 0
    data = await call.run("export_start", {"product": site.id, "after": str(after) if after > 0 else None})
    return replies.plain(gojson.indented(export_json(data["startExport"])), 202)


async def _export(call: ApiCall) -> dict[str, Any]:
    export_id = whole_number("id", call.params["id"])
    node = (await call.run("export", {"id": to_global_id("Export", export_id)})).get("node")
    if not node or node.get("kind") != "PAGEVIEWS":
        raise ApiError(404, "not found")
    return node  # type: ignore[no-any-return]


async def get(call: ApiCall) -> web.StreamResponse:
    """GET /api/v0/export/{id}."""
    await call.authorize("export")
    return replies.success(call.request, export_json(await _export(call)))


async def download(call: ApiCall) -> web.StreamResponse:
    """GET /api/v0/export/{id}/download: the gzip CSV, once finished."""
    await call.authorize("export")
    export = await _export(call)
    status = export["status"]
    if status in ("PENDING", "RUNNING"):
        raise ApiError(202, "still being generated", written=True)
    if status == "EXPIRED":
        raise ApiError(400, KEPT, written=True)
    if status != "FINISHED":
        raise ApiError(400, export["error"] or "the export failed", written=True)
    headers = {
        **replies.NO_STORE,
        **call.headers,
        "Content-Disposition": f'attachment; filename="{file_name(export)}"',
        "Content-Type": "application/gzip",
        "Content-Length": str(export["size"]),
    }
    file = ExportFile(
        numeric_id(export["id"]), "pageviews", "csv_gzip", "finished", export["size"], export["hash"]
    )
    return await stream_export(call.request, file, headers)
