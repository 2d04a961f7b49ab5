"""Products with stored rollups for the graph's rollup-read tests, and a batched read of their analytics."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import aiohttp

from gateway.cli.seed import EVENT_TOTALS_OF_PRODUCT
from gateway.db.pool import Database
from resolvers.node import to_global_id
from tests.conftest import Server, Tenant, gql, new_tenant


async def product_with_rollups(db: Database, tenant: Tenant, sessions: int) -> str:
    """A product of the tenant with a day and an hour of sessions (totals and one country), and taps."""
    product = await db.fetchval(
        "INSERT INTO products (account_id, name, app_key, timezone) VALUES ($1, $2, md5(random()::text), 'UTC') "
        "RETURNING id",
        tenant.account_pk,
        f"app {sessions}",
    )
    day = datetime(2026, 1, 2)
    for dimension, value, grain, bucket in (
        ("", "", "d", day),
        ("", "", "h", day + timedelta(hours=5)),
        ("country", "DE", "d", day),
        ("country", "DE", "h", day + timedelta(hours=5)),
    ):
        await db.execute(
            "INSERT INTO session_rollups (account_id, product_id, dimension, value, grain, bucket, t, n, u, d, e) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, 1, 1, 60, 3)",
            tenant.account_pk,
            product,
            dimension,
            value,
            grain,
            bucket,
            sessions,
        )
    await db.execute(
        "INSERT INTO event_rollups (account_id, product_id, key, seg_key, seg_value, grain, bucket, c, s, dur) "
        "VALUES ($1, $2, 'tap', '', '', 'd', $3, $4, 1.5, 0)",
        tenant.account_pk,
        product,
        day,
        sessions,
    )
    await db.execute(EVENT_TOTALS_OF_PRODUCT, product)  # as the ingestion keeps them
    return str(to_global_id("Product", product))


@dataclass
class BatchedRead:
    """One `products` query over a new tenant's products: its own empty one and `count` with rollups."""

    tenant: Tenant
    sessions: dict[str, int]  # product id -> the sessions stored for it
    analytics: dict[str, Any]  # product id -> its `analytics` in the reply
    statements: int


async def read_products(
    http: aiohttp.ClientSession, server: Server, db: Database, query: str, count: int
) -> BatchedRead:
    """`query` (with `$n`, the number of products) run by a new tenant owning `count` products with rollups."""
    tenant = await new_tenant(db)
    sessions = {await product_with_rollups(db, tenant, n): n for n in range(10, 10 + count)}
    reply = await gql(http, server, query, {"n": count + 1}, token=tenant.token)
    assert reply.errors is None, reply.body
    analytics = {node["id"]: node["analytics"] for node in reply.data["products"]["nodes"]}
    return BatchedRead(tenant, sessions, analytics, reply.statements)
