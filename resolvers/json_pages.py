"""SQL that builds a page of items as JSON in PostgreSQL, child connections of the items included.

`Listing._fetch_projected` (resolvers/pagination.py) asks for the pages of many parents in one statement;
this module writes the parts of that statement. A page is a derived table of its rows (one more than asked,
to tell whether there is a next page), numbered in the page's order, each with its item as a JSON object:
the leaves as `json_leaves` writes them and, for each child connection the items select, the child's page
built the same way one level down (a LATERAL subquery per row, so the statement count stays one). Leaves
read from other tables by a few columns of the row (`json_leaves.Lookup`: an event's device key and user) are
read once per distinct key of the page and joined back to its rows (`lookups`). Every value, response names
included, is a parameter; the SQL text comes from the listings only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gateway.execution.fast_path import LeafListSelection
from resolvers import json_leaves, lookups

if TYPE_CHECKING:
    from resolvers.context import Context
    from resolvers.pagination import Listing, PageRequest


@dataclass(frozen=True)
class ChildPages:
    """How a child connection of the items loads: its listing and its page request (with its projection)."""

    listing: Listing[Any]
    request: PageRequest


# what a child connection may select to be built inside its parents' items; cursors (their encoding is
# Python's) send such a child the ordinary way
CHILD_CONNECTION_FIELDS = frozenset({"nodes", "pageInfo", "totalCount", "__typename"})
CHILD_PAGE_INFO_FIELDS = frozenset({"hasNextPage", "hasPreviousPage"})


def can_nest(selection: LeafListSelection) -> bool:
    """Whether a connection with this selection can be built inside its parents' items."""
    return not selection.cursors and all(
        name in CHILD_CONNECTION_FIELDS and all(field in CHILD_PAGE_INFO_FIELDS for _, field in sub)
        for _, name, sub in selection.connection
    )


def page_rows(
    listing: Listing[Any],
    ctx: Context,
    request: PageRequest,
    selection: LeafListSelection,
    parent: str,
    params: list[Any],
    depth: int = 0,
) -> str:
    """A derived table of the page of `parent` (an SQL expression): id, _s (sort value), _r (position from 1),
    _v (the item as JSON), _x (whether every value of the item, children included, is exact)."""
    rows = f"r{depth}"
    order = listing.order_sql(request)
    leaves = [(name, listing.json_leaves[name]) for _, name in selection.leaves if name != "__typename"]
    if any(name == "cursor" for _, name in selection.edge):
        leaves.append(("cursor", json_leaves.cursor(listing.json_cursors[request.order.column])))
    # (a required lookup's exactness is told by its value: see `checks` below)
    exact = [leaf.exact for _, leaf in leaves if leaf.exact is not None and leaf.lookup is None]
    # the leaves looked up in other tables (their indexes), by the lookups' keys (see `lookups`)
    looked = lookups.by_keys((i, leaf.lookup) for i, (_, leaf) in enumerate(leaves))
    columns = [
        "t.id",
        f"{request.order.column} AS _s",
        f"row_number() OVER (ORDER BY {order}) AS _r",
        f"({' AND '.join(exact) or 'true'}) AS _e",
        *(f"{leaf.sql} AS _f{i}" for i, (_, leaf) in enumerate(leaves) if leaf.lookup is None),
        *lookups.key_columns(looked),
    ]
    where = listing.where_sql(ctx, request, params)
    limit = _param(params, request.first + 1 if request.first else 0)
    inner = (
        f"SELECT {', '.join(columns)} FROM {listing.table} t {listing.join} "
        f"WHERE {listing.parent_sql} = {parent}{where} ORDER BY {order} LIMIT {limit}"
    )
    leaf_values = [f"{rows}._f{i}" for i in range(len(leaves))]
    checks = [f"{rows}._e"]
    head, source = "", f"({inner}) {rows}"
    if looked:
        head, source, found = lookups.looked_up_once(inner, looked, rows, depth)
        for i, value in found.items():
            leaf_values[i] = value
        # a required value that was not found: the row is not exact
        checks += [
            f"{found[i]} IS NOT NULL" for group in looked.values() for i, lookup in group if lookup.required
        ]
    values: dict[str, str] = {}
    joins = ""
    for j, (response_name, _name, plan) in enumerate(selection.children):
        assert isinstance(plan, ChildPages)
        if j == 0:
            # the row beyond the page (the one that tells of a next page) needs no children
            in_page = f"{rows}._r <= {_param(params, request.first)}::bigint"
        child = f"c{depth}_{j}"
        nested = connection_json(plan, ctx, f"{rows}.id", in_page, params, depth + 1)
        joins += f" LEFT JOIN LATERAL ({nested}) {child} ON true"
        values[response_name] = f"{child}._j"
        checks.append(f"coalesce({child}._x, true)")
    leaf_columns = iter(leaf_values)
    pairs = []
    for response_name, name in selection.shape:
        key = _text(params, response_name)
        if response_name in values:
            pairs.append(f"{key}, {values[response_name]}")
        elif name == "__typename":
            pairs.append(f"{key}, {_text(params, selection.type_name)}")
        else:
            pairs.append(f"{key}, {next(leaf_columns)}")
    item = f"json_build_object({', '.join(pairs)})"
    if selection.edge:  # the cursor, when selected, is the last of the leaves
        item = _edge(selection, item, leaf_values[-1], params)
    return (
        f"{head}SELECT {rows}.id, {rows}._s, {rows}._r, {item} AS _v, "
        f"({' AND '.join(checks)}) AS _x FROM {source}{joins}"
    )


