"""A faster graphql-core executor: plain leaves read directly, child connections of lists prefetched.

graphql-core resolves every field of every object through the full machinery (a path, a resolve info, the
resolver, completion, awaitable checks): microseconds per field, which for a page of 1,000 events of three
fields is most of a request's time. Most of those fields are plain attributes (Strawberry fields without a
resolver) of scalar or enum type. This executor reads such leaves and serializes them directly: whole
objects (and lists of them) in one step when every selected field is a plain leaf, and the leaves among the
other fields otherwise. Anything else (arguments, sub-selections, resolvers, nulls, serialization errors)
goes through the normal path, so results and errors are exactly graphql-core's.

It also prefetches: before completing a list of objects, it registers the loads of their `prefetchable`
fields (child connections) for every item and awaits them as one batch, so that each item then resolves
without a task and an await of its own. Read resolvers are called directly (`install_direct_resolvers`).

Lists can arrive completed already: a loader that knows how to build a selection's leaves in SQL (see
`resolvers.pagination`) asks `leaf_list_selection` what a connection's items select, has PostgreSQL build
them as JSON, and returns them as a `SerializedList`; the executor passes such a list through when its
selection is the one the list was built for. Only this executor does, so loaders build such lists only when
it runs the operation (`context.serialized_lists`). When the caller writes the result as JSON itself
(`context.raw_json`), such a list can be the text PostgreSQL wrote: the executor answers it as `RawJson`,
which the reply's encoder writes out as it is, so that a page of a thousand objects is neither parsed into
Python objects nor written again.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from operator import attrgetter
from typing import Any, TypeVar

from graphql import (
    GraphQLEnumType,
    GraphQLError,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLScalarType,
    GraphQLSchema,
    get_nullable_type,
)
from strawberry.utils.str_converters import to_camel_case

from gateway.execution.graphql_core import (
    AwaitableOrValue,
    Executor,
    FieldDetails,
    FieldDetailsList,
    FragmentDetails,
    GroupedFieldSet,
    Path,
    Undefined,
    collect_subfields,
    gather_with_cancel,
    get_argument_values,
    is_awaitable,
)

# (response name, read the value from the source, serialize it, may it be null)
LeafStep = tuple[str, Callable[[Any], Any], Callable[[Any], Any], bool]
LeafPlan = list[LeafStep]

_plans: dict[tuple[int, tuple[tuple[str, str], ...]], LeafPlan | None] = {}
# response names come from clients (aliases): the cache is bounded so that they cannot grow it without end
_MAX_PLANS = 10_000

# Strawberry resolvers that need nothing but the object itself, registered by the graph's types
_cheap_resolvers: dict[Callable[..., Any], Callable[[Any], Any]] = {}


def cheap_field(function: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Mark a Strawberry method field (`def f(self) -> Scalar`) as callable without resolve info."""
    _cheap_resolvers[function] = function
    return function


# Strawberry resolvers whose loads can be prefetched for a whole list of parents, and their direct forms
_prefetchable: set[Callable[..., Any]] = set()
_prefetching_resolvers: set[Callable[..., Any]] = set()

F = TypeVar("F", bound=Callable[..., Any])


def prefetchable(function: F) -> F:
    """Mark a resolver that is pure, loads only through `ctx.prefetch`-aware loaders and returns their result.

    Such a resolver (`Listing.connection_now`) answers synchronously once its page is loaded. When graphql-core
    completes a list of objects selecting this field, the executor first calls the resolver for every item
    with `ctx.prefetch` set, which only registers the loads, awaits them all at once (one batch), and then
    lets graphql-core resolve each item, now without an await per item.

    It reads nothing of its object but `pk`: a loader may call it with a stand-in object to learn how it
    loads, and build its pages together with its parents' (`leaf_list_selection`'s `child`).
    """
    _prefetchable.add(function)
    return function


def _reader(parent_type: GraphQLObjectType, field_name: str) -> Callable[[Any], Any] | None:
    if field_name == "__typename":
        type_name = parent_type.name
        return lambda _source: type_name
    field = parent_type.fields.get(field_name)
    if field is None or field.args:
        return None
    resolve = field.resolve
    definition = (field.extensions or {}).get("strawberry-definition")
    if resolve is not None and getattr(resolve, "__name__", "") == "_get_basic_result":
        python_name = getattr(definition, "python_name", None)
        if python_name:
            return attrgetter(python_name)
        return lambda source: resolve(source, None)
    base = getattr(definition, "base_resolver", None)
    function = getattr(base, "wrapped_func", None)
    if function is not None and function in _cheap_resolvers:
        return _cheap_resolvers[function]
    return None


