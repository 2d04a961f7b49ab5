"""Live activity: one PostgreSQL LISTEN per process, fanned out to the subscriptions of that process.

The ingestion writer runs `pg_notify('ingest', {"product_id", "account_id", ...})` inside each write
transaction, so the notification arrives when (and only when) the rows are committed, in every gateway
process that listens, whichever process wrote them. A notification carries no rows: it is a wake-up call for
the subscribers of that product, who then read the new rows by keyset (see `KeysetCursor`). Because of that:

* a subscriber's inbox is a single coalescing flag (a bounded queue of depth one): any number of
  notifications while a subscriber is busy or slow collapse into one pending wake-up, so a slow subscriber
  neither blocks the others nor grows memory;
* notifications lost while the LISTEN connection is down are harmless: after reconnecting, every subscriber
  is woken once and re-reads from where it was.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import asyncpg
from aiohttp import web

from gateway.background.tasks import cancel_and_wait, wait_event
from gateway.db.pool import Database

log = logging.getLogger(__name__)

CHANNEL = "ingest"
T = TypeVar("T")


class Inbox:
    """What one subscriber has been told: a coalescing wake-up flag (never more than one item pending)."""

    def __init__(self, product_id: int) -> None:
        self.product_id = product_id
        self._flag = asyncio.Event()

    def notify(self) -> None:
        self._flag.set()

    async def wait(self) -> None:
        """Until something changed since the last call (returns at once when a wake-up is pending)."""
        await self._flag.wait()
        self._flag.clear()


def _alive(conn: Any) -> bool:
    """Whether a pooled connection is still open (the pool detaches the proxy of a terminated one)."""
    try:
        return not conn.is_closed()
    except asyncpg.InterfaceError:
        return False


class LiveFeed:
    """The process's one LISTEN connection and the inboxes of its subscribers, by product id."""

    def __init__(
        self,
        db: Database,
        channel: str = CHANNEL,
        *,
        check_interval: float = 30.0,
        retry_delays: Sequence[float] = (0.1, 0.5, 1.0, 2.0, 5.0),
    ) -> None:
        self.db = db
        self.channel = channel
        self.check_interval = check_interval
        self.retry_delays = tuple(retry_delays)
        self._inboxes: dict[int, set[Inbox]] = {}
        self._task: asyncio.Task[None] | None = None
        self._conn: Any = None
        self.connected = asyncio.Event()
        self.reconnects = 0

    # -- life cycle -----------------------------------------------------------------------------------------

    async def start(self, wait: float = 10.0) -> None:
        """Start listening; waits (up to `wait` seconds) for the first LISTEN to be in place."""
        self._task = asyncio.create_task(self._run(), name="live-feed")
        await wait_event(self.connected, wait)

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None

    @property
    def server_pid(self) -> int | None:
        """The PostgreSQL backend of the LISTEN connection (tests terminate it to exercise reconnection)."""
        conn = self._conn
        return int(conn.get_server_pid()) if conn is not None and _alive(conn) else None

    async def _run(self) -> None:
        failures = 0
        while True:
            try:
                await self._listen_once()
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as error:  # connection refused, terminated backend, pool closed, ...
                log.warning("live feed: LISTEN connection lost (%s); reconnecting", error)
            delay = self.retry_delays[min(failures, len(self.retry_delays) - 1)]
            failures += 1
            self.reconnects += 1
            await asyncio.sleep(delay)

    async def _listen_once(self) -> None:
        conn = await self.db.pool.acquire()
        lost = asyncio.Event()

        def on_termination(_conn: Any) -> None:
            lost.set()

        try:
            conn.add_termination_listener(on_termination)
            await conn.add_listener(self.channel, self._on_notification)
            self._conn = conn
            self.connected.set()
            # notifications may have been missed while (re)connecting: everyone re-reads once
            self._wake_all()
            while True:
                await wait_event(lost, self.check_interval)
                if lost.is_set() or not _alive(conn):
                    raise ConnectionError("the LISTEN connection was closed")
                # a half-open TCP connection is only noticed by using it
                await conn.fetchval("SELECT 1", timeout=10)
        finally:
            self.connected.clear()
            self._conn = None
            with contextlib.suppress(Exception):
                conn.remove_termination_listener(on_termination)
            if _alive(conn):
                with contextlib.suppress(Exception):
                    await conn.remove_listener(self.channel, self._on_notification)
            with contextlib.suppress(Exception):
                await self.db.pool.release(conn)

    def _on_notification(self, _conn: Any, _pid: int, _channel: str, payload: object) -> None:
        try:
            product_id = int(json.loads(str(payload))["product_id"])
        except (ValueError, KeyError, TypeError):
            log.warning("live feed: ignoring a malformed notification %r", str(payload)[:200])
            return
        for inbox in self._inboxes.get(product_id, ()):
            inbox.notify()

    def _wake_all(self) -> None:
        for inboxes in self._inboxes.values():
            for inbox in inboxes:
                inbox.notify()

    # -- subscribers ----------------------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def subscribe(self, product_id: int) -> AsyncIterator[Inbox]:
        """An inbox woken whenever rows of `product_id` are committed, for the duration of the block."""
        inbox = Inbox(product_id)
        self._inboxes.setdefault(product_id, set()).add(inbox)
        try:
            yield inbox
        finally:
            inboxes = self._inboxes.get(product_id)
            if inboxes is not None:
                inboxes.discard(inbox)
                if not inboxes:
                    del self._inboxes[product_id]

    def subscriber_count(self, product_id: int | None = None) -> int:
        if product_id is not None:
            return len(self._inboxes.get(product_id, ()))
        return sum(len(s) for s in self._inboxes.values())


