"""The KISSmetrics URLs on the aiohttp app: tracking (`/e`, `/s`, `/a`), the Core API and the Query API."""

from __future__ import annotations

from aiohttp import web

from adapters.kissmetrics.core import add_core_routes
from adapters.kissmetrics.query import add_query_routes
from adapters.kissmetrics.tracking import TRACK_BATCHES, track, track_batches
from gateway.execution.coalescer import register_coalescer


def add_kissmetrics_routes(app: web.Application) -> None:
    batches = track_batches()
    app[TRACK_BATCHES] = batches
    register_coalescer(app, "kissmetrics_track", batches)
    for path in ("/e", "/s", "/a"):
        app.router.add_route("*", path, track)
    add_core_routes(app)
    add_query_routes(app)
