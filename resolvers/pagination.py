"""Cursor connections (Relay style) loaded in batches: one SQL statement per page shape, whatever the parents.

A `Listing` describes one relation edge (a table, the column naming its parent and how to build a graph
object from a row). Its page loader takes (parent id, page request) keys and answers all parents of one page
shape with a single LATERAL query, so that `products { sessions(first: 10) }` costs one statement for any
number of products; its count loader does the same for `totalCount` with one GROUP BY.

When a listing declares how PostgreSQL writes its leaf fields as JSON (`json_leaves`) and a connection's
`nodes` select only such leaves, the page is asked for already built: one JSON array per parent, aggregated
in the same single statement, passed through by the executor as it is (`SerializedList`). That saves a
Python object per row and a serialization per field, most of the time of a large nested read.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import partial
from typing import Any, Generic, TypeVar, cast

import asyncpg
import orjson
import strawberry
from graphql import FieldNode
from strawberry.dataloader import DataLoader

from gateway.access.principal import Permission
from gateway.db.writes_in_progress import WritesStillInProgress, wait_for_writes
from gateway.execution.fast_path import LeafListSelection, SerializedList, cheap_field, leaf_list_selection
from gateway.execution.graphql_core import GRAPHQL_MAX_INT
from gateway.input_values import aware, loads, row_id
from resolvers.context import Context
from resolvers.errors import UserError, found
from resolvers.json_leaves import JsonLeaf
from resolvers.json_pages import ChildPages, can_nest, page_rows
from resolvers.scope import product_scope_sql

T = TypeVar("T")


class BadPageRequest(ValueError):
    """A page request the graph refuses (page too large, malformed cursor)."""


# shareable: every Relay-style subgraph declares its own PageInfo, and a federation router composes them
@strawberry.federation.type(shareable=True, description="Where a page sits in its connection.")
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    # (sort value, id) of the first and last item; encoded only when a client asks for the cursors
    first_key: strawberry.Private[tuple[Any, int] | None]
    last_key: strawberry.Private[tuple[Any, int] | None]

    @strawberry.field
    @cheap_field
    def start_cursor(self) -> str | None:
        return None if self.first_key is None else encode_cursor(*self.first_key)

    @strawberry.field
    @cheap_field
    def end_cursor(self) -> str | None:
        return None if self.last_key is None else encode_cursor(*self.last_key)


@strawberry.type(description="One item of a page and its cursor.")
class Edge(Generic[T]):
    node: T
    # the sort value and id the cursor encodes; encoded only when a client asks for the cursor
    sort_value: strawberry.Private[Any]
    pk: strawberry.Private[int]

    @strawberry.field(description="Where this item sits, for `after`.")
    @cheap_field
    def cursor(self) -> str:
        return encode_cursor(self.sort_value, self.pk)


@strawberry.type(description="A page of a list, with the cursor to the next page and the list's size.")
class Connection(Generic[T]):
    page_info: PageInfo
    # the page's items and, per item, the (sort value, id) of its cursor; edges are built only when asked for
    _nodes: strawberry.Private[list[T]]
    _keys: strawberry.Private[list[tuple[Any, int]]]
    _count: strawberry.Private[Callable[[], Awaitable[int]]]
    # the edges built already (see the module's docstring), when the client selected the items through them
    _edges: strawberry.Private[list[Any] | None] = None

    @strawberry.field(description="The items of this page with their cursors.")
    def edges(self) -> list[Edge[T]]:
        if self._edges is not None:
            return self._edges
        return [
            Edge(node=node, sort_value=value, pk=pk)
            for node, (value, pk) in zip(self._nodes, self._keys, strict=True)
        ]

    @strawberry.field(description="The items of this page (the nodes of `edges`).")
    def nodes(self) -> list[T]:
        return self._nodes

    @strawberry.field(description="How many items the whole list has, with the same filters.")
    async def total_count(self) -> int:
        return await self._count()


@dataclass(frozen=True)
class Condition:
    """A SQL condition on the listed table (alias `t`) with `{}` standing for its one parameter.

    `after_writes_to`: a condition on what changed since a time (`updated_at`) names its table, and a statement
    holding it first waits for the writes in progress to that table (`gateway/db/writes_in_progress.py`)."""

    sql: str
    value: Any
    after_writes_to: str | None = None


def tables_written_since(requests: Iterable[PageRequest]) -> set[str]:
    """The tables whose writes in progress the statement of these page requests (their nested children's
    included) must wait for: those named by a condition's `after_writes_to`."""
    tables: set[str] = set()
    for request in requests:
        tables.update(c.after_writes_to for c in request.conditions if c.after_writes_to is not None)
        if request.projection is not None:
            children = request.projection.children
            tables |= tables_written_since(cast(ChildPages, plan).request for _, _, plan in children)
    return tables


