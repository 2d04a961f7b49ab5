"""The background pass that sums ended months of web rollups (`gateway.ingest.web.months`), in every gateway
process: once at start, then every `GATEWAY_WEB_MONTHS_SECONDS`.

Passes of several processes share the work: a month one of them is summing, the others skip. A month not summed
yet is read from its days meanwhile, so a pass that is late costs time, never counts.
"""

from __future__ import annotations

import asyncio
import logging

from gateway.background.tasks import cancel_and_wait
from gateway.db.pool import Database
from gateway.ingest.web.months import build_months

log = logging.getLogger(__name__)


class WebMonths:
    """Runs `build_months` every `interval` seconds until stopped; a failed pass is logged and tried later."""

    def __init__(self, db: Database, interval: float) -> None:
        self.db = db
        self.interval = interval
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start the loop (idempotent)."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._loop(), name="web-months")

    async def stop(self) -> None:
        """Stop the loop; a month being summed rolls back (nothing is half written)."""
        await cancel_and_wait(self._task)
        self._task = None

    async def _loop(self) -> None:
        while True:
            try:
                built = await build_months(self.db)
                if built:
                    log.info("summed %d ended months of web rollups", built)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("summing ended months of web rollups failed; trying again later")
            await asyncio.sleep(self.interval)
