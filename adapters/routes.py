"""Mounts every vendor dialect's routes on the application."""

from __future__ import annotations

from aiohttp import web


def add_adapter_routes(app: web.Application) -> None:
    """Register the REST shims; each vendor package adds its own routes here."""
    from adapters.countly.routes import add_countly_routes
    from adapters.followanalytics.routes import add_followanalytics_routes
    from adapters.goatcounter.routes import add_goatcounter_routes
    from adapters.kissmetrics.routes import add_kissmetrics_routes

    add_countly_routes(app)
    add_kissmetrics_routes(app)
    add_goatcounter_routes(app)
    add_followanalytics_routes(app)
