"""Estimating what a query will cost before it runs, GitHub style.

Every connection field may return up to `first` nodes (the default page size when `first` is absent or null),
and each of those nodes may ask for further connections: the estimated node count is the sum, over connection
fields, of the product of the page sizes on the path to them. A list of objects sized by a list argument
(`nodes(ids:)`, `_entities(representations:)`) counts as many nodes as the argument holds, and multiplies what
is selected below it the same way. The query's cost in the hourly budget is that count divided by 100, at least
1.

The estimate is of what the query can really return:
- `first` is read from the literal, the variable's value, or else the variable's default (absent variables take
  their default, as the executor does); it counts 0..max page size (a negative `first` makes the field fail,
  so it returns nothing and nothing below it, and never lowers the estimate of its siblings);
- aliases are separate fields, each counted;
- a fragment spread twice into the same selection set is collected once by the executor, and counted once.

Each fragment is estimated once per type it is spread into, and reused wherever it is spread (the estimate
below a selection is proportional to the nodes above it), so the work is linear in the document's size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    NullValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValueNode,
    VariableNode,
    get_named_type,
    is_abstract_type,
)

DEFAULT_PAGE = 20
NODES_PER_POINT = 100
# list arguments whose length is the length of the field's list of objects
LIST_SIZE_ARGUMENTS = frozenset({"ids", "representations"})


def estimate_nodes(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: dict[str, FragmentDefinitionNode],
    variables: dict[str, Any] | None,
    max_page: int,
) -> int:
    """The most nodes the operation can return."""
    root = schema.get_root_type(operation.operation)
    if root is None:
        return 0
    defaults: dict[str, ValueNode] = {
        definition.variable.name.value: definition.default_value
        for definition in operation.variable_definitions or ()
        if definition.default_value is not None
    }
    estimate = _Estimate(
        schema, fragments, variables if isinstance(variables, dict) else {}, defaults, max_page
    )
    return estimate.unit(operation.selection_set, root)


@dataclass
class _Estimate:
    schema: GraphQLSchema
    fragments: dict[str, FragmentDefinitionNode]
    variables: dict[str, Any]
    defaults: dict[str, ValueNode]
    max_page: int
    _memo: dict[tuple[str, str], int] = field(default_factory=dict)
    _open: set[tuple[str, str]] = field(default_factory=set)

    def unit(self, selection_set: SelectionSetNode | None, parent: GraphQLNamedType) -> int:
        """Nodes below `selection_set` for one `parent` object."""
        if selection_set is None:
            return 0
        total = 0
        spread: set[str] = set()
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self._field(selection, parent)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = self.schema.get_type(condition.name.value) if condition else parent
                total += self.unit(selection.selection_set, target or parent)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name not in spread:  # the executor collects a fragment once per selection set
                    spread.add(name)
                    total += self._fragment(name, parent)
        return total

    def _fragment(self, name: str, parent: GraphQLNamedType) -> int:
        fragment = self.fragments.get(name)
        if fragment is None:
            return 0
        target = self.schema.get_type(fragment.type_condition.name.value)
        walk_type = target if isinstance(target, GraphQLObjectType) else parent
        key = (name, walk_type.name)
        found = self._memo.get(key)
        if found is not None:
            return found
        if key in self._open:  # a cycle: invalid, and reported by validation
            return 0
        self._open.add(key)
        try:
            found = self.unit(fragment.selection_set, walk_type)
        finally:
            self._open.discard(key)
        self._memo[key] = found
        return found

    def _field(self, node: FieldNode, parent: GraphQLNamedType) -> int:
        if not isinstance(parent, GraphQLObjectType) or node.selection_set is None:
            return 0
        definition = parent.fields.get(node.name.value)
        if definition is None:
            return 0
        inner_type = get_named_type(definition.type)
        size: int | None
        if inner_type.name.endswith("Connection"):
            size = self._page_size(node)
        elif _is_list(definition.type):
            size = self._list_size(node)
        else:
            size = None
        below = self._below(node.selection_set, inner_type)
        if size is None:
            return below
        return size + size * below

    def _below(self, selection_set: SelectionSetNode, inner_type: GraphQLNamedType) -> int:
        if is_abstract_type(inner_type):  # interfaces and unions: the costliest possible type counts
            return max(
                (self.unit(selection_set, t) for t in self.schema.get_possible_types(inner_type)),  # type: ignore[arg-type]
                default=0,
            )
        return self.unit(selection_set, inner_type)

    def _argument(self, node: FieldNode, name: str) -> tuple[bool, Any]:
        """(whether given, its value): a literal, a variable's value, or else the variable's default."""
        for argument in node.arguments or ():
            if argument.name.value == name:
                return True, self._value(argument.value)
        return False, None

    def _value(self, value: ValueNode) -> Any:
        if isinstance(value, VariableNode):
            name = value.name.value
            if name in self.variables:
                return self.variables[name]
            default = self.defaults.get(name)
            return None if default is None else self._value(default)
        if isinstance(value, IntValueNode):
            return int(value.value)
        if isinstance(value, ListValueNode):
            return [self._value(item) for item in value.values]
        if isinstance(value, NullValueNode):
            return None
        return value  # another literal: a value, not a size

    def _page_size(self, node: FieldNode) -> int:
        _, first = self._argument(node, "first")
        if first is None:
            return DEFAULT_PAGE
        if type(first) is not int:
            return DEFAULT_PAGE
        return max(0, min(first, self.max_page))

    def _list_size(self, node: FieldNode) -> int | None:
        for name in LIST_SIZE_ARGUMENTS:
            given, value = self._argument(node, name)
            if given:
                if isinstance(value, list):
                    return len(value)
                return 0 if value is None else 1  # a single value is a list of one
        return None


def _is_list(type_: Any) -> bool:
    if isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    return isinstance(type_, GraphQLList)


def cost_points(nodes: int) -> int:
    """Budget points a query of `nodes` estimated nodes costs (at least one)."""
    return max(1, math.ceil(nodes / NODES_PER_POINT))


def too_large_message(nodes: int, max_nodes: int) -> str:
    """Why a query estimated at `nodes` nodes is refused before it runs."""
    return f"Query may return up to {nodes} nodes; the maximum is {max_nodes}. Ask for smaller pages."
