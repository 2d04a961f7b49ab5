"""Calls made with the same key in one turn of the event loop, run as one call of a batch function.

The Countly `/i` shim writes each request through the `record` mutation. Running one GraphQL operation per
request costs, besides the request's own work, about 60 us of executor set-up, result completion and hand-off
to the ingest engine: about a sixth of the gateway's CPU per `/i` request at 64 clients. Requests of one
product that arrive together share one operation instead: a DataLoader for writes.

A shared call that fails is run again item by item, so one bad item fails only its own caller, as the ingest
engine does for its submitters.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from aiohttp import web

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")
R = TypeVar("R")


# the coalescers of an app by name, for `/metrics`
COALESCERS: web.AppKey[dict[str, Coalescer[Any, Any, Any]]] = web.AppKey("coalescers", dict)


@dataclass
class CoalescerStats:
    """Counters for tests and benchmarks: items handed in, and batch calls made for them (retries included)."""

    items: int = 0
    calls: int = 0


@dataclass
class _Batch(Generic[T, R]):
    items: list[T] = field(default_factory=list)
    futures: list[asyncio.Future[R]] = field(default_factory=list)
    started: bool = False


class Coalescer(Generic[K, T, R]):
    """Runs `run_many(key, items)` once for the items of one key handed in during one turn of the loop.

    `run_many` returns one result per item, in order. At most `max_items` share a call.
    """

    def __init__(self, run_many: Callable[[K, list[T]], Awaitable[list[R]]], max_items: int = 100) -> None:
        self._run_many = run_many
        self.max_items = max(1, max_items)
        self.stats = CoalescerStats()
        self._open: dict[K, _Batch[T, R]] = {}
        self._running: set[asyncio.Task[None]] = set()

    async def run(self, key: K, item: T) -> R:
        """The result of `item` in a call shared with the other items of `key` handed in this turn."""
        loop = asyncio.get_running_loop()
        batch = self._open.get(key)
        if batch is None:
            batch = _Batch()
            self._open[key] = batch
            # the callbacks already due this turn (other requests' handlers) add their items first
            loop.call_soon(self._start, key, batch)
        future: asyncio.Future[R] = loop.create_future()
        batch.items.append(item)
        batch.futures.append(future)
        self.stats.items += 1
        if len(batch.items) >= self.max_items:
            self._start(key, batch)
        return await future

    def _start(self, key: K, batch: _Batch[T, R]) -> None:
        if batch.started:
            return
        batch.started = True
        if self._open.get(key) is batch:
            del self._open[key]
        task = asyncio.get_running_loop().create_task(self._settle(key, batch))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _settle(self, key: K, batch: _Batch[T, R]) -> None:
        try:
            results = await self._call(key, batch.items)
        except asyncio.CancelledError:
            for future in batch.futures:
                future.cancel()
            raise
        except Exception as error:  # noqa: BLE001 - handed to the callers
            if len(batch.items) == 1:
                _fail(batch.futures[0], error)
                return
            await asyncio.gather(
                *(
                    self._settle_one(key, item, future)
                    for item, future in zip(batch.items, batch.futures, strict=True)
                )
            )
            return
        for future, result in zip(batch.futures, results, strict=True):
            if not future.done():
                future.set_result(result)

    async def _settle_one(self, key: K, item: T, future: asyncio.Future[R]) -> None:
        if future.done():  # its caller went away
            return
        try:
            (result,) = await self._call(key, [item])
        except asyncio.CancelledError:
            future.cancel()
            raise
        except Exception as error:  # noqa: BLE001 - handed to the caller
            _fail(future, error)
        else:
            if not future.done():
                future.set_result(result)

    async def _call(self, key: K, items: list[T]) -> list[R]:
        self.stats.calls += 1
        results = await self._run_many(key, items)
        if len(results) != len(items):
            raise RuntimeError(f"a batch call gave {len(results)} results for {len(items)} items")
        return results


def register_coalescer(app: web.Application, name: str, coalescer: Coalescer[Any, Any, Any]) -> None:
    """Name `coalescer` among the app's, so `/metrics` reports its counters."""
    app.setdefault(COALESCERS, {})[name] = coalescer


def _fail(future: asyncio.Future[R], error: BaseException) -> None:
    if not future.done():
        future.set_exception(error)