# -- reading what is new ----------------------------------------------------------------------------------

# A transaction that allocated an id commits at most this long after the allocation (ingest transactions are
# short; group commit keeps them so). Ids are allocated in order but committed in any order across processes,
# so the cursor keeps re-reading this window and skips what it has already delivered.
COMMIT_GRACE = 5.0
# at most one checkpoint per this many seconds (a busy product reads often; older checkpoints are safe to use)
CHECKPOINT_SPACING = 0.1


@dataclass
class KeysetCursor(Generic[T]):
    """New rows of one table for one product, in id order, each delivered once.

    `id > last id seen` alone would lose a row whose transaction took id 100 but committed after another's
    id 101 was read. So the cursor keeps a floor below which every id is known to be final (committed or
    abandoned) and remembers the ids it delivered above the floor. The floor moves to the sequence's value
    read at some earlier moment t once COMMIT_GRACE has passed since t: any id below it was allocated before t
    and its transaction has finished since.
    """

    table: str
    columns: str
    make: Callable[[asyncpg.Record], T]
    account_id: int
    product_id: int
    page_size: int = 200
    floor: int = 0
    grace: float = COMMIT_GRACE
    _delivered: set[int] = field(default_factory=set)
    _checkpoints: list[tuple[float, int]] = field(default_factory=list)

    async def horizon(self, db: Database) -> int:
        """The last id allocated in the table so far (0 when none)."""
        value = await db.fetchval(
            "SELECT coalesce(pg_sequence_last_value(pg_get_serial_sequence($1, 'id')::regclass), 0)",
            self.table,
        )
        return int(value or 0)

    async def start(self, db: Database) -> None:
        """Deliver only rows stored from now on."""
        self.floor = await self.horizon(db)
        self._checkpoints.append((time.monotonic(), self.floor))

    async def next_page(self, db: Database) -> tuple[list[T], bool]:
        """Rows committed since the last call (at most a page), and whether more may be waiting."""
        now = time.monotonic()
        seen_at = await self.horizon(db)
        rows = await db.fetch(
            f"SELECT {self.columns} FROM {self.table} t"
            " WHERE t.account_id = $1 AND t.product_id = $2 AND t.id > $3 AND t.id <> ALL($4::bigint[])"
            " ORDER BY t.id LIMIT $5",
            self.account_id,
            self.product_id,
            self.floor,
            list(self._delivered),
            self.page_size,
        )
        self._delivered.update(row["id"] for row in rows)
        more = len(rows) >= self.page_size
        # checkpoints older than the grace period are final: every id up to them was visible to this read,
        # so once the read was complete (not a full page) the floor may rise to the newest of them
        final = [point for point in self._checkpoints if point[0] <= now - self.grace]
        if final and not more:
            self.floor = max(self.floor, max(value for _, value in final))
            self._checkpoints = [point for point in self._checkpoints if point[0] > now - self.grace]
            self._delivered = {i for i in self._delivered if i > self.floor}
        if not self._checkpoints or self._checkpoints[-1][0] < now - CHECKPOINT_SPACING:
            self._checkpoints.append((now, seen_at))
        return [self.make(row) for row in rows], more


LIVE_KEY = web.AppKey("live_feed", LiveFeed)
