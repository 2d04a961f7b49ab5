"""Coercion of variable values by coercers compiled per input type, and the executor that uses them.

For every request graphql-core rebuilds the signatures of the operation's variables (`type_from_ast`), walks
each value once to check its nesting depth (`input_is_nested_too_deeply`) and once more to coerce it
(`coerce_input_value`, which asks of every value what its type is: non-null, list, input object or leaf).
For the Countly shim's `record` mutation (a bulk call is 50 RecordInputs of 10 events each) that was 12-17%
of the gateway's CPU. Here each input type gets a coercer compiled once (closures that already know the
type's fields, defaults, nullability and scalars, and count the depth as they go), and each operation keeps
its variable signatures and coercers.

A compiled coercer only knows how to succeed. On anything it is not sure of (an invalid value, a Python type
that JSON does not produce, a depth near graphql-core's limit, a default that cannot be coerced) it gives up,
and the executor asks graphql-core's own `get_variable_values`, so that errors, their messages, paths and
limits are exactly graphql-core's. A value it accepts is coerced to exactly what graphql-core would return.

The plan also keeps an operation's root field when it selects just one, without directives (a shim's
`record` mutation, most `/graphql` queries): the executor then runs that field directly, without collecting
the root fields and reducing them one by one, which cost about as much as the rest of a small mutation.
"""

from __future__ import annotations

import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLError,
    GraphQLFloat,
    GraphQLID,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLInt,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLString,
    OperationDefinitionNode,
    assert_valid_schema,
    is_required_input_field,
)

from gateway.execution.fast_path import LeafFastExecutor
from gateway.execution.graphql_core import (
    GRAPHQL_MAX_INT,
    GRAPHQL_MIN_INT,
    MAX_NESTING_DEPTH,
    AwaitableOrValue,
    Executor,
    FieldDetails,
    FieldDetailsList,
    FragmentDetails,
    GraphQLVariableSignature,
    Path,
    Undefined,
    VariableValues,
    VariableValueSource,
    coerce_boolean,
    coerce_default_value,
    coerce_float,
    coerce_id,
    coerce_input_literal,
    coerce_int,
    coerce_string,
    default_field_resolver,
    default_type_resolver,
    get_variable_signature,
    get_variable_values,
)

# (value, depth of the value in graphql-core's count) -> coerced value; raises _Unsure
Coercer = Callable[[Any, int], Any]

# graphql-core refuses a value when some position in it is deeper than this (lists and input objects count);
# the coercers give up at positions this deep, a little early, which is safe: graphql-core then decides
_DEPTH_LIMIT = MAX_NESTING_DEPTH

# Python types that graphql-core's `is_iterable` refuses, so that a list type takes them as a list of one;
# other non-list types are left to graphql-core
_SINGLE_ITEM_TYPES = frozenset({str, int, float, bool, dict})

# operations remembered per schema: documents come from clients, so the cache is bounded
_MAX_PLANS = 1000

# stands, in an input object's template, for a field without a default until the value gives it
_ABSENT: Any = object()
# stands for a field default that graphql-core fails to coerce (it raises when the field is missing)
_BROKEN_DEFAULT: Any = object()


class _Unsure(Exception):
    """The compiled coercer cannot vouch for a value: graphql-core's coercion decides."""


@dataclass(frozen=True, slots=True)
class _Variable:
    signature: GraphQLVariableSignature
    coerce: Coercer
    non_null: bool


@dataclass(frozen=True, slots=True)
class OperationPlan:
    """What `Executor.build` derives from a document alone, kept for the document's next requests."""

    document: DocumentNode  # held so that its id, part of the cache key, stays its own
    operation: OperationDefinitionNode
    fragment_definitions: dict[str, FragmentDefinitionNode]
    fragments: dict[str, FragmentDetails]
    # None when a variable's type is not an input type: graphql-core reports that
    variables: tuple[_Variable, ...] | None
    # the response name and field of the one root field, when the selection is just that field
    root_field: tuple[str, FieldDetailsList] | None


