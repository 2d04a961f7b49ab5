"""Errors in each dialect's own shape: a dialect declares its shape once, one middleware answers with it.

A dialect (Countly, KISSmetrics, GoatCounter, FollowAnalytics, `/graphql`) writes its errors its own way:
`{"result": "..."}`, `{"error": "..."}`, GraphQL's `{"errors": [...]}`. It declares that shape once, as an
`ErrorShape`, and mounts its routes with it; `error_shape_middleware` then answers every request of those
routes that its handler did not answer itself:

- a database outage (the server down, restarting, refusing connections: `gateway.db.outage.is_outage`, or the
  graph's SERVICE_UNAVAILABLE, which in-process operations raise as `DatabaseUnavailable`): 503 with
  `Retry-After`, so that SDKs keep their data queued and retry;
- any other exception: 500 with an opaque message; the details and the request id go to the log;
- aiohttp's own HTTP errors (a body over the size limit, ...): their status, in the shape.

API, for a dialect's `routes.py`:

    SHAPE = ErrorShape("countly", lambda request, status, message: my_reply(status, message))
    add_dialect_route(app, SHAPE, "*", "/i", handler)     # the route, answered in SHAPE on failure
    claim_prefix(app, SHAPE, "/api/v0/")                   # unmatched paths below it too (404, 405)

A handler that meets an outage needs no code of its own: the exception, or the `DatabaseUnavailable` that
`gateway.execution.inprocess.run_operation` raises for the graph's SERVICE_UNAVAILABLE, reaches the middleware.
Routes of no dialect get `DEFAULT_SHAPE`, JSON `{"error": message}`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from gateway.db.outage import RETRY_AFTER_SECONDS, UNAVAILABLE_MESSAGE, is_outage
from gateway.http.request_keys import REQUEST_ID

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Render = Callable[[web.Request, int, str], web.StreamResponse]
INTERNAL_MESSAGE = "Internal server error"


@dataclass(frozen=True)
class ErrorShape:
    """How a dialect writes an error reply: `render(request, status, message)`."""

    name: str
    render: Render


def _default_render(_request: web.Request, status: int, message: str) -> web.StreamResponse:
    return web.json_response({"error": message}, status=status)


DEFAULT_SHAPE = ErrorShape("default", _default_render)


@dataclass
class _Shapes:
    by_resource: dict[Any, ErrorShape]
    by_prefix: list[tuple[str, ErrorShape]]


SHAPES = web.AppKey("error_shapes", _Shapes)


def _shapes(app: web.Application) -> _Shapes:
    found = app.get(SHAPES)
    if found is None:
        found = app[SHAPES] = _Shapes({}, [])
    return found


def add_dialect_route(
    app: web.Application, shape: ErrorShape, method: str, path: str, handler: Handler
) -> web.AbstractRoute:
    """Add a route whose failures are answered in `shape`."""
    route = app.router.add_route(method, path, handler)
    _shapes(app).by_resource[route.resource] = shape
    return route


def claim_prefix(app: web.Application, shape: ErrorShape, prefix: str) -> None:
    """Answer in `shape` the requests below `prefix` that match no route (404) or no method (405)."""
    shapes = _shapes(app)
    shapes.by_prefix.append((prefix, shape))
    shapes.by_prefix.sort(key=lambda item: -len(item[0]))  # the longest prefix wins


def shape_of(request: web.Request) -> ErrorShape | None:
    """The shape declared for the request's route (or a prefix of its path), None when there is none."""
    shapes = request.app.get(SHAPES)
    if shapes is None:
        return None
    resource = request.match_info.route.resource
    if resource is not None and request.match_info.http_exception is None:
        found = shapes.by_resource.get(resource)
        if found is not None:
            return found
    for prefix, shape in shapes.by_prefix:
        if request.path.startswith(prefix):
            return shape
    return None


def unavailable(request: web.Request, shape: ErrorShape | None = None) -> web.StreamResponse:
    """503 with Retry-After, in the request's shape."""
    response = (shape or shape_of(request) or DEFAULT_SHAPE).render(request, 503, UNAVAILABLE_MESSAGE)
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


@web.middleware
async def error_shape_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Answer what a handler did not (outages, exceptions, aiohttp's HTTP errors) in the route's shape."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        shape = shape_of(request)
        if shape is None or exc.status < 400 or reply_started(request):
            raise
        response = shape.render(request, exc.status, exc.reason)
        for name in ("Allow", "Retry-After"):
            if name in exc.headers:
                response.headers[name] = exc.headers[name]
        return response
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if task is None or task.cancelling():
            raise  # the request itself was cancelled (the client went away, or shutdown)
        # a cancellation that escaped from work the request awaited: the request is still owed a reply
        return _internal(request, "a cancellation escaped from a request's work")
    except Exception as error:
        if reply_started(request):
            log.exception("reply cut short in %s", _request_line(request))
            raise
        if is_outage(error):
            log.warning("database unavailable in %s: %s", _request_line(request), error)
            return unavailable(request)
        return _internal(request, "unhandled error")


def reply_started(request: web.BaseRequest) -> bool:
    """Whether bytes of the request's reply went out already (its headers are sent with its first bytes).

    Then no other reply can be sent: the exception is left to aiohttp, which closes the connection (its
    `handle_error` raises ConnectionError), so that the client sees the reply cut short. A reply shaped here would
    instead be dropped, leaving the connection open and the client waiting for bytes its `Content-Length`
    promised."""
    return request.writer.output_size > 0


def _request_line(request: web.Request) -> str:
    """How a log line names a request: its id (which its reply carries), method and path."""
    return f"request {request.get(REQUEST_ID, '')} {request.method} {request.path}"


def _internal(request: web.Request, what: str) -> web.StreamResponse:
    log.exception("%s in %s", what, _request_line(request))
    shape = shape_of(request) or DEFAULT_SHAPE
    return shape.render(request, 500, INTERNAL_MESSAGE)
