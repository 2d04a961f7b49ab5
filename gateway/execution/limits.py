"""Validation rules that refuse abusive documents before they run: depth, aliases, introspection.

Both measures follow fragment spreads, and a fragment may be spread many times (each spreading the next twice
makes 2**n paths in a document of n fragments). So each fragment is measured once and its measure reused
wherever it is spread: the work is linear in the document's size, whatever the number of paths through it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
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


@dataclass
class SelectionMeasures:
    """Depth and alias count of selection sets, each fragment measured once (see the module docstring).

    A fragment that spreads itself (directly or not) is invalid, and reported by the specification's rules;
    here its inner spread counts as empty, so that the measures terminate.
    """

    fragments: dict[str, FragmentDefinitionNode]
    _depths: dict[str, int] = field(default_factory=dict)
    _aliases: dict[str, int] = field(default_factory=dict)
    _open: set[str] = field(default_factory=set)

    def depth(self, selection_set: SelectionSetNode | None) -> int:
        """Levels of fields below `selection_set` (introspection fields not counted)."""
        if selection_set is None:
            return 0
        deepest = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                if selection.name.value.startswith("__"):
                    continue
                inner = 1 + self.depth(selection.selection_set)
            elif isinstance(selection, InlineFragmentNode):
                inner = self.depth(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                inner = self._fragment(selection.name.value, self._depths, self.depth)
            else:
                continue
            deepest = max(deepest, inner)
        return deepest

    def aliases(self, selection_set: SelectionSetNode | None) -> int:
        """Aliased fields below `selection_set`, counted once per place they are spread into."""
        if selection_set is None:
            return 0
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += (1 if selection.alias else 0) + self.aliases(selection.selection_set)
            elif isinstance(selection, InlineFragmentNode):
                total += self.aliases(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                total += self._fragment(selection.name.value, self._aliases, self.aliases)
        return total

    def _fragment(self, name: str, memo: dict[str, int], measure: Any) -> int:
        found = memo.get(name)
        if found is not None:
            return found
        fragment = self.fragments.get(name)
        key = f"{id(memo)}:{name}"
        if fragment is None or key in self._open:
            return 0
        self._open.add(key)
        try:
            value = int(measure(fragment.selection_set))
        finally:
            self._open.discard(key)
        memo[name] = value
        return value


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
            measures = SelectionMeasures(fragments)
            depth = measures.depth(node.selection_set)
            if depth > max_depth:
                context.report_error(
                    GraphQLError(
                        f"Query is {depth} levels deep; the maximum depth is {max_depth}.",
                        node,
                        extensions={"code": "QUERY_TOO_DEEP"},
                    )
                )
            aliases = measures.aliases(node.selection_set)
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
