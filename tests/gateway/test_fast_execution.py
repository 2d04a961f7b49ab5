"""The leaf shortcut of the executor gives exactly graphql-core's results, errors included."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from graphql import GraphQLEnumType, GraphQLError, execute, parse

from gateway.access.tokens import principal_for_token
from gateway.db.pool import Database
from gateway.execution.fast_path import LeafFastExecutor, _enum_serializer
from resolvers.context import Context
from resolvers.schema import schema
from tests.conftest import Tenant
from tests.graph.seed import seed_product_tree

QUERIES = [
    "{ products { nodes { id name status timezone __typename } } }",
    "{ products { edges { cursor node { id appKey } } pageInfo { hasNextPage endCursor } } }",
    """{ products(first: 5) { nodes { n: name events(first: 7) { nodes { key k2: key count sum segmentation
         timestamp path isPageview ... on Event { duration } } } } } }""",
    """fragment S on Session { duration endedAt startedAt }
       { products { nodes { sessions(first: 3) { nodes { ...S device { deviceId os country properties } } } } } }""",
    "{ exports { nodes { kind format status } } }",  # a value the schema cannot serialize
    "{ exports { nodes { kind product { name } format } } }",  # the same among fields that are not leaves
    # lists among the leaves: read directly when empty, completed by graphql-core otherwise
    "{ products { nodes { name hosts ignoredIps id } } }",
    "{ products { nodes { hosts events(first: 1) { nodes { key } } } } }",
    # child connections of list items, prefetched for the whole list
    """{ products { nodes { name devices(first: 3) { nodes { deviceId sessions(first: 2) { totalCount
         nodes { duration events(first: 2) { nodes { key } pageInfo { hasNextPage } } } } } } } } }""",
    """query($n: Int) { products { nodes { events(first: $n, orderBy: OLDEST_FIRST) { nodes { key } }
         sessions { edges { cursor } } reports { nodes { name } } } } }""",
    # errors inside prefetched fields: reported per item, at graphql-core's paths
    "{ products { nodes { name sessions(first: 100000) { nodes { duration } } } } }",
    '{ products { nodes { devices(first: 2, after: "bad") { nodes { deviceId } } } } }',
    '{ products { nodes { sessions(device: "nope") { nodes { duration } } events { totalCount } } } }',
    # a prefetched object of plain leaves among an item's fields, completed directly; and what is not:
    # one item (nothing prefetched), an object with a connection of its own
    "{ eventDefinitions { totalCount nodes { name index product { uuid name status __typename } total } } }",
    "{ eventDefinitions(first: 2, offset: 3) { nodes { index p: product { id } product { name } } } }",
    "{ eventDefinitions(first: 1) { nodes { name product { uuid } } } }",
    "{ propertyDefinitions { nodes { index product { uuid events(first: 1) { nodes { key } } } } } }",
    "{ products { nodes { eventDefinitions(offset: 1) { nodes { index product { appKey } } } } } }",
]


async def _both(db: Database, tenant: Tenant, query: str) -> tuple[Any, Any]:
    principal = await principal_for_token(db, tenant.token)
    results = []
    for executor_class in (None, LeafFastExecutor):
        context = Context(db=db, principal=principal)
        result = await execute(
            schema._schema,
            parse(query),
            context_value=context,
            variable_values={"n": 3},
            executor_class=executor_class,
        )  # type: ignore[misc]
        results.append((result.data, [(e.message, e.path) for e in result.errors or []]))
    return results[0], results[1]


@pytest.mark.parametrize("query", QUERIES)
async def test_same_results_as_graphql_core(db: Database, tenant: Tenant, query: str) -> None:
    await seed_product_tree(db, tenant.account_pk, products=3, sessions_per_product=4, events_per_session=3)
    await db.execute(
        "UPDATE events SET sum = 1.5, segmentation = '{\"a\": 1}', path = '/x' WHERE account_id = $1 AND id % 2 = 0",
        tenant.account_pk,
    )
    await db.execute(
        "INSERT INTO exports (account_id, product_id, kind, format) VALUES ($1, $2, 'hologram', 'csv')",
        tenant.account_pk,
        tenant.product_pk,
    )
    # one product with lists that are not empty (the others' are)
    await db.execute(
        "UPDATE products SET ignored_ips = '{10.0.0.1}' WHERE account_id = $1 AND id = $2",
        tenant.account_pk,
        tenant.product_pk,
    )
    await db.execute(
        "INSERT INTO product_hosts (host, account_id, product_id) VALUES ($1, $2, $3)",
        f"fast-{tenant.product_pk}.example",
        tenant.account_pk,
        tenant.product_pk,
    )
    for (product_pk,) in await db.fetch(
        "SELECT id FROM products WHERE account_id = $1 ORDER BY id", tenant.account_pk
    ):
        for n in range(3):
            name = f"name {product_pk} {n}"
            await db.execute(
                "INSERT INTO event_definitions (account_id, product_id, name) VALUES ($1, $2, $3)",
                tenant.account_pk,
                product_pk,
                name,
            )
            await db.execute(
                "INSERT INTO property_definitions (account_id, product_id, scope, name) "
                "VALUES ($1, $2, 'device', $3)",
                tenant.account_pk,
                product_pk,
                name,
            )
    plain, fast = await _both(db, tenant, query)
    assert fast == plain


async def test_definitions_of_a_page_are_completed_in_one_loop(db: Database, tenant: Tenant) -> None:
    """A page of definitions with each one's `product { uuid }` (KISSmetrics' account-wide lists): the
    products are prefetched, then every item is completed without graphql-core's per-item machinery."""
    await seed_product_tree(db, tenant.account_pk, products=2, sessions_per_product=1, events_per_session=1)
    for (product_pk,) in await db.fetch("SELECT id FROM products WHERE account_id = $1", tenant.account_pk):
        for n in range(5):
            await db.execute(
                "INSERT INTO event_definitions (account_id, product_id, name) VALUES ($1, $2, $3)",
                tenant.account_pk,
                product_pk,
                f"e{n}",
            )
    principal = await principal_for_token(db, tenant.token)
    query = parse("{ eventDefinitions { nodes { name index product { uuid } } } }")
    completed = []
    original = LeafFastExecutor.complete_object_value

    def counting(self: LeafFastExecutor, *args: Any, **kwargs: Any) -> Any:
        completed.append(args[0].name)
        return original(self, *args, **kwargs)

    LeafFastExecutor.complete_object_value = counting  # type: ignore[method-assign]
    try:
        context = Context(db=db, principal=principal)
        result = await execute(schema._schema, query, context_value=context, executor_class=LeafFastExecutor)  # type: ignore[misc]
    finally:
        LeafFastExecutor.complete_object_value = original  # type: ignore[method-assign]
    assert not result.errors
    nodes = result.data["eventDefinitions"]["nodes"]  # type: ignore[index]
    assert len(nodes) == 15 and all(node["product"]["uuid"] for node in nodes)  # the tenant has 3 products
    # the connection object alone: neither the definitions nor their products go through graphql-core
    assert "EventDefinition" not in completed and "Product" not in completed, completed


