"""`rollupColumns` / `eventRollupColumns` over `/graphql`: each product its own columns, one statement for all
products, nothing of another account's."""

from __future__ import annotations

import aiohttp

from gateway.db.pool import Database
from tests.conftest import Server, gql, new_tenant
from tests.graph.rollup_products import product_with_rollups, read_products

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


async def test_columns_per_product_batched(http: aiohttp.ClientSession, server: Server, db: Database) -> None:
    reads = [await read_products(http, server, db, QUERY, count) for count in (2, 6)]
    for read in reads:
        by_id = read.analytics
        assert by_id[read.tenant.product_id]["rollupColumns"]["size"] == 0  # the tenant's own, empty product
        for product_id, sessions in read.sessions.items():
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
    assert reads[0].statements == reads[1].statements, [read.statements for read in reads]


async def test_columns_of_another_account_are_not_read(
    http: aiohttp.ClientSession, server: Server, db: Database
) -> None:
    owner, other = await new_tenant(db), await new_tenant(db)
    product_id = await product_with_rollups(db, owner, 7)
    query = """query($id: ID!) { node(id: $id) { ... on Product { analytics {
        rollupColumns(since: "2026-01-01T00:00:00Z", until: "2026-01-03T00:00:00Z") { size } } } } }"""
    mine = await gql(http, server, query, {"id": product_id}, token=owner.token)
    assert mine.data == {"node": {"analytics": {"rollupColumns": {"size": 2}}}}, mine.body
    theirs = await gql(http, server, query, {"id": product_id}, token=other.token)
    assert theirs.data == {"node": None}, theirs.body
