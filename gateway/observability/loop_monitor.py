"""How long the event loop was kept busy: every request of a process waits while one callback runs.

A task wakes every `interval` seconds and measures the CPU time the loop's thread spent since its last wake-up
(`time.thread_time`): the longest such span is the longest the loop ran code without letting others in (plus
at most one interval of ordinary work). CPU time rather than wall time, so that the figure is the gateway's own,
not the machine's: a process the scheduler puts aside for a while (a busy VM) shows a wall-clock lag without
having blocked anything. Both are kept: `/metrics` reports them as `gateway_event_loop_longest_busy_seconds`
and `gateway_event_loop_longest_lag_seconds` (the most since the process started).
"""

from __future__ import annotations

import asyncio
import time

from gateway.background.tasks import cancel_and_wait


class LoopMonitor:
    """See the module docstring."""

    def __init__(self, interval: float = 0.02) -> None:
        self.interval = interval
        self.longest_busy = 0.0
        self.longest_lag = 0.0
        self._task: asyncio.Task[None] | None = None
        # the loop's time and the thread's CPU time at the last tick
        self._since: tuple[float, float] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="loop-monitor")

    async def stop(self) -> None:
        # the span since the last tick counts too: a stop right after the loop was kept busy would lose it
        if self._since is not None:
            self._tick()
        await cancel_and_wait(self._task)
        self._task = None

    async def _run(self) -> None:
        self._since = asyncio.get_running_loop().time(), time.thread_time()
        while True:
            await asyncio.sleep(self.interval)
            self._tick()

    def _tick(self) -> None:
        assert self._since is not None
        wall, cpu = self._since
        now_wall, now_cpu = asyncio.get_running_loop().time(), time.thread_time()
        self.longest_busy = max(self.longest_busy, now_cpu - cpu)
        self.longest_lag = max(self.longest_lag, now_wall - wall - self.interval)
        self._since = now_wall, now_cpu
