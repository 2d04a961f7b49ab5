"""Resolvers called directly (without Strawberry's wrapper) answer exactly as through Strawberry."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import execute, parse

from gateway.access.tokens import principal_for_token
from gateway.db.pool import Database
from resolvers.context import Context
from resolvers.schema import build_schema, schema
from tests.conftest import Tenant
from tests.graph.seed import seed_product_tree

# the same graph, with Strawberry's own resolver path everywhere
STRAWBERRY_ONLY = build_schema(direct_resolvers=False)

QUERIES: list[tuple[str, dict[str, Any]]] = [
    ("{ account { name products(first: 2) { totalCount nodes { name } } } }", {}),
    (
        """query($p: ID!, $after: String) { node(id: $p) { ... on Product {
             events(first: 3, after: $after, orderBy: OLDEST_FIRST, period: {since: "2026-01-01T00:00:00Z"}) {
               nodes { key timestamp } pageInfo { hasNextPage endCursor } }
             sessions(first: 2) { edges { cursor node { device { deviceId sessions(first: 1) { totalCount } } } } }
             analytics { sessions(since: "2025-12-01T00:00:00Z", until: "2026-02-01T00:00:00Z", granularity: WEEK) {
               sessions series { bucket } }
               rollups(since: "2025-12-01T00:00:00Z", until: "2026-02-01T00:00:00Z", grains: [YEAR, MONTH], metrics: [OS]) {
                 grain metric value } } } } }""",
        {"after": None},
    ),
    ("{ products(first: 1000) { totalCount } }", {}),  # an error from the resolver
    (
        "query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Product { name } } }",
        {"ids": ["bad", "UHJvZHVjdDox"]},
    ),
]


@pytest.mark.parametrize(("query", "variables"), QUERIES)
async def test_direct_resolvers_match_strawberry(
    db: Database, tenant: Tenant, query: str, variables: dict[str, Any]
) -> None:
    await seed_product_tree(db, tenant.account_pk, products=2, sessions_per_product=3, events_per_session=2)
    principal = await principal_for_token(db, tenant.token)
    variables = {"p": tenant.product_id, **variables}
    results = []
    for graph in (schema, STRAWBERRY_ONLY):
        context = Context(db=db, principal=principal)
        result = await execute(graph._schema, parse(query), context_value=context, variable_values=variables)  # type: ignore[misc]
        results.append((result.data, [(e.message, e.path) for e in result.errors or []]))
    assert results[0] == results[1]


def test_read_resolvers_are_direct_and_mutations_are_not() -> None:
    query = schema._schema.query_type
    mutation = schema._schema.mutation_type
    assert query is not None and mutation is not None
    assert (
        query.fields["products"].resolve is not STRAWBERRY_ONLY._schema.query_type.fields["products"].resolve
    )  # type: ignore[union-attr]
    assert query.fields["products"].resolve.__qualname__.startswith("_direct_resolver")  # type: ignore[union-attr]
    assert mutation.fields["createProduct"].resolve.__qualname__.startswith("GraphQLCoreConverter")  # type: ignore[union-attr]
