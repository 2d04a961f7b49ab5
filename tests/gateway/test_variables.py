"""Compiled variable coercion gives exactly graphql-core's values, and graphql-core's own errors by falling back."""

from __future__ import annotations

import math
from collections import OrderedDict
from typing import Any

import pytest
from graphql import (
    DocumentNode,
    GraphQLArgument,
    GraphQLError,
    GraphQLField,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInt,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLString,
    execute,
    parse,
    print_ast,
)
from graphql import build_schema as build_sdl_schema
from graphql.execution.executor import Executor as CoreExecutor
from graphql.execution.values import VariableValues, get_variable_values
from graphql.pyutils import Undefined

from gateway.access.tokens import principal_for_token
from gateway.db.pool import Database
from gateway.execution.executor import Executor, RequestError
from gateway.execution.fast_path import LeafFastExecutor
from gateway.execution.variables import VariableFastExecutor, _caches_of, coerce_variables, operation_plan
from gateway.ingest.engine import IngestEngine
from resolvers.context import Context
from resolvers.schema import schema as graph
from tests.conftest import Tenant
from tests.graph.seed import seed_product_tree

GRAPH = graph._schema


def _typed(value: Any) -> Any:
    """The value with the Python type of every part and the order of every dict's keys: 1, 1.0 and True differ."""
    if isinstance(value, dict):
        return (type(value).__name__, [(key, _typed(item)) for key, item in value.items()])
    if isinstance(value, list | tuple):
        return (type(value).__name__, [_typed(item) for item in value])
    if isinstance(value, float) and math.isnan(value):
        return ("float", "nan")
    return (type(value).__name__, value)


def _sources(values: VariableValues) -> list[Any]:
    return [
        (
            name,
            source.signature.name,
            str(source.signature.type),
            print_ast(source.signature.default.literal) if source.signature.default else None,
            "undefined" if source.value is Undefined else id(source.value),
        )
        for name, source in values.sources.items()
    ]


def _document(variables: str) -> DocumentNode:
    return parse(f"query Q({variables}) {{ __typename }}")


def _core(schema: GraphQLSchema, document: DocumentNode, inputs: Any) -> VariableValues | list[GraphQLError]:
    operation = document.definitions[0]
    return get_variable_values(schema, operation.variable_definitions, inputs, max_errors=50)  # type: ignore[attr-defined]


def _built(
    executor_class: type[CoreExecutor], schema: GraphQLSchema, document: DocumentNode, inputs: Any
) -> Any:
    """What `build` gives: the variable values (typed), or the errors as clients see them."""
    built = executor_class.build(schema, document, raw_variable_values=inputs, operation_name="Q")
    if isinstance(built, list):
        return ("errors", [error.formatted for error in built])
    return ("values", _typed(built.variable_values.coerced), _sources(built.variable_values))


def assert_compiled_matches(schema: GraphQLSchema, variables: str, inputs: Any) -> None:
    """The compiled coercion vouches for the inputs and coerces them exactly as graphql-core does."""
    document = _document(variables)
    expected = _core(schema, document, inputs)
    assert not isinstance(expected, list), [error.message for error in expected]
    plan = operation_plan(schema, document, None)
    assert plan is not None
    found = coerce_variables(plan, inputs)
    assert found is not None, "the compiled coercion gave up on a valid value"
    assert _typed(found.coerced) == _typed(expected.coerced)
    assert _sources(found) == _sources(expected)
    assert _built(VariableFastExecutor, schema, document, inputs) == _built(
        CoreExecutor, schema, document, inputs
    )


def assert_falls_back(schema: GraphQLSchema, variables: str, inputs: Any, **build: Any) -> Any:
    """The compiled coercion gives up, and the executor answers exactly what graphql-core's build answers."""
    document = _document(variables)
    plan = operation_plan(schema, document, None)
    assert plan is None or coerce_variables(plan, inputs) is None
    built = _built(VariableFastExecutor, schema, document, inputs)
    assert built == _built(CoreExecutor, schema, document, inputs)
    return built


def _event(i: int) -> dict[str, Any]:
    return {
        "key": f"ev{i}",
        "count": 1,
        "sum": 2.5,
        "segmentation": {"a": "x", "b": 2, "c": True},
        "timestamp": "1700000000123",
    }