async def wait_for_writes_to(ctx: Context, tables: set[str]) -> None:
    """Before a statement that reads what changed since a time: wait for the writes in progress to `tables`;
    when they outlast the bound, the caller is told to retry (SERVICE_UNAVAILABLE)."""
    if not tables:
        return
    try:
        await wait_for_writes(ctx.db, sorted(tables))
    except WritesStillInProgress as exc:
        raise UserError(
            "Changes being written did not finish in time; retry in a moment", code="SERVICE_UNAVAILABLE"
        ) from exc


@dataclass(frozen=True)
class Order:
    """A sort column (an expression over alias `t`); ties are broken by `t.id`."""

    column: str
    descending: bool = True
    # what the column holds, which a cursor's sort value must be: ids (int) or instants (datetime)
    kind: type = int


@dataclass(frozen=True)
class PageRequest:
    first: int
    after: tuple[Any, int] | None
    order: Order
    conditions: tuple[Condition, ...] = ()
    # the items' leaf selection when PostgreSQL builds them as JSON (see the module's docstring)
    projection: LeafListSelection | None = None
    # items skipped before the page (offset paging, for REST shims whose clients page by offset)
    offset: int = 0


@dataclass(frozen=True)
class PageKey:
    parent_id: int
    request: PageRequest


@dataclass
class Page:
    rows: list[asyncpg.Record]
    has_next: bool
    # a projected page: its items built already, and the (sort value, id) of the first and last (if asked)
    items: SerializedList | None = None
    first_key: tuple[Any, int] | None = None
    last_key: tuple[Any, int] | None = None


def _selects_total_count(info: Any) -> bool:
    """Whether the connection's own selection names `totalCount` (without directives; through fragments it is
    not looked for, and the count then waits for the page as before)."""
    for node in getattr(info, "_raw_info", info).field_nodes:
        for selection in node.selection_set.selections if node.selection_set else ():
            if isinstance(selection, FieldNode) and selection.name.value == "totalCount":
                return not selection.directives
    return False


def _retrieved(future: asyncio.Future[int]) -> None:
    """Marks a failed load's exception as seen (it is reported where the value is awaited, if it is)."""
    if not future.cancelled():
        future.exception()


def encode_cursor(value: Any, pk: int) -> str:
    if isinstance(value, datetime):
        value = {"t": value.isoformat()}
    return base64.urlsafe_b64encode(json.dumps([value, pk]).encode()).decode("ascii")


MAX_CURSOR_CHARS = 500


def decode_cursor(cursor: str, kind: type = int) -> tuple[Any, int]:
    """The (sort value, id) of a cursor of a list sorted by a column of `kind` (int or datetime); BadPageRequest
    for anything else: malformed, out of range, or a sort value of another type."""
    try:
        if len(cursor) > MAX_CURSOR_CHARS:
            raise ValueError("too long")
        value, pk = loads(base64.urlsafe_b64decode(cursor.encode("ascii")))
        if isinstance(value, dict) and kind is datetime:
            value = aware(datetime.fromisoformat(value["t"]))
        if type(value) is not kind or (kind is int and row_id(value) != value):
            raise ValueError(value)
        return value, row_id(pk)
    except (binascii.Error, ValueError, TypeError, KeyError, UnicodeError) as exc:  # BadInput is a ValueError
        raise BadPageRequest(f"Invalid cursor: {cursor[:100]!r}") from exc