class _SchemaCaches:
    """The coercers of one schema's input types and the plans of the operations run on it."""

    def __init__(self) -> None:
        self.coercers: dict[tuple[GraphQLNamedType, bool], Coercer] = {}
        self.plans: OrderedDict[tuple[int, str | None], OperationPlan] = OrderedDict()


# per schema, so that both caches go with it (coercers hold its types, never the schema)
_caches: weakref.WeakKeyDictionary[GraphQLSchema, _SchemaCaches] = weakref.WeakKeyDictionary()


def _caches_of(schema: GraphQLSchema) -> _SchemaCaches:
    caches = _caches.get(schema)
    if caches is None:
        caches = _caches[schema] = _SchemaCaches()
    return caches


# Compiling coercers


def input_coercer(schema: GraphQLSchema, type_: GraphQLInputType) -> Coercer:
    """The compiled coercer of `type_`, one of `schema`'s input types (or a list or non-null of them)."""
    return _compile(type_, _caches_of(schema).coercers)


def _compile(type_: GraphQLInputType, cache: dict[tuple[GraphQLNamedType, bool], Coercer]) -> Coercer:
    if isinstance(type_, GraphQLNonNull):
        return _compile_nullable(type_.of_type, False, cache)
    return _compile_nullable(type_, True, cache)


def _compile_nullable(
    type_: Any, nullable: bool, cache: dict[tuple[GraphQLNamedType, bool], Coercer]
) -> Coercer:
    if isinstance(type_, GraphQLList):
        return _list_coercer(_compile(type_.of_type, cache), nullable)
    key = (type_, nullable)
    found = cache.get(key)
    if found is not None:
        return found
    if isinstance(type_, GraphQLInputObjectType):
        return _input_object_coercer(type_, nullable, cache)  # registers itself, for recursive types
    if isinstance(type_, GraphQLScalarType | GraphQLEnumType):
        found = _leaf_coercer(type_, nullable)
    else:
        found = _always_unsure
    cache[key] = found
    return found


def _always_unsure(value: Any, depth: int) -> Any:
    raise _Unsure


def _list_coercer(item: Coercer, nullable: bool) -> Coercer:
    def coerce(value: Any, depth: int) -> Any:
        # before the null check: graphql-core's depth guard counts a null list as a list of one null
        if depth >= _DEPTH_LIMIT:
            raise _Unsure
        kind = type(value)
        if kind is list or kind is tuple:
            depth += 1
            return [item(element, depth) for element in value]
        if value is None:
            if nullable:
                return None
            raise _Unsure
        if kind in _SINGLE_ITEM_TYPES:
            return [item(value, depth + 1)]
        raise _Unsure

    return coerce


def _leaf_coercer(type_: GraphQLScalarType | GraphQLEnumType, nullable: bool) -> Coercer:
    general = _parsing_coercer(type_, nullable)
    parse = getattr(type_, "coerce_input_value", None)
    # graphql-core's own scalars answer their common case inline (one call less per value); anything
    # else, null included, goes the general way
    if (type_ is GraphQLString and parse is coerce_string) or (type_ is GraphQLID and parse is coerce_id):
        return _exact_type_coercer(str, general)
    if type_ is GraphQLBoolean and parse is coerce_boolean:
        return _exact_type_coercer(bool, general)
    if type_ is GraphQLInt and parse is coerce_int:
        return _int_coercer(general)
    if type_ is GraphQLFloat and parse is coerce_float:
        return _float_coercer(general)
    return general


def _exact_type_coercer(kind: type, general: Coercer) -> Coercer:
    """For a scalar whose coercion returns a value of exactly this Python type unchanged."""

    def coerce(value: Any, depth: int) -> Any:
        if type(value) is kind:
            return value
        return general(value, depth)

    return coerce


def _int_coercer(general: Coercer) -> Coercer:
    def coerce(value: Any, depth: int) -> Any:
        if type(value) is int and GRAPHQL_MIN_INT <= value <= GRAPHQL_MAX_INT:
            return value
        return general(value, depth)

    return coerce


def _float_coercer(general: Coercer) -> Coercer:
    def coerce(value: Any, depth: int) -> Any:
        # finite floats only (inf - inf and nan - nan are nan); ints are converted the general way
        if type(value) is float and value - value == 0.0:
            return value
        return general(value, depth)

    return coerce