def _record(i: int, events: int) -> dict[str, Any]:
    return {
        "deviceId": f"device-{i}",
        "dedupeHash": f"{i:032x}",
        "timestamp": "1700000000",
        "beginSession": True,
        "sessionDuration": 30,
        "metrics": {
            "_os": "Android",
            "_os_version": "14",
            "_device": "Pixel",
            "_carrier": "X",
            "_res": "1x2",
        },
        "events": [_event(j) for j in range(events)],
    }


def _deep_json(depth: int) -> Any:
    value: Any = [1, None, "leaf"]
    for _ in range(depth):
        value = {"inner": value}
    return value


REQUESTS = "$requests: [RecordInput!]!"

VALID: list[tuple[str, str, Any]] = [
    ("bulk", REQUESTS, {"requests": [_record(i, 10) for i in range(50)]}),
    ("one /i request", REQUESTS, {"requests": [_record(0, 3)]}),
    ("defaults of a minimal record", REQUESTS, {"requests": [{"deviceId": "d"}]}),
    (
        "explicit nulls",
        REQUESTS,
        {
            "requests": [
                {"deviceId": "d", "timestamp": None, "events": None, "metrics": None, "sessionDuration": None}
            ]
        },
    ),
    ("one record for the list", REQUESTS, {"requests": {"deviceId": "d", "endSession": True}}),
    ("one event for the list", REQUESTS, {"requests": [{"deviceId": "d", "events": {"key": "k"}}]}),
    ("empty lists", REQUESTS, {"requests": [{"deviceId": "d", "events": []}]}),
    (
        "numbers converted",
        REQUESTS,
        {
            "requests": [
                {"deviceId": "d", "sessionDuration": 7.0, "events": [{"key": "k", "count": 3.0, "sum": 5}]}
            ]
        },
    ),
    (
        "JSON of any shape, nested up to the limit",
        REQUESTS,
        {
            "requests": [
                {"deviceId": "d", "userDetails": _deep_json(60), "metrics": {"l": [1, [2, None]], "e": {}}}
            ]
        },
    ),
    (
        "event fields of pageviews",
        REQUESTS,
        {
            "requests": [
                {
                    "deviceId": "d",
                    "events": [
                        {"key": "[CLY]_view", "path": "/", "title": "T", "referrer": "r", "duration": 0.25}
                    ],
                }
            ]
        },
    ),
    ("nullable list given null", "$requests: [RecordInput!]", {"requests": None}),
    ("nullable list missing", "$requests: [RecordInput!]", {}),
    ("tuples are lists", "$ids: [ID!]!", {"ids": ("a", "b")}),
    ("ID from str and int", "$p: ID!, $q: ID", {"p": "UHJvZHVjdDox", "q": 42}),
    ("one ID for the list", "$ids: [ID!]!", {"ids": "abc"}),
    ("default used", "$first: Int = 10, $after: String", {}),
    ("default not used", "$first: Int = 10", {"first": 3}),
    ("null over a default", "$first: Int = 10", {"first": None}),
    ("variables not defined are ignored", "$first: Int", {"first": 1, "unused": {"x": 1}}),
    ("Int bounds", "$a: Int!, $b: Int!", {"a": -2147483648, "b": 2147483647}),
    ("Float from int and float", "$a: Float!, $b: Float, $c: Float", {"a": 1, "b": -0.5, "c": 1e300}),
    ("Boolean and String", "$b: Boolean!, $s: String", {"b": False, "s": ""}),
    (
        "DateTime",
        "$since: DateTime!, $until: DateTime",
        {"since": "2026-01-01T00:00:00Z", "until": "2026-02-01T10:20:30+03:00"},
    ),
    (
        "an analytics range",
        "$r: AnalyticsRange!",
        {"r": {"since": "2026-01-01T00:00:00Z", "until": "2026-01-02T00:00:00"}},
    ),
    (
        "enums",
        "$perms: [Permission!]!, $order: EventOrder, $g: Granularity",
        {"perms": ["READ"], "order": "OLDEST_FIRST", "g": None},
    ),
    ("one enum for the list", "$perms: [Permission!]!", {"perms": "READ"}),
    (
        "nested input objects with enums",
        "$input: StartExportInput!",
        {"input": {"productId": "x", "kind": "EVENTS", "format": "CSV", "period": {"since": None}}},
    ),
    (
        "lists in an input object",
        "$input: CreateSegmentInput!",
        {
            "input": {
                "productId": "p",
                "identifier": "i",
                "name": "n",
                "filter": {"os": ["iOS", "Android"], "country": "TR", "city": None},
            }
        },
    ),
    (
        "a JSON input field",
        "$input: CreateReportInput!",
        {"input": {"name": "n", "type": "t", "definition": {"a": [1, 2.5, None]}}},
    ),
    (
        "defaults of input objects",
        '$r: TimeRange = {since: "2026-01-01T00:00:00Z"}, $p: [Permission!] = [READ]',
        {},
    ),
    ("an input object default", '$m: DeviceMetricsInput = {os: "iOS"}', {"m": {"device": "Pixel"}}),
    (
        "many variables",
        f"{REQUESTS}, $p: ID, $first: Int = 5, $k: ExportKind!",
        {"requests": [_record(1, 2)], "p": None, "k": "SESSIONS"},
    ),
]


