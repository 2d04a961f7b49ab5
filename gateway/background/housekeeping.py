"""The background upkeep of a gateway process: removing what the gateway keeps only for a while.

The calendar trees' kept days (`resolvers.analytics.kept_days`), automatic persisted queries unused for
`GATEWAY_PERSISTED_UNUSED_DAYS` (`gateway.execution.persisted`), and what expires by itself: the files of
exports past their time, rate-limit windows that ended, and first visits and salts of web sessions of past
epochs (`SWEEPS`). Swept once at start and then every `GATEWAY_HOUSEKEEPING_SECONDS`. Every worker process runs its own loop; the sweeps of several processes
or gateways on one database skip each other's rows, so they need no coordination.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from gateway.access.client_limits import EXPIRE as EXPIRE_RATE_WINDOWS
from gateway.background.tasks import Periodic
from gateway.db.pool import Database
from gateway.execution.persisted import DEFAULT_UNUSED_DAYS
from gateway.execution.persisted import EXPIRE as EXPIRE_DOCUMENTS
from gateway.ingest.web.sessions import EXPIRE_SALTS, EXPIRE_VISITS
from resolvers.analytics.kept_days import expire_kept_days

log = logging.getLogger(__name__)

# what expires by itself: each statement removes a batch of it (the next sweep takes the rest)
SWEEPS: dict[str, str] = {
    "export files": """
        WITH expired AS (
            UPDATE exports SET status = 'expired'
            WHERE id IN (SELECT id FROM exports WHERE status = 'finished' AND expires_at < now() LIMIT 100)
            RETURNING id
        )
        DELETE FROM export_chunks WHERE export_id IN (SELECT id FROM expired)""",
    "rate-limit windows": EXPIRE_RATE_WINDOWS,
    "web session visits": EXPIRE_VISITS,
    "web session salts": EXPIRE_SALTS,
}


class Housekeeping(Periodic):
    """Runs `sweep()` every `interval` seconds until stopped; a failed sweep is logged and tried again later."""

    what = "housekeeping sweep"

    def __init__(
        self,
        db: Database,
        kept_days_ttl: timedelta | None,
        interval: float,
        persisted_unused_days: float = DEFAULT_UNUSED_DAYS,
    ) -> None:
        super().__init__(interval)
        self.db = db
        self.kept_days_ttl = kept_days_ttl  # None: kept days never expire
        self.persisted_unused_days = persisted_unused_days

    async def run_once(self) -> None:
        await self.sweep()

    async def sweep(self) -> int:
        """One sweep now; the number of rows removed."""
        deleted = 0
        for name, statement in SWEEPS.items():
            removed = int((await self.db.execute(statement)).rsplit(" ", 1)[-1])
            if removed:
                log.info("housekeeping removed %d rows of %s", removed, name)
            deleted += removed
        removed = int(
            (await self.db.execute(EXPIRE_DOCUMENTS, self.persisted_unused_days)).rsplit(" ", 1)[-1]
        )
        if removed:
            log.info(
                "housekeeping removed %d persisted queries unused for %g days",
                removed,
                self.persisted_unused_days,
            )
        deleted += removed
        if self.kept_days_ttl is None:
            return deleted
        expired = await expire_kept_days(self.db, self.kept_days_ttl)
        if expired:
            log.info("expired %d kept days of the calendar trees", expired)
        return deleted + expired