def _leaf_type(parent_type: GraphQLObjectType, field_name: str) -> tuple[Callable[[Any], Any], bool] | None:
    if field_name == "__typename":
        return (lambda value: value), False
    output = parent_type.fields[field_name].type
    nullable = not isinstance(output, GraphQLNonNull)
    named = output.of_type if isinstance(output, GraphQLNonNull) else output
    if isinstance(named, GraphQLEnumType):
        return _enum_serializer(named), nullable
    if isinstance(named, GraphQLScalarType):
        return named.serialize, nullable
    if isinstance(named, GraphQLList):
        return _empty_list, nullable
    return None


def _empty_list(value: Any) -> list[Any] | None:
    """A list field's value when it is empty (whatever its items would select, nothing is completed); None
    otherwise, so that graphql-core completes its items. A batch's results each carry a list of problems,
    nearly always empty: read directly, a list of them completes in one step."""
    return [] if type(value) is list and not value else None


def _enum_serializer(enum_type: GraphQLEnumType) -> Callable[[Any], Any]:
    """The enum's `serialize`, answering Python enum members from a dict.

    Strawberry's enum type serializes a member by scanning all of its values; buckets of analytics carry one
    or two enums each, thousands per Countly document. Members answer by the same rule (the first name whose
    value equals the member's), anything else goes to the type's own `serialize`.
    """
    serialize = enum_type.serialize
    wrapped = getattr(enum_type, "wrapped_cls", None)
    if wrapped is None:
        return serialize
    names: dict[Any, str] = {}
    for member in wrapped:
        for name, value in enum_type.values.items():
            if member.value == value.value:
                names[member] = name
                break

    def fast(value: Any) -> Any:
        name = names.get(value) if type(value) is wrapped else None
        return serialize(value) if name is None else name

    return fast


def _plain_field(details: FieldDetailsList) -> str | None:
    """The field's name when its selection could be a plain leaf (no arguments, directives, sub-selection)."""
    node = details[0].node
    if node.arguments or node.directives or node.selection_set or len(details) > 1:
        return None
    return node.name.value


def _read_field(details: FieldDetailsList) -> str | None:
    """The field's name when it could be read directly: a plain leaf, or a list (read directly when empty,
    whatever it selects; `_empty_list`)."""
    node = details[0].node
    if node.arguments or node.directives or len(details) > 1:
        return None
    return node.name.value


# kept across operations: a selection mixing leaves and other fields is analysed again in every run (its plan
# is cached per run), and the enum serializers are dicts built from the whole enum. Response names come from
# clients (aliases): bounded.
@lru_cache(maxsize=_MAX_PLANS)
def _leaf_step(parent_type: GraphQLObjectType, response_name: str, field_name: str) -> LeafStep | None:
    """How to read and serialize the field directly, or None when it needs graphql-core's path."""
    reader = _reader(parent_type, field_name)
    leaf = _leaf_type(parent_type, field_name) if reader is not None else None
    if reader is None or leaf is None:
        return None
    return (response_name, reader, leaf[0], leaf[1])


def _plan(parent_type: GraphQLObjectType, grouped_field_set: GroupedFieldSet) -> LeafPlan | None:
    shape = []
    for response_name, details in grouped_field_set.items():
        field_name = _read_field(details)
        if field_name is None:
            return None
        shape.append((response_name, field_name))
    key = (id(parent_type), tuple(shape))
    if key in _plans:
        return _plans[key]
    plan: LeafPlan | None = []
    for response_name, field_name in shape:
        step = _leaf_step(parent_type, response_name, field_name)
        if step is None:
            plan = None
            break
        assert plan is not None
        plan.append(step)
    if len(_plans) >= _MAX_PLANS:
        _plans.clear()
    _plans[key] = plan
    return plan


# -- lists completed before execution reaches them --------------------------------------------------------