@pytest.mark.parametrize(
    ("variables", "inputs"), [(v, i) for _, v, i in VALID], ids=[name for name, _, _ in VALID]
)
def test_valid_values_are_coerced_as_graphql_core_does(variables: str, inputs: Any) -> None:
    assert_compiled_matches(GRAPH, variables, inputs)


INVALID: list[tuple[str, str, Any]] = [
    ("String given an int", REQUESTS, {"requests": [{"deviceId": 5}]}),
    ("unknown field", REQUESTS, {"requests": [{"deviceId": "d", "bogus": 1}]}),
    ("field with a suggestion", REQUESTS, {"requests": [{"deviceID": "d"}]}),
    ("missing required field", REQUESTS, {"requests": [{"events": [{"key": "k"}]}]}),
    ("null for a non-null list", REQUESTS, {"requests": None}),
    ("null item of a list of non-null", REQUESTS, {"requests": [None]}),
    ("null for a non-null field", REQUESTS, {"requests": [{"deviceId": "d", "events": [{"key": None}]}]}),
    (
        "null for a non-null field with a default",
        REQUESTS,
        {"requests": [{"deviceId": "d", "beginSession": None}]},
    ),
    ("missing required variable", REQUESTS, {}),
    (
        "Int out of range",
        REQUESTS,
        {"requests": [{"deviceId": "d", "events": [{"key": "k", "count": 2**31}]}]},
    ),
    ("Int not integral", REQUESTS, {"requests": [{"deviceId": "d", "sessionDuration": 1.5}]}),
    (
        "Int given a bool",
        REQUESTS,
        {"requests": [{"deviceId": "d", "events": [{"key": "k", "count": True}]}]},
    ),
    ("Float not finite", "$a: Float, $b: Float", {"a": math.inf, "b": math.nan}),
    ("Float given a str", "$a: Float!", {"a": "1.5"}),
    ("Boolean given an int", "$b: Boolean!", {"b": 1}),
    ("unknown enum value", "$perms: [Permission!]!", {"perms": ["READ", "NOPE"]}),
    ("enum given an int", "$order: EventOrder", {"order": 1}),
    ("invalid DateTime", "$since: DateTime!", {"since": "yesterday"}),
    (
        "JSON nested beyond the limit",
        REQUESTS,
        {"requests": [{"deviceId": "d", "userDetails": _deep_json(300)}]},
    ),
    ("ID given a bool", "$p: ID!", {"p": True}),
    ("input object given a str", REQUESTS, {"requests": ["device"]}),
    ("input object given a list", "$r: AnalyticsRange", {"r": [{"since": "2026-01-01T00:00:00Z"}]}),
    ("several errors", "$a: Int!, $b: String!, $c: ID!", {"a": "x", "b": 1, "c": None}),
    ("more errors than the limit", REQUESTS, {"requests": [{"deviceId": i} for i in range(60)]}),
    ("type that is not an input type", "$p: Product", {"p": None}),
    ("unknown type", "$p: Nope", {"p": 1}),
]


