"""What the long-running tasks of a gateway process share: stopping one for good, and waiting for an event.

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
from typing import Any

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