def page_request(
    ctx: Context,
    first: int | None,
    after: str | None,
    order: Order,
    conditions: Sequence[Condition] = (),
    default_size: int = 20,
    offset: int | None = None,
) -> PageRequest:
    """Validate `first`/`after` (and `offset`) against the configured maximum page size."""
    limit = ctx.limits.max_page_size
    size = default_size if first is None else first
    if size < 0:
        raise BadPageRequest("`first` must not be negative")
    if size > limit:
        raise BadPageRequest(f"`first` is {size}, above the maximum page size of {limit}")
    if offset is not None and not 0 <= offset <= GRAPHQL_MAX_INT:
        raise BadPageRequest("`offset` must be a whole number from 0")
    return PageRequest(
        first=size,
        after=decode_cursor(after, order.kind) if after else None,
        order=order,
        conditions=tuple(conditions),
        offset=offset or 0,
    )


class _StandIn:
    """The object a prefetchable resolver is called with to learn how it loads: such resolvers read only `pk`."""

    pk = 0


def _child(
    ctx: Context, resolve: Callable[..., Any], info: Any, arguments: dict[str, Any]
) -> ChildPages | None:
    """How a child connection of a page's items loads, when it can be built with them (`json_pages`)."""
    captured: list[ChildPages] = []
    outer, ctx.capture = ctx.capture, captured
    try:
        resolve(_StandIn(), info, **arguments)
    except Exception:  # e.g. a page too large: the ordinary path reports it where it belongs
        return None
    finally:
        ctx.capture = outer
    if len(captured) != 1:
        return None
    projection = captured[0].request.projection
    return captured[0] if projection is not None and can_nest(projection) else None


