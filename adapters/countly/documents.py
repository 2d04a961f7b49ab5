"""The documents `/o` and `/o/analytics/*` answer with, fetched from the graph and reshaped.

`get_events` reads the product's event definitions. The time-bucketed documents (sessions, users, locations,
devices, carriers, device details, app versions, events) and the dashboard/countries summaries need the
`Product.analytics` field (`resolvers/analytics/`), which does not exist yet: until it does they answer
501 `{"result":"Not implemented"}`, never a 500.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from adapters.countly.operations import operation
from adapters.countly.params import CountlyRequest
from gateway.auth import Principal
from gateway.executor import RequestError
from gateway.inprocess import run_operation

LIMITS = {"event_limit": 500, "event_segmentation_limit": 100, "event_segmentation_value_limit": 1000}


class ReadFailed(Exception):
    """A read the graph could not answer; `status` and `message` are what the client is told."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


async def _query(
    request: web.Request, principal: Principal, name: str, variables: dict[str, Any]
) -> dict[str, Any]:
    try:
        result = await run_operation(request, principal, operation(name), variables)
    except RequestError as exc:
        raise ReadFailed(400, str(exc)) from None
    if result.errors:
        error = result.errors[0]
        code = (error.extensions or {}).get("code")
        raise ReadFailed(500 if code == "INTERNAL_SERVER_ERROR" else 400, error.message)
    return result.data or {}


async def get_events_document(
    request: web.Request, principal: Principal, product_id: str, timezone: str, req: CountlyRequest
) -> dict[str, Any]:
    """`method=get_events`: event keys, their segmentation keys, and Countly's limits (only limits when empty)."""
    data = await _query(request, principal, "event_keys", {"id": product_id})
    nodes = ((data.get("node") or {}).get("eventDefinitions") or {}).get("nodes") or []
    keys = [node["name"] for node in nodes if node.get("visible", True)]
    if not keys:
        return {"limits": LIMITS}
    return {
        "list": keys,
        "segments": {key: [] for key in keys},
        "map": {},
        "order": keys,
        "limits": LIMITS,
    }


async def _pending(
    request: web.Request, principal: Principal, product_id: str, timezone: str, req: CountlyRequest
) -> Any:
    raise ReadFailed(501, "Not implemented")


users_document = devices_document = carriers_document = device_details_document = _pending
events_document = dashboard_summary = countries_summary = _pending
