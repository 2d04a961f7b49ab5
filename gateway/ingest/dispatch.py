"""One batch, several kinds of requests: device requests (`writer.write_batch`) and web hits
(`web.writer.write_web_batch`) of one batch are written in its one transaction, each kind by its writer."""

from __future__ import annotations

from gateway.db.pool import Transaction
from gateway.ingest.model import Outcome, TrackRequest
from gateway.ingest.web.writer import write_web_batch
from gateway.ingest.writer import write_batch


async def write_requests(tx: Transaction, requests: list[TrackRequest]) -> list[Outcome]:
    """Store `requests` in the open transaction `tx`; one outcome per request, in order."""
    web = [i for i, request in enumerate(requests) if request.web is not None]
    if not web:
        return await write_batch(tx, requests)
    if len(web) == len(requests):
        return await write_web_batch(tx, requests)
    web_set = set(web)
    devices = [i for i in range(len(requests)) if i not in web_set]
    outcomes: list[Outcome | None] = [None] * len(requests)
    for indexes, write in ((devices, write_batch), (web, write_web_batch)):
        for i, outcome in zip(indexes, await write(tx, [requests[i] for i in indexes]), strict=True):
            outcomes[i] = outcome
    return [outcome or Outcome.STORED for outcome in outcomes]


def names_devices(request: TrackRequest) -> bool:
    """Whether a request names devices the engine must not write from two batches at once (web hits don't)."""
    return request.web is None