# ((response name, field name), ...): the fields of a selection, in response order
FieldShape = tuple[tuple[str, str], ...]
# a child field of the items, to be built with them: (response name, field name, the loader's plan of it)
ChildField = tuple[str, str, Hashable]
# a connection-level field: (response name, field name, the selected fields of pageInfo, else ())
ConnectionField = tuple[str, str, FieldShape]

# resolves a prefetchable child field with a stand-in parent, to learn how it loads: (resolve, info, arguments)
ChildProbe = Callable[[Callable[..., Any], GraphQLResolveInfo, dict[str, Any]], Hashable | None]


class SerializedList(list[Any]):
    """A list field's items, completed already (serialized, as graphql-core would) for one selection.

    `shape` is the selection they were built for; the executor returns them as they are only when the list's
    selection has the same fields under the same response names. With `text` (the items as a JSON array),
    the list itself is empty and the executor answers the text as `RawJson`.
    """

    __slots__ = ("shape", "text")

    def __init__(self, items: Iterable[Any], shape: FieldShape, text: str | None = None) -> None:
        super().__init__(items)
        self.shape = shape
        self.text = text


class RawJson:
    """A completed value as JSON text, to be written into the reply as it is (`graphql_http.encode_json`)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return f"RawJson({self.text!r})"


@dataclass(frozen=True, slots=True)
class LeafListSelection:
    """What a connection-like field's selection asks, when its list of items can be built in one go."""

    leaves: FieldShape  # the items' plain leaves
    type_name: str  # the items' type, for `__typename`
    cursors: bool  # whether pageInfo's start or end cursor is selected
    # the items' fields in response order (the shape of their SerializedList)
    shape: FieldShape = ()
    # the items' child fields built with them (connections, see `leaf_list_selection`)
    children: tuple[ChildField, ...] = ()
    # the connection's own fields, and its type's name (for `__typename`)
    connection: tuple[ConnectionField, ...] = ()
    connection_type: str = ""
    # when the items are selected through edges: the edges' fields (cursor, node, __typename) and type
    edge: FieldShape = ()
    edge_type: str = ""

    @property
    def list_shape(self) -> FieldShape:
        """The shape of the list the connection answers: its edges', or its items'."""
        return self.edge or self.shape


def _response_shape(grouped_field_set: GroupedFieldSet) -> FieldShape:
    return tuple((name, details[0].node.name.value) for name, details in grouped_field_set.items())


def leaf_list_selection(
    info: Any,
    list_field: str = "nodes",
    edge_field: str = "edges",
    others: frozenset[str] = frozenset({"pageInfo", "totalCount", "__typename"}),
    child: ChildProbe | None = None,
) -> LeafListSelection | None:
    """The selection of the items under the field being resolved, if building them in one go is safe.

    The field selects either `list_field` (the items) or `edge_field` (edges of `cursor`, one `node` and
    `__typename`) once, besides nothing but `others`, without @defer; the items select plain leaves (no
    arguments, directives or sub-selections) and, with `child`, prefetchable fields that `child` answers a
    plan for when called with their resolver, info and arguments. None otherwise.

    `info` is graphql-core's resolve info or Strawberry's (which wraps it).
    """
    raw = getattr(info, "_raw_info", info)
    parent = get_nullable_type(raw.return_type)
    if not isinstance(parent, GraphQLObjectType):
        return None
    fragments = {name: FragmentDetails(definition) for name, definition in raw.fragments.items()}

    def subfields(object_type: Any, details: FieldDetailsList) -> GroupedFieldSet | None:
        if not isinstance(object_type, GraphQLObjectType):
            return None
        collected = collect_subfields(
            raw.schema, fragments, raw.variable_values, raw.operation, object_type, details
        )
        return None if collected.new_defer_usages else collected.grouped_field_set

    grouped = subfields(parent, [FieldDetails(node, None) for node in raw.field_nodes])
    if grouped is None:
        return None
    items: FieldDetailsList | None = None
    connection: list[ConnectionField] = []
    for response_name, details in grouped.items():
        name = details[0].node.name.value
        if name in (list_field, edge_field) and items is None and name in parent.fields:
            items = details
            connection.append((response_name, name, ()))
        elif name not in others:
            return None
        elif name == "pageInfo":
            selected = subfields(get_nullable_type(parent.fields[name].type), details)
            page_info = None if selected is None else _leaf_shape(selected)
            if page_info is None:
                return None
            connection.append((response_name, name, page_info))
        else:
            connection.append((response_name, name, ()))
    if items is None:
        return None
    list_name = items[0].node.name.value
    list_type = get_nullable_type(parent.fields[list_name].type)
    item_type = get_nullable_type(list_type.of_type) if isinstance(list_type, GraphQLList) else None
    item_fields = subfields(item_type, items)
    if item_fields is None or not isinstance(item_type, GraphQLObjectType):
        return None
    edge: FieldShape = ()
    edge_type = ""
    if list_name == edge_field:
        edge_fields, node = _edge_fields(item_fields)
        if edge_fields is None or node is None:
            return None
        edge, edge_type = edge_fields, item_type.name
        item_type = get_nullable_type(item_type.fields["node"].type)
        item_fields = subfields(item_type, item_fields[node])
        if item_fields is None or not isinstance(item_type, GraphQLObjectType):
            return None
    leaves: list[tuple[str, str]] = []
    children: list[ChildField] = []
    for response_name, details in item_fields.items():
        field_name = _plain_field(details)
        if field_name is not None:
            leaves.append((response_name, field_name))
            continue
        plan = None if child is None else _child_plan(raw, item_type, details, child)
        if plan is None:
            return None
        children.append((response_name, details[0].node.name.value, plan))
    cursors = any(
        field in ("startCursor", "endCursor")
        for _, name, sub in connection
        if name == "pageInfo"
        for _, field in sub
    )
    return LeafListSelection(
        leaves=tuple(leaves),
        type_name=item_type.name,
        cursors=cursors,
        shape=_response_shape(item_fields),
        children=tuple(children),
        connection=tuple(connection),
        connection_type=parent.name,
        edge=edge,
        edge_type=edge_type,
    )


