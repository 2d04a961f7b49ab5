"""The GoatCounter URLs on the aiohttp app: the API v0, the `/count` pixel and the gateway's own `/count.js`."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from adapters.goatcounter import count, exports, sites, stats
from adapters.goatcounter.api import make_dispatch, route
from adapters.goatcounter.pixel import PIXEL_BATCHES, count_pixel, pixel_batches
from gateway.execution.coalescer import register_coalescer

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
    app.router.add_route("*", "/api/v0/{tail:.*}", dispatch)
    app.router.add_route("*", "/count", count_pixel)
    app.router.add_get("/count.js", count_js)
