"""The GoatCounter URLs on the aiohttp app: the API v0, the `/count` pixel and the gateway's own `/count.js`."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from adapters.goatcounter import count, exports, replies, sites, stats
from adapters.goatcounter.api import make_dispatch, route
from adapters.goatcounter.pixel import PIXEL_BATCHES, count_pixel, pixel_batches
from gateway.execution.coalescer import register_coalescer
from gateway.http.error_shapes import ErrorShape, add_dialect_route

COUNT_JS = Path(__file__).parent / "static" / "count.js"

# specific routes first: `stats/total` and `stats/hits` before `stats/{page}`
ROUTES = [
    route("/api/v0/me", get=sites.me),
    route("/api/v0/count", post=count.count),
    route("/api/v0/export", post=exports.start),
    route("/api/v0/export/{id}", get=exports.get),
    route("/api/v0/export/{id}/download", get=exports.download),
    route("/api/v0/paths", get=stats.paths),
    route("/api/v0/stats/total", get=stats.total),
    route("/api/v0/stats/hits", get=stats.hits),
    route("/api/v0/stats/hits/{path_id}", get=stats.refs),
    route("/api/v0/stats/{page}", get=stats.stats),
    route("/api/v0/stats/{page}/{id}", get=stats.detail),
    route("/api/v0/sites", get=sites.site_list, put=sites.site_create),
    route("/api/v0/sites/{id}", get=sites.site_get, post=sites.site_update, patch=sites.site_update),
]


API_SHAPE = ErrorShape(
    "goatcounter",
    lambda request, status, message: replies.error_reply(request, replies.ApiError(status, message)),
)
PIXEL_SHAPE = ErrorShape(
    "goatcounter-count", lambda _request, status, message: replies.pixel(status, message)
)


async def count_js(_request: web.Request) -> web.StreamResponse:
    """The gateway's count.js (see its header): cached for an hour by browsers."""
    return web.FileResponse(
        COUNT_JS,
        headers={
            "Content-Type": "application/javascript; charset=utf-8",
            "Cache-Control": "public, max-age=3600",
            "Access-Control-Allow-Origin": "*",
            "Cross-Origin-Resource-Policy": "cross-origin",
        },
    )


def add_goatcounter_routes(app: web.Application) -> None:
    """Mount the GoatCounter URLs (every method: the API answers 405 itself; /count refuses HEAD as GoatCounter)."""
    batches = pixel_batches()
    app[PIXEL_BATCHES] = batches
    register_coalescer(app, "goatcounter_count", batches)
    dispatch = make_dispatch(ROUTES)
    # what a handler does not answer itself (a database outage: 503 with Retry-After) in GoatCounter's shapes
    add_dialect_route(app, API_SHAPE, "*", "/api/v0/{tail:.*}", dispatch)
    add_dialect_route(app, PIXEL_SHAPE, "*", "/count", count_pixel)
    app.router.add_get("/count.js", count_js)