def _parsing_coercer(type_: GraphQLScalarType | GraphQLEnumType, nullable: bool) -> Coercer:
    parse = type_.coerce_input_value

    def coerce(value: Any, depth: int) -> Any:
        if value is None:
            if nullable:
                return None
            raise _Unsure
        if value is Undefined:  # graphql-core reads it as null or missing, depending on where it is
            raise _Unsure
        try:
            result = parse(value)
        except Exception:
            raise _Unsure from None
        if result is Undefined:
            raise _Unsure
        return result

    return coerce


def _field_default(field: GraphQLInputField) -> Any:
    """The coerced default of a field (graphql-core's memoized object), Undefined, or _BROKEN_DEFAULT."""
    try:
        return coerce_default_value(field)
    except Exception:
        return _BROKEN_DEFAULT


def _object_template(type_: GraphQLInputObjectType) -> tuple[dict[str, Any], list[tuple[str, bool]]]:
    """Every field by out name, in the schema's order, with its default or _ABSENT; and the undefaulted ones.

    A coerced object starts as a copy of the template, so that the value's own fields only overwrite entries
    and the keys keep graphql-core's order. An undefaulted field comes with whether its absence is an error.
    """
    template: dict[str, Any] = {}
    undefaulted: list[tuple[str, bool]] = []
    for name, field in type_.fields.items():
        out_name = field.out_name or name
        default = _field_default(field)
        if default is Undefined or default is _BROKEN_DEFAULT:
            template[out_name] = _ABSENT
            undefaulted.append((out_name, default is _BROKEN_DEFAULT or is_required_input_field(field)))
        else:
            template[out_name] = default
    return template, undefaulted


def _input_object_coercer(
    type_: GraphQLInputObjectType, nullable: bool, cache: dict[tuple[GraphQLNamedType, bool], Coercer]
) -> Coercer:
    template, undefaulted = _object_template(type_)
    if len(template) != len(type_.fields):  # two fields with one out name: left to graphql-core
        cache[(type_, nullable)] = _always_unsure
        return _always_unsure
    # None when no field is renamed (Strawberry renames none), which saves a lookup per field
    out_names = {name: field.out_name or name for name, field in type_.fields.items()}
    renamed = out_names if any(name != out for name, out in out_names.items()) else None
    finish = _object_finisher(type_)
    # filled below, after registering, since a field may be of this very type
    coercers: dict[str, Coercer] = {}

    def coerce(value: Any, depth: int) -> Any:
        if type(value) is not dict:
            if value is None and nullable:
                return None
            raise _Unsure
        if depth >= _DEPTH_LIMIT:
            raise _Unsure
        depth += 1
        result = template.copy()
        try:
            if renamed is None:
                for name, item in value.items():
                    result[name] = coercers[name](item, depth)
            else:
                for name, item in value.items():
                    result[renamed[name]] = coercers[name](item, depth)
        except KeyError:  # not a field of the type
            raise _Unsure from None
        for out_name, required in undefaulted:
            if result[out_name] is _ABSENT:
                if required:
                    raise _Unsure
                del result[out_name]
        return result if finish is None else finish(value, result)

    cache[(type_, nullable)] = coerce
    for name, field in type_.fields.items():
        coercers[name] = _compile(field.type, cache)
    return coerce


def _object_finisher(type_: GraphQLInputObjectType) -> Callable[[dict[str, Any], dict[str, Any]], Any] | None:
    """The last steps of graphql-core for an object (@oneOf's check, `out_type`), None when there are none."""
    out_type = None if type_.out_type is GraphQLInputObjectType.out_type else type_.out_type
    one_of = type_.is_one_of
    if out_type is None and not one_of:
        return None

    def finish(value: dict[str, Any], result: dict[str, Any]) -> Any:
        # @oneOf: exactly one field given, and not null
        if one_of and (len(value) != 1 or len(result) != 1 or next(iter(result.values())) is None):
            raise _Unsure
        if out_type is None:
            return result
        try:
            return out_type(result)
        except Exception:
            raise _Unsure from None

    return finish


