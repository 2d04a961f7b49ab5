"""Fixtures of the whole suite: one real embedded PostgreSQL, and the gateway served on a loopback port."""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from gateway.app import create_app
from gateway.config import Limits, Settings
from gateway.db.embedded import start_embedded
from gateway.db.migrate import migrate
from gateway.db.pool import Database
from resolvers.accounts.store import create_account
from resolvers.node import to_global_id


@pytest.fixture(scope="session")
def pg_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return start_embedded(tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="session")
async def migrated(pg_url: str) -> str:
    await migrate(pg_url)
    return pg_url


@pytest.fixture(scope="session")
async def db(migrated: str) -> AsyncIterator[Database]:
    database = await Database.connect(migrated, min_size=1, max_size=5)
    yield database
    await database.close()


@dataclass
class Server:
    url: str
    app: web.Application
    settings: Settings


async def start_server(url: str, settings: Settings) -> tuple[Server, web.AppRunner]:
    app = create_app(settings, url)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return Server(url=f"http://127.0.0.1:{port}", app=app, settings=settings), runner


@asynccontextmanager
async def gateway_with(migrated: str, tmp_path: Path, **changes: Any) -> AsyncIterator[Server]:
    """A second gateway on the same database, with other settings (limits, trusted mode, ...)."""
    limits = replace(Limits(), **changes.pop("limits", {}))
    changes.setdefault("web_months_seconds", 0)
    settings = Settings(data_dir=tmp_path, database_url=migrated, limits=limits, **changes)
    server, runner = await start_server(migrated, settings)
    try:
        yield server
    finally:
        await runner.cleanup()


@pytest.fixture(scope="session")
async def server(migrated: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Server]:
    # no background pass sums months of web rollups: tests that read rollup rows know which months are summed
    # (tests/web/test_month_sums.py runs the pass itself)
    settings = Settings(
        data_dir=Path(tmp_path_factory.mktemp("gw")), database_url=migrated, web_months_seconds=0
    )
    started, runner = await start_server(migrated, settings)
    yield started
    await runner.cleanup()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@dataclass
class Tenant:
    """An account of its own for one test: its admin token, a product and the product's app key."""

    account_pk: int
    token: str
    product_pk: int
    app_key: str
    email: str
    password: str

    @property
    def account_id(self) -> str:
        return str(to_global_id("Account", self.account_pk))

    @property
    def product_id(self) -> str:
        return str(to_global_id("Product", self.product_pk))


async def new_tenant(db: Database, timezone: str = "UTC") -> Tenant:
    name = "acct-" + secrets.token_hex(6)
    email = f"{name}@example.test"
    password = secrets.token_urlsafe(12)
    created = await create_account(db, name, email, password)
    app_key = secrets.token_hex(20)
    product_pk = await db.fetchval(
        "INSERT INTO products (account_id, name, app_key, timezone) VALUES ($1, $2, $3, $4) RETURNING id",
        created.account_id,
        "app of " + name,
        app_key,
        timezone,
    )
    return Tenant(created.account_id, created.token, product_pk, app_key, email, password)


@pytest.fixture
async def tenant(db: Database) -> Tenant:
    return await new_tenant(db)


@dataclass
class Reply:
    status: int
    body: Any
    headers: Any

    @property
    def data(self) -> Any:
        return self.body.get("data")

    @property
    def errors(self) -> Any:
        return self.body.get("errors")

    @property
    def statements(self) -> int:
        return int(self.headers["X-SQL-Statements"])


async def gql(
    http: aiohttp.ClientSession,
    server: Server,
    query: str,
    variables: dict[str, Any] | None = None,
    token: str | None = None,
    accept: str = "application/graphql-response+json",
) -> Reply:
    headers = {"Accept": accept}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    async with http.post(
        server.url + "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
    ) as response:
        return Reply(response.status, json.loads(await response.text()), response.headers)