def _edge(selection: LeafListSelection, node: str, cursor: str, params: list[Any]) -> str:
    """The JSON of an edge around the JSON of its `node`, with `cursor` (the SQL of the row's cursor)."""
    pairs = []
    for response_name, name in selection.edge:
        key = _text(params, response_name)
        if name == "node":
            pairs.append(f"{key}, {node}")
        elif name == "cursor":
            pairs.append(f"{key}, {cursor}")
        else:
            pairs.append(f"{key}, {_text(params, selection.edge_type)}")
    return f"json_build_object({', '.join(pairs)})"


def connection_json(
    plan: ChildPages, ctx: Context, parent: str, gate: str, params: list[Any], depth: int
) -> str:
    """One row: _j, the child connection of `parent` as JSON, and _x, whether it is exact (null: no rows).

    The page is empty when `gate`, a condition on the parent's row, is false."""
    request = plan.request
    selection = request.projection
    assert selection is not None
    pages = f"z{depth}"
    rows = page_rows(plan.listing, ctx, request, selection, f"{parent} AND {gate}", params, depth)
    first = _param(params, request.first)
    pairs = []
    for response_name, name, sub in selection.connection:
        key = _text(params, response_name)
        if name in ("nodes", "edges"):
            pairs.append(
                f"{key}, coalesce(json_agg({pages}._v ORDER BY {pages}._r) "
                f"FILTER (WHERE {pages}._r <= {first}), '[]'::json)"
            )
        elif name == "__typename":
            pairs.append(f"{key}, {_text(params, selection.connection_type)}")
        elif name == "totalCount":
            pairs.append(f"{key}, ({plan.listing.count_sql(ctx, request, parent, params)})")
        else:  # pageInfo
            fields = []
            for field_response, field in sub:
                value = f"count(*) > {first}" if field == "hasNextPage" else str(request.after is not None)
                fields.append(f"{_text(params, field_response)}, {value}")
            pairs.append(f"{key}, json_build_object({', '.join(fields)})")
    return f"SELECT json_build_object({', '.join(pairs)}) AS _j, bool_and({pages}._x) AS _x FROM ({rows}) {pages}"


def _param(params: list[Any], value: Any) -> str:
    """`value` appended to the statement's parameters; its placeholder."""
    params.append(value)
    return f"${len(params)}"


def _text(params: list[Any], value: str) -> str:
    """A text parameter's placeholder, typed (json_build_object takes any type, so it must be told)."""
    return f"{_param(params, value)}::text"