# Operations


def operation_plan(
    schema: GraphQLSchema, document: DocumentNode, operation_name: str | None
) -> OperationPlan | None:
    """The plan of the operation; None when graphql-core's `build` must answer (it has errors to report)."""
    plans = _caches_of(schema).plans
    key = (id(document), operation_name)
    plan = plans.get(key)
    if plan is not None and plan.document is document:
        plans.move_to_end(key)
        return plan
    plan = _build_plan(schema, document, operation_name)
    if plan is not None:
        plans[key] = plan
        if len(plans) > _MAX_PLANS:
            plans.popitem(last=False)
    return plan


def _build_plan(
    schema: GraphQLSchema, document: DocumentNode, operation_name: str | None
) -> OperationPlan | None:
    # the same choice of operation as graphql-core's Executor.build
    operation: OperationDefinitionNode | None = None
    fragment_definitions: dict[str, FragmentDefinitionNode] = {}
    fragments: dict[str, FragmentDetails] = {}
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            if operation_name is None:
                if operation is not None:
                    return None  # several operations and no name
                operation = definition
            elif definition.name and definition.name.value == operation_name:
                operation = definition
        elif isinstance(definition, FragmentDefinitionNode):
            if definition.variable_definitions:
                return None  # experimental fragment variables: graphql-core's way, request by request
            fragment_definitions[definition.name.value] = definition
            fragments[definition.name.value] = FragmentDetails(definition, None)
    if operation is None:
        return None
    variables = _variables(schema, operation)
    return OperationPlan(
        document, operation, fragment_definitions, fragments, variables, _root_field(operation)
    )


def _root_field(operation: OperationDefinitionNode) -> tuple[str, FieldDetailsList] | None:
    """The root fields graphql-core's `collect_fields` would collect, when that is one field without directives.

    Without directives nothing of the selection depends on the variables, so the collection is the same for
    every request. Fragments and repeated response names are left to `collect_fields`.
    """
    selections = operation.selection_set.selections
    if len(selections) != 1:
        return None
    node = selections[0]
    if not isinstance(node, FieldNode) or node.directives:
        return None
    return (node.alias or node.name).value, [FieldDetails(node, None)]


def _variables(schema: GraphQLSchema, operation: OperationDefinitionNode) -> tuple[_Variable, ...] | None:
    variables = []
    for node in operation.variable_definitions or ():
        signature = get_variable_signature(schema, node)
        if isinstance(signature, GraphQLError):
            return None
        coerce = input_coercer(schema, signature.type)
        variables.append(_Variable(signature, coerce, isinstance(signature.type, GraphQLNonNull)))
    return tuple(variables)


def coerce_variables(plan: OperationPlan, inputs: Any) -> VariableValues | None:
    """The operation's variable values, as graphql-core's `get_variable_values` gives them; None when unsure."""
    if plan.variables is None or type(inputs) is not dict:
        return None
    sources: dict[str, VariableValueSource] = {}
    coerced: dict[str, Any] = {}
    try:
        for variable in plan.variables:
            signature = variable.signature
            name = signature.name
            value = inputs.get(name, Undefined)
            if value is Undefined:
                sources[name] = VariableValueSource(signature)
                if signature.default is not None:
                    coerced[name] = _variable_default(signature)
                elif variable.non_null:
                    return None  # a required variable is missing
                continue
            sources[name] = VariableValueSource(signature, value)
            coerced[name] = variable.coerce(value, 0)
    except (_Unsure, RecursionError):  # the interpreter's own limit, under a deep stack: graphql-core decides
        return None
    return VariableValues(sources, coerced)


def _variable_default(signature: GraphQLVariableSignature) -> Any:
    # coerced anew for every request, as graphql-core does (its signatures are new for every request), so
    # that no two requests share a mutable default
    assert signature.default is not None and signature.default.literal is not None
    try:
        value = coerce_input_literal(signature.default.literal, signature.type)
    except Exception:
        raise _Unsure from None
    if value is Undefined:
        raise _Unsure
    return value


