"""The aiohttp application: routes, middlewares and the resources each process opens at start."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta

from aiohttp import web

from gateway.access.client_limits import CLIENT_LIMITS, ClientLimits
from gateway.background.export_delivery import export_delivery
from gateway.background.exports import ExportWorker
from gateway.background.housekeeping import Housekeeping
from gateway.background.live_feed import LIVE_KEY, LiveFeed
from gateway.background.report_runs import ReportRunWorker
from gateway.background.web_months import WebMonths
from gateway.config import Settings
from gateway.db.pool import Database
from gateway.execution.executor import Executor
from gateway.execution.persisted import PersistedQueries, adapter_documents
from gateway.http.dashboard import add_dashboard_routes, dashboard_documents
from gateway.http.downloads import download_by_link, download_export
from gateway.http.error_shapes import DEFAULT_SHAPE, add_dialect_route, error_shape_middleware
from gateway.http.graphiql import add_graphiql_routes
from gateway.http.graphql_endpoint import GRAPHQL_SHAPE, graphql_handler, graphql_preflight
from gateway.http.health import healthz
from gateway.http.request_ids import request_id_middleware
from gateway.ingest.engine import IngestEngine
from gateway.ingest.web.sessions import salts_for
from gateway.observability.loop_monitor import LoopMonitor
from gateway.observability.metrics import add_metrics, metrics_middleware
from gateway.state import STATE_KEY, AppState

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def freeze_startup_heap(_app: web.Application) -> None:
    """Move what start-up built (the schema, caches, pools: most of the heap) out of the garbage collector's reach.

    A request allocates thousands of objects, which trigger collections; a full collection walked the whole
    schema too, tens of milliseconds at a time, the slow tail of the latencies. Frozen objects are never
    collected, and they are never garbage: they live as long as the process.
    """
    gc.collect()
    gc.freeze()


def create_app(settings: Settings, database_url: str) -> web.Application:
    """The application of one gateway process, connected to `database_url` when it starts."""
    app = web.Application(
        client_max_size=settings.limits.max_body_bytes,
        handler_args={
            "max_line_size": settings.limits.max_url_bytes,
            "max_field_size": settings.limits.max_header_bytes,
        },
        middlewares=[request_id_middleware, metrics_middleware, error_shape_middleware],
    )

    async def resources(app: web.Application) -> AsyncIterator[None]:
        from resolvers.schema import schema

        db = await Database.connect(
            database_url,
            min_size=settings.pool_min,
            max_size=settings.pool_max,
            idle_seconds=settings.pool_idle_seconds,
            statement_timeout=settings.limits.request_timeout,
        )
        limits = settings.limits
        executor = Executor(
            schema._schema,
            max_tokens=limits.max_tokens,
            max_depth=limits.max_depth,
            max_aliases=limits.max_aliases,
            introspection=settings.introspection,
        )
        engine = IngestEngine(
            db,
            window_ms=settings.ingest_window_ms,
            max_batch=settings.ingest_max_batch,
            parallel=settings.ingest_parallel,
            max_hits=settings.ingest_max_hits,
        )
        await engine.start()
        worker = ExportWorker(db, export_delivery(settings), settings.export_ttl_hours)
        salts_for(db, settings.session_hours)
        app[CLIENT_LIMITS] = ClientLimits(db, settings.rate_limits)
        await worker.start()
        runs = ReportRunWorker(db)
        await runs.start()
        app[LIVE_KEY] = feed = LiveFeed(db)
        await feed.start()
        ttl = settings.kept_days_ttl_days
        housekeeping = Housekeeping(
            db,
            timedelta(days=ttl) if ttl > 0 else None,
            interval=max(0.1, settings.housekeeping_seconds),
            persisted_unused_days=settings.persisted_unused_days,
        )
        await housekeeping.start()
        # 0: this process sums no months (another one does, or the reads take days)
        web_months = WebMonths(db, interval=settings.web_months_seconds)
        if settings.web_months_seconds > 0:
            await web_months.start()
        persisted = PersistedQueries(db, settings.persisted_per_account)
        # the shims' documents and the dashboard's run in trusted-documents mode too
        await persisted.register_trusted(adapter_documents() + list(dashboard_documents().values()))
        monitor = LoopMonitor()
        await monitor.start()
        app[STATE_KEY] = AppState(
            settings=settings,
            db=db,
            executor=executor,
            persisted=persisted,
            engine=engine,
            loop_monitor=monitor,
        )
        yield
        await monitor.stop()
        await feed.stop()
        await housekeeping.stop()
        await web_months.stop()
        await worker.stop()
        await runs.stop()
        await engine.stop()
        await db.close()

    app.cleanup_ctx.append(resources)
    app.on_startup.append(freeze_startup_heap)
    add_dialect_route(app, GRAPHQL_SHAPE, "GET", "/graphql", graphql_handler)
    add_dialect_route(app, GRAPHQL_SHAPE, "POST", "/graphql", graphql_handler)
    add_dialect_route(app, GRAPHQL_SHAPE, "OPTIONS", "/graphql", graphql_preflight)
    app.router.add_get("/healthz", healthz)
    add_metrics(app)
    for path, download in (
        ("/exports/download", download_by_link),
        ("/exports/{id}/download", download_export),
    ):
        for method in ("GET", "HEAD"):
            add_dialect_route(app, DEFAULT_SHAPE, method, path, download)
    add_graphiql_routes(app)
    add_dashboard_routes(app)
    from adapters.routes import add_adapter_routes

    add_adapter_routes(app)
    return app
