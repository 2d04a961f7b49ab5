"""Validation rules that refuse abusive documents before they run: depth, aliases, introspection."""

from __future__ import annotations

from typing import Any

from graphql import (
    ASTValidationRule,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    NoSchemaIntrospectionCustomRule,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
)


def _depth(
    selection_set: SelectionSetNode | None, fragments: dict[str, FragmentDefinitionNode], seen: set[str]
) -> int:
    if selection_set is None:
        return 0
    deepest = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            if selection.name.value.startswith("__"):
                continue
            inner = 1 + _depth(selection.selection_set, fragments, seen) if selection.selection_set else 1
        elif isinstance(selection, InlineFragmentNode):
            inner = _depth(selection.selection_set, fragments, seen)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is None or name in seen:
                continue
            inner = _depth(fragment.selection_set, fragments, seen | {name})
        else:
            continue
        deepest = max(deepest, inner)
    return deepest


def _count_aliases(
    selection_set: SelectionSetNode | None, fragments: dict[str, FragmentDefinitionNode], seen: set[str]
) -> int:
    if selection_set is None:
        return 0
    total = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            total += 1 if selection.alias else 0
            total += _count_aliases(selection.selection_set, fragments, seen)
        elif isinstance(selection, InlineFragmentNode):
            total += _count_aliases(selection.selection_set, fragments, seen)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is not None and name not in seen:
                total += _count_aliases(fragment.selection_set, fragments, seen | {name})
    return total


def validation_rules(
    *, max_depth: int, max_aliases: int, introspection: bool
) -> list[type[ASTValidationRule]]:
    """The gateway's own rules, to run after the specification's."""

    class DepthAndAliasLimit(ASTValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            context = self.context
            assert isinstance(context, ValidationContext)
            fragments = {
                f.name.value: f for f in context.document.definitions if isinstance(f, FragmentDefinitionNode)
            }
            depth = _depth(node.selection_set, fragments, set())
            if depth > max_depth:
                context.report_error(
                    GraphQLError(
                        f"Query is {depth} levels deep; the maximum depth is {max_depth}.",
                        node,
                        extensions={"code": "QUERY_TOO_DEEP"},
                    )
                )
            aliases = _count_aliases(node.selection_set, fragments, set())
            if aliases > max_aliases:
                context.report_error(
                    GraphQLError(
                        f"Query uses {aliases} aliases; the maximum is {max_aliases}.",
                        node,
                        extensions={"code": "TOO_MANY_ALIASES"},
                    )
                )

    rules: list[type[ASTValidationRule]] = [DepthAndAliasLimit]
    if not introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    return rules
