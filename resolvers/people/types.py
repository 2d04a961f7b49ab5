"""People in the graph: a person's identities and property values, loaded per person in one statement each.

A person is a `Device` ("device or person", resolvers/devices/types.py); the data model is described in
migration 020 and `gateway/ingest/people.py`. Identities are case-insensitive names of a person, unique per
product; property values are kept per system of records (`source`, 'global' unless a vendor keeps several)
with the time they were set. Every vendor reads the same rows: KISSmetrics' people searches, Countly's user
details, FollowAnalytics' profiles.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

import asyncpg
import strawberry
from strawberry.scalars import JSON

from gateway.ingest.people import DEFAULT_SOURCE
from resolvers.context import Context


@strawberry.type(description="A name a product knows a person by (case-insensitive, unique per product).")
class Identity:
    identity: str = strawberry.field(description="As it was first sent.")
    kind: str = strawberry.field(
        description="`primary`: the person's own id; `alias`: a name it gained by an alias or a merge."
    )
    created_at: datetime


@strawberry.type(description="A person's current value of one property.")
class PropertyValue:
    name: str = strawberry.field(
        description="The property's name, in lower case (names are case-insensitive)."
    )
    source: str = strawberry.field(
        description="The system of records the value belongs to (`global` by default)."
    )
    value: JSON = strawberry.field(description="As sent: text, a number, a boolean, or a list (a set).")
    number: float | None = strawberry.field(description="The value as a number, when it reads as one.")
    set_at: datetime = strawberry.field(description="When the value was set (the sender's time).")
    updated_at: datetime = strawberry.field(description="When the gateway stored it.")

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> PropertyValue:
        return cls(
            name=row["name"],
            source=row["source"],
            value=row["value"],
            number=row["number"],
            set_at=row["set_at"],
            updated_at=row["updated_at"],
        )


def _scope(ctx: Context, params: list[Any]) -> str:
    """The caller's account (and product, for a product-bound credential), values appended to `params`."""
    params.append(ctx.account_id)
    sql = f" AND t.account_id = ${len(params)}"
    if ctx.product_scope is not None:
        params.append(list(ctx.product_scope))
        sql += f" AND t.product_id = ANY(${len(params)}::bigint[])"
    return sql


async def _identities(ctx: Context, person_ids: list[int]) -> list[list[Identity]]:
    params: list[Any] = [list(set(person_ids))]
    rows = await ctx.db.fetch(
        "SELECT t.person_id, t.identity, t.kind, t.created_at FROM person_identities t "
        f"WHERE t.person_id = ANY($1::bigint[]){_scope(ctx, params)} ORDER BY t.person_id, t.created_at, t.key",
        *params,
    )
    found: dict[int, list[Identity]] = defaultdict(list)
    for row in rows:
        found[row["person_id"]].append(
            Identity(identity=row["identity"], kind=row["kind"], created_at=row["created_at"])
        )
    return [found.get(pk, []) for pk in person_ids]


async def _property_values(ctx: Context, person_ids: list[int]) -> list[list[PropertyValue]]:
    params: list[Any] = [list(set(person_ids))]
    rows = await ctx.db.fetch(
        "SELECT t.person_id, t.name, t.source, t.value, t.number, t.set_at, t.updated_at FROM person_properties t "
        f"WHERE t.person_id = ANY($1::bigint[]){_scope(ctx, params)} ORDER BY t.person_id, t.source, t.name",
        *params,
    )
    found: dict[int, list[PropertyValue]] = defaultdict(list)
    for row in rows:
        found[row["person_id"]].append(PropertyValue.from_row(row))
    return [found.get(pk, []) for pk in person_ids]


async def load_identities(ctx: Context, person_id: int) -> list[Identity]:
    return await ctx.loader(_identities).load(person_id)


async def load_property_values(ctx: Context, person_id: int, source: str | None) -> list[PropertyValue]:
    """A person's property values of one system of records (every one when `source` is None)."""
    values = await ctx.loader(_property_values).load(person_id)
    return values if source is None else [v for v in values if v.source == source]


async def load_properties_object(ctx: Context, person_id: int) -> dict[str, Any]:
    """A person's global property values as one object, name -> value (Countly's user details)."""
    return {v.name: v.value for v in await load_property_values(ctx, person_id, DEFAULT_SOURCE)}