@pytest.mark.parametrize(
    ("variables", "inputs"), [(v, i) for _, v, i in INVALID], ids=[name for name, _, _ in INVALID]
)
def test_invalid_values_get_graphql_cores_errors(variables: str, inputs: Any) -> None:
    built = assert_falls_back(GRAPH, variables, inputs)
    assert built[0] == "errors" and built[1]


def test_the_error_limit_is_graphql_cores() -> None:
    built = assert_falls_back(GRAPH, REQUESTS, {"requests": [{"deviceId": i} for i in range(60)]})
    assert len(built[1]) == 51
    assert (
        built[1][-1]["message"]
        == "Too many errors processing variables, error limit reached. Execution aborted."
    )


UNSURE_BUT_VALID: list[tuple[str, str, Any]] = [
    ("a set for a list", "$ids: [ID!]!", {"ids": {"a"}}),
    (
        "a dict subclass for an input object",
        "$r: TimeRange",
        {"r": OrderedDict(since="2026-01-01T00:00:00Z")},
    ),
]


@pytest.mark.parametrize(
    ("variables", "inputs"), [(v, i) for _, v, i in UNSURE_BUT_VALID], ids=[n for n, _, _ in UNSURE_BUT_VALID]
)
def test_values_the_coercers_do_not_know_are_left_to_graphql_core(variables: str, inputs: Any) -> None:
    built = assert_falls_back(GRAPH, variables, inputs)
    assert built[0] == "values"


def test_variables_that_are_not_a_dict_are_left_to_graphql_core() -> None:
    document = _document("$first: Int")
    plan = operation_plan(GRAPH, document, None)
    assert plan is not None and coerce_variables(plan, [("first", 1)]) is None


def test_suggestions_can_be_hidden() -> None:
    document = _document(REQUESTS)
    inputs = {"requests": [{"deviceID": "d"}]}
    errors = [
        executor_class.build(GRAPH, document, raw_variable_values=inputs, hide_suggestions=hidden)
        for hidden in (False, True)
        for executor_class in (VariableFastExecutor, CoreExecutor)
    ]
    messages = [[error.message for error in found] for found in errors if isinstance(found, list)]
    assert len(messages) == 4 and messages[0] == messages[1] and messages[2] == messages[3]
    assert any("Did you mean" in message for message in messages[0])
    assert not any("Did you mean" in message for message in messages[2])


# a schema of its own for what the graph does not have: recursion (depth), @oneOf, out names, out types

DEEP = build_sdl_schema(
    """
    input Deep { next: Deep, value: Int, items: [Deep!], grid: [[Int]] }
    input One @oneOf { a: Int, b: String }
    input Defaults { limit: Int = 5, tags: [String] = ["a"], nested: Deep = {value: 1}, required: Int! = 2 }
    type Query { f(d: Deep, o: One, s: Defaults): Int }
    """
)


def _nested(depth: int, leaf: Any) -> Any:
    value: Any = {"value": 1, "items": leaf}
    for _ in range(depth):
        value = {"next": value}
    return value


@pytest.mark.parametrize("depth", [0, 1, 10, 150, 197])
def test_deep_values_within_the_limit_are_compiled(depth: int) -> None:
    assert_compiled_matches(DEEP, "$d: Deep", {"d": _nested(depth, [{"value": 2}])})
    assert_compiled_matches(DEEP, "$d: Deep", {"d": _nested(depth, None)})


@pytest.mark.parametrize("depth", [198, 199, 200, 201, 202, 260])
@pytest.mark.parametrize("leaf", [None, [], [{"value": 2}], {"value": 3}])
def test_deep_values_near_the_limit_are_graphql_cores(depth: int, leaf: Any) -> None:
    # graphql-core counts list and object levels, a null list included; near its limit graphql-core decides
    document = _document("$d: Deep")
    inputs = {"d": _nested(depth, leaf)}
    assert _built(VariableFastExecutor, DEEP, document, inputs) == _built(
        CoreExecutor, DEEP, document, inputs
    )


def test_values_too_deep_are_graphql_cores_error() -> None:
    built = assert_falls_back(DEEP, "$d: Deep", {"d": _nested(300, None)})
    assert built == ("errors", [{"message": "Variable values are nested too deeply."}])