def _edge_fields(grouped_field_set: GroupedFieldSet) -> tuple[FieldShape | None, str | None]:
    """An edge selection's fields and the response name of its one `node`, if it is only cursor/node/__typename."""
    shape = []
    node = None
    for response_name, details in grouped_field_set.items():
        name = details[0].node.name.value
        if name == "node" and node is None and len(details) == 1:
            field = details[0].node
            if field.arguments or field.directives:
                return None, None
            node = response_name
        elif name not in ("cursor", "__typename") or _plain_field(details) is None:
            return None, None
        shape.append((response_name, name))
    return tuple(shape), node


def _leaf_shape(grouped_field_set: GroupedFieldSet) -> FieldShape | None:
    shape = []
    for response_name, details in grouped_field_set.items():
        field_name = _plain_field(details)
        if field_name is None:
            return None
        shape.append((response_name, field_name))
    return tuple(shape)


def _child_plan(
    raw: GraphQLResolveInfo, item_type: GraphQLObjectType, details: FieldDetailsList, child: ChildProbe
) -> Hashable | None:
    """The plan `child` answers for a prefetchable field of the items (one node, no directives), else None."""
    node = details[0].node
    field = item_type.fields.get(node.name.value)
    if field is None or field.resolve not in _prefetching_resolvers or node.directives or len(details) > 1:
        return None
    try:
        arguments = get_argument_values(field, node, raw.variable_values)
    except GraphQLError:
        return None
    info = raw._replace(
        field_name=node.name.value, field_nodes=[node], return_type=field.type, parent_type=item_type
    )
    return child(field.resolve, info, arguments)


