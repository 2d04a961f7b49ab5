"""The Countly URLs on the aiohttp app: method dispatch, CORS preflight and the write handlers.

`/i` and `/i/bulk` write through the `record` mutation; `/o`, `/o/analytics/*` and `/o/sdk` read through
`adapters.countly.reads`. Every reply is Countly's JSON (or JSONP), never an HTML error page.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from adapters.countly import reads, replies
from adapters.countly.ingest import (
    RECORD_BATCHES,
    WriteRejected,
    outcome_reply,
    record,
    record_batches,
    record_one,
)
from adapters.countly.params import CountlyRequest, as_text, json_param, read_request
from adapters.countly.writes import (
    bulk_item_payload,
    dedupe_hash,
    record_input,
    request_payload,
    signed_payload,
)
from gateway.access.app_keys import product_for_app_key
from gateway.execution.coalescer import register_coalescer
from gateway.http.error_shapes import ErrorShape, add_dialect_route
from gateway.state import state_of

log = logging.getLogger(__name__)

CountlyHandler = Callable[[web.Request, CountlyRequest], Awaitable[web.Response]]
MISSING_WRITE_KEYS = 'Missing parameter "app_key" or "device_id"'


def _device_id(value: Any) -> str | None:
    text = as_text(value)
    return text if text is not None and text.strip() else None


async def write(request: web.Request, req: CountlyRequest) -> web.Response:
    """`/i`: one write request of one device."""
    callback = req.text("callback")
    app_key = req.text("app_key")
    device_id = _device_id(req.params.get("device_id"))
    if not app_key or device_id is None:
        return replies.message(400, MISSING_WRITE_KEYS, callback)
    found = await product_for_app_key(state_of(request).db, app_key)
    if found is None:
        return replies.message(400, "App does not exist", callback)
    if found.status != "active":
        return replies.message(400, "App is currently not accepting data", callback)
    dedupe = dedupe_hash(request_payload(req), req.text("timestamp"))
    item = record_input(req.params, device_id, dedupe, signed_payload(req))
    try:
        outcome = await record_one(request, found.principal, item)
    except WriteRejected as rejected:
        return replies.message(rejected.status, rejected.message, callback)
    return outcome_reply(outcome, callback)


async def bulk(request: web.Request, req: CountlyRequest) -> web.Response:
    """`/i/bulk`: many write requests, answered once all of them are stored."""
    callback = req.text("callback")
    raw = req.params.get("requests")
    parsed = json_param(raw) if raw is not None else None
    if parsed is None:
        return replies.message(400, 'Missing parameter "requests"', callback)
    if not isinstance(parsed, list):
        return replies.message(400, 'Invalid parameter "requests"', callback)
    top_key = req.text("app_key")
    now_ms = int(time.time() * 1000)
    groups: dict[str, list[dict[str, Any]]] = {}
    for entry in parsed:
        if not isinstance(entry, dict):
            continue
        app_key = as_text(entry.get("app_key")) or top_key
        device_id = _device_id(entry.get("device_id"))
        if not app_key or device_id is None:
            continue
        try:
            payload = bulk_item_payload(entry)
        except ValueError:  # a value nested too deeply to be written back as text: an unusable item
            continue
        dedupe = dedupe_hash(payload, as_text(entry.get("timestamp")), now_ms)
        groups.setdefault(app_key, []).append(record_input(entry, device_id, dedupe, payload))
    db = state_of(request).db
    for app_key, items in groups.items():
        found = await product_for_app_key(db, app_key)
        if found is None or found.status != "active":
            continue
        try:
            await record(request, found.principal, items)
        except WriteRejected:
            # one bad item must not lose the others: they are recorded one by one and a rejected one is
            # skipped (the SDK drops the batch on Success: resending the item would only fail again, and the
            # stored items without a timestamp would be stored twice). An outage is not a rejection: it
            # reaches the error middleware (503), and the SDK sends the whole batch again later.
            for item in items:
                try:
                    await record(request, found.principal, [item])
                except WriteRejected as single:
                    log.warning("/i/bulk: an item of %s was skipped: %s", app_key[:64], single.message[:200])
    return replies.message(200, "Success", callback)


def _dispatch(handler: CountlyHandler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def route(request: web.Request) -> web.StreamResponse:
        if request.method == "OPTIONS":
            return replies.options()
        if request.method not in ("GET", "POST"):
            return replies.method_not_allowed()
        try:
            req = await read_request(request)
        except web.HTTPRequestEntityTooLarge:
            return replies.message(413, "Request entity too large")
        return await handler(request, req)

    return route


ROUTES: dict[str, CountlyHandler] = {
    "/i": write,
    "/i/bulk": bulk,
    "/o": reads.read,
    "/o/analytics/dashboard": reads.dashboard,
    "/o/analytics/countries": reads.countries,
    "/o/sdk": reads.sdk,
}


def _error(request: web.Request, status: int, message: str) -> web.StreamResponse:
    """A Countly message reply for what a handler did not answer (an outage: 503, an internal error: 500)."""
    return replies.message(status, message, request.query.get("callback"))


COUNTLY_SHAPE = ErrorShape("countly", _error)


def add_countly_routes(app: web.Application) -> None:
    """Mount the Countly URLs (every HTTP method; GET, POST and OPTIONS are answered, others get 405)."""
    batches = record_batches()
    app[RECORD_BATCHES] = batches
    register_coalescer(app, "countly_i", batches)
    for path, handler in ROUTES.items():
        add_dialect_route(app, COUNTLY_SHAPE, "*", path, _dispatch(handler))
