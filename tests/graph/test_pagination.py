"""Cursor connections: first/after pages, pageInfo, totalCount, filters, the maximum page size."""

from __future__ import annotations

import aiohttp

from gateway.db.pool import Database
from tests.conftest import Server, Tenant, gql
from tests.graph.seed import seed_product_tree

PAGE = """query($p: ID!, $first: Int, $after: String) { node(id: $p) { ... on Product {
  sessions(first: $first, after: $after) { totalCount edges { cursor node { startedAt } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } } } }"""


async def _product_with_sessions(db: Database, tenant: Tenant, sessions: int) -> str:
    from resolvers.node import to_global_id

    [product] = await seed_product_tree(db, tenant.account_pk, products=1, sessions_per_product=sessions)
    return str(to_global_id("Product", product))


async def test_pages_walk_the_whole_list_once(
    http: aiohttp.ClientSession, server: Server, db: Database, tenant: Tenant
) -> None:
    product = await _product_with_sessions(db, tenant, 7)
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        reply = await gql(http, server, PAGE, {"p": product, "first": 3, "after": after}, tenant.token)
        connection = reply.data["node"]["sessions"]
        assert connection["totalCount"] == 7
        seen += [edge["node"]["startedAt"] for edge in connection["edges"]]
        info = connection["pageInfo"]
        assert info["hasPreviousPage"] is (after is not None)
        pages += 1
        if not info["hasNextPage"]:
            break
        after = info["endCursor"]
    assert pages == 3
    assert len(seen) == len(set(seen)) == 7
    assert seen == sorted(seen, reverse=True)


async def test_page_size_limit_and_bad_cursor(
    http: aiohttp.ClientSession, server: Server, db: Database, tenant: Tenant
) -> None:
    product = await _product_with_sessions(db, tenant, 1)
    limit = server.settings.limits.max_page_size
    ok = await gql(http, server, PAGE, {"p": product, "first": limit}, tenant.token)
    assert ok.errors is None
    over = await gql(http, server, PAGE, {"p": product, "first": limit + 1}, tenant.token)
    assert over.status == 200
    assert over.errors[0]["message"] == f"`first` is {limit + 1}, above the maximum page size of {limit}"
    assert over.errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
    negative = await gql(http, server, PAGE, {"p": product, "first": -1}, tenant.token)
    assert negative.errors[0]["message"] == "`first` must not be negative"
    bad_cursor = await gql(http, server, PAGE, {"p": product, "after": "not-a-cursor"}, tenant.token)
    assert bad_cursor.errors[0]["message"].startswith("Invalid cursor")


async def test_time_range_and_key_filters(
    http: aiohttp.ClientSession, server: Server, db: Database, tenant: Tenant
) -> None:
    product = await _product_with_sessions(db, tenant, 5)  # sessions start 2026-01-01 00:00 .. 00:04 UTC
    reply = await gql(
        http,
        server,
        """query($p: ID!) { node(id: $p) { ... on Product {
             sessions(period: {since: "2026-01-01T00:01:00Z", until: "2026-01-01T00:03:00Z"}) { totalCount }
             events(key: "nothing") { totalCount } } } }""",
        {"p": product},
        tenant.token,
    )
    assert reply.data["node"] == {"sessions": {"totalCount": 2}, "events": {"totalCount": 0}}