class LeafFastExecutor(Executor):
    """graphql-core's executor with the plain-leaf shortcut described in the module docstring."""

    # per grouped field set (by identity; the set is kept alive with its plans so that its id is not reused):
    # the plan of an all-leaf selection, or else the leaf steps among the other fields
    _field_plans: dict[int, tuple[GroupedFieldSet, LeafPlan | None, list[MixedStep | None] | None]]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if hasattr(self.context_value, "serialized_lists"):
            self.context_value.serialized_lists = True

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> AwaitableOrValue[dict[str, Any]]:
        plan, leaves = self._plans(parent_type, path, grouped_field_set)
        if plan is not None:
            result = _read_all(plan, source_value)
            if result is not None:
                return result
        elif leaves is not None:
            return self._execute_mixed(
                parent_type, source_value, path, grouped_field_set, position_context, leaves
            )
        return super().execute_fields(parent_type, source_value, path, grouped_field_set, position_context)

    def _plans(
        self, parent_type: GraphQLObjectType, path: Path | None, grouped_field_set: GroupedFieldSet
    ) -> tuple[LeafPlan | None, list[MixedStep | None] | None]:
        """The plan of an all-leaf selection, or else the direct steps among its fields (see `_mixed_plan`)."""
        # graphql-core collects the sub-fields of a list's items once, so one lookup serves the whole list
        try:
            cache = self._field_plans
        except AttributeError:
            cache = self._field_plans = {}
        found = cache.get(id(grouped_field_set))
        if found is not None:
            return found[1], found[2]
        plan = _plan(parent_type, grouped_field_set)
        leaves = self._mixed_plan(parent_type, path, grouped_field_set) if plan is None else None
        cache[id(grouped_field_set)] = (grouped_field_set, plan, leaves)
        return plan, leaves

    def _execute_mixed(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
        leaves: list[MixedStep | None],
    ) -> AwaitableOrValue[dict[str, Any]]:
        """graphql-core's `execute_fields`, with the plain leaves among the fields read directly, and the
        prefetched objects of plain leaves (`ObjectStep`) completed directly."""
        results: dict[str, Any] = {}
        awaitable_fields: list[str] = []
        try:
            for leaf, (response_name, field_details_list) in zip(
                leaves, grouped_field_set.items(), strict=True
            ):
                if leaf is not None:
                    value = _read_step(leaf, source_value)
                    if value is not _FAILED:
                        results[response_name] = value
                        continue
                field_path = Path(path, response_name, parent_type.name)
                result = self.execute_field(
                    parent_type, source_value, field_details_list, field_path, position_context
                )
                if result is not Undefined:
                    results[response_name] = result
                    if self.is_awaitable(result):
                        awaitable_fields.append(response_name)
        except Exception:
            if awaitable_fields:
                self.settle_in_background([results[field] for field in awaitable_fields])
            raise
        if not awaitable_fields:
            return results

        async def get_results() -> dict[str, Any]:
            if len(awaitable_fields) == 1:
                field = awaitable_fields[0]
                results[field] = await results[field]
            else:
                awaited = await gather_with_cancel(*(results[field] for field in awaitable_fields))
                results.update(zip(awaitable_fields, awaited, strict=True))
            return results

        return get_results()

    def _mixed_plan(
        self, parent_type: GraphQLObjectType, path: Path | None, grouped_field_set: GroupedFieldSet
    ) -> list[MixedStep | None] | None:
        """Per field of the set, how to read it directly: a plain leaf's step, a prefetched object's
        `ObjectStep`, or None for graphql-core's path; None if no field can be read directly."""
        steps: list[MixedStep | None] = []
        for response_name, details in grouped_field_set.items():
            field_name = _read_field(details)
            step: MixedStep | None = None
            if field_name is not None:
                step = _leaf_step(parent_type, response_name, field_name)
                if step is None and details[0].node.selection_set is not None:
                    step = self._object_step(parent_type, path, response_name, field_name, details)
            steps.append(step)
        return steps if any(step is not None for step in steps) else None

    def _object_step(
        self,
        parent_type: GraphQLObjectType,
        path: Path | None,
        response_name: str,
        field_name: str,
        details: FieldDetailsList,
    ) -> ObjectStep | None:
        """How to complete a field directly when it is an object of plain leaves, read from a plain attribute
        or by a prefetchable resolver without arguments (a definition's `product { uuid }`), else None."""
        field = parent_type.fields.get(field_name)
        if field is None or field.args:
            return None
        resolve = field.resolve
        prefetched = resolve in _prefetching_resolvers
        reader = None if prefetched else _reader(parent_type, field_name)
        if reader is None and not prefetched:
            return None
        object_type = get_nullable_type(field.type)
        if not isinstance(object_type, GraphQLObjectType):
            return None
        grouped, defer_usages, _forbidden = self.collect_subfields(object_type, details)
        plan = None if defer_usages else _plan(object_type, grouped)
        if plan is None:
            return None
        # prefetchable resolvers read the context and the selection, never the path: one info serves every
        # object of the list
        info = self.build_resolve_info(
            field, [d.node for d in details], parent_type, Path(path, response_name, parent_type.name)
        )
        if reader is None:
            assert resolve is not None

            def reader(source: Any) -> Any:
                return resolve(source, info)

        return ObjectStep(reader, info, not isinstance(field.type, GraphQLNonNull), object_type, plan)

    def complete_iterable_value(
        self,
        item_type: GraphQLOutputType,
        field_details_list: FieldDetailsList,
        info: GraphQLResolveInfo,
        path: Path,
        items: Iterable[Any],
        position_context: Any,
    ) -> AwaitableOrValue[list[Any]]:
        # a list of objects of plain leaves, e.g. a page of events: complete every item in one loop
        object_type = item_type.of_type if isinstance(item_type, GraphQLNonNull) else item_type
        if isinstance(object_type, GraphQLObjectType) and isinstance(items, list):
            grouped_field_set = self.collect_subfields(object_type, field_details_list)[0]
            if type(items) is SerializedList:
                if items.shape != _response_shape(grouped_field_set):
                    # a loader's bug, not the client's: such items cannot be completed another way
                    raise RuntimeError(f"A list built for {items.shape} was selected as {path.as_list()}")
                if items.text is not None:
                    return RawJson(items.text)  # type: ignore[return-value]
                return list(items)
            plan = _plan(object_type, grouped_field_set)
            if plan is not None:
                is_type_of = object_type.is_type_of
                checked: set[type] = set()  # the item classes is_type_of accepted already
                completed = []
                for item in items:
                    row = None if item is None else _read_all(plan, item)
                    if row is None:
                        break
                    if is_type_of is not None and type(item) not in checked:
                        if not is_type_of(item, info):
                            break
                        checked.add(type(item))
                    completed.append(row)
                else:
                    return completed
            else:
                waiting = self._prefetch(object_type, grouped_field_set, items, info)
                if waiting:
                    return self._complete_after(
                        waiting, item_type, field_details_list, info, path, items, position_context
                    )
                direct = self._complete_mixed(object_type, grouped_field_set, items, info, path)
                if direct is not None:
                    return direct
        return super().complete_iterable_value(
            item_type, field_details_list, info, path, items, position_context
        )

    def _complete_mixed(
        self,
        object_type: GraphQLObjectType,
        grouped_field_set: GroupedFieldSet,
        items: list[Any],
        info: GraphQLResolveInfo,
        path: Path,
    ) -> list[Any] | None:
        """The items completed in one loop when every selected field is read directly (plain leaves, and
        objects of them whose loads were prefetched: a page of definitions with `product { uuid }`); None when
        one of them needs graphql-core's path, which then completes the whole list (the steps are pure)."""
        _, steps = self._plans(object_type, path, grouped_field_set)
        if steps is None:
            return None
        fields: list[tuple[str, MixedStep]] = []
        for response_name, step in zip(grouped_field_set, steps, strict=True):
            if step is None:
                return None
            fields.append((response_name, step))
        is_type_of = object_type.is_type_of
        checked: set[type] = set()  # the item classes is_type_of accepted already
        completed = []
        for item in items:
            if item is None:
                return None
            if is_type_of is not None and type(item) not in checked:
                if is_type_of(item, info) is not True:
                    return None
                checked.add(type(item))
            row: dict[str, Any] = {}
            for response_name, step in fields:
                value = _read_step(step, item)
                if value is _FAILED:
                    return None
                row[response_name] = value
            completed.append(row)
        return completed

    def _prefetch(
        self,
        object_type: GraphQLObjectType,
        grouped_field_set: GroupedFieldSet,
        items: list[Any],
        info: GraphQLResolveInfo,
    ) -> list[Any]:
        """Register the loads of the items' prefetchable fields; the loads to await (none: nothing to do).

        Each resolver gets its own field's info (with the list's path: prefetchable resolvers read the context
        and the selection, never the path). Whatever goes wrong here (bad arguments, a resolver raising) is ignored: the normal path meets the
        same problem and reports it where graphql-core would.
        """
        context = self.context_value
        # a context without `prefetch` (another schema's) or already prefetching: nothing to do here
        if len(items) < 2 or not hasattr(context, "prefetch") or context.prefetch is not None:
            return []
        waiting: list[Any] = []
        for details in grouped_field_set.values():
            field = object_type.fields.get(details[0].node.name.value)
            if field is None or field.resolve not in _prefetching_resolvers:
                continue
            try:
                arguments = get_argument_values(
                    field, details[0].node, self.variable_values, details[0].fragment_variable_values
                )
            except GraphQLError:
                continue
            resolve = field.resolve
            field_info = self.build_resolve_info(field, [d.node for d in details], object_type, info.path)
            context.prefetch = waiting
            try:
                for item in items:
                    if item is not None:
                        with contextlib.suppress(Exception):
                            resolve(item, field_info, **arguments)
            finally:
                context.prefetch = None
        return waiting

    async def _complete_after(
        self,
        waiting: list[Any],
        item_type: GraphQLOutputType,
        field_details_list: FieldDetailsList,
        info: GraphQLResolveInfo,
        path: Path,
        items: list[Any],
        position_context: Any,
    ) -> list[Any]:
        # failed loads stay in the loaders' caches: the items' own resolvers meet and report them
        await asyncio.gather(*waiting, return_exceptions=True)
        object_type = get_nullable_type(item_type)
        if isinstance(object_type, GraphQLObjectType):
            grouped_field_set = self.collect_subfields(object_type, field_details_list)[0]
            direct = self._complete_mixed(object_type, grouped_field_set, items, info, path)
            if direct is not None:
                return direct
        completed = super().complete_iterable_value(
            item_type, field_details_list, info, path, items, position_context
        )
        if is_awaitable(completed):
            completed = await completed
        return completed  # type: ignore[return-value]


