"""An operation's executor is freed when the operation ends, by reference counting.

graphql-core 3.3's executor refers to itself through its `async_helpers` (bound methods of its own), so every
operation left a cycle of about 40 objects (executor, context, variable values, collected fields) for the
cyclic garbage collector; during ingestion that was most of what its full collections walked. (An operation
with a field error still leaves its executor to the collector: the error's traceback and its frames form
cycles of their own.)
"""

from __future__ import annotations

import gc

import pytest

from gateway.access.tokens import principal_for_token
from gateway.db.pool import Database
from gateway.execution.executor import Executor
from gateway.execution.variables import VariableFastExecutor
from resolvers.context import Context
from resolvers.schema import schema as graph
from tests.conftest import Tenant

QUERIES = (
    # one root field (run directly, gateway.execution.variables) and two
    "query Q($p: ID!) { node(id: $p) { id ... on Product { name } } }",
    "query Q($p: ID!) { node(id: $p) { id } viewer { __typename } }",
)


@pytest.mark.parametrize("query", QUERIES)
async def test_an_operations_executor_is_freed_when_it_ends(db: Database, tenant: Tenant, query: str) -> None:
    executor = Executor(graph._schema)
    context = Context(db=db, principal=await principal_for_token(db, tenant.token), engine=None)
    operation = executor.prepare(query)
    await executor.run(operation, context, {"p": tenant.product_id})  # caches warmed
    gc.collect()
    gc.disable()
    try:
        result = await executor.run(operation, context, {"p": tenant.product_id})
        left = [o for o in gc.get_objects() if isinstance(o, VariableFastExecutor)]
    finally:
        gc.enable()
    assert result.errors is None and result.data is not None
    assert left == []
