"""The read API: who may read which app (`/o` and `/o/analytics/*`), method dispatch, and `/o/sdk`.

Countly's order of checks: `app_id` first (old readers may name the app by `app_key` alone), then the method,
then the credential (`api_key`, `auth_token` or the `countly-token` header), the app, and the right on it.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from adapters.countly import documents, replies
from adapters.countly.operations import operation
from adapters.countly.params import CountlyRequest
from adapters.countly.periods import BadPeriod
from gateway.access.app_keys import product_for_app_key
from gateway.access.principal import Principal
from gateway.access.tokens import principal_for_token
from gateway.execution.executor import RequestError
from gateway.execution.inprocess import run_operation
from gateway.state import state_of
from resolvers.node import to_global_id

READ_METHODS = {
    "sessions": documents.users_document,
    "users": documents.users_document,
    "locations": documents.users_document,
    "devices": documents.devices_document,
    "carriers": documents.carriers_document,
    "device_details": documents.device_details_document,
    "app_versions": documents.device_details_document,
    "events": documents.events_document,
    "get_events": documents.get_events_document,
}


@dataclass(frozen=True)
class Reader:
    """An authorised read: the caller's principal and the app's global id and timezone."""

    principal: Principal
    product_id: str
    timezone: str


class Refused(Exception):
    """A read refused the Countly way."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _token(req: CountlyRequest) -> str | None:
    return req.text("api_key") or req.text("auth_token") or req.headers.get("countly-token") or None


async def authorize(request: web.Request, req: CountlyRequest) -> Reader:
    """The reader of a request that has an `app_id` or `app_key`; raises Refused."""
    db = state_of(request).db
    app_id = req.text("app_id")
    token = _token(req)
    principal: Principal | None
    if token is None:
        app_key = req.text("app_key")
        if not app_key:
            raise Refused(400, 'Missing parameter "api_key" or "auth_token"')
        found = await product_for_app_key(db, app_key)
        # an app key reads only a product made public: otherwise it is no read credential at all
        if found is None:
            raise Refused(401, "App does not exist")
        reader = found.reader
        if reader is None:
            raise Refused(400, 'Missing parameter "api_key" or "auth_token"')
        key_product = str(to_global_id("Product", found.product_id))
        if app_id and app_id != key_product:
            raise Refused(401, "App does not exist")
        principal, app_id = reader, key_product
    else:
        principal = await principal_for_token(db, token)
        if principal is None:
            raise Refused(401, "User does not exist")
        if not app_id:  # an old reader names the app by its key, with a token
            found = await product_for_app_key(db, req.text("app_key") or "")
            if found is None:
                raise Refused(401, "App does not exist")
            app_id = str(to_global_id("Product", found.product_id))
    try:
        result = await run_operation(request, principal, operation("product"), {"id": app_id})
    except RequestError:
        raise Refused(401, "App does not exist") from None
    if result.errors:
        codes = {(error.extensions or {}).get("code") for error in result.errors}
        if codes & {"FORBIDDEN", "UNAUTHENTICATED"}:
            raise Refused(401, "User does not have right")
        raise Refused(401, "App does not exist")
    node = (result.data or {}).get("node")
    if not node or node.get("__typename") != "Product":
        raise Refused(401, "App does not exist")
    return Reader(principal=principal, product_id=node["id"], timezone=node["timezone"])


def _missing_app(req: CountlyRequest) -> bool:
    return not req.text("app_id") and not req.text("app_key")


async def read(request: web.Request, req: CountlyRequest) -> web.Response:
    """`/o?method=...`: the raw time-bucketed documents of the dashboard."""
    callback = req.text("callback")
    if _missing_app(req):
        return replies.message(400, 'Missing parameter "app_id"', callback)
    method = req.text("method") or ""
    builder = READ_METHODS.get(method)
    if builder is None:
        return replies.message(400, "Invalid method", callback)
    try:
        reader = await authorize(request, req)
        document = await builder(request, reader.principal, reader.product_id, reader.timezone, req)
    except Refused as refused:
        return replies.message(refused.status, refused.message, callback)
    except BadPeriod:
        return replies.message(400, "Invalid period", callback)
    except documents.ReadFailed as failed:
        return replies.message(failed.status, failed.message, callback)
    return replies.data(document, callback)


async def _analytics(request: web.Request, req: CountlyRequest, countries: bool) -> web.Response:
    callback = req.text("callback")
    if _missing_app(req):
        return replies.message(400, 'Missing parameter "app_id"', callback)
    try:
        reader = await authorize(request, req)
        build = documents.countries_summary if countries else documents.dashboard_summary
        document = await build(request, reader.principal, reader.product_id, reader.timezone, req)
    except Refused as refused:
        return replies.message(refused.status, refused.message, callback)
    except BadPeriod:
        return replies.message(400, "Invalid period", callback)
    except documents.ReadFailed as failed:
        return replies.message(failed.status, failed.message, callback)
    return replies.data(document, callback)


async def dashboard(request: web.Request, req: CountlyRequest) -> web.Response:
    """`/o/analytics/dashboard`: ready-made numbers for 30 days, 7 days and today."""
    return await _analytics(request, req, countries=False)


async def countries(request: web.Request, req: CountlyRequest) -> web.Response:
    """`/o/analytics/countries`: the top countries for 30 days, 7 days and today."""
    return await _analytics(request, req, countries=True)


async def sdk(request: web.Request, req: CountlyRequest) -> web.Response:
    """`/o/sdk`: what SDKs ask the server at start; `method=sc` (server configuration) answers `{}`."""
    callback = req.text("callback")
    app_key = req.text("app_key")
    if not app_key or not req.text("device_id"):
        return replies.message(400, 'Missing parameter "app_key" or "device_id"', callback)
    if await product_for_app_key(state_of(request).db, app_key) is None:
        return replies.message(400, "App does not exist", callback)
    if req.text("method") != "sc":
        return replies.message(400, "Invalid method", callback)
    return replies.data({}, callback)