async def test_child_connections_of_a_list_are_loaded_before_its_items_complete(
    db: Database, tenant: Tenant
) -> None:
    """graphql-core awaits each item's connection in a task of its own; prefetched, the items need none."""
    await seed_product_tree(db, tenant.account_pk, products=2, sessions_per_product=12, events_per_session=1)
    principal = await principal_for_token(db, tenant.token)
    query = parse(
        "{ products { nodes { devices(first: 10) { nodes { sessions(first: 2) { nodes { duration } } } } } } }"
    )
    loop = asyncio.get_running_loop()
    created = 0

    def counting_factory(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> asyncio.Task[Any]:
        nonlocal created
        created += 1
        return asyncio.Task(coro, loop=loop, **kwargs)

    tasks = {}
    results = {}
    loop.set_task_factory(counting_factory)  # type: ignore[arg-type]
    try:
        for name, executor_class in (("graphql-core", None), ("fast", LeafFastExecutor)):
            created = 0
            context = Context(db=db, principal=principal)
            result = await execute(
                schema._schema, query, context_value=context, executor_class=executor_class
            )  # type: ignore[misc]
            assert not result.errors
            tasks[name], results[name] = created, result.data
    finally:
        loop.set_task_factory(None)
    assert results["fast"] == results["graphql-core"]
    # graphql-core: a task per device (20); prefetched: the loaders' three batches and one per product
    assert tasks["graphql-core"] >= 20, tasks
    assert tasks["fast"] <= 8, tasks


def test_enum_members_serialize_as_strawberry_does() -> None:
    enums = [t for t in schema._schema.type_map.values() if isinstance(t, GraphQLEnumType)]
    wrapped = [t for t in enums if getattr(t, "wrapped_cls", None) is not None]
    assert len(wrapped) >= 5
    for enum_type in wrapped:
        fast = _enum_serializer(enum_type)
        for member in enum_type.wrapped_cls:  # type: ignore[attr-defined]
            assert fast(member) == enum_type.serialize(member)
        for name, value in enum_type.values.items():  # raw values, as graphql-core itself accepts them
            assert fast(value.value) == enum_type.serialize(value.value) == name
        with pytest.raises(GraphQLError):
            fast("no such value")
