"""The KISSmetrics URLs on the aiohttp app: tracking (`/e`, `/s`, `/a`), the Core API and the Query API, each
mounted with its error shape (the GIF, the Core API's `meta`, the Query API's own), so that a database outage is
a 503 with `Retry-After` in that shape (gateway/http/error_shapes.py)."""

from __future__ import annotations

from aiohttp import web

from adapters.kissmetrics.core import add_core_routes
from adapters.kissmetrics.query import add_query_routes
from adapters.kissmetrics.tracking import TRACK_BATCHES, TRACK_SHAPE, track, track_batches
from gateway.execution.coalescer import register_coalescer
from gateway.http.error_shapes import add_dialect_route


def add_kissmetrics_routes(app: web.Application) -> None:
    batches = track_batches()
    app[TRACK_BATCHES] = batches
    register_coalescer(app, "kissmetrics_track", batches)
    for path in ("/e", "/s", "/a"):
        add_dialect_route(app, TRACK_SHAPE, "*", path, track)
    add_core_routes(app)
    add_query_routes(app)
