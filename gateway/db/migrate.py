"""Versioned SQL migrations: `gateway/db/migrations/NNN_name.sql`, applied in order and recorded in a table.

A transaction-level advisory lock serialises concurrent starts: when two gateway processes start at once,
one applies the pending migrations and the other then finds nothing left to do.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from importlib import resources

import asyncpg

log = logging.getLogger(__name__)

# an arbitrary constant shared by every gateway process
_MIGRATION_LOCK = 7_246_301_117


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def available_migrations() -> list[Migration]:
    """Every migration shipped with the gateway, in version order."""
    found = []
    for entry in resources.files("gateway.db.migrations").iterdir():
        if entry.name.endswith(".sql"):
            version, _, rest = entry.name.partition("_")
            found.append(Migration(int(version), rest.removesuffix(".sql"), entry.read_text("utf-8")))
    return sorted(found, key=lambda m: m.version)


async def migrate(url: str) -> list[int]:
    """Apply the pending migrations to the database at `url`; returns the versions applied."""
    conn = await asyncpg.connect(url)
    try:
        return await apply_pending(conn)
    finally:
        await conn.close()


async def apply_pending(conn: asyncpg.Connection) -> list[int]:
    applied: list[int] = []
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _MIGRATION_LOCK)
        await conn.execute(
            """CREATE TABLE IF NOT EXISTS schema_migrations (
                   version integer PRIMARY KEY,
                   name text NOT NULL,
                   applied_at timestamptz NOT NULL DEFAULT now())"""
        )
        done = {r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")}
        for migration in available_migrations():
            if migration.version in done:
                continue
            log.info("applying migration %03d %s", migration.version, migration.name)
            await conn.execute(migration.sql)
            await conn.execute(
                "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                migration.version,
                migration.name,
            )
            applied.append(migration.version)
    return applied
