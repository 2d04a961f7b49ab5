"""An operation of one root field, run without collecting root fields, gives exactly graphql-core's results."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from graphql import ExecutionResult, GraphQLError, build_schema, execute, parse

from gateway.execution.executor import Executor
from gateway.execution.variables import VariableFastExecutor, operation_plan
from resolvers.context import Context

SCHEMA = build_schema(
    """
    type Item { id: Int! name: String broken: Int! }
    type Query {
      hello(name: String = "world"): String
      items(n: Int!): [Item!]!
      later(n: Int!): [Item!]!
      failing: String
      failingRequired: String!
      laterFailing: [Item!]!
      laterNullable: Item
      userError: String
    }
    type Mutation { add(values: [Int!]!, label: String = "x"): [Item!]! }
    """
)


def _items(n: int, label: str = "item") -> list[dict[str, Any]]:
    return [{"id": i, "name": f"{label}{i}", "broken": None} for i in range(n)]


async def _later(_root: Any, _info: Any, n: int) -> list[dict[str, Any]]:
    await asyncio.sleep(0)
    return _items(n)


def _fail(_root: Any, _info: Any) -> Any:
    raise ValueError("no")


async def _later_fail(_root: Any, _info: Any) -> Any:
    await asyncio.sleep(0)
    raise ValueError("later no")


def _user_error(_root: Any, _info: Any) -> Any:
    raise GraphQLError("told", extensions={"code": "BAD_USER_INPUT"})


_RESOLVERS: dict[str, Any] = {
    "hello": lambda _root, _info, name=None: f"hello {name}",
    "items": lambda _root, _info, n: _items(n),
    "later": _later,
    "failing": _fail,
    "failingRequired": _fail,
    "laterFailing": _later_fail,
    "laterNullable": _later_fail,
    "userError": _user_error,
}
for _name, _resolve in _RESOLVERS.items():
    SCHEMA.query_type.fields[_name].resolve = _resolve  # type: ignore[union-attr]
SCHEMA.mutation_type.fields["add"].resolve = lambda _root, _info, values, label: [  # type: ignore[union-attr]
    {"id": v, "name": label} for v in values
]

# (document, variables): the shortcut runs them
SINGLE = [
    ("{ hello }", None),
    ('{ hello(name: "a") }', None),
    ("query($n: String) { hello(name: $n) }", {"n": "b"}),
    ("query($n: String) { hello(name: $n) }", {}),
    ("query($n: String) { hello(name: $n) }", {"n": None}),
    ("{ h: hello }", None),
    ("{ __typename }", None),
    ("{ items(n: 2) { id name __typename } }", None),
    ("{ later(n: 3) { id i: id name } }", None),
    ("{ failing }", None),
    ("{ failingRequired }", None),
    ("{ laterFailing { id } }", None),
    ("{ laterNullable { id } }", None),
    ("{ userError }", None),
    ("{ items(n: 2) { id broken } }", None),  # a non-null leaf's null makes the whole data null
    ("{ later(n: 1) { name broken } }", None),
    ("{ nope }", None),  # not validated: a field the type lacks leaves no key
    ("query @disableErrorPropagation { failingRequired }", None),
    ("mutation { add(values: [1, 2]) { id name } }", None),
    ('mutation M($v: [Int!]!) { add(values: $v, label: "y") { id name } }', {"v": [3]}),
    ("mutation M($v: [Int!]!) { add(values: $v) { id } }", {"v": 4}),
    ("subscription { x }", None),  # the schema has no subscriptions
]
# graphql-core collects their root fields
OTHER = [
    ("{ hello @skip(if: true) }", None),
    ("query($s: Boolean!) { hello @include(if: $s) }", {"s": False}),
    ("{ hello items(n: 1) { id } }", None),
    ("{ hello hello }", None),
    ("{ ... on Query { hello } }", None),
    ("fragment F on Query { items(n: 1) { id } } { ...F }", None),
]


async def _run(executor_class: Any, document: str, variables: Any) -> ExecutionResult:
    result = execute(SCHEMA, parse(document), variable_values=variables, executor_class=executor_class)
    if asyncio.iscoroutine(result):
        result = await result
    assert isinstance(result, ExecutionResult)
    return result


def _seen(result: ExecutionResult) -> Any:
    return result.data, [error.formatted for error in result.errors or []]


@pytest.mark.parametrize(("document", "variables"), SINGLE + OTHER)
async def test_same_results_as_graphql_core(document: str, variables: Any) -> None:
    plan = operation_plan(SCHEMA, parse(document), None)
    assert plan is not None
    assert (plan.root_field is not None) == ((document, variables) in SINGLE)
    expected = _seen(await _run(None, document, variables))
    assert _seen(await _run(VariableFastExecutor, document, variables)) == expected


async def test_errors_keep_their_original_error() -> None:
    for document in ("{ failing }", "{ laterFailing { id } }"):
        result = await _run(VariableFastExecutor, document, None)
        assert result.errors and isinstance(result.errors[0].original_error, ValueError)


async def test_the_root_field_of_a_plan_is_its_response_name() -> None:
    plan = operation_plan(SCHEMA, parse("query($n: Int!) { found: later(n: $n) { id } }"), None)
    assert plan is not None and plan.root_field is not None
    name, details = plan.root_field
    assert name == "found" and [d.node.name.value for d in details] == ["later"]


async def test_gateway_executor_runs_without_graphql_cores_execute() -> None:
    executor = Executor(SCHEMA)
    context = Context(db=None, principal=None)  # type: ignore[arg-type]
    for document, variables in SINGLE[:9] + OTHER:  # without errors, which the gateway masks
        operation = executor.prepare(document)
        found = await executor.run(operation, context, variables)
        expected = await _run(None, document, variables)
        assert found.data == expected.data
        assert [e.message for e in found.errors or []] == [e.message for e in expected.errors or []]