_FAILED = object()


class ObjectStep:
    """A field completed directly: an object whose selection is all plain leaves, read from a plain attribute
    (a page's `path`) or by a prefetchable resolver (which answers at once once its load is prefetched, or else
    an awaitable)."""

    __slots__ = ("info", "is_type_of", "nullable", "plan", "read")

    def __init__(
        self,
        read: Callable[[Any], Any],
        info: GraphQLResolveInfo,
        nullable: bool,
        object_type: GraphQLObjectType,
        plan: LeafPlan,
    ) -> None:
        self.read = read
        self.info = info
        self.nullable = nullable
        self.is_type_of = object_type.is_type_of
        self.plan = plan

    def complete(self, source: Any) -> Any:
        """The object's fields, or _FAILED when graphql-core's path must complete it (it is not loaded yet,
        it is null where it may not be, its resolver or a leaf fails); that path calls the resolver again,
        which a prefetchable resolver allows (it is pure)."""
        try:
            value = self.read(source)
        except Exception:
            return _FAILED
        if value is None:
            return None if self.nullable else _FAILED
        if is_awaitable(value):
            if inspect.iscoroutine(value):
                value.close()  # never started: graphql-core's path asks for it again
            return _FAILED
        if self.is_type_of is not None and self.is_type_of(value, self.info) is not True:
            return _FAILED
        row = _read_all(self.plan, value)
        return _FAILED if row is None else row


