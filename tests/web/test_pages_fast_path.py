"""A page of top paths completes in one loop: each page's `path { ... }` is a plain attribute holding an object of
plain leaves, which the fast path completes directly (`ObjectStep`), with exactly graphql-core's results."""

from __future__ import annotations

from typing import Any

import aiohttp
from graphql import execute, parse

from gateway.access.tokens import principal_for_token
from gateway.db.pool import Database
from gateway.execution.fast_path import LeafFastExecutor
from resolvers.context import Context
from resolvers.schema import schema
from tests.conftest import Server, Tenant
from tests.web.three_pages import record_three_pages

PAGES = """query($product: ID!) {
  node(id: $product) { ... on Product { webAnalytics {
    pages(period: {since: "2026-03-01T00:00:00Z", until: "2026-03-05T00:00:00Z"}, limit: 5, grain: DAY) {
      pages { path { id path title event __typename } p: path { path } pageviews visitors } more
    }
  } } }
}"""


async def test_pages_complete_directly_as_graphql_core_would(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant, db: Database
) -> None:
    await record_three_pages(http, server, tenant)
    principal = await principal_for_token(db, tenant.token)
    completed: list[str] = []
    original = LeafFastExecutor.complete_object_value

    def counting(self: LeafFastExecutor, *args: Any, **kwargs: Any) -> Any:
        completed.append(args[0].name)
        return original(self, *args, **kwargs)

    results = []
    LeafFastExecutor.complete_object_value = counting  # type: ignore[method-assign]
    try:
        for executor_class in (None, LeafFastExecutor):
            result = await execute(
                schema._schema,
                parse(PAGES),
                context_value=Context(db=db, principal=principal),
                variable_values={"product": tenant.product_id},
                executor_class=executor_class,
            )  # type: ignore[misc]
            results.append((result.data, result.errors))
    finally:
        LeafFastExecutor.complete_object_value = original  # type: ignore[method-assign]
    assert results[0] == results[1] and results[1][1] is None
    pages = results[1][0]["node"]["webAnalytics"]["pages"]["pages"]  # type: ignore[index]
    assert sorted(page["path"]["path"] for page in pages) == ["/a", "/b", "/c"] and pages[0]["pageviews"] == 3
    assert "WebPageStats" not in completed and "WebPath" not in completed, completed
