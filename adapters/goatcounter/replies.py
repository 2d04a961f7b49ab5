"""GoatCounter's reply forms: success JSON, its three forms of errors, text/plain JSON, the pixel, redirects.

What the real server sends (see reference/goatcounter.md and the captures): success JSON indented, with a
newline, as `application/json; charset=utf-8` (gzip-compressed when accepted); errors of requests that send JSON
as compact `{"error":...}` / `{"errors":{...}}` typed `text/plain; charset=utf-8`, of `text/plain` requests as a
line of text, of anything else as an HTML page; replies a handler starts before it writes its JSON (count's 202
and 400s, export's 202) indented but typed `text/plain`. Every API reply has `Cache-Control: no-store,no-cache`.
"""

from __future__ import annotations

import base64
import gzip
import html
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from adapters.goatcounter import gojson

GIF = base64.b64decode("R0lGODlhAQABAIABAAAAAP///yH5BAEKAAEALAAAAAABAAEAAAICTAEAOw==")
JSON_TYPE = "application/json; charset=utf-8"
# replies are compressed as GoatCounter's are when the client accepts it, but at the fastest level (a stats reply
# of hourly arrays compresses well at any level; level 6 cost a tenth of the gateway's time for `stats/hits`)
GZIP_LEVEL = 1
TEXT_TYPE = "text/plain; charset=utf-8"
HTML_TYPE = "text/html; charset=utf-8"
NO_STORE = {"Cache-Control": "no-store,no-cache"}
AUTHENTICATE = {"Www-Authenticate": "Basic realm=GoatCounter"}


@dataclass
class ApiError(Exception):
    """A reply other than success: `error` (one message) or `errors` (messages per field).

    `written`: the handler wrote its status before the JSON (indented, typed text/plain, whatever the request
    sent), as count's and export's own errors are."""

    status: int
    error: str | None = None
    errors: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    written: bool = False

    def body(self) -> dict[str, Any]:
        return {"errors": self.errors} if self.errors is not None else {"error": self.error or ""}


def _wants(request: web.Request) -> str:
    content_type = request.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()
    if content_type == "application/json":
        return "json"
    if content_type == "text/plain":
        return "text"
    return "html"


def error_reply(request: web.Request, error: ApiError) -> web.Response:
    """The reply to an error, in the form the request's Content-Type asks for."""
    headers = {**NO_STORE, **error.headers}
    if error.written:
        return web.Response(
            status=error.status,
            body=gojson.indented(error.body()),
            headers=headers,
            content_type="text/plain",
            charset="utf-8",
        )
    wants = _wants(request)
    message = error.error if error.errors is None else gojson.compact(error.errors).decode()
    if wants == "json":
        body = gojson.compact(error.body())
        return web.Response(status=error.status, body=body, headers={**headers, "Content-Type": TEXT_TYPE})
    if wants == "text":
        text = f"Error {error.status}: error {error.status}: {message}"
        return web.Response(status=error.status, text=text, headers={**headers, "Content-Type": TEXT_TYPE})
    page = (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n\t<meta http-equiv="Content-Type" content="text/html; '
        'charset=utf-8">\n\t<title>GoatCounter – Error!</title>\n</head>\n<body>\n\t<h1>Error '
        f"{error.status}</h1>\n\t<p>{html.escape(message or '')}</p>\n</body>\n</html>\n"
    )
    return web.Response(status=error.status, text=page, headers={**headers, "Content-Type": HTML_TYPE})


def success(request: web.Request, value: Any, status: int = 200) -> web.Response:
    """Indented JSON, gzip-compressed when the client accepts it."""
    body = gojson.indented(value)
    headers = {**NO_STORE, "Content-Type": JSON_TYPE}
    if "gzip" in request.headers.get("Accept-Encoding", "").lower():
        body = gzip.compress(body, compresslevel=GZIP_LEVEL)
        headers["Content-Encoding"] = "gzip"
        headers["Vary"] = "Accept-Encoding"
    return web.Response(status=status, body=body, headers=headers)


def plain(body: bytes, status: int) -> web.Response:
    """JSON written before its type was set: typed text/plain."""
    return web.Response(status=status, body=body, headers={**NO_STORE, "Content-Type": TEXT_TYPE})


def redirect(location: str) -> web.Response:
    """chi's redirect of a path with a trailing slash."""
    body = f'<a href="{html.escape(location)}">Moved Permanently</a>.\n\n'
    return web.Response(status=301, text=body, headers={"Location": location, "Content-Type": HTML_TYPE})


def empty(status: int) -> web.Response:
    return web.Response(status=status, body=b"", headers=dict(NO_STORE))


def cors(request: web.Request) -> dict[str, str]:
    """CORS headers of an API reply to a request with an `Origin`."""
    if "Origin" not in request.headers:
        return {}
    return {"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Credentials": "true"}


ALLOWED_METHODS = "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT"


def preflight(request: web.Request) -> web.Response:
    """OPTIONS: what a browser asks before a cross-origin call."""
    headers = {
        **cors(request),
        "Access-Control-Allow-Headers": "Authorization, Content-Type",
        "Access-Control-Allow-Methods": ALLOWED_METHODS,
        "Allow": ALLOWED_METHODS,
        **NO_STORE,
    }
    if "Origin" not in request.headers:
        headers.pop("Access-Control-Allow-Headers")
        headers.pop("Access-Control-Allow-Methods")
    return web.Response(status=200, body=b"", headers=headers)


def pixel(status: int = 200, note: str | None = None, headers: dict[str, str] | None = None) -> web.Response:
    """The 43-byte GIF `/count` always answers, with `X-Goatcounter` saying why a hit was not counted."""
    extra = {
        "Access-Control-Allow-Origin": "*",
        **NO_STORE,
        "Content-Type": "image/gif",
        "Cross-Origin-Resource-Policy": "cross-origin",
        "X-Content-Type-Options": "nosniff",
        **(headers or {}),
    }
    if note is not None:
        extra["X-Goatcounter"] = note
    return web.Response(status=status, body=GIF, headers=extra)