@pytest.mark.parametrize(
    "value",
    [[[1, None], [], None], [1, 2], 5, None, [[None]], [5]],
    ids=["grid", "row", "one", "null", "nulls", "list"],
)
def test_lists_of_lists(value: Any) -> None:
    assert_compiled_matches(DEEP, "$d: Deep", {"d": {"grid": value}})


def test_defaults_of_input_fields() -> None:
    assert_compiled_matches(DEEP, "$s: Defaults", {"s": {}})
    assert_compiled_matches(DEEP, "$s: Defaults", {"s": {"limit": None, "tags": "b", "nested": {"next": {}}}})
    assert_falls_back(DEEP, "$s: Defaults", {"s": {"required": None}})


@pytest.mark.parametrize("value", [{"a": 1}, {"b": "x"}])
def test_one_of_with_one_field(value: Any) -> None:
    assert_compiled_matches(DEEP, "$o: One", {"o": value})


@pytest.mark.parametrize("value", [{"a": 1, "b": "x"}, {"a": None}, {}])
def test_one_of_otherwise(value: Any) -> None:
    assert assert_falls_back(DEEP, "$o: One", {"o": value})[0] == "errors"


POINT = GraphQLInputObjectType(
    "Point",
    {
        "x": GraphQLInputField(GraphQLNonNull(GraphQLInt), out_name="x_coord"),
        "y": GraphQLInputField(GraphQLInt, default_value=0, out_name="y_coord"),
        "label": GraphQLInputField(GraphQLString),
    },
    out_type=lambda value: ("point", tuple(value.items())),
)
OUT = GraphQLSchema(
    GraphQLObjectType("Query", {"f": GraphQLField(GraphQLInt, args={"p": GraphQLArgument(POINT)})})
)


@pytest.mark.parametrize(
    "value", [{"x": 1}, {"x": 1, "y": 2, "label": None}, [{"x": 1}, {"label": "l", "x": 2}]]
)
def test_out_names_and_out_types(value: Any) -> None:
    assert_compiled_matches(OUT, "$p: [Point]", {"p": value})


def test_out_names_in_errors() -> None:
    assert assert_falls_back(OUT, "$p: Point", {"p": {"x_coord": 1}})[0] == "errors"


def test_build_errors_are_graphql_cores() -> None:
    for source, name in [
        ("query A { __typename } query B { __typename }", None),
        ("query A { __typename }", "B"),
    ]:
        document = parse(source)
        assert operation_plan(GRAPH, document, name) is None
        found = VariableFastExecutor.build(GRAPH, document, operation_name=name)
        expected = CoreExecutor.build(GRAPH, document, operation_name=name)
        assert isinstance(found, list) and isinstance(expected, list)
        assert [e.formatted for e in found] == [e.formatted for e in expected]


def test_plans_are_kept_per_document_and_operation() -> None:
    document = parse("query A($x: Int) { __typename } query B($y: ID) { __typename }")
    a = operation_plan(GRAPH, document, "A")
    assert a is not None and a is operation_plan(GRAPH, document, "A")
    b = operation_plan(GRAPH, document, "B")
    assert b is not None and b.operation.name is not None and b.operation.name.value == "B"
    assert operation_plan(GRAPH, parse(print_ast(document)), "A") is not a


def test_defaults_of_variables_are_not_shared_between_requests() -> None:
    document = _document('$s: [String] = ["a"]')
    plan = operation_plan(GRAPH, document, None)
    assert plan is not None
    first, second = coerce_variables(plan, {}), coerce_variables(plan, {})
    assert first is not None and second is not None
    assert first.coerced == second.coerced == {"s": ["a"]} and first.coerced["s"] is not second.coerced["s"]


# through the gateway's Executor.run, against the executor used before (LeafFastExecutor)

RUNS: list[tuple[str, dict[str, Any]]] = [
    ("query Q($first: Int = 2) { products(first: $first) { totalCount nodes { id name } } }", {}),
    (
        "query Q($first: Int, $after: String) { products(first: $first, after: $after) { nodes { name } } }",
        {"first": 1, "after": None},
    ),
    ("query Q($ids: [ID!]!) { nodes(ids: $ids) { id ... on Product { name } } }", {"ids": "PRODUCT"}),
    (
        """query Q($p: ID!, $order: EventOrder = OLDEST_FIRST, $period: TimeRange) { node(id: $p) { ... on Product {
             events(first: 3, orderBy: $order, period: $period) { nodes { key timestamp } } } } }""",
        {"period": {"since": "2026-01-01T00:00:00Z"}},
    ),
]


