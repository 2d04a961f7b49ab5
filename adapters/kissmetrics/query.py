"""KISSmetrics' Query API: running a people search (`POST /query/reports/{id}/run`), its status and its result
pages, through the graph's `runReport`, `pollReportRun` and `ReportRun.rows` (operations/query.graphql).

Quirks kept from the real service (`reference/kissmetrics.md`): the first status read of a run answers 200 with
`completed: false` even when the run is done (the official script ignores a 201 on its first poll); a done run
answers 201 with the results' `Location`; errors of this API have their own shape, a database outage included
(503 with `Retry-After`).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from adapters.kissmetrics import envelopes
from adapters.kissmetrics.core import Failed, principal_of
from adapters.kissmetrics.operations import operation
from gateway.execution.executor import RequestError
from gateway.execution.inprocess import run_operation
from gateway.http.error_shapes import ErrorShape, add_dialect_route, claim_prefix
from gateway.json_text import compact_json, loads_json

MAX_BODY_BYTES = 64 * 1024
MAX_RESULTS_PAGE = 1000
NOT_FOUND = "Invalid report_guid provided: report not found."
BAD_BODY = "The request body must be a JSON object."


def _reply(status: int, body: dict[str, Any], **headers: str) -> web.Response:
    return web.Response(
        status=status,
        body=compact_json(body).encode("utf-8"),
        headers={"Content-Type": envelopes.JSON_TYPE, "Cache-Control": "no-cache", **headers},
    )


def _error(status: int, message: str) -> web.Response:
    """This API's error: `{"message", "error" (the status' name), "status"}`."""
    try:
        name = HTTPStatus(status).phrase
    except ValueError:
        name = "Error"
    return _reply(status, {"message": message, "error": name, "status": status})


# what this API's routes answer when their handler does not (an outage: 503 with Retry-After; an internal
# error: 500), and the paths below /query/ that match no route (404, 405): gateway/http/error_shapes.py
QUERY_SHAPE = ErrorShape("kissmetrics-query", lambda _request, status, message: _error(status, message))


def _date(value: Any, name: str) -> str | None:
    """A run date as sent (Unix seconds as a number or text, or ISO 8601) in ISO 8601, or None when absent."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError(name)
    if isinstance(value, int | float) or (isinstance(value, str) and value.strip().lstrip("-").isdigit()):
        seconds = float(value)
        if not -62135596800 <= seconds <= 253402300799:
            raise ValueError(name)
        return datetime.fromtimestamp(seconds, UTC).isoformat()
    if isinstance(value, str):
        text = value.strip()
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        if len(text) >= 5 and text[-5] in "+-" and text[-4:].isdigit() and text[-3] != ":":
            text = text[:-2] + ":" + text[-2:]  # +0000 -> +00:00
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.isoformat()
    raise ValueError(name)


async def _run_operation(request: web.Request, name: str, variables: dict[str, Any]) -> dict[str, Any]:
    principal = await principal_of(request)
    try:
        result = await run_operation(request, principal, operation("query"), variables, name)
    except RequestError as exc:
        raise Failed(400) from exc
    if result.errors:
        codes = {(error.extensions or {}).get("code") for error in result.errors}
        if "NOT_FOUND" in codes:
            raise Failed(404)
        if "INTERNAL_SERVER_ERROR" in codes:
            raise Failed(500)
        raise Failed(400)
    return result.data or {}


async def _node_id(request: web.Request, raw: str, type_name: str) -> str:
    """The global id of the caller's object with this UUID and type; Failed(404) otherwise."""
    try:
        uid = str(uuid.UUID(raw))
    except ValueError as exc:
        raise Failed(404) from exc
    data = await _run_operation(request, "KmFind", {"uuid": uid})
    node = data.get("nodeByUuid")
    if node is None or node["__typename"] != type_name:
        raise Failed(404)
    return str(node["id"])


def _json_body(raw: bytes) -> Any:
    """The decoded body, in the encoding `json.loads` would detect; None when it is not JSON (also: not text in
    that encoding, or nested deeper than the decoder goes, which fits in MAX_BODY_BYTES)."""
    try:
        return loads_json(raw.decode(json.detect_encoding(raw), "surrogatepass"))
    except ValueError:
        return None


async def run(request: web.Request) -> web.Response:
    """`POST /query/reports/{id}/run` with `{"report": {"start_date": ..., "end_date": ...}}` (or no wrapper)."""
    try:
        report_id = await _node_id(request, request.match_info["id"], "Report")
        body: Any = {}
        if request.can_read_body:
            raw = await request.content.read(MAX_BODY_BYTES + 1)
            if len(raw) > MAX_BODY_BYTES:
                return _error(400, "The request body is too large.")
            if raw.strip():
                body = _json_body(raw)
        if not isinstance(body, dict):
            return _error(400, BAD_BODY)
        dates = body.get("report", body)
        if not isinstance(dates, dict):
            return _error(400, "`report` must be an object.")
        variables = {
            "id": report_id,
            "start": _date(dates.get("start_date"), "start_date"),
            "end": _date(dates.get("end_date"), "end_date"),
        }
        data = await _run_operation(request, "KmRun", variables)
    except Failed as failed:
        if failed.status == 404:
            return _error(404, NOT_FOUND)
        if failed.status in (401, 403):
            return _error(failed.status, envelopes.MESSAGES[failed.status])
        if failed.status == 500:
            return _error(500, "The run could not be started.")
        return _error(400, "This report cannot run with these dates (only people_search_v2 reports run).")
    except (ValueError, UnicodeError, OverflowError):
        return _error(400, "start_date and end_date must be Unix seconds or ISO 8601 dates.")
    query_id = data["runReport"]["uuid"]
    location = f"{envelopes.base_url(request)}/query/queries/{query_id}/status"
    return _reply(202, {"success": True, "query_guid": query_id}, Location=location)


async def status(request: web.Request) -> web.Response:
    """`GET /query/queries/{id}/status`: 200 while running (and on the first read), 201 once done."""
    try:
        run_id = await _node_id(request, request.match_info["id"], "ReportRun")
        data = await _run_operation(request, "KmPoll", {"id": run_id})
    except Failed as failed:
        return _error(
            failed.status, "Query not found." if failed.status == 404 else "The query cannot be read."
        )
    polled = data["pollReportRun"]
    progress = float(polled["progress"])
    if polled["status"] == "FAILED":
        return _reply(
            500, {"completed": False, "progress": progress, "error": polled["error"] or "The run failed."}
        )
    if polled["status"] != "FINISHED" or polled["polls"] <= 1:
        return _reply(
            200,
            {
                "completed": False,
                "progress": min(progress, 0.99) if polled["status"] == "FINISHED" else progress,
            },
        )
    location = f"{envelopes.base_url(request)}/query/queries/{polled['uuid']}/results"
    return _reply(201, {"completed": True, "progress": 1.0}, Location=location)


def _column(column: dict[str, Any]) -> dict[str, Any]:
    return {
        "display_name": column["name"],
        "type": column["kind"],
        "return_option": column["returns"],
        "display_return_option": column["returnsName"],
    }


async def results(request: web.Request) -> web.Response:
    """`GET /query/queries/{id}/results?limit=&offset=`: one page of rows, aligned with the columns."""
    try:
        page = envelopes.page_of(request, MAX_RESULTS_PAGE)
        run_id = await _node_id(request, request.match_info["id"], "ReportRun")
        data = await _run_operation(
            request, "KmResults", {"id": run_id, "offset": page.offset, "limit": page.limit}
        )
    except envelopes.BadRequest:
        return _error(400, "limit and offset must be whole numbers (limit from 1 to 1000).")
    except Failed as failed:
        return _error(
            failed.status, "Query not found." if failed.status == 404 else "The query cannot be read."
        )
    found = data["node"]
    if found["status"] != "FINISHED":
        return _error(400, "The query has not finished: read its status until it answers 201.")
    query_id = found["uuid"]
    base = envelopes.base_url(request)
    url = f"{base}/query/queries/{query_id}/results"
    total = int(found["total"] or 0)
    links = envelopes.paging_links(url, page, total, None)
    for item in links:  # the real service adds the query's id after the paging parameters
        item["href"] += "&" + urlencode({"query_guid": query_id})
    product = found["report"]["product"]["uuid"] if found["report"]["product"] else ""
    links.append(
        envelopes.link(
            "Export",
            "export",
            f"{base}/v1/queries/{query_id}/export?{urlencode({'format': 'csv', 'product_uuid': product})}",
        )
    )
    body = {
        "total": total,
        "links": links,
        "metadata": {"limit": page.limit, "offset": page.offset},
        "columns": [_column(column) for column in found["columns"]],
        "rows": found["rows"],
    }
    return _reply(200, body)


def add_query_routes(app: web.Application) -> None:
    add_dialect_route(app, QUERY_SHAPE, "POST", "/query/reports/{id}/run", run)
    add_dialect_route(app, QUERY_SHAPE, "GET", "/query/queries/{id}/status", status)
    add_dialect_route(app, QUERY_SHAPE, "GET", "/query/queries/{id}/results", results)
    claim_prefix(app, QUERY_SHAPE, "/query/")
