"""The Device type: a device id or a person, with first/last seen and its latest metrics."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

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
    from resolvers.products.types import Product
    from resolvers.sessions.types import Session


@strawberry.federation.type(keys=["id"], description="A device or person seen by a product.")
class Device(Node):
    product_pk: strawberry.Private[int]
    device_id: str = strawberry.field(
        description="The id the SDK sent (Countly device_id, KISSmetrics person)."
    )
    first_seen: datetime
    last_seen: datetime
    os: str | None
    os_version: str | None
    device: str | None = strawberry.field(description="Device model.")
    resolution: str | None
    carrier: str | None
    app_version: str | None
    locale: str | None
    country: str | None
    city: str | None
    properties: JSON = strawberry.field(description="Custom properties and user details.")

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> Device:
        return cls(
            pk=row["id"],
            product_pk=row["product_id"],
            device_id=row["device_key"],
            first_seen=row["first_seen"],
            last_seen=row["last_seen"],
            os=row["os"],
            os_version=row["os_version"],
            device=row["device"],
            resolution=row["resolution"],
            carrier=row["carrier"],
            app_version=row["app_version"],
            locale=row["locale"],
            country=row["country"],
            city=row["city"],
            properties=row["properties"],
        )

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
    "t.carrier, t.app_version, t.locale, t.country, t.city, t.properties"
)
DEVICE_ORDER = Order("t.last_seen", kind=datetime)
# properties (JSON) is built the Python way: see resolvers.json_leaves
DEVICE_JSON = {
    "id": json_leaves.global_id("Device"),
    "deviceId": json_leaves.text("t.device_key"),
    "firstSeen": json_leaves.timestamp("t.first_seen"),
    "lastSeen": json_leaves.timestamp("t.last_seen"),
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
DEVICE_BY_ID = ById("devices", DEVICE_COLUMNS, Device.from_row)


async def load_device(ctx: Context, pk: int) -> Device | None:
    return await DEVICE_BY_ID.load(ctx, pk)


register_node("Device", load_device)
