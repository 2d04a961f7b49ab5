"""Estimating what a query will cost before it runs, GitHub style.

Every connection field may return up to `first` nodes (the default page size when `first` is absent), and
each of those nodes may ask for further connections: the estimated node count is the sum, over connection
fields, of the product of the page sizes on the path to them. The query's cost in the hourly budget is that
count divided by 100, at least 1.
"""

from __future__ import annotations

import math
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    is_abstract_type,
)

DEFAULT_PAGE = 20
NODES_PER_POINT = 100


def _page_size(field: FieldNode, variables: dict[str, Any], max_page: int) -> int:
    for argument in field.arguments or ():
        if argument.name.value != "first":
            continue
        value = argument.value
        if isinstance(value, IntValueNode):
            return min(int(value.value), max_page)
        if isinstance(value, VariableNode):
            given = variables.get(value.name.value)
            if isinstance(given, int):
                return min(given, max_page)
        return DEFAULT_PAGE
    return DEFAULT_PAGE


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
    return _walk(schema, root, operation.selection_set, fragments, variables or {}, max_page, 1, set())


def _walk(
    schema: GraphQLSchema,
    parent: GraphQLObjectType,
    selection_set: SelectionSetNode | None,
    fragments: dict[str, FragmentDefinitionNode],
    variables: dict[str, Any],
    max_page: int,
    multiplier: int,
    seen: set[str],
) -> int:
    if selection_set is None:
        return 0
    total = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            definition = parent.fields.get(selection.name.value)
            if definition is None or selection.selection_set is None:
                continue
            inner_type = get_named_type(definition.type)
            inner = multiplier
            if inner_type.name.endswith("Connection"):
                page = _page_size(selection, variables, max_page)
                inner = multiplier * max(page, 1)
                total += multiplier * page
            if isinstance(inner_type, GraphQLObjectType):
                total += _walk(
                    schema, inner_type, selection.selection_set, fragments, variables, max_page, inner, seen
                )
            elif is_abstract_type(inner_type):  # interfaces and unions: the costliest possible type counts
                possible = schema.get_possible_types(inner_type)
                total += max(
                    (
                        _walk(schema, t, selection.selection_set, fragments, variables, max_page, inner, seen)
                        for t in possible
                    ),
                    default=0,
                )
        elif isinstance(selection, InlineFragmentNode):
            condition = selection.type_condition
            target = schema.get_type(condition.name.value) if condition else parent
            if isinstance(target, GraphQLObjectType):
                total += _walk(
                    schema, target, selection.selection_set, fragments, variables, max_page, multiplier, seen
                )
            else:
                total += _walk(
                    schema, parent, selection.selection_set, fragments, variables, max_page, multiplier, seen
                )
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is None or name in seen:
                continue
            target = schema.get_type(fragment.type_condition.name.value)
            walk_type = target if isinstance(target, GraphQLObjectType) else parent
            total += _walk(
                schema,
                walk_type,
                fragment.selection_set,
                fragments,
                variables,
                max_page,
                multiplier,
                seen | {name},
            )
    return total


def cost_points(nodes: int) -> int:
    """Budget points a query of `nodes` estimated nodes costs (at least one)."""
    return max(1, math.ceil(nodes / NODES_PER_POINT))


def too_large_message(nodes: int, max_nodes: int) -> str:
    """Why a query estimated at `nodes` nodes is refused before it runs."""
    return f"Query may return up to {nodes} nodes; the maximum is {max_nodes}. Ask for smaller pages."
