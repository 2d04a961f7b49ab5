"""Starting the gateway: the database (embedded or given), migrations, then one or more worker processes.

With `--workers N` the parent starts N processes that each bind the port with SO_REUSEPORT, so the kernel
spreads connections between them; they share nothing but PostgreSQL. SIGTERM or SIGINT stops the workers
gracefully (aiohttp finishes in-flight requests and the ingestion engine flushes), then the parent.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
import socket
import sys
from multiprocessing.synchronize import Event as EventType
from types import FrameType

from aiohttp import web

from gateway.config import Settings
from gateway.db.embedded import start_embedded
from gateway.db.migrate import migrate

log = logging.getLogger(__name__)


def database_url(settings: Settings) -> str:
    """The database to use: DATABASE_URL, or the embedded server in the data directory (started if needed)."""
    if settings.database_url:
        return settings.database_url
    return start_embedded(settings.data_dir)


def listening_line(settings: Settings) -> str:
    """What `serve` prints once the gateway answers (scripts and people wait for it)."""
    return f"analytics-gateway listening on http://{settings.host}:{settings.port}/graphql"


def run_worker(settings: Settings, url: str, reuse_port: bool, ready: EventType | None = None) -> None:
    """One serving process (blocks until SIGTERM/SIGINT). Once it has started (its pools open, the schema built)
    and its socket listens, not before, it prints `listening_line`, or sets `ready` for the parent that does."""
    from gateway.app import create_app
    from gateway.observability.logs import setup_logging

    setup_logging(settings.log_level)
    app = create_app(settings, url)

    def started(*_: object) -> None:
        # aiohttp calls this after the application's start-up and the sites' start, in place of its banner
        if ready is None:
            print(listening_line(settings), flush=True)
        else:
            ready.set()

    web.run_app(
        app,
        host=settings.host,
        port=settings.port,
        reuse_port=reuse_port,
        print=started,
        access_log=None,
        shutdown_timeout=10,
        handle_signals=True,
    )


class PortInUse(SystemExit):
    """The gateway's address is taken by another server: it must not start (and share the port with it)."""


def ensure_port_free(host: str, port: int) -> None:
    """Exit with a clear message when `host:port` already has a listener.

    Workers bind with SO_REUSEPORT, which the kernel also grants when another server of the same user holds the
    port with it: both would then answer, and whoever calls the port (a benchmark, a load balancer) would reach
    either. A plain bind, without the option, fails whenever anything listens there.
    """
    if port == 0:
        return
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError as error:
            raise PortInUse(f"analytics-gateway: cannot listen on {host}:{port}: {error.strerror}") from None


def serve(settings: Settings) -> None:
    ensure_port_free(settings.host, settings.port)
    url = database_url(settings)
    asyncio.run(migrate(url))
    if settings.workers <= 1:
        run_worker(settings, url, reuse_port=False)
        return
    context = multiprocessing.get_context("spawn")
    ready = context.Event()  # set by every worker that listens: the kernel gives connections only to those
    workers = [
        context.Process(target=run_worker, args=(settings, url, True, ready), name=f"gateway-worker-{i}")
        for i in range(settings.workers)
    ]
    for worker in workers:
        worker.start()

    def forward(signum: int, _frame: FrameType | None) -> None:
        for worker in workers:
            if worker.pid is not None and worker.is_alive():
                os.kill(worker.pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    started = False
    while not ready.wait(0.1):
        if not any(worker.is_alive() for worker in workers):
            break
    else:
        started = True
        print(listening_line(settings), flush=True)
    for worker in workers:
        worker.join()
    if not started:
        sys.exit("analytics-gateway: no worker started (see the log above)")
    sys.exit(0)
