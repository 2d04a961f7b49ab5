"""Relay global ids and the `Node` interface: every object of the graph can be fetched by its id.

A global id is base64("TypeName:primary key"). Each domain registers how to load its type by primary key;
`node(id:)` and federation's `_entities` both go through that registry, and therefore through the same
account-scoped DataLoaders as every nested field.
"""

from __future__ import annotations

import base64
import binascii
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

import strawberry

from gateway.execution.fast_path import cheap_field
from resolvers.context import Context

NodeFetcher = Callable[[Context, int], Awaitable[Any]]
_fetchers: dict[str, NodeFetcher] = {}


class InvalidId(ValueError):
    """A string that is not a global id of this graph."""


def to_global_id(type_name: str, pk: int) -> strawberry.ID:
    return strawberry.ID(base64.b64encode(f"{type_name}:{pk}".encode()).decode("ascii"))


def from_global_id(global_id: str) -> tuple[str, int]:
    """(type name, primary key) of a global id; raises InvalidId for anything else."""
    try:
        decoded = base64.b64decode(global_id.encode("ascii"), validate=True).decode("utf-8")
        type_name, _, pk = decoded.partition(":")
        # primary keys are bigints: a longer number names nothing (and would overflow the statement's parameter)
        if not type_name or not pk.isdigit() or len(pk) > 19 or int(pk) > 2**63 - 1:
            raise InvalidId(global_id)
        return type_name, int(pk)
    except (binascii.Error, UnicodeError, ValueError) as exc:
        raise InvalidId(f"Not a valid id: {global_id!r}") from exc


def pk_of(global_id: str, expected_type: str) -> int:
    """The primary key of a global id that must name `expected_type`."""
    type_name, pk = from_global_id(global_id)
    if type_name != expected_type:
        raise InvalidId(f"Id {global_id!r} is not a {expected_type} id")
    return pk


def register_node(type_name: str, fetcher: NodeFetcher) -> None:
    _fetchers[type_name] = fetcher


async def fetch_node(ctx: Context, global_id: str) -> Any:
    """The object a global id names, if it exists and the caller may see it; else None."""
    try:
        type_name, pk = from_global_id(global_id)
    except InvalidId:
        return None
    fetcher = _fetchers.get(type_name)
    if fetcher is None:
        return None
    return await fetcher(ctx, pk)


# the tables whose rows have a UUID, and the type each row is
_UUID_TABLES = (
    ("accounts", "Account", "id"),
    ("products", "Product", "account_id"),
    ("reports", "Report", "account_id"),
    ("report_runs", "ReportRun", "account_id"),
    ("event_definitions", "EventDefinition", "account_id"),
    ("property_definitions", "PropertyDefinition", "account_id"),
)
_BY_UUID = " UNION ALL ".join(
    f"SELECT '{type_name}' AS type_name, id FROM {table} WHERE uuid = $1 AND {account} = $2"
    for table, type_name, account in _UUID_TABLES
)


# (account, UUID) -> (type name, id) of objects found by UUID, the most recent last. A UUID names one object
# of one account for good (objects do not move between accounts, UUIDs are not reused), so a process keeps
# where it found one: the REST shims name every object by UUID, several times a request for the Query API's
# polls. A deleted object's loader then finds nothing, as for any stale id; an unknown UUID is not kept.
_FOUND_BY_UUID: OrderedDict[tuple[int, UUID], tuple[str, int]] = OrderedDict()
MAX_FOUND_BY_UUID = 10_000


async def fetch_by_uuid(ctx: Context, uuid: UUID) -> Any:
    """The caller's object with this UUID (one statement to find it the first time, then its type's loader),
    or None."""
    key = (ctx.account_id, uuid)
    found = _FOUND_BY_UUID.get(key)
    if found is None:
        row = await ctx.db.fetchrow(_BY_UUID, uuid, ctx.account_id)
        if row is None:
            return None
        found = _FOUND_BY_UUID[key] = (row["type_name"], row["id"])
        if len(_FOUND_BY_UUID) > MAX_FOUND_BY_UUID:
            _FOUND_BY_UUID.popitem(last=False)
    else:
        _FOUND_BY_UUID.move_to_end(key)
    return await _fetchers[found[0]](ctx, found[1])


@strawberry.interface(description="An object with a global id, fetchable with `node(id:)`.")
class Node:
    pk: strawberry.Private[int]

    @strawberry.field(description="The object's global id.")
    @cheap_field
    def id(self) -> strawberry.ID:
        return to_global_id(type(self).__name__, self.pk)

    @classmethod
    async def resolve_reference(cls, info: strawberry.Info, id: strawberry.ID) -> Any:
        """Federation's entity lookup: the same account-scoped loaders as `node(id:)`."""
        found = await fetch_node(info.context, id)
        return found if isinstance(found, cls) else None