class VariableFastExecutor(LeafFastExecutor):
    """LeafFastExecutor whose `build` keeps each operation's plan and coerces variables with compiled coercers.

    Whatever the plan cannot do (errors to report, middleware, fragment variables, values the coercers are
    unsure of) is done by graphql-core's `Executor.build` or `get_variable_values`, as before.
    """

    # the plan's root field (see `_root_field`); None: graphql-core collects the root fields
    root_field: tuple[str, FieldDetailsList] | None = None

    @classmethod
    def build(
        cls,
        schema: GraphQLSchema,
        document: DocumentNode,
        root_value: Any = None,
        context_value: Any = None,
        raw_variable_values: dict[str, Any] | None = None,
        operation_name: str | None = None,
        field_resolver: Any = None,
        type_resolver: Any = None,
        subscribe_field_resolver: Any = None,
        max_coercion_errors: int = 50,
        enable_early_execution: bool = False,
        middleware: Any = None,
        is_awaitable: Any = None,
        is_async_iterable: Any = None,
        hide_suggestions: bool = False,
        abort_signal: Any = None,
        hooks: Any = None,
        **custom_args: Any,
    ) -> list[GraphQLError] | Executor:
        assert_valid_schema(schema)  # first, as graphql-core does
        plan = operation_plan(schema, document, operation_name) if middleware is None else None
        if plan is None:
            return super().build(
                schema,
                document,
                root_value,
                context_value,
                raw_variable_values,
                operation_name,
                field_resolver,
                type_resolver,
                subscribe_field_resolver,
                max_coercion_errors,
                enable_early_execution,
                middleware,
                is_awaitable,
                is_async_iterable,
                hide_suggestions=hide_suggestions,
                abort_signal=abort_signal,
                hooks=hooks,
                **custom_args,
            )
        inputs = raw_variable_values or {}
        variable_values = coerce_variables(plan, inputs)
        if variable_values is None:
            found = get_variable_values(
                schema,
                plan.operation.variable_definitions or (),
                inputs,
                max_errors=max_coercion_errors,
                hide_suggestions=hide_suggestions,
            )
            if isinstance(found, list):
                return found
            variable_values = found
        executor = cls(
            schema,
            dict(plan.fragment_definitions),  # copies: resolvers see them as info.fragments
            dict(plan.fragments),
            root_value,
            context_value,
            plan.operation,
            variable_values,
            field_resolver or default_field_resolver,
            type_resolver or default_type_resolver,
            subscribe_field_resolver or default_field_resolver,
            enable_early_execution,
            None,
            is_awaitable,
            is_async_iterable,
            hide_suggestions=hide_suggestions,
            abort_signal=abort_signal,
            hooks=hooks,
            **custom_args,
        )
        executor.root_field = plan.root_field
        return executor

    def execute_operation(self, serially: bool | None = None) -> AwaitableOrValue[Any]:
        """graphql-core's `execute_operation`, with an operation of one root field run as that field alone.

        For one field, executing serially (mutations) and in parallel are the same; what remains of graphql-core's
        steps is done here as it does them: the field's result under its response name, a GraphQLError from the
        field (a non-null field's) nulling the whole data, and no data key for a field the type lacks.
        """
        root = self.root_field
        if root is None or self.abort_signal is not None:
            return super().execute_operation(serially)
        root_type = self.schema.get_root_type(self.operation.operation)
        if root_type is None:
            return super().execute_operation(serially)  # its error
        response_name, field_details_list = root
        path = Path(None, response_name, root_type.name)
        try:
            result = self.execute_field(root_type, self.root_value, field_details_list, path, None)
        except GraphQLError as error:
            self.collected_errors.add(error, None)
            return self.build_response(None)
        if result is Undefined:
            return self.build_response({})
        if not self.is_awaitable(result):
            return self.build_response({response_name: result})
        awaitable = result

        async def await_result() -> Any:
            try:
                data = await awaitable
            except GraphQLError as error:
                self.collected_errors.add(error, None)
                return self.build_response(None)
            except Exception:
                await self.cancel_incremental_work()
                self.run_async_work_finished_hook()
                raise
            return self.build_response({response_name: data})

        return await_result()
