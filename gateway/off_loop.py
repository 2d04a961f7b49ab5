"""CPU-heavy work run beside the event loop, on a few threads with a bounded queue in front.

The event loop runs every request of a process: a callback that computes for 100 ms holds all of them back for
100 ms. Work that can take that long runs on threads of its own instead, and the loop goes on meanwhile:
password hashes (`gateway.access.passwords`; hashlib releases the GIL while it hashes) and the checking of large
GraphQL documents (`gateway.execution.executor`; pure Python, which shares the GIL with the loop, so the loop
gets it back within the interpreter's switch interval, 5 ms, whenever it has something to do).

A bounded number of calls may wait for those threads: beyond it, the pool's `busy` exception is raised at once,
so a flood of such requests costs a bounded amount of CPU, memory and waiting, and the caller answers "retry in
a moment" instead of queueing without end.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


class OffLoop:
    """`threads` threads named `name`, and at most `max_waiting` calls waiting for them (`run`)."""

    def __init__(self, name: str, threads: int, max_waiting: int, busy: Callable[[], Exception]) -> None:
        self.name = name
        self.threads = threads
        self.max_waiting = max_waiting
        self.busy = busy
        self._pool: ThreadPoolExecutor | None = None
        # a semaphore belongs to the loop it was first used on (tests run several loops in one process)
        self._slots: asyncio.Semaphore | None = None
        self._slots_loop: asyncio.AbstractEventLoop | None = None

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        """`function(*args)` on the pool's threads; raises `busy()` when too many calls wait already."""
        loop = asyncio.get_running_loop()
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix=self.name)
        if self._slots is None or self._slots_loop is not loop:
            self._slots, self._slots_loop = asyncio.Semaphore(self.threads + self.max_waiting), loop
        if self._slots.locked():
            raise self.busy()
        async with self._slots:
            return await loop.run_in_executor(self._pool, function, *args)
