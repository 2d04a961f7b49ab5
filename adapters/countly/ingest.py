"""Running the `record` mutation for Countly writes and turning its outcomes into Countly's replies.

`/i` requests of one product arriving in the same turn of the event loop share one `record` operation
(`gateway.execution.coalescer`); `/i/bulk` runs one operation per call.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from adapters.countly import replies
from adapters.countly.operations import operation
from gateway.access.principal import Principal
from gateway.execution.coalescer import Coalescer
from gateway.execution.executor import RequestError
from gateway.execution.inprocess import run_operation

log = logging.getLogger(__name__)

# `/i` requests sharing one operation at most (the engine commits up to 200 requests at once by default)
MAX_SHARED_REQUESTS = 100

RecordBatches = Coalescer[Principal, tuple[web.Request, dict[str, Any]], str]
RECORD_BATCHES = web.AppKey("countly_record_batches", Coalescer)

# outcome of the record mutation → (status, result, info)
OUTCOME_REPLIES: dict[str, tuple[int, str, str | None]] = {
    "STORED": (200, "Success", None),
    "DUPLICATE": (200, "Success", "Request ignored: Duplicate request"),
    "IGNORED_DEVICE": (200, "Ignoring device_id", None),
    "CHECKSUM_MISMATCH": (200, "Request does not match checksum", None),
    "CHECKSUM_MISSING": (200, "Request does not have checksum", None),
    "PRODUCT_PAUSED": (400, "App is currently not accepting data", None),
    "UNKNOWN_PRODUCT": (400, "App does not exist", None),
}


@dataclass
class WriteRejected(Exception):
    """The graph refused the write; `status` and `message` are what the client is told."""

    status: int
    message: str


async def record(request: web.Request, principal: Principal, items: list[dict[str, Any]]) -> list[str]:
    """The outcome name of each RecordInput, recorded for the principal's product; raises WriteRejected."""
    try:
        result = await run_operation(request, principal, operation("record"), {"requests": items})
    except RequestError as exc:
        raise WriteRejected(400, str(exc)) from None
    if result.errors:
        error = result.errors[0]
        code = (error.extensions or {}).get("code")
        if code == "INTERNAL_SERVER_ERROR":
            raise WriteRejected(500, "Internal server error")
        raise WriteRejected(400, error.message)
    rows = (result.data or {}).get("record") or []
    if len(rows) != len(items):
        log.error("record gave %d outcomes for %d requests", len(rows), len(items))
        raise WriteRejected(500, "Internal server error")
    return [str(row["outcome"]) for row in rows]


def record_batches() -> RecordBatches:
    """The `/i` coalescer of one app: concurrent requests of one principal, one `record` operation."""

    async def record_many(
        principal: Principal, entries: list[tuple[web.Request, dict[str, Any]]]
    ) -> list[str]:
        # the first request's state and id serve the operation; all requests of an app share the state
        return await record(entries[0][0], principal, [item for _, item in entries])

    return Coalescer(record_many, max_items=MAX_SHARED_REQUESTS)


async def record_one(request: web.Request, principal: Principal, item: dict[str, Any]) -> str:
    """The outcome name of one `/i` request's RecordInput; raises WriteRejected (for this request alone)."""
    batches: RecordBatches = request.app[RECORD_BATCHES]
    return await batches.run(principal, (request, item))


def outcome_reply(outcome: str, callback: str | None) -> web.Response:
    """Countly's reply to one write request with this outcome."""
    status, text, info = OUTCOME_REPLIES.get(outcome, (200, "Success", None))
    if info is not None:
        return replies.message(status, text, callback, info=info)
    return replies.message(status, text, callback)