async def _principal_context(db: Database, tenant: Tenant, engine: IngestEngine | None = None) -> Context:
    return Context(db=db, principal=await principal_for_token(db, tenant.token), engine=engine)


@pytest.mark.parametrize(("query", "variables"), RUNS)
async def test_run_gives_the_same_results(
    db: Database, tenant: Tenant, query: str, variables: dict[str, Any]
) -> None:
    await seed_product_tree(db, tenant.account_pk, products=2, sessions_per_product=2, events_per_session=2)
    variables = {"p": tenant.product_id, **variables}
    if variables.get("ids") == "PRODUCT":
        variables["ids"] = tenant.product_id
    executor = Executor(GRAPH)
    operation = executor.prepare(query)
    found = await executor.run(operation, await _principal_context(db, tenant), variables)
    # the gateway's executor went the compiled way: it keeps the operation's plan
    assert (id(operation.document), None) in _caches_of(GRAPH).plans
    before = await execute(  # type: ignore[misc]
        GRAPH,
        parse(query),
        context_value=await _principal_context(db, tenant),
        variable_values=variables,
        executor_class=LeafFastExecutor,
    )
    assert found.errors is None and before.errors is None
    assert found.data == before.data


async def test_run_rejects_bad_variables_with_graphql_cores_errors(db: Database, tenant: Tenant) -> None:
    query = "query Q($first: Int) { products(first: $first) { totalCount } }"
    executor = Executor(GRAPH)
    with pytest.raises(RequestError) as raised:
        await executor.run(executor.prepare(query), await _principal_context(db, tenant), {"first": "many"})
    expected = CoreExecutor.build(GRAPH, parse(query), raw_variable_values={"first": "many"})
    assert isinstance(expected, list)
    assert [e.formatted for e in raised.value.errors] == [e.formatted for e in expected]


RECORD = """mutation R($requests: [RecordInput!]!, $p: ID) { record(requests: $requests, productId: $p) { outcome } }"""
READ = """query($p: ID!) { node(id: $p) { ... on Product { events(first: 50, orderBy: OLDEST_FIRST) {
            nodes { key count sum duration segmentation path device { deviceId os } } } } } }"""


async def test_record_stores_the_same_through_the_compiled_coercion(db: Database, tenant: Tenant) -> None:
    def requests(prefix: str) -> list[dict[str, Any]]:
        items = [_record(i, 3) for i in range(2)] + [
            {"deviceId": "x", "events": {"key": "one", "count": 2.0}}
        ]
        for item in items:
            item["deviceId"] = prefix + item["deviceId"]
            item.pop("dedupeHash", None)
        return items

    executor = Executor(GRAPH)
    engine = IngestEngine(db, window_ms=1.0)
    await engine.start()
    try:
        found = await executor.run(
            executor.prepare(RECORD),
            await _principal_context(db, tenant, engine),
            {"requests": requests("new-"), "p": tenant.product_id},
        )
        before = await execute(  # type: ignore[misc]
            GRAPH,
            parse(RECORD),
            context_value=await _principal_context(db, tenant, engine),
            variable_values={"requests": requests("old-"), "p": tenant.product_id},
            executor_class=LeafFastExecutor,
        )
    finally:
        await engine.stop()
    assert found.errors is None and found.data == before.data
    assert found.data == {"record": [{"outcome": "STORED"}] * 3}
    read = await executor.run(
        executor.prepare(READ), await _principal_context(db, tenant), {"p": tenant.product_id}
    )
    assert read.errors is None and read.data is not None
    events = read.data["node"]["events"]["nodes"]
    by_prefix: dict[str, list[Any]] = {"new-": [], "old-": []}
    for event in events:
        device = event.pop("device")
        prefix = device["deviceId"][:4]
        by_prefix[prefix].append((device["deviceId"][4:], device["os"], event))
    assert len(by_prefix["new-"]) == 7
    assert sorted(by_prefix["new-"], key=repr) == sorted(by_prefix["old-"], key=repr)
