"""Stopping long-running tasks: a cancellation that races with an event, or is swallowed, cannot hang a stop."""

from __future__ import annotations

import asyncio
import contextlib

from gateway.background.tasks import cancel_and_wait, wait_event


async def _cancelled_as_the_event_is_set(wait: object) -> asyncio.Task[None]:
    """A task looping on `wait(event)`, cancelled right after its event was set and its waiter released."""
    event = asyncio.Event()

    async def loop() -> None:
        while True:
            await wait(event)  # type: ignore[operator]
            event.clear()

    task = asyncio.create_task(loop())
    await asyncio.sleep(0)
    event.set()
    # let the event's waiter finish, so the loop's wait is done when the cancellation reaches it
    await asyncio.sleep(0)
    task.cancel()
    await asyncio.sleep(0.05)
    return task


async def test_wait_event_keeps_a_cancellation_that_races_with_the_event() -> None:
    async def with_wait_event(event: asyncio.Event) -> None:
        await wait_event(event, 10)

    task = await _cancelled_as_the_event_is_set(with_wait_event)
    assert task.cancelled()


async def test_the_race_that_wait_for_loses_does_happen() -> None:
    """The case `wait_event` exists for: Python 3.11's wait_for swallows this cancellation (fixed in 3.12)."""
    import sys

    async def with_wait_for(event: asyncio.Event) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), 10)

    task = await _cancelled_as_the_event_is_set(with_wait_for)
    swallowed = not task.done()
    await cancel_and_wait(task)
    assert task.done()
    if sys.version_info < (3, 12):
        assert swallowed


async def test_cancel_and_wait_stops_a_task_that_swallows_a_cancellation() -> None:
    swallowed = 0

    async def stubborn() -> None:
        nonlocal swallowed
        while True:
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                swallowed += 1
                if swallowed > 1:
                    raise

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    await asyncio.wait_for(cancel_and_wait(task), 5)
    assert task.cancelled() and swallowed == 2


async def test_wait_event_reports_whether_the_event_was_set() -> None:
    event = asyncio.Event()
    assert await wait_event(event, 0.01) is False
    event.set()
    assert await wait_event(event, 10) is True
