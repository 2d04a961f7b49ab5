"""A job runner over a PostgreSQL table of jobs: any gateway process claims, beats, finishes or fails a job.

Jobs are rows of a table with the job columns (see migrations 001 and 021): `id`, `status` (pending, running,
finished, failed), `progress` (0 to 1), `error`, `heartbeat_at`, `attempt`, `finished_at`. A `JobRunner`
serves one such table (`JobQueue`) in one process:

- it claims the oldest pending job with `FOR UPDATE SKIP LOCKED`, so any number of processes share the queue,
  or a running job whose worker stopped beating for `stale_seconds` (a process that died): takeover;
- every claim raises `attempt`, and every write of the job's worker is conditioned on it: a worker whose job
  was taken over (it stalled past `stale_seconds`) finds its attempt gone (`JobLost`) and stops;
- while the job's function runs, a task beats (`heartbeat_at`) every third of `stale_seconds`, so a long SQL
  statement does not make the job look dead;
- it wakes on `NOTIFY <channel>` (send one when a job is created) and polls every `poll_seconds` otherwise;
- a function that raises fails the job with a generic message (details go to the log, never to clients).

The job's function gets a `JobContext`: the claimed row, `progress(value, **columns)` and `finish(**columns)`,
which update the job's own row (column names come from code, values are parameters).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import asyncpg

from gateway.background.tasks import cancel_and_wait, wait_event
from gateway.db.pool import Database

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobQueue:
    """A table of jobs: its name, the NOTIFY channel that announces new jobs, and the columns a claim reads."""

    table: str
    channel: str
    columns: str
    # what a failed job's `error` says, from the exception's type name
    failure: str = "Job failed ({})"


class JobLost(Exception):
    """The job was taken over by another worker (or deleted): this worker must stop writing it."""


class JobContext:
    """What a job's function works with: its row, and writes to that row while it still owns it."""

    def __init__(self, db: Database, queue: JobQueue, row: asyncpg.Record) -> None:
        self.db = db
        self.queue = queue
        self.row = row
        self.id: int = row["id"]
        self.attempt: int = row["attempt"]
        # set when the heartbeat found the job taken over
        self.lost = False

    async def _update(self, assignments: str, columns: dict[str, Any]) -> None:
        names = list(columns)
        sets = ", ".join([assignments, *(f"{name} = ${i + 3}" for i, name in enumerate(names))])
        updated = await self.db.fetchval(
            f"UPDATE {self.queue.table} SET {sets} WHERE id = $1 AND attempt = $2 RETURNING id",
            self.id,
            self.attempt,
            *(columns[name] for name in names),
        )
        if updated is None:
            raise JobLost(f"{self.queue.table} {self.id}")

    async def progress(self, value: float, **columns: Any) -> None:
        """Record how far the job is (0 to 1) and other columns of its row; a beat as well."""
        await self._update("heartbeat_at = now()", {"progress": min(max(value, 0.0), 1.0), **columns})

    async def finish(self, **columns: Any) -> None:
        """Mark the job finished (progress 1) with the given columns."""
        await self._update("status = 'finished', progress = 1, finished_at = now()", columns)


JobFunction = Callable[[JobContext], Coroutine[Any, Any, None]]


class JobRunner:
    """Runs the jobs of one table in the background of a gateway process; see the module docstring."""

    def __init__(
        self,
        db: Database,
        queue: JobQueue,
        run: JobFunction,
        *,
        poll_seconds: float = 2.0,
        stale_seconds: float = 30.0,
    ) -> None:
        self.db = db
        self.queue = queue
        self.run = run
        self.poll_seconds = poll_seconds
        self.stale_seconds = stale_seconds
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._listener: asyncpg.pool.PoolConnectionProxy | None = None
        self._claim = f"""
            UPDATE {queue.table} SET status = 'running', heartbeat_at = now(), attempt = attempt + 1
            WHERE id = (
                SELECT id FROM {queue.table}
                WHERE status = 'pending'
                   OR (status = 'running' AND heartbeat_at < now() - make_interval(secs => $1))
                ORDER BY id FOR UPDATE SKIP LOCKED LIMIT 1)
            RETURNING {queue.columns}, attempt"""

    async def start(self) -> None:
        listener = await self.db.pool.acquire()
        await listener.add_listener(self.queue.channel, self._notified)
        self._listener = listener
        self._task = asyncio.create_task(self._loop(), name=f"jobs-{self.queue.table}")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        if self._listener is not None:
            with contextlib.suppress(Exception):
                await self._listener.remove_listener(self.queue.channel, self._notified)
            await self.db.pool.release(self._listener)
            self._listener = None

    def _notified(self, *_: object) -> None:
        self._wake.set()

    async def _loop(self) -> None:
        while True:
            try:
                while await self.run_one():
                    pass
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s worker failed; retrying", self.queue.table)
            self._wake.clear()
            await wait_event(self._wake, self.poll_seconds)

    async def run_one(self) -> bool:
        """Claim one job and carry it out; False when none is waiting."""
        row = await self.db.fetchrow(self._claim, self.stale_seconds)
        if row is None:
            return False
        job = JobContext(self.db, self.queue, row)
        work = asyncio.create_task(self.run(job))
        beating = asyncio.create_task(self._beat(job, work))
        try:
            await work
        except JobLost:
            log.warning("%s %s was taken over by another worker", self.queue.table, job.id)
        except asyncio.CancelledError:
            if not job.lost:
                raise
            log.warning("%s %s was taken over by another worker", self.queue.table, job.id)
        except Exception as exc:
            log.exception("%s %s failed", self.queue.table, job.id)
            await self.db.execute(
                f"UPDATE {self.queue.table} SET status = 'failed', error = $3, finished_at = now() "
                "WHERE id = $1 AND attempt = $2",
                job.id,
                job.attempt,
                self.queue.failure.format(type(exc).__name__),
            )
        finally:
            await cancel_and_wait(beating)
            await cancel_and_wait(work)
        return True

    async def _beat(self, job: JobContext, work: asyncio.Task[None]) -> None:
        """Beat while the job runs; cancel it once it is no longer this worker's."""
        while not work.done():
            await asyncio.sleep(self.stale_seconds / 3)
            owned = await self.db.fetchval(
                f"UPDATE {self.queue.table} SET heartbeat_at = now() WHERE id = $1 AND attempt = $2 "
                "AND status = 'running' RETURNING id",
                job.id,
                job.attempt,
            )
            if owned is None:
                job.lost = True
                work.cancel()
                return


class JobWorker:
    """A process's worker for one kind of job: subclasses give the queue and the job's function (`_run`)."""

    queue: JobQueue
    poll_seconds: float = 2.0
    stale_seconds: float = 30.0

    def __init__(self, db: Database) -> None:
        self.db = db
        self.runner = JobRunner(
            db, self.queue, self._run, poll_seconds=self.poll_seconds, stale_seconds=self.stale_seconds
        )

    async def _run(self, job: JobContext) -> None:
        raise NotImplementedError

    async def start(self) -> None:
        await self.runner.start()

    async def stop(self) -> None:
        await self.runner.stop()

    async def run_one(self) -> bool:
        """Claim and finish one job; False when none is waiting."""
        return await self.runner.run_one()
