"""The database handle: an asyncpg pool plus a per-request count of SQL statements.

All SQL of the gateway goes through `Database`, so that the statement count of a request is exact (the
query-count tests and the benchmarks read it) and so that per-request settings such as the statement
timeout are applied in one place.

Statements marked `KeptPlan` run on a second pool whose sessions keep one generic plan per prepared
statement (`plan_cache_mode = force_generic_plan`). PostgreSQL otherwise plans a statement anew for its
values on every execution whenever it estimates a generic plan to be dearer, as it often does when the rows
depend on the parameters; for the large statements that nest analytics trees, that planning was a sixth to a
quarter of their cost. Only statements whose generic plan was checked to be as good are marked. PostgreSQL
still plans a kept statement again when its tables' statistics change (ANALYZE) or their definitions do.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Literal

import asyncpg

from gateway.db.outage import DatabaseUnavailable
from gateway.json_text import compact_json_bytes


@dataclass
class StatementCounter:
    """How many SQL statements the current request has sent."""

    count: int = 0


# asyncpg's names of the isolation levels
Isolation = Literal["read_committed", "read_uncommitted", "serializable", "repeatable_read"]


@dataclass(frozen=True)
class KeptPlan:
    """SQL to run with a kept generic plan (see the module docstring); `Database` takes it as it takes text."""

    text: str


_counter: ContextVar[StatementCounter | None] = ContextVar("statement_counter", default=None)


def start_counting() -> StatementCounter:
    """Begin counting the statements of the current task and the tasks it spawns."""
    counter = StatementCounter()
    _counter.set(counter)
    return counter


def _tick(n: int = 1) -> None:
    counter = _counter.get()
    if counter is not None:
        counter.count += n


def _jsonb_encode(value: Any) -> bytes:
    # binary jsonb is a version byte and the JSON text; binary (not text) so that COPY can carry jsonb too.
    # json's text exactly (orjson's where equal): NaN and infinities stay what PostgreSQL refuses
    return b"\x01" + compact_json_bytes(value)


def _jsonb_decode(data: bytes) -> Any:
    return json.loads(data[1:])


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Nothing to reset when a connection returns to the pool.

    asyncpg's default sends `RESET ALL; UNLISTEN *; ...` on every release, a round trip per statement here.
    The gateway sets no session state on pooled connections (listeners hold theirs for good), so none is needed.
    """


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec(
        "jsonb", encoder=_jsonb_encode, decoder=_jsonb_decode, schema="pg_catalog", format="binary"
    )
    await conn.set_type_codec("json", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


class Database:
    """A pool of connections to the gateway's PostgreSQL database."""

    def __init__(self, pool: asyncpg.Pool, kept_plans: asyncpg.Pool | None = None) -> None:
        self.pool = pool
        # the pool for `KeptPlan` statements (the main one when there is none)
        self.kept_plans = kept_plans or pool

    @classmethod
    async def connect(
        cls,
        url: str,
        *,
        min_size: int = 2,
        max_size: int = 10,
        statement_timeout: float | None = None,
        command_timeout: float | None = 60,
        idle_seconds: float = 30.0,
    ) -> Database:
        """A pool; `statement_timeout` (seconds) bounds every statement on the server side too; a connection
        unused for `idle_seconds` is closed (down to `min_size`)."""
        # UTC sessions whatever the server's default: SQL that reads a timestamp text without an offset as
        # timestamptz (the ingestion engine's jsonb documents) then agrees with asyncpg, which sends naive
        # datetimes as UTC, and hour windows (`date_trunc('hour', now())`) are the same on every server
        settings = {"TimeZone": "UTC"}
        if statement_timeout:
            settings["statement_timeout"] = str(int(statement_timeout * 1000))

        async def create(smallest: int, largest: int, server_settings: dict[str, str]) -> asyncpg.Pool:
            pool = await asyncpg.create_pool(
                url,
                min_size=smallest,
                max_size=largest,
                init=_init_connection,
                reset=_keep_session,
                command_timeout=command_timeout,
                server_settings=server_settings,
                max_inactive_connection_lifetime=idle_seconds,
            )
            assert pool is not None
            return pool

        pool = await create(min_size, max_size, settings)
        # opened as they are needed: only the analytics reads use it
        kept_plans = await create(
            0, max(1, max_size // 2), {**settings, "plan_cache_mode": "force_generic_plan"}
        )
        return cls(pool, kept_plans)

    async def close(self) -> None:
        await self.pool.close()
        if self.kept_plans is not self.pool:
            await self.kept_plans.close()

    def _route(self, sql: str | KeptPlan) -> tuple[asyncpg.Pool, str]:
        """The pool for `sql`, and its text."""
        if isinstance(sql, KeptPlan):
            return self.kept_plans, sql.text
        return self.pool, sql

    # An OSError (a socket that is gone, refused or reset) can only be the server being out of reach: raised as
    # DatabaseUnavailable, which clients are told as 503 (gateway.db.outage), not as an internal error

    async def fetch(self, sql: str | KeptPlan, *args: Any) -> list[asyncpg.Record]:
        _tick()
        pool, text = self._route(sql)
        try:
            return await pool.fetch(text, *args)
        except OSError as error:
            raise DatabaseUnavailable from error

    async def fetchrow(self, sql: str | KeptPlan, *args: Any) -> asyncpg.Record | None:
        _tick()
        pool, text = self._route(sql)
        try:
            return await pool.fetchrow(text, *args)
        except OSError as error:
            raise DatabaseUnavailable from error

    async def fetchval(self, sql: str | KeptPlan, *args: Any) -> Any:
        _tick()
        pool, text = self._route(sql)
        try:
            return await pool.fetchval(text, *args)
        except OSError as error:
            raise DatabaseUnavailable from error

    async def execute(self, sql: str | KeptPlan, *args: Any) -> str:
        _tick()
        pool, text = self._route(sql)
        try:
            return await pool.execute(text, *args)
        except OSError as error:
            raise DatabaseUnavailable from error

    async def executemany(self, sql: str, args: Sequence[Sequence[Any]]) -> None:
        _tick()
        try:
            await self.pool.executemany(sql, args)
        except OSError as error:
            raise DatabaseUnavailable from error

    @contextlib.asynccontextmanager
    async def transaction(self, isolation: Isolation = "read_committed") -> AsyncIterator[Transaction]:
        """A connection inside one transaction (`isolation`: asyncpg's name of the level); statements sent
        through it are counted too."""
        try:
            acquired = await self.pool.acquire()
        except OSError as error:
            raise DatabaseUnavailable from error
        try:
            async with acquired.transaction(isolation=isolation):
                yield Transaction(acquired)
        finally:
            await self.pool.release(acquired)


class Transaction:
    """A connection in an open transaction, with the same counted methods as `Database`."""

    def __init__(self, conn: asyncpg.Connection | asyncpg.pool.PoolConnectionProxy) -> None:
        self.conn = conn

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        _tick()
        return await self.conn.fetch(sql, *args)

    async def fetchrow(self, sql: str, *args: Any) -> asyncpg.Record | None:
        _tick()
        return await self.conn.fetchrow(sql, *args)

    async def fetchval(self, sql: str, *args: Any) -> Any:
        _tick()
        return await self.conn.fetchval(sql, *args)

    async def execute(self, sql: str, *args: Any) -> str:
        _tick()
        return await self.conn.execute(sql, *args)

    async def executemany(self, sql: str, args: Sequence[Sequence[Any]]) -> None:
        _tick()
        await self.conn.executemany(sql, args)

    async def copy_records(
        self, table: str, records: Sequence[Sequence[Any]], columns: Sequence[str]
    ) -> None:
        _tick()
        await self.conn.copy_records_to_table(table, records=records, columns=list(columns))