@dataclass(eq=False)  # a listing is itself: hashed by identity, as part of page requests that nest it
class Listing(Generic[T]):
    """One relation edge: rows of `table` whose `parent_column` is the parent's id."""

    table: str
    parent_column: str
    columns: str
    make: Callable[[asyncpg.Record], T]
    # the column holding the row's product, checked against a product-bound principal
    product_column: str = "product_id"
    # rows that may cover several products: all of them (`resolvers/scope.py`)
    products_sql: str = ""
    # the permissions of which a credential needs one to read the rows (READ, unless the rows are of use to a
    # finer permission too: products, exports)
    permissions: tuple[Permission, ...] = (Permission.READ,)
    # extra joins after `FROM table t`, for edges whose parent is reached through another table
    join: str = ""
    # columns computed over the page's own rows (alias `x`), after its LIMIT and OFFSET: PostgreSQL computes the
    # select list of every row an OFFSET skips, so a costly column (a definition's rank) belongs here
    page_columns: str = ""
    # graph field name -> how PostgreSQL writes it in JSON, for the fields that can be built there
    json_leaves: Mapping[str, JsonLeaf] = field(default_factory=dict)
    # order column -> the JSON text of its value in a cursor (`json_leaves.*_cursor_value`), for edges' cursors
    json_cursors: Mapping[str, JsonLeaf] = field(default_factory=dict)
    _page_batch: Any = field(init=False, repr=False)
    _raw_page_batch: Any = field(init=False, repr=False)
    _count_batch: Any = field(init=False, repr=False)

    def __post_init__(self) -> None:
        async def pages(ctx: Context, keys: list[PageKey]) -> list[Page]:
            return await self._load_pages(ctx, keys, raw_json=False)

        # pages kept as PostgreSQL's text have a loader of their own: the operations of one shim request share
        # a context (`gateway.execution.inprocess`), and one of them may want objects where another wants text
        async def raw_pages(ctx: Context, keys: list[PageKey]) -> list[Page]:
            return await self._load_pages(ctx, keys, raw_json=True)

        async def counts(ctx: Context, keys: list[tuple[int, tuple[Condition, ...]]]) -> list[int]:
            return await self._load_counts(ctx, keys)

        self._page_batch = pages
        self._raw_page_batch = raw_pages
        self._count_batch = counts

    @property
    def parent_sql(self) -> str:
        return self.parent_column if "." in self.parent_column else f"t.{self.parent_column}"

    async def connection(
        self, ctx: Context, parent_id: int, request: PageRequest, info: Any = None
    ) -> Connection[T]:
        """The page of `parent_id`'s list; with the resolver's `info`, built by PostgreSQL when it can be."""
        return await self._load(ctx, parent_id, self._projected(ctx, request, info), info)

    async def _load(self, ctx: Context, parent_id: int, request: PageRequest, info: Any) -> Connection[T]:
        page = self._pages(ctx).load(PageKey(parent_id, request))
        if info is not None and _selects_total_count(info):
            # its statement then runs beside the page's, on another connection, rather than after it
            counted = cast("asyncio.Future[int]", self._counts(ctx).load((parent_id, request.conditions)))
            counted.add_done_callback(_retrieved)  # awaited by `totalCount`, unless the page failed
        return self._connection(ctx, parent_id, request, await page)

    def connection_now(
        self, ctx: Context, parent_id: int, request: PageRequest, info: Any = None
    ) -> Connection[T]:
        """For resolvers: the connection at once when its page is loaded already (prefetched), else an awaitable.

        Awaiting costs graphql-core a task and several coroutine frames per parent; when the executor has
        prefetched the pages of a whole list of parents (`gateway.execution.fast_path.prefetchable`), every
        parent's connection is built synchronously instead. While prefetching, the load is only registered
        (in `ctx.prefetch`) and None is returned. The declared type is the resolved one because Strawberry
        reads the resolver's annotation, and graphql-core awaits any awaitable a resolver returns.

        With the resolver's `info`, the page's items are built by PostgreSQL when their selection allows it.
        """
        request = self._projected(ctx, request, info)
        if ctx.capture is not None:  # a parent's listing learning how this connection loads (`_child`)
            ctx.capture.append(ChildPages(self, request))
            return cast(Connection[T], None)
        loader = self._pages(ctx)
        key = PageKey(parent_id, request)
        if ctx.prefetch is not None:
            ctx.prefetch.append(loader.load(key))
            return cast(Connection[T], None)
        loaded = loader.cache_map.get(key)
        if loaded is not None and loaded.done() and not loaded.cancelled() and loaded.exception() is None:
            return self._connection(ctx, parent_id, request, loaded.result())
        return cast(Connection[T], self._load(ctx, parent_id, request, info))

    def _pages(self, ctx: Context) -> DataLoader[PageKey, Page]:
        return cast(
            DataLoader[PageKey, Page], ctx.loader(self._raw_page_batch if ctx.raw_json else self._page_batch)
        )

    def _counts(self, ctx: Context) -> DataLoader[tuple[int, tuple[Condition, ...]], int]:
        return cast(DataLoader[tuple[int, tuple[Condition, ...]], int], ctx.loader(self._count_batch))

    def _projected(self, ctx: Context, request: PageRequest, info: Any) -> PageRequest:
        if info is None or not self.json_leaves or not ctx.serialized_lists or request.offset:
            return request
        projection = self._projection(ctx, info)
        if projection is None:
            return request
        if (
            any(name == "cursor" for _, name in projection.edge)
            and request.order.column not in self.json_cursors
        ):
            return request
        return replace(request, projection=projection)

    def _projection(self, ctx: Context, info: Any) -> LeafListSelection | None:
        """The items' selection under this field if PostgreSQL can build them; analysed once per field per run."""
        raw = getattr(info, "_raw_info", info)
        key = (id(self), *map(id, raw.field_nodes), id(raw.variable_values))
        found = ctx.selections.get(key)
        if found is None:
            selection = leaf_list_selection(raw, child=partial(_child, ctx))
            if selection is not None and not self._builds(selection):
                selection = None
            # the analysed nodes and variables stay referenced, so that no other can take their ids
            found = (raw.field_nodes, raw.variable_values, selection)
            ctx.selections[key] = found
        return cast(LeafListSelection | None, found[2])

    def _builds(self, selection: LeafListSelection) -> bool:
        # json_build_object takes at most 100 arguments: 50 fields
        return len(selection.shape) <= 50 and all(
            name == "__typename" or name in self.json_leaves for _, name in selection.leaves
        )

    def _connection(self, ctx: Context, parent_id: int, request: PageRequest, page: Page) -> Connection[T]:
        nodes: list[Any]
        edges = None
        if page.items is not None:
            nodes, keys = page.items, []
            first_key, last_key = page.first_key, page.last_key
            if request.projection is not None and request.projection.edge:
                nodes, edges = [], page.items
        else:
            column = request.order.column.removeprefix("t.")
            make = self.make
            nodes = [make(row) for row in page.rows]
            keys = [(row[column], row["id"]) for row in page.rows]
            first_key = keys[0] if keys else None
            last_key = keys[-1] if keys else None

        async def count() -> int:
            return await self._counts(ctx).load((parent_id, request.conditions))

        return Connection(
            page_info=PageInfo(
                has_next_page=page.has_next,
                has_previous_page=request.after is not None or request.offset > 0,
                first_key=first_key,
                last_key=last_key,
            ),
            _nodes=nodes,
            _keys=keys,
            _count=count,
            _edges=edges,
        )

    def _filters(self, ctx: Context, conditions: Sequence[Condition], params: list[Any]) -> str:
        """The account (and product, for product-bound credentials) and the list's filters, values appended to
        `params`: what every statement of the list says after its parent's condition."""
        params.append(ctx.account_for(*self.permissions))
        sql = f" AND t.account_id = ${len(params)}"
        sql += product_scope_sql(ctx, params, self.product_column, self.products_sql)
        for condition in conditions:
            params.append(condition.value)
            sql += " AND " + condition.sql.format(f"${len(params)}")
        return sql

    async def _load_pages(self, ctx: Context, keys: list[PageKey], raw_json: bool) -> list[Page]:
        groups: dict[PageRequest, list[int]] = defaultdict(list)
        for key in keys:
            groups[key.request].append(key.parent_id)
        await wait_for_writes_to(ctx, tables_written_since(groups))
        found: dict[PageKey, Page] = {}
        for request, parents in groups.items():
            if request.projection is not None:
                projected = await self._fetch_projected(ctx, request, request.projection, parents, raw_json)
                for parent, page in projected.items():
                    found[PageKey(parent, request)] = page
                # the parents whose pages PostgreSQL could not build exactly go the Python way
                parents = [parent for parent in parents if parent not in projected]
                if not parents:
                    continue
            rows_by_parent = await self._fetch_group(ctx, request, parents)
            for parent in parents:
                rows = rows_by_parent.get(parent, [])
                found[PageKey(parent, request)] = Page(
                    rows=rows[: request.first], has_next=len(rows) > request.first
                )
        return [found[key] for key in keys]

    def count_sql(self, ctx: Context, request: PageRequest, parent: str, params: list[Any]) -> str:
        """How many rows the list of `parent` (an SQL expression) has with the request's filters: `totalCount`."""
        where = self._filters(ctx, request.conditions, params)
        return f"SELECT count(*) FROM {self.table} t {self.join} WHERE {self.parent_sql} = {parent}{where}"

    async def count_rows(self, ctx: Context, parent_id: int, conditions: Sequence[Condition]) -> int:
        """How many rows the list of `parent_id` has with `conditions`, counted now in one statement (not through
        the batched `totalCount` loader): for the callers that count one list outside a connection."""
        request = PageRequest(first=0, after=None, order=Order("t.id"), conditions=tuple(conditions))
        params: list[Any] = [parent_id]
        return int(await ctx.db.fetchval(self.count_sql(ctx, request, "$1", params), *params) or 0)

    def where_sql(self, ctx: Context, request: PageRequest, params: list[Any]) -> str:
        """The page's conditions after the parent's (scope, filters, cursor), appended to `params`."""
        where = self._filters(ctx, request.conditions, params)
        if request.after is not None:
            params.extend(request.after)
            comparison = "<" if request.order.descending else ">"
            where += f" AND ({request.order.column}, t.id) {comparison} (${len(params) - 1}, ${len(params)})"
        return where

    @staticmethod
    def order_sql(request: PageRequest) -> str:
        direction = "DESC" if request.order.descending else "ASC"
        return f"{request.order.column} {direction}, t.id {direction}"

    async def _fetch_group(
        self, ctx: Context, request: PageRequest, parents: list[int]
    ) -> dict[int, list[asyncpg.Record]]:
        if request.first == 0:
            return {}
        params: list[Any] = [list(dict.fromkeys(parents))]
        where = self.where_sql(ctx, request, params)
        params.append(request.first + 1)
        offset = ""
        if request.offset:
            params.append(request.offset)
            offset = f" OFFSET ${len(params)}"
        late = f", {self.page_columns}" if self.page_columns else ""
        sql = (
            f"SELECT p.parent AS _parent, x.*{late} FROM unnest($1::bigint[]) AS p(parent) "
            f"CROSS JOIN LATERAL (SELECT {self.columns} FROM {self.table} t {self.join} "
            f"WHERE {self.parent_sql} = p.parent{where} "
            f"ORDER BY {self.order_sql(request)} LIMIT ${len(params) - (1 if offset else 0)}{offset}) x"
        )
        result: dict[int, list[asyncpg.Record]] = defaultdict(list)
        for row in await ctx.db.fetch(sql, *params):
            result[row["_parent"]].append(row)
        return result

    async def _fetch_projected(
        self,
        ctx: Context,
        request: PageRequest,
        selection: LeafListSelection,
        parents: list[int],
        raw_json: bool,
    ) -> dict[int, Page]:
        """Pages whose items PostgreSQL built as JSON, one row per parent, but for the parents whose page has a
        row to read the Python way (see `json_leaves`).

        Per parent, the page's rows (`json_pages.page_rows`) are aggregated: the items of the page in order,
        how many rows there were (one more than asked tells of a next page), the cursors' keys when selected,
        and whether every value was exact.
        """
        if request.first == 0:
            empty = SerializedList((), selection.list_shape)
            return {parent: Page(rows=[], has_next=False, items=empty) for parent in parents}
        params: list[Any] = [list(dict.fromkeys(parents))]
        rows = page_rows(self, ctx, request, selection, "p.parent", params)
        params.append(request.first)
        in_page = f"FILTER (WHERE z._r <= ${len(params)})"
        aggregates = (
            f"(json_agg(z._v ORDER BY z._r) {in_page})::text AS _j, count(*) AS _n, bool_and(z._x) AS _x"
        )
        if selection.cursors:
            aggregates += (
                f", array_agg(z._s ORDER BY z._r) {in_page} AS _sorts"
                f", array_agg(z.id ORDER BY z._r) {in_page} AS _ids"
            )
        sql = (
            f"SELECT p.parent AS _parent, x.* FROM unnest($1::bigint[]) AS p(parent) "
            f"CROSS JOIN LATERAL (SELECT {aggregates} FROM ({rows}) z) x"
        )
        pages: dict[int, Page] = {}
        for row in await ctx.db.fetch(sql, *params):
            if row["_x"] is False:
                continue
            text = row["_j"]
            if text and raw_json:
                items = SerializedList((), selection.list_shape, text)
            else:
                items = SerializedList(orjson.loads(text) if text else (), selection.list_shape)
            page = Page(rows=[], has_next=row["_n"] > request.first, items=items)
            if selection.cursors and row["_ids"]:
                sorts, ids = row["_sorts"], row["_ids"]
                page.first_key, page.last_key = (sorts[0], ids[0]), (sorts[-1], ids[-1])
            pages[row["_parent"]] = page
        return pages

    async def _load_counts(self, ctx: Context, keys: list[tuple[int, tuple[Condition, ...]]]) -> list[int]:
        groups: dict[tuple[Condition, ...], list[int]] = defaultdict(list)
        for parent, conditions in keys:
            groups[conditions].append(parent)
        await wait_for_writes_to(
            ctx, {c.after_writes_to for group in groups for c in group if c.after_writes_to is not None}
        )
        found: dict[tuple[int, tuple[Condition, ...]], int] = {}
        for conditions, parents in groups.items():
            params: list[Any] = [list(dict.fromkeys(parents))]
            where = self._filters(ctx, conditions, params)
            sql = (
                f"SELECT {self.parent_sql} AS parent, count(*) AS n FROM {self.table} t {self.join} "
                f"WHERE {self.parent_sql} = ANY($1::bigint[]){where} GROUP BY 1"
            )
            counts = {row["parent"]: row["n"] for row in await ctx.db.fetch(sql, *params)}
            for parent in parents:
                found[(parent, conditions)] = counts.get(parent, 0)
        return [found[key] for key in keys]


