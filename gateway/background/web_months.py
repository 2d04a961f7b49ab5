"""The background pass that sums ended months of web rollups (`gateway.ingest.web.months`), in every gateway
process: once at start, then every `GATEWAY_WEB_MONTHS_SECONDS`.

Passes of several processes share the work: a month one of them is summing, the others skip. A month not summed
yet is read from its days meanwhile, so a pass that is late costs time, never counts.
"""

from __future__ import annotations

import logging

from gateway.background.tasks import Periodic
from gateway.db.pool import Database
from gateway.ingest.web.months import build_months

log = logging.getLogger(__name__)


class WebMonths(Periodic):
    """Sums the ended months that need it (`build_months`) every `interval` seconds until stopped."""

    what = "summing ended months of web rollups"

    def __init__(self, db: Database, interval: float) -> None:
        super().__init__(interval)
        self.db = db

    async def run_once(self) -> None:
        built = await build_months(self.db)
        if built:
            log.info("summed %d ended months of web rollups", built)
