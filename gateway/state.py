"""What one gateway process holds while it runs: settings, the database pool, the executor, the engine."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohttp import web

from gateway.config import Settings
from gateway.db.pool import Database
from gateway.execution.executor import Executor
from gateway.execution.persisted import PersistedQueries

if TYPE_CHECKING:
    from gateway.ingest.engine import IngestEngine
    from gateway.observability.loop_monitor import LoopMonitor


@dataclass
class AppState:
    settings: Settings
    db: Database
    executor: Executor
    persisted: PersistedQueries
    engine: IngestEngine | None = None
    loop_monitor: LoopMonitor | None = None


STATE_KEY = web.AppKey("state", AppState)


def state_of(request: web.Request) -> AppState:
    return request.app[STATE_KEY]
