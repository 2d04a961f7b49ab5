"""Prometheus metrics at `GET /metrics` (text exposition format 0.0.4) and one JSON access log line per request.

A few counters and histograms (`gateway.observability.prometheus`), and values read at scrape time from the ingestion engine
(`IngestEngine.stats`) and the asyncpg pool.

Series:
- `gateway_http_requests_total{route,method,status}` and `gateway_http_request_duration_seconds{route}`
  (histogram). `route` is the route's pattern (`/exports/{id}/download`), never the raw path; requests that
  match no route are `route="unmatched"`, so scanners cannot blow up the number of series.
- `gateway_graphql_operation_duration_seconds{operation}` (histogram) for `/graphql` requests whose document
  parsed: the operation's name, or `anonymous`. Names come from clients, so at most `MAX_OPERATIONS` distinct
  names get a series of their own; the rest are counted as `other`.
- `gateway_sql_statements_total{route}`: SQL statements sent while answering each route's requests (divided
  by the requests' count: statements per request). Writes are stored by the ingestion engine's own task, whose
  statements are not in it.
- `gateway_graphql_errors_total{code}`: errors of executed operations by `extensions.code` (`UNKNOWN` when an
  error has none). The GraphQL endpoint hands the codes over on the request (`ERROR_CODES`); no reply body
  is read here.
- `gateway_ingest_{requests,batches,transactions,retries,failures}_total`: the engine's counters, and
  `gateway_ingest_device_waits_total`: batches that started only once a batch in flight naming one of their
  devices had finished.
- `gateway_ingest_queue_seconds` (histogram): how long each write handed to the engine (a `record` operation's
  requests, a bulk call's) waited for its batch to start: the gathering window, a free batch slot, a batch in
  flight naming one of its devices. `gateway_ingest_commit_seconds` (histogram): each batch's transaction,
  BEGIN to COMMIT, retries included, and after a failed group commit the one-by-one commits of its requests. A
  durable write's reply waits for both.
- `gateway_coalesced_{items,calls}_total{coalescer}`: items handed to each `gateway.execution.coalescer` of the app
  (`countly_i`: Countly `/i` requests) and the shared calls made for them.
- `gateway_event_loop_longest_{busy,lag}_seconds`: the longest the event loop was kept busy (CPU time of its
  thread) and the latest a tick came (wall clock) since the process started (`loop_monitor.py`).
- `gateway_db_pool_{size,idle,in_use,max}`: the asyncpg pool right now, and
  `gateway_db_kept_plan_pool_{size,idle,in_use,max}` the pool of `KeptPlan` statements (`gateway/db/pool.py`).

Every gateway worker process (`serve --workers N`) has counters of its own and answers `/metrics` with them
only. A scrape through a shared port therefore sees one worker at a time; that is acceptable here because each
series is monotonic per process and Prometheus' `rate()`/`increase()` tolerate the resulting resets only
approximately — for exact fleet-wide numbers scrape each worker (or each host with one worker) separately.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

import asyncpg
from aiohttp import web
from graphql import GraphQLError

from gateway.db.pool import start_counting
from gateway.execution.coalescer import COALESCERS
from gateway.http.request_keys import ERROR_CODES, OPERATION, REQUEST_ID, STATEMENTS
from gateway.observability.prometheus import (
    CONTENT_TYPE,
    Counter,
    Histogram,
    counter_value,
    format_labels,
    gauge,
    number,
)

access_log = logging.getLogger("gateway.access")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

MAX_OPERATIONS = 500
UNMATCHED = "unmatched"


class Metrics:
    """The metrics of one gateway process."""

    def __init__(self) -> None:
        self.requests = Counter(
            "gateway_http_requests_total",
            "HTTP requests by route, method and status.",
            ("route", "method", "status"),
        )
        self.latency = Histogram(
            "gateway_http_request_duration_seconds", "HTTP request latency by route.", ("route",)
        )
        self.operations = Histogram(
            "gateway_graphql_operation_duration_seconds",
            "Latency of /graphql requests by GraphQL operation name.",
            ("operation",),
        )
        self.errors = Counter("gateway_graphql_errors_total", "GraphQL errors by extensions.code.", ("code",))
        self.statements = Counter(
            "gateway_sql_statements_total",
            "SQL statements sent while answering requests, by route.",
            ("route",),
        )
        self._operation_names: set[str] = set()

    def operation_label(self, name: str) -> str:
        if name in self._operation_names:
            return name
        if len(self._operation_names) >= MAX_OPERATIONS:
            return "other"
        self._operation_names.add(name)
        return name

    def record(
        self,
        route: str,
        method: str,
        status: int,
        seconds: float,
        operation: str | None,
        codes: Sequence[str],
        statements: int = 0,
    ) -> None:
        self.requests.inc((route, method, str(status)))
        self.latency.observe((route,), seconds)
        self.statements.inc((route,), statements)
        if operation is not None:
            self.operations.observe((self.operation_label(operation),), seconds)
        for code in codes:
            self.errors.inc((code,))

    def render(self, app: web.Application) -> str:
        lines: list[str] = []
        for metric in (self.requests, self.latency, self.operations, self.errors, self.statements):
            lines.extend(metric.render())
        lines.extend(_process_values(app))
        return "\n".join(lines) + "\n"


def _process_values(app: web.Application) -> Iterable[str]:
    """Values read at scrape time: the ingestion engine's and coalescers' counters, the database pool's gauges."""
    from gateway.state import STATE_KEY

    coalescers = app.get(COALESCERS, {})
    for field, help_text in (
        ("items", "Items handed to a coalescer (countly_i: Countly /i requests)."),
        ("calls", "Shared calls a coalescer made for its items (countly_i: record operations)."),
    ):
        name = f"gateway_coalesced_{field}_total"
        if coalescers:
            yield f"# HELP {name} {help_text}"
            yield f"# TYPE {name} counter"
        for label, coalescer in sorted(coalescers.items()):
            yield f"{name}{format_labels(('coalescer',), (label,))} {number(getattr(coalescer.stats, field))}"
    state = app.get(STATE_KEY)
    if state is None:
        return
    engine = state.engine
    if engine is not None:
        stats = engine.stats
        yield from counter_value(
            "gateway_ingest_requests_total", "Tracking requests the ingestion engine stored.", stats.requests
        )
        yield from counter_value(
            "gateway_ingest_batches_total",
            "Group-commit batches the ingestion engine flushed.",
            stats.batches,
        )
        yield from counter_value(
            "gateway_ingest_transactions_total", "Transactions the ingestion engine ran.", stats.transactions
        )
        yield from counter_value(
            "gateway_ingest_retries_total",
            "Transactions retried after a deadlock or serialization failure.",
            stats.retries,
        )
        yield from counter_value(
            "gateway_ingest_failures_total", "Requests the ingestion engine could not store.", stats.failures
        )
        yield from counter_value(
            "gateway_ingest_device_waits_total",
            "Batches that waited for a batch in flight naming one of their devices.",
            stats.device_waits,
        )
        yield from stats.queue_seconds.render()
        yield from stats.commit_seconds.render()
    monitor = state.loop_monitor
    if monitor is not None:
        yield from gauge(
            "gateway_event_loop_longest_busy_seconds",
            "Most CPU time the event loop's thread spent between two ticks of the loop monitor (20 ms apart) since "
            "the process started: about the longest any request kept the others waiting.",
            monitor.longest_busy,
        )
        yield from gauge(
            "gateway_event_loop_longest_lag_seconds",
            "Most wall-clock time a tick of the loop monitor came late since the process started (a busy machine "
            "counts here too).",
            monitor.longest_lag,
        )
    yield from _pool_gauges("gateway_db_pool", "the database pool", state.db.pool)
    if state.db.kept_plans is not state.db.pool:
        yield from _pool_gauges(
            "gateway_db_kept_plan_pool", "the pool of kept-plan statements", state.db.kept_plans
        )


