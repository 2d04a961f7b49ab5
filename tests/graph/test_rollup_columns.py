"""`rollupColumns` / `eventRollupColumns` over `/graphql`: each product its own columns, one statement for all
products, nothing of another account's."""

from __future__ import annotations

from datetime import datetime, timedelta

import aiohttp

from gateway.db import Database
from resolvers.node import to_global_id
from tests.conftest import Server, Tenant, gql, new_tenant

QUERY = """
query Columns($n: Int!) {
  products(first: $n) {
    nodes {
      id
      analytics {
        rollupColumns(since: "2026-01-01T00:00:00Z", until: "2026-01-03T00:00:00Z", grains: [DAY, HOUR],
                      metrics: [COUNTRY]) {
          size grains buckets metrics values sessions newUsers uniqueUsers duration requests
        }
        eventRollupColumns(keys: ["tap"], since: "2026-01-01T00:00:00Z", until: "2026-01-03T00:00:00Z") {
          size keys grains buckets segments count sum duration
        }
      }
    }
  }
}
"""


async def _product(db: Database, tenant: Tenant, sessions: int) -> str:
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
    return str(to_global_id("Product", product))


async def test_columns_per_product_batched(http: aiohttp.ClientSession, server: Server, db: Database) -> None:
    statements = []
    for count in (2, 6):
        tenant = await new_tenant(db)
        made = {await _product(db, tenant, sessions): sessions for sessions in range(10, 10 + count)}
        reply = await gql(http, server, QUERY, {"n": count + 1}, token=tenant.token)
        assert reply.errors is None, reply.body
        statements.append(reply.statements)
        by_id = {node["id"]: node["analytics"] for node in reply.data["products"]["nodes"]}
        assert by_id[tenant.product_id]["rollupColumns"]["size"] == 0  # the tenant's own, empty product
        for product_id, sessions in made.items():
            columns = by_id[product_id]["rollupColumns"]
            # in the order of `rollups`: grain, bucket, metric (totals first), value
            assert columns == {
                "size": 4,
                "grains": ["DAY", "DAY", "HOUR", "HOUR"],
                "buckets": ["2026-01-02T00:00:00"] * 2 + ["2026-01-02T05:00:00"] * 2,
                "metrics": [None, "COUNTRY", None, "COUNTRY"],
                "values": ["", "DE", "", "DE"],
                "sessions": [sessions] * 4,
                "newUsers": [1] * 4,
                "uniqueUsers": [1] * 4,
                "duration": [60] * 4,
                "requests": [3] * 4,
            }
            assert by_id[product_id]["eventRollupColumns"] == {
                "size": 1,
                "keys": ["tap"],
                "grains": ["DAY"],
                "buckets": ["2026-01-02T00:00:00"],
                "segments": [""],
                "count": [sessions],
                "sum": [1.5],
                "duration": [0.0],
            }
    assert statements[0] == statements[1], statements


async def test_columns_of_another_account_are_not_read(
    http: aiohttp.ClientSession, server: Server, db: Database
) -> None:
    owner, other = await new_tenant(db), await new_tenant(db)
    product_id = await _product(db, owner, 7)
    query = """query($id: ID!) { node(id: $id) { ... on Product { analytics {
        rollupColumns(since: "2026-01-01T00:00:00Z", until: "2026-01-03T00:00:00Z") { size } } } } }"""
    mine = await gql(http, server, query, {"id": product_id}, token=owner.token)
    assert mine.data == {"node": {"analytics": {"rollupColumns": {"size": 2}}}}, mine.body
    theirs = await gql(http, server, query, {"id": product_id}, token=other.token)
    assert theirs.data == {"node": None}, theirs.body
