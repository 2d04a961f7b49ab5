"""Request ids: every request gets one (or keeps the caller's), every reply and log line carries it.

The same middleware is the last line of defence against leaks: an exception no handler caught becomes an opaque
500 with the id to quote, and its details go to the log only.
"""

from __future__ import annotations

import itertools
import logging
import secrets
from collections.abc import Awaitable, Callable

from aiohttp import web

from gateway.http.error_shapes import reply_started
from gateway.http.request_keys import REQUEST_ID

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


# 32 hex digits like a uuid4: this process's random half, then a counter. Unique across processes and restarts
# without uuid4's read of the system's random source for every request (2% of a Countly `/i`).
_ID_PREFIX = secrets.token_hex(8)
_id_counter = itertools.count(1)


def new_request_id() -> str:
    """An id for a request that came without one."""
    return f"{_ID_PREFIX}{next(_id_counter):016x}"


@web.middleware
async def request_id_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Give every request an id (or keep the caller's), log it and return it in `X-Request-Id`."""
    incoming = request.headers.get("X-Request-Id", "")
    request_id = incoming if 0 < len(incoming) <= 100 and incoming.isprintable() else new_request_id()
    request[REQUEST_ID] = request_id
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        exc.headers["X-Request-Id"] = request_id
        raise
    except Exception:
        if reply_started(request):
            raise  # aiohttp ends the connection: the reply cannot be replaced any more
        # never a stack trace or an HTML page to the client: an id to quote, and the details in the log
        log.exception("unhandled error in request %s %s %s", request_id, request.method, request.path)
        return web.json_response(
            {"errors": [{"message": "Internal server error", "extensions": {"errorId": request_id}}]},
            status=500,
            headers={"X-Request-Id": request_id},
        )
    response.headers["X-Request-Id"] = request_id
    return response
