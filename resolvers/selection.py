"""What a query selects below the field being resolved, for resolvers that can skip work nobody asked for."""

from __future__ import annotations

import strawberry
from graphql import FieldNode, FragmentSpreadNode, GraphQLResolveInfo, InlineFragmentNode, SelectionSetNode


def asks_for(info: strawberry.Info | GraphQLResolveInfo, *path: str) -> bool:
    """Whether the field being resolved selects the subfield at `path` (`"pages", "series"`: a `series` inside
    its `pages`), fragments and aliases looked through. Directives are not evaluated: a field under a false
    `@include` still counts as asked (the work is then done for nothing, never skipped wrongly)."""
    raw = info if isinstance(info, GraphQLResolveInfo) else info._raw_info

    def selects(selection_set: SelectionSetNode | None, names: tuple[str, ...]) -> bool:
        for node in selection_set.selections if selection_set else ():
            if isinstance(node, FieldNode):
                if node.name.value == names[0] and (
                    len(names) == 1 or selects(node.selection_set, names[1:])
                ):
                    return True
            elif isinstance(node, InlineFragmentNode):
                if selects(node.selection_set, names):
                    return True
            elif isinstance(node, FragmentSpreadNode):
                fragment = raw.fragments.get(node.name.value)
                if fragment is not None and selects(fragment.selection_set, names):
                    return True
        return False

    return any(selects(node.selection_set, path) for node in raw.field_nodes)
