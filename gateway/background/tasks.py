"""What the long-running tasks of a gateway process share: stopping one for good, waiting for an event, and a
loop that does some work every so often (`Periodic`).

Python 3.11's `asyncio.wait_for` loses a cancellation that arrives as the awaited event is set (the inner
future is done, so it returns its result instead of raising): a task looping over `wait_for(event.wait())`
then goes on waiting after it was told to stop, and whoever awaits its end waits forever (the export worker
did so in the test suite when a NOTIFY woke it while the gateway stopped). So the loops wait with
`wait_event`, built on `asyncio.timeout`, which keeps the cancellation; and `cancel_and_wait` cancels again
while the task is still running, so that a cancellation swallowed anywhere else cannot hang a stop either.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

log = logging.getLogger(__name__)

# how long a cancelled task may take to finish before it is cancelled again (it may be cleaning up)
RECANCEL_SECONDS = 1.0


async def cancel_and_wait(task: asyncio.Task[Any] | None) -> None:
    """Cancel `task` (if any) and wait until it has finished, so that nothing it holds outlives the stop."""
    if task is None:
        return
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=RECANCEL_SECONDS)
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def wait_event(event: asyncio.Event, seconds: float) -> bool:
    """Wait until `event` is set or `seconds` have passed; True when it was set. Cancellable at any time."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await event.wait()
    return event.is_set()


class Periodic:
    """Runs `run_once()` at start and then every `interval` seconds until stopped; a run that fails is logged
    and the work tried again at the next one. Subclasses name the work (`what`) and do it in `run_once`."""

    what = "periodic work"

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._task: asyncio.Task[None] | None = None

    async def run_once(self) -> None:
        raise NotImplementedError

    async def start(self) -> None:
        """Start the loop (idempotent)."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._loop(), name=self.what)

    async def stop(self) -> None:
        """Stop the loop, interrupting a run in progress (whatever it writes in a transaction rolls back)."""
        await cancel_and_wait(self._task)
        self._task = None

    async def _loop(self) -> None:
        while True:
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s failed; trying again later", self.what)
            await asyncio.sleep(self.interval)
