"""Plain SQL seeding for graph tests: products, devices, sessions and events of one tenant."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from gateway.db.pool import Database


async def seed_product_tree(
    db: Database, account_pk: int, products: int, sessions_per_product: int, events_per_session: int = 0
) -> list[int]:
    """Create products, each with sessions of their own devices (and events); returns the product ids."""
    base = datetime(2026, 1, 1, tzinfo=UTC)
    product_ids: list[int] = []
    for p in range(products):
        product_pk = await db.fetchval(
            "INSERT INTO products (account_id, name, app_key) VALUES ($1, $2, $3) RETURNING id",
            account_pk,
            f"product {p}",
            secrets.token_hex(20),
        )
        product_ids.append(product_pk)
        device_ids = await db.fetch(
            """INSERT INTO devices (account_id, product_id, device_key, first_seen, last_seen, os)
               SELECT $1, $2, 'dev-' || g, $3, $3, 'Android' FROM generate_series(1, $4) g RETURNING id""",
            account_pk,
            product_pk,
            base,
            sessions_per_product,
        )
        for i, device in enumerate(device_ids):
            session_pk = await db.fetchval(
                """INSERT INTO sessions (account_id, product_id, device_id, started_at, duration)
                   VALUES ($1, $2, $3, $4, 60) RETURNING id""",
                account_pk,
                product_pk,
                device["id"],
                base + timedelta(minutes=i),
            )
            if events_per_session:
                await db.execute(
                    """INSERT INTO events (account_id, product_id, device_id, session_id, key, occurred_at)
                       SELECT $1, $2, $3, $4, 'tap', $5::timestamptz + g * interval '1 second'
                       FROM generate_series(1, $6) g""",
                    account_pk,
                    product_pk,
                    device["id"],
                    session_pk,
                    base + timedelta(minutes=i),
                    events_per_session,
                )
    return product_ids
