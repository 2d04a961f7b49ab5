"""Group commit: concurrent `submit()` calls share one transaction.

Submitters queue their requests and wait. A single flusher task collects the queue for `window_ms` (or until
`max_batch` device requests, or `max_hits` web hits, are waiting), writes everything in ONE transaction and then
answers every submitter, so an acknowledgement always means "committed". Web hits are counted apart: a call of
`/api/v0/count` hands in 500 at once, and the batches of concurrent calls share their rollup rows (a site's
hour, its popular pages), so the more calls share a transaction, the fewer rows each hit writes, and the less
the calls wait for each other's locks on them. If the shared transaction fails, each submitter's requests are
retried in a transaction of their own, so one bad request fails only its own submitter. Deadlocks and
serialization failures (possible when several gateway processes ingest into one database) are retried, and so
is a batch that would create a device another transaction has just created.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

import asyncpg

from gateway.background.tasks import wait_event
from gateway.db.pool import Database
from gateway.ingest.dispatch import names_devices, write_requests
from gateway.ingest.model import Outcome, TrackRequest
from gateway.ingest.writer import DeviceCreatedConcurrently
from gateway.observability.prometheus import Histogram

log = logging.getLogger(__name__)

RETRYABLE = (
    asyncpg.exceptions.DeadlockDetectedError,
    asyncpg.exceptions.SerializationError,
    DeviceCreatedConcurrently,
)
MAX_ATTEMPTS = 5


def _queue_histogram() -> Histogram:
    return Histogram(
        "gateway_ingest_queue_seconds",
        "Time a write handed to the ingestion engine waited for its batch to start.",
    )


def _commit_histogram() -> Histogram:
    return Histogram(
        "gateway_ingest_commit_seconds",
        "Time a batch's transaction took, BEGIN to COMMIT, retries included, and the one-by-one commits of its "
        "requests after a failed group commit.",
    )


@dataclass
class EngineStats:
    """Counters and latencies for tests, benchmarks and `/metrics`."""

    requests: int = 0
    batches: int = 0
    transactions: int = 0
    retries: int = 0
    failures: int = 0
    # batches that started only once a batch in flight naming one of their devices had finished
    device_waits: int = 0
    # per submitter: from `submit` to the start of its batch (window, slot and device waits)
    queue_seconds: Histogram = field(default_factory=_queue_histogram)
    # per batch: its transaction(s), retries and one-by-one commits after a failed group commit included
    commit_seconds: Histogram = field(default_factory=_commit_histogram)


@dataclass
class _Pending:
    requests: list[TrackRequest]
    future: asyncio.Future[list[Outcome]]
    queued_at: float  # the event loop's clock
    hits: int  # the web hits among the requests (the others are device requests)

    @property
    def devices(self) -> int:
        return len(self.requests) - self.hits


def _device_keys(batch: list[_Pending]) -> set[tuple[int, str]]:
    """Every device the requests of `batch` name, old devices of merges included (in lower case, as
    identities are compared; an alias of a device in flight is not seen here, and waits in PostgreSQL)."""
    keys = set()
    for pending in batch:
        for request in pending.requests:
            if not names_devices(request):
                continue
            keys.add((request.product_id, request.device_key.lower()))
            if request.old_device_key:
                keys.add((request.product_id, request.old_device_key.lower()))
    return keys


def _fail(pending: _Pending, error: BaseException) -> None:
    if not pending.future.done():
        pending.future.set_exception(error)


class IngestEngine:
    """Validates and stores tracking requests with group commit; see the module docstring."""

    def __init__(
        self,
        db: Database,
        window_ms: float = 2.0,
        max_batch: int = 200,
        parallel: int = 4,
        max_hits: int = 2000,
    ) -> None:
        self.db = db
        # batches in flight at once: one is planned in this process while the others run in PostgreSQL. Planning
        # holds the event loop, so smaller batches with more of them in flight keep both sides busy.
        self._slots = asyncio.Semaphore(max(1, parallel))
        self._inflight: set[asyncio.Task[None]] = set()
        # the devices (product id, key) each batch in flight names
        self._inflight_devices: dict[asyncio.Task[None], set[tuple[int, str]]] = {}
        self.window_ms = window_ms
        self.max_batch = max(1, max_batch)
        self.max_hits = max(1, max_hits)
        self.stats = EngineStats()
        self._queue: list[_Pending] = []
        # device requests and web hits waiting
        self._queued = 0
        self._queued_hits = 0
        self._wake = asyncio.Event()
        self._full = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    async def start(self) -> None:
        """Start the flusher task (idempotent)."""
        if self._task is None or self._task.done():
            self._stopping = False
            self._task = asyncio.create_task(self._run(), name="ingest-flusher")

    async def stop(self) -> None:
        """Commit everything still queued, then stop the flusher."""
        self._stopping = True
        self._wake.set()
        self._full.set()
        if self._task is not None:
            await self._task
            self._task = None
        if self._inflight:
            await asyncio.gather(*self._inflight)
        while self._queue:
            await self._flush(self._take())

    async def submit(self, requests: list[TrackRequest]) -> list[Outcome]:
        """Store `requests`; returns one outcome per request once the data is durably committed."""
        if not requests:
            return []
        if self._stopping:
            raise RuntimeError("the ingest engine is stopped")
        if self._task is None or self._task.done():
            await self.start()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[Outcome]] = loop.create_future()
        pending = _Pending(list(requests), future, loop.time(), sum(1 for r in requests if r.web is not None))
        self._queue.append(pending)
        self._queued += pending.devices
        self._queued_hits += pending.hits
        self._wake.set()
        if self._is_full():
            self._full.set()
        return await future

    def _is_full(self) -> bool:
        return self._queued >= self.max_batch or self._queued_hits >= self.max_hits

    # -- the flusher --------------------------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            if not self._queue:
                if self._stopping:
                    return
                self._wake.clear()
                await self._wake.wait()
                continue
            if not self._is_full() and self.window_ms > 0 and not self._stopping:
                await wait_event(self._full, self.window_ms / 1000.0)
            await self._slots.acquire()
            batch = self._take()
            devices = _device_keys(batch)
            # A batch naming a device of a batch in flight starts once that one has finished: it would wait for
            # that commit in PostgreSQL anyway (the device is locked), and a device both batches create would
            # make the later one fail and start over. Waiting here wastes no planning.
            busy = [task for task, named in self._inflight_devices.items() if not devices.isdisjoint(named)]
            if busy:
                self.stats.device_waits += 1
                await asyncio.wait(busy)
            task = asyncio.create_task(self._guarded_flush(batch))
            self._inflight.add(task)
            self._inflight_devices[task] = devices
            task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._inflight.discard(task)
        self._inflight_devices.pop(task, None)

    async def _guarded_flush(self, batch: list[_Pending]) -> None:
        try:
            await self._flush(batch)
        except Exception as error:  # noqa: BLE001 - never let the flusher die
            log.exception("ingest flush failed")
            for pending in batch:
                _fail(pending, error)
        finally:
            self._slots.release()

    def _take(self) -> list[_Pending]:
        """Whole submitters from the head of the queue, up to `max_batch` device requests and `max_hits` web
        hits (at least one submitter)."""
        taken: list[_Pending] = []
        devices = hits = 0
        while self._queue:
            head = self._queue[0]
            if taken and (devices + head.devices > self.max_batch or hits + head.hits > self.max_hits):
                break
            taken.append(self._queue.pop(0))
            devices += head.devices
            hits += head.hits
        self._queued -= devices
        self._queued_hits -= hits
        if not self._is_full():
            self._full.clear()
        if not self._queue:
            self._wake.clear()
        return taken

    async def _flush(self, batch: list[_Pending]) -> None:
        stats = self.stats
        stats.batches += 1
        loop = asyncio.get_running_loop()
        started = loop.time()
        for pending in batch:
            stats.queue_seconds.observe((), started - pending.queued_at)
        try:
            await self._store(batch)
        finally:
            stats.commit_seconds.observe((), loop.time() - started)

    async def _store(self, batch: list[_Pending]) -> None:
        """Commit `batch` in one transaction (one per submitter if that fails) and answer its submitters."""
        requests = [r for pending in batch for r in pending.requests]
        try:
            outcomes = await self._commit(requests)
        except Exception as error:
            if len(batch) == 1:
                self.stats.failures += 1
                _fail(batch[0], error)
                return
            log.warning(
                "group commit of %d submitters failed (%s); committing them one by one", len(batch), error
            )
            for pending in batch:
                try:
                    result = await self._commit(pending.requests)
                except Exception as single_error:  # noqa: BLE001 - reported to that submitter
                    self.stats.failures += 1
                    _fail(pending, single_error)
                else:
                    if not pending.future.done():
                        pending.future.set_result(result)
            return
        offset = 0
        for pending in batch:
            size = len(pending.requests)
            if not pending.future.done():
                pending.future.set_result(outcomes[offset : offset + size])
            offset += size

    async def _commit(self, requests: list[TrackRequest]) -> list[Outcome]:
        """One transaction for `requests`, retried on deadlock / serialization failure."""
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                self.stats.transactions += 1
                async with self.db.transaction() as tx:
                    outcomes = await write_requests(tx, requests)
                self.stats.requests += len(requests)
                return outcomes
            except RETRYABLE:
                if attempt == MAX_ATTEMPTS:
                    raise
                self.stats.retries += 1
                await asyncio.sleep(0.005 * attempt)
        raise AssertionError("unreachable")
