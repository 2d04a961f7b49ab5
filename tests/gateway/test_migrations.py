"""Migrations: applied once, recorded, and safe when several processes start at the same moment."""

from __future__ import annotations

import asyncio
import secrets

import asyncpg

from gateway.db.migrate import available_migrations, migrate


async def test_concurrent_starts_apply_each_migration_once(pg_url: str) -> None:
    name = "migrations_" + secrets.token_hex(4)
    admin = await asyncpg.connect(pg_url)
    try:
        await admin.execute(f"CREATE DATABASE {name}")
        url = pg_url.replace("/analytics?", f"/{name}?", 1)
        applied = await asyncio.gather(*(migrate(url) for _ in range(4)))
        versions = [m.version for m in available_migrations()]
        # exactly one of the concurrent starts applied everything; the others found nothing to do
        assert sorted(applied, key=len) == [[], [], [], versions]
        conn = await asyncpg.connect(url)
        try:
            recorded = [
                r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations ORDER BY 1")
            ]
            assert recorded == versions
            assert await migrate(url) == []
        finally:
            await conn.close()
    finally:
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await admin.close()