# a field of a mixed selection read directly: a plain leaf, or an object of them
MixedStep = LeafStep | ObjectStep


def _read_step(step: MixedStep, source: Any) -> Any:
    """A field of a mixed selection read directly, or _FAILED (see `_read_one`, `ObjectStep.complete`)."""
    return step.complete(source) if isinstance(step, ObjectStep) else _read_one(step, source)


def _read_one(step: LeafStep, source: Any) -> Any:
    """One plain leaf's value, or _FAILED when it needs graphql-core's path (a null where none may be, an error)."""
    _name, read, serialize, nullable = step
    try:
        value = read(source)
        if value is None:
            return None if nullable else _FAILED
        serialized = serialize(value)
    except Exception:  # let graphql-core report it, with its path and locations
        return _FAILED
    return _FAILED if serialized is None else serialized


def _read_all(plan: LeafPlan, source: Any) -> dict[str, Any] | None:
    """The object's fields, or None when one of them needs the full path (a null where none may be, an error)."""
    result: dict[str, Any] = {}
    try:
        for response_name, read, serialize, nullable in plan:
            value = read(source)
            if value is None:
                if not nullable:
                    return None
                result[response_name] = None
            else:
                serialized = serialize(value)
                if serialized is None:
                    return None
                result[response_name] = serialized
    except Exception:  # let graphql-core report it, with its path and locations
        return None
    return result


