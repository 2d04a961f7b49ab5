"""No N+1: the SQL statements of a nested query stay the same when its lists grow tenfold."""

from __future__ import annotations

import aiohttp

from gateway.db.pool import Database
from tests.conftest import Server, gql, new_tenant
from tests.graph.seed import seed_product_tree

NESTED = """
query Nested($products: Int!, $sessions: Int!) {
  account {
    name
    products(first: $products) {
      totalCount
      nodes {
        name
        account { name }
        sessions(first: $sessions) {
          totalCount
          nodes {
            duration
            device { deviceId os sessions(first: 2) { nodes { id } } product { name } }
            events(first: 3) { nodes { key device { deviceId } } }
          }
        }
      }
    }
  }
}
"""


async def _statements(http: aiohttp.ClientSession, server: Server, db: Database, scale: int) -> int:
    tenant = await new_tenant(db)
    await seed_product_tree(
        db, tenant.account_pk, products=scale, sessions_per_product=scale, events_per_session=3
    )
    reply = await gql(http, server, NESTED, {"products": scale + 1, "sessions": scale}, token=tenant.token)
    assert reply.status == 200 and reply.errors is None, reply.body
    products = reply.data["account"]["products"]["nodes"]
    assert len(products) == scale + 1  # the tenant's own product plus the seeded ones
    seeded = [p for p in products if p["sessions"]["totalCount"]]
    assert len(seeded) == scale
    assert all(len(p["sessions"]["nodes"]) == scale for p in seeded)
    assert all(len(s["events"]["nodes"]) == 3 for p in seeded for s in p["sessions"]["nodes"])
    return reply.statements


async def test_statement_count_does_not_grow_with_list_sizes(
    http: aiohttp.ClientSession, server: Server, db: Database
) -> None:
    small = await _statements(http, server, db, 2)
    large = await _statements(http, server, db, 20)
    print(f"statements: {small} at scale 2, {large} at scale 20")
    assert small == large, (small, large)
    # token lookup + one statement per level and relation, never per item
    assert large <= 12, large


ANALYTICS = """
query Analytics($n: Int!) {
  products(first: $n) {
    nodes {
      analytics {
        sessions(since: "2026-01-01T00:00:00Z", until: "2026-02-01T00:00:00Z", granularity: DAY) {
          sessions series { bucket sessions }
        }
        breakdown(metric: OS, since: "2026-01-01T00:00:00Z", until: "2026-02-01T00:00:00Z") { value sessions }
        events(keys: ["tap"], since: "2026-01-01T00:00:00Z", until: "2026-02-01T00:00:00Z") { count }
        eventKeys { key }
        periods(ranges: [{since: "2026-01-01T00:00:00Z", until: "2026-01-08T00:00:00Z"}]) { sessions }
      }
    }
  }
}
"""


async def test_analytics_of_many_products_is_batched(
    http: aiohttp.ClientSession, server: Server, db: Database
) -> None:
    counts = []
    for scale in (2, 12):
        tenant = await new_tenant(db)
        await seed_product_tree(db, tenant.account_pk, products=scale - 1, sessions_per_product=1)
        reply = await gql(http, server, ANALYTICS, {"n": scale}, token=tenant.token)
        assert reply.errors is None, reply.body
        assert len(reply.data["products"]["nodes"]) == scale
        counts.append(reply.statements)
    print(f"analytics statements: {counts}")
    assert counts[0] == counts[1], counts
