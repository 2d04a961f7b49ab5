"""The background upkeep of a gateway process: removing what the gateway keeps only to answer faster.

Today that is the calendar trees' kept days (`resolvers.analytics.kept_days`), swept once at start and then
every `GATEWAY_HOUSEKEEPING_SECONDS`. Every worker process runs its own loop; the sweeps of several processes
or gateways on one database skip each other's rows, so they need no coordination.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from gateway.background.tasks import cancel_and_wait
from gateway.db.pool import Database
from resolvers.analytics.kept_days import expire_kept_days

log = logging.getLogger(__name__)


class Housekeeping:
    """Runs `sweep()` every `interval` seconds until stopped; a failed sweep is logged and tried again later."""

    def __init__(self, db: Database, kept_days_ttl: timedelta | None, interval: float) -> None:
        self.db = db
        self.kept_days_ttl = kept_days_ttl  # None: kept days never expire
        self.interval = interval
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start the loop (idempotent)."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._loop(), name="housekeeping")

    async def stop(self) -> None:
        """Stop the loop, interrupting a sweep in progress (its chunk rolls back; nothing is half done)."""
        await cancel_and_wait(self._task)
        self._task = None

    async def sweep(self) -> int:
        """One sweep now; the number of rows removed."""
        if self.kept_days_ttl is None:
            return 0
        deleted = await expire_kept_days(self.db, self.kept_days_ttl)
        if deleted:
            log.info("expired %d kept days of the calendar trees", deleted)
        return deleted

    async def _loop(self) -> None:
        while True:
            try:
                await self.sweep()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("housekeeping sweep failed; trying again later")
            await asyncio.sleep(self.interval)
