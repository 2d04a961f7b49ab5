"""Fixtures for the ingestion tests: one embedded PostgreSQL per session, fresh account/product per test."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest

from gateway.db.embedded import start_embedded
from gateway.db.migrate import migrate
from gateway.db.pool import Database
from gateway.ingest import IngestEngine


@dataclass
class ProductRow:
    account_id: int
    product_id: int
    app_key: str


MakeProduct = Callable[..., Awaitable[ProductRow]]


@pytest.fixture(scope="session")
async def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = start_embedded(tmp_path_factory.mktemp("pg"))
    await migrate(url)
    return url


@pytest.fixture(scope="session")
async def db(database_url: str) -> AsyncIterator[Database]:
    database = await Database.connect(database_url, min_size=2, max_size=10)
    yield database
    await database.close()


@pytest.fixture
async def make_product(db: Database) -> MakeProduct:
    async def make(timezone: str = "UTC", salt: str | None = None, status: str = "active") -> ProductRow:
        tag = uuid.uuid4().hex
        account_id = await db.fetchval("INSERT INTO accounts (name) VALUES ($1) RETURNING id", f"acct-{tag}")
        app_key = f"key-{tag}"
        product_id = await db.fetchval(
            """INSERT INTO products (account_id, name, timezone, app_key, salt, status)
               VALUES ($1, $2, $3, $4, $5, $6) RETURNING id""",
            account_id,
            f"app-{tag}",
            timezone,
            app_key,
            salt,
            status,
        )
        return ProductRow(account_id, product_id, app_key)

    return make


@pytest.fixture
async def product(make_product: MakeProduct) -> ProductRow:
    return await make_product()


@pytest.fixture
async def engine(db: Database) -> AsyncIterator[IngestEngine]:
    eng = IngestEngine(db, window_ms=2.0, max_batch=500)
    await eng.start()
    yield eng
    await eng.stop()
