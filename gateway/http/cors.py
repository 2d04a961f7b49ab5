"""Cross-origin access to `/graphql`, so that front-end apps on other origins can query the graph.

Credentials travel in the `Authorization` header, never in cookies, so allowing any origin exposes nothing a
page could not already send; `GATEWAY_CORS_ORIGINS` narrows the list when an operator wants to.
"""

from __future__ import annotations

from aiohttp import web

ALLOWED_METHODS = "GET, POST, OPTIONS"
ALLOWED_HEADERS = "Authorization, Content-Type, Accept, X-Request-Id"
EXPOSED_HEADERS = (
    "X-Request-Id, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, X-RateLimit-Used, "
    "X-SQL-Statements, Retry-After"
)
PREFLIGHT_MAX_AGE = "86400"


def allowed_origin(request: web.Request, origins: tuple[str, ...]) -> str | None:
    """The `Access-Control-Allow-Origin` value for this request, or None when its origin is not allowed."""
    origin = request.headers.get("Origin")
    if origin is None:
        return None
    if "*" in origins:
        return "*"
    return origin if origin in origins else None


def cors_headers(request: web.Request, origins: tuple[str, ...]) -> dict[str, str]:
    """Headers every `/graphql` reply carries for a cross-origin caller."""
    origin = allowed_origin(request, origins)
    if origin is None:
        return {}
    headers = {"Access-Control-Allow-Origin": origin, "Access-Control-Expose-Headers": EXPOSED_HEADERS}
    if origin != "*":
        headers["Vary"] = "Origin"
    return headers


def preflight(request: web.Request, origins: tuple[str, ...]) -> web.Response:
    """The answer to a browser's `OPTIONS` preflight."""
    headers = cors_headers(request, origins)
    if headers:
        headers.update(
            {
                "Access-Control-Allow-Methods": ALLOWED_METHODS,
                "Access-Control-Allow-Headers": ALLOWED_HEADERS,
                "Access-Control-Max-Age": PREFLIGHT_MAX_AGE,
            }
        )
    return web.Response(status=204, headers={"Allow": ALLOWED_METHODS, **headers})