# -- resolvers called directly ------------------------------------------------------------------------------


def _converter(graphql_type: Any) -> Callable[[Any], Any] | None:
    """Turns graphql-core's coerced value of `graphql_type` into what the Python resolver expects."""
    if isinstance(graphql_type, GraphQLNonNull):
        return _converter(graphql_type.of_type)
    if isinstance(graphql_type, GraphQLList):
        inner = _converter(graphql_type.of_type)
        if inner is None:
            return None
        return lambda value: None if value is None else [inner(item) for item in value]
    if isinstance(graphql_type, GraphQLScalarType):
        return lambda value: value
    definition = (graphql_type.extensions or {}).get("strawberry-definition")
    if isinstance(graphql_type, GraphQLEnumType):
        enum_class = getattr(definition, "wrapped_cls", None)
        if enum_class is None:
            return None
        return lambda value: None if value is None else enum_class(value)
    if isinstance(graphql_type, GraphQLInputObjectType):
        origin = getattr(definition, "origin", None)
        if origin is None:
            return None
        fields: dict[str, tuple[str, Callable[[Any], Any]]] = {}
        for name, field in graphql_type.fields.items():
            python_name = _python_name(definition, name)
            convert = _converter(field.type)
            if python_name is None or convert is None:
                return None
            fields[name] = (python_name, convert)

        def build(value: Any) -> Any:
            if value is None:
                return None
            return origin(**{fields[k][0]: fields[k][1](v) for k, v in value.items()})

        return build
    return None


def _python_name(definition: Any, graphql_name: str) -> str | None:
    for field in getattr(definition, "fields", ()):
        if (field.graphql_name or to_camel_case(field.python_name)) == graphql_name:
            return str(field.python_name)
    return None


def _direct_resolver(field: GraphQLField) -> Callable[..., Any] | None:
    definition = (field.extensions or {}).get("strawberry-definition")
    base = getattr(definition, "base_resolver", None)
    function = getattr(base, "wrapped_func", None)
    if (
        function is None
        or getattr(definition, "extensions", None)
        or getattr(definition, "permission_classes", None)
    ):
        return None
    parameters = list(inspect.signature(function).parameters)
    if not parameters or parameters[0] != "self":
        return None
    assert definition is not None
    wants_info = "info" in parameters
    arguments: dict[str, tuple[str, Callable[[Any], Any]]] = {}
    for argument in definition.arguments:
        graphql_name = argument.graphql_name or to_camel_case(argument.python_name)
        convert = _converter(field.args[graphql_name].type)
        if convert is None:
            return None
        arguments[graphql_name] = (argument.python_name, convert)
    expected = {"self", "info"} | {python for python, _ in arguments.values()}
    if set(parameters) - expected:
        return None

    # positional-only: a field may have an argument named `source` or `info` (Device.propertyValues(source:))
    def resolve(source: Any, info: GraphQLResolveInfo, /, **kwargs: Any) -> Any:
        values = {arguments[name][0]: arguments[name][1](value) for name, value in kwargs.items()}
        if wants_info:
            return function(source, info=info, **values)
        return function(source, **values)

    if function in _prefetchable:
        _prefetching_resolvers.add(resolve)
    return resolve


def install_direct_resolvers(schema: GraphQLSchema) -> int:
    """Call the graph's read resolvers directly with graphql-core's info and converted arguments.

    Strawberry wraps every resolver with its own info object, argument conversion and extension machinery;
    for resolvers that take only `self`, `info` (used for `info.context`) and plain arguments, that wrapper
    costs more than the resolver itself. Mutations and subscriptions keep Strawberry's path. Returns how
    many resolvers were replaced.
    """
    skipped = {t.name for t in (schema.mutation_type, schema.subscription_type) if t is not None}
    replaced = 0
    for graphql_type in schema.type_map.values():
        if not isinstance(graphql_type, GraphQLObjectType) or graphql_type.name in skipped:
            continue
        if graphql_type.name.startswith("_") or graphql_type.name.startswith("__"):
            continue
        for name, field in graphql_type.fields.items():
            if name.startswith("_"):  # federation's _entities and _service stay Strawberry's
                continue
            direct = _direct_resolver(field)
            if direct is not None:
                field.resolve = direct
                replaced += 1
    return replaced