@dataclass
class ById(Generic[T]):
    """Loads rows of `table` by primary key, scoped to the caller's account (and product)."""

    table: str
    columns: str
    make: Callable[[asyncpg.Record], T]
    product_column: str = "product_id"
    products_sql: str = ""
    permissions: tuple[Permission, ...] = (Permission.READ,)
    _batch: Any = field(init=False, repr=False)

    def __post_init__(self) -> None:
        async def batch(ctx: Context, ids: list[int]) -> list[T | None]:
            params: list[Any] = [list(dict.fromkeys(ids)), ctx.account_for(*self.permissions)]
            sql = f"SELECT {self.columns} FROM {self.table} t WHERE t.id = ANY($1::bigint[]) AND t.account_id = $2"
            sql += product_scope_sql(ctx, params, self.product_column, self.products_sql)
            rows = {row["id"]: self.make(row) for row in await ctx.db.fetch(sql, *params)}
            return [rows.get(i) for i in ids]

        self._batch = batch

    async def load(self, ctx: Context, pk: int | None) -> T | None:
        if pk is None:
            return None
        return await ctx.loader(self._batch).load(pk)

    def load_now(self, ctx: Context, pk: int, what: str) -> T | Awaitable[T]:
        """For prefetchable resolvers of a relation that must exist (`what` names it when it does not): the
        object at once when loaded already, else an awaitable of it; while the executor prefetches, the load is
        only registered (`ctx.prefetch`) and None returned, as `Listing.connection_now` does for pages."""
        loader = ctx.loader(self._batch)
        if ctx.capture is not None:  # a listing asking how a child connection loads: this is none
            raise TypeError("not a connection")
        if ctx.prefetch is not None:
            ctx.prefetch.append(loader.load(pk))
            return cast(T, None)
        loaded = loader.cache_map.get(pk)
        if loaded is not None and loaded.done() and not loaded.cancelled() and loaded.exception() is None:
            return found(loaded.result(), what)
        return self._found(ctx, pk, what)

    async def _found(self, ctx: Context, pk: int, what: str) -> T:
        return found(await self.load(ctx, pk), what)

    async def load_many(self, ctx: Context, pks: list[int]) -> list[T | None]:
        return list(await ctx.loader(self._batch).load_many(pks))