def _pool_gauges(prefix: str, what: str, pool: asyncpg.Pool) -> Iterable[str]:
    size, idle = pool.get_size(), pool.get_idle_size()
    yield from gauge(f"{prefix}_size", f"Open connections of {what}.", size)
    yield from gauge(f"{prefix}_idle", f"Idle connections of {what}.", idle)
    yield from gauge(f"{prefix}_in_use", f"Connections of {what} in use.", size - idle)
    yield from gauge(f"{prefix}_max", f"Maximum size of {what}.", pool.get_max_size())


METRICS_KEY = web.AppKey("metrics", Metrics)


def error_codes(errors: Sequence[GraphQLError] | None) -> list[str]:
    """The `extensions.code` of each error (`UNKNOWN` without one), for `ERROR_CODES`."""
    return [str((error.extensions or {}).get("code") or "UNKNOWN") for error in errors or ()]


def route_of(request: web.Request) -> str:
    resource = request.match_info.route.resource
    if resource is None or request.match_info.http_exception is not None:
        return UNMATCHED
    return resource.canonical


@web.middleware
async def metrics_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Count and time every request and write its access log line; runs inside the request-id middleware."""
    started = time.perf_counter()
    counter = request[STATEMENTS] = start_counting()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    except asyncio.CancelledError:
        status = 499  # the client went away before the reply (nginx's convention)
        raise
    finally:
        seconds = time.perf_counter() - started
        route = route_of(request)
        operation = request.get(OPERATION)
        metrics = request.app.get(METRICS_KEY)
        if metrics is not None:
            metrics.record(
                route, request.method, status, seconds, operation, request.get(ERROR_CODES, ()), counter.count
            )
        if access_log.isEnabledFor(logging.INFO):  # not built when the level drops them (as under load)
            extra: dict[str, Any] = {
                "request_id": request.get(REQUEST_ID, ""),
                "route": route,
                "status": status,
                "duration_ms": round(seconds * 1000, 3),
                "sql_statements": counter.count,
                "method": request.method,
                "path": request.path,
            }
            if operation is not None:
                extra["operation"] = operation
            access_log.info("request %s %s", request.method, request.path, extra=extra)


async def metrics_handler(request: web.Request) -> web.Response:
    metrics = request.app[METRICS_KEY]
    return web.Response(
        body=metrics.render(request.app).encode("utf-8"), headers={"Content-Type": CONTENT_TYPE}
    )


def add_metrics(app: web.Application) -> None:
    """Give `app` its metrics and the `GET /metrics` route (the middleware is in the app's list)."""
    app[METRICS_KEY] = Metrics()
    app.router.add_get("/metrics", metrics_handler)
