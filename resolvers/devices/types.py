"""The Device type: a device or a person, with first/last seen, its latest metrics, its identities and properties.

A person is one row of `devices` (migration 020 describes the people model): its `deviceId` is its primary
identity, `identities` every name it is known by (aliases included), `propertyValues` its properties per
system of records (resolvers/people/types.py loads both, one statement per level)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import asyncpg
import strawberry
from strawberry.scalars import JSON
from strawberry.utils.str_converters import to_camel_case

from gateway.execution.fast_path import prefetchable
from gateway.ingest.rules import METRIC_COLUMNS
from resolvers import json_leaves
from resolvers.context import Context, ctx_of
from resolvers.errors import found
from resolvers.filters import TimeRange, time_conditions
from resolvers.node import Node, register_node
from resolvers.pagination import ById, Connection, Listing, Order, page_request

if TYPE_CHECKING:
    from resolvers.events.types import Event
    from resolvers.people.types import Identity, PropertyValue
    from resolvers.products.types import Product
    from resolvers.sessions.types import Session


@strawberry.federation.type(keys=["id"], description="A device or person seen by a product.")
class Device(Node):
    product_pk: strawberry.Private[int]
    device_id: str = strawberry.field(
        description="The person's primary identity: the id the SDK first sent (Countly device_id, KISSmetrics "
        "person)."
    )
    first_seen: datetime
    last_seen: datetime
    updated_at: datetime = strawberry.field(description="When anything about the person last changed.")
    os: str | None
    os_version: str | None
    device: str | None = strawberry.field(description="Device model.")
    resolution: str | None
    carrier: str | None
    app_version: str | None
    locale: str | None
    country: str | None
    city: str | None

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> Device:
        return cls(
            pk=row["id"],
            product_pk=row["product_id"],
            device_id=row["device_key"],
            first_seen=row["first_seen"],
            last_seen=row["last_seen"],
            updated_at=row["updated_at"],
            os=row["os"],
            os_version=row["os_version"],
            device=row["device"],
            resolution=row["resolution"],
            carrier=row["carrier"],
            app_version=row["app_version"],
            locale=row["locale"],
            country=row["country"],
            city=row["city"],
        )

    @strawberry.field(
        description="The person's global property values as one object, name → value (Countly's user details, "
        "KISSmetrics properties)."
    )
    async def properties(self, info: strawberry.Info) -> JSON:
        from resolvers.people.types import load_properties_object

        return await load_properties_object(ctx_of(info), self.pk)  # type: ignore[return-value]

    @strawberry.field(description="The person's property values, of one system of records or (null) of all.")
    async def property_values(
        self, info: strawberry.Info, source: str | None = "global"
    ) -> list[Annotated[PropertyValue, strawberry.lazy("resolvers.people.types")]]:
        from resolvers.people.types import load_property_values

        return await load_property_values(ctx_of(info), self.pk, source)

    @strawberry.field(description="Every name the product knows the person by, oldest first.")
    async def identities(
        self, info: strawberry.Info
    ) -> list[Annotated[Identity, strawberry.lazy("resolvers.people.types")]]:
        from resolvers.people.types import load_identities

        return await load_identities(ctx_of(info), self.pk)

    @strawberry.field(
        description="The names the person gained besides its own id (aliases: the users a device was known by), "
        "oldest first."
    )
    async def aliases(self, info: strawberry.Info) -> list[str]:
        from resolvers.people.types import load_identities

        return [i.identity for i in await load_identities(ctx_of(info), self.pk) if i.kind != "primary"]

    @strawberry.field(description="The newest of `aliases` (the device's current user), if any.")
    async def latest_alias(self, info: strawberry.Info) -> str | None:
        return await load_latest_alias(ctx_of(info), self.pk)

    @strawberry.field(
        description="The name the person is best known by: its newest alias (a device's current user), else its "
        "own id."
    )
    async def known_as(self, info: strawberry.Info) -> str:
        return await self.latest_alias(info) or self.device_id

    @strawberry.field(description="The product that saw the device.")
    async def product(
        self, info: strawberry.Info
    ) -> Annotated[Product, strawberry.lazy("resolvers.products.types")]:
        from resolvers.products.types import load_product

        return found(await load_product(ctx_of(info), self.product_pk), "Product")

    @strawberry.field(description="The device's sessions, newest first.")
    @prefetchable
    def sessions(
        self,
        info: strawberry.Info,
        first: int | None = None,
        after: str | None = None,
        period: TimeRange | None = None,
    ) -> Connection[Annotated[Session, strawberry.lazy("resolvers.sessions.types")]]:
        from resolvers.sessions.types import DEVICE_SESSIONS, SESSION_ORDER

        ctx = ctx_of(info)
        request = page_request(ctx, first, after, SESSION_ORDER, time_conditions("t.started_at", period))
        return DEVICE_SESSIONS.connection_now(ctx, self.pk, request, info)

    @strawberry.field(description="The device's events, newest first.")
    @prefetchable
    def events(
        self,
        info: strawberry.Info,
        first: int | None = None,
        after: str | None = None,
        period: TimeRange | None = None,
    ) -> Connection[Annotated[Event, strawberry.lazy("resolvers.events.types")]]:
        from resolvers.events.types import DEVICE_EVENTS, EVENT_ORDER

        ctx = ctx_of(info)
        request = page_request(ctx, first, after, EVENT_ORDER, time_conditions("t.occurred_at", period))
        return DEVICE_EVENTS.connection_now(ctx, self.pk, request, info)


DEVICE_COLUMNS = (
    "t.id, t.product_id, t.device_key, t.first_seen, t.last_seen, t.os, t.os_version, t.device, t.resolution, "
    "t.carrier, t.app_version, t.locale, t.country, t.city, t.updated_at"
)
DEVICE_ORDER = Order("t.last_seen", kind=datetime)
# properties (JSON) is built the Python way: see resolvers.json_leaves


def latest_alias_sql(person: str, account: str = "t.account_id") -> str:
    """The newest identity of the person `person` (an SQL expression of its id) besides its own id, its current
    user (ties: as `load_identities` orders them); null when it has none."""
    return (
        f"(SELECT i.identity FROM person_identities i WHERE i.account_id = {account} "
        f"AND i.person_id = {person} AND i.kind <> 'primary' ORDER BY i.created_at DESC, i.key DESC LIMIT 1)"
    )


def latest_alias_of(person: str) -> json_leaves.JsonLeaf:
    """`latest_alias_sql` as the leaf of rows pointing at a person (events, sessions: `userId`), looked up once
    per person of a page (`json_leaves.Lookup`)."""
    return json_leaves.looked_up(latest_alias_sql("{0}", "{1}"), person, "t.account_id")


LATEST_ALIAS_SQL = latest_alias_sql("t.id")
ALIASES_SQL = (
    "(SELECT COALESCE(jsonb_agg(i.identity ORDER BY i.created_at, i.key), '[]') FROM person_identities i "
    "WHERE i.account_id = t.account_id AND i.person_id = t.id AND i.kind <> 'primary')::text"
)
# a person's property values, per system of records: {source: {name: value}}
PROPERTIES_BY_SOURCE_SQL = (
    "(SELECT COALESCE(jsonb_object_agg(x.source, x.values ORDER BY x.source), '{}') FROM ("
    "SELECT pp.source, jsonb_object_agg(pp.name, pp.value ORDER BY pp.name) AS values FROM person_properties pp "
    "WHERE pp.account_id = t.account_id AND pp.person_id = t.id GROUP BY pp.source) AS x)::text"
)
DEVICE_JSON = {
    "id": json_leaves.global_id("Device"),
    "deviceId": json_leaves.text("t.device_key"),
    "firstSeen": json_leaves.timestamp("t.first_seen"),
    "lastSeen": json_leaves.timestamp("t.last_seen"),
    "updatedAt": json_leaves.timestamp("t.updated_at"),
    "latestAlias": json_leaves.JsonLeaf(LATEST_ALIAS_SQL),
    "knownAs": json_leaves.JsonLeaf(f"COALESCE({LATEST_ALIAS_SQL}, t.device_key)"),
    # the device's latest metric values, as the ingestion engine keeps them
    **{to_camel_case(name): json_leaves.text(f"t.{name}") for name in (*METRIC_COLUMNS, "country", "city")},
}
DEVICE_CURSORS = {"t.last_seen": json_leaves.timestamp_cursor_value("t.last_seen")}
PRODUCT_DEVICES = Listing(
    "devices",
    "product_id",
    DEVICE_COLUMNS,
    Device.from_row,
    json_leaves=DEVICE_JSON,
    json_cursors=DEVICE_CURSORS,
)
# every person of every product of the account (profiles span the account's apps)
ACCOUNT_PEOPLE = Listing(
    "devices",
    "account_id",
    DEVICE_COLUMNS,
    Device.from_row,
    json_leaves=DEVICE_JSON,
    json_cursors=DEVICE_CURSORS,
)
DEVICE_BY_ID = ById("devices", DEVICE_COLUMNS, Device.from_row)


async def load_device(ctx: Context, pk: int) -> Device | None:
    return await DEVICE_BY_ID.load(ctx, pk)


async def load_latest_alias(ctx: Context, pk: int | None) -> str | None:
    """The newest name a person gained besides its own id (its current user: `Device.latestAlias`), if any."""
    from resolvers.people.types import load_identities

    if pk is None:
        return None
    aliases = [i.identity for i in await load_identities(ctx, pk) if i.kind != "primary"]
    return aliases[-1] if aliases else None


async def _by_identity(ctx: Context, keys: list[tuple[int, str]]) -> list[Device | None]:
    params: list[Any] = [[k[0] for k in keys], [k[1] for k in keys], ctx.account_id]
    scope = ""
    if ctx.product_scope is not None:
        params.append(list(ctx.product_scope))
        scope = " AND t.product_id = ANY($4::bigint[])"
    rows = await ctx.db.fetch(
        f"""SELECT q.n, {DEVICE_COLUMNS}
            FROM unnest($1::bigint[], $2::text[]) WITH ORDINALITY AS q(product_id, identity, n)
            JOIN person_identities AS i
              ON i.account_id = $3 AND i.product_id = q.product_id AND i.key = lower(q.identity)
            JOIN devices AS t ON t.id = i.person_id AND t.account_id = $3{scope}""",
        *params,
    )
    found = {row["n"]: Device.from_row(row) for row in rows}
    return [found.get(n) for n in range(1, len(keys) + 1)]


async def load_device_by_identity(ctx: Context, product_pk: int, identity: str) -> Device | None:
    """The person a product knows by `identity` (case-insensitive)."""
    return await ctx.loader(_by_identity).load((product_pk, identity))


register_node("Device", load_device)
