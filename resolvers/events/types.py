"""The Event type: one occurrence of an event; a pageview is an event with a path, title and referrer."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import asyncpg
import strawberry
from strawberry.scalars import JSON

from gateway.execution.fast_path import cheap_field
from resolvers import json_leaves
from resolvers.context import Context, ctx_of
from resolvers.devices.types import latest_alias_of
from resolvers.errors import found
from resolvers.node import Node, register_node, to_global_id
from resolvers.pagination import ById, Listing, Order

if TYPE_CHECKING:
    from resolvers.devices.types import Device
    from resolvers.products.types import Product
    from resolvers.sessions.types import Session


@strawberry.federation.type(keys=["id"], description="One occurrence of an event (or a pageview).")
class Event(Node):
    product_pk: strawberry.Private[int]
    device_pk: strawberry.Private[int | None]
    session_pk: strawberry.Private[int | None]
    key: str
    count: int
    sum: float | None
    duration: float | None = strawberry.field(description="Seconds the event lasted, if the SDK timed it.")
    # the segmentation as stored (JSON text), decoded only when a client selects it
    segmentation_text_stored: strawberry.Private[str | None]
    timestamp: datetime
    path: str | None = strawberry.field(description="Pageviews: the page's path.")
    title: str | None
    referrer: str | None

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> Event:
        return cls(
            pk=row["id"],
            product_pk=row["product_id"],
            device_pk=row["device_id"],
            session_pk=row["session_id"],
            key=row["key"],
            count=row["count"],
            sum=row["sum"],
            duration=row["duration"],
            segmentation_text_stored=row["segmentation"],
            timestamp=row["occurred_at"],
            path=row["path"],
            title=row["title"],
            referrer=row["referrer"],
        )

    @strawberry.field(description="Segmentation key → value pairs sent with the event.")
    @cheap_field
    def segmentation(self) -> JSON | None:
        return None if self.segmentation_text_stored is None else json.loads(self.segmentation_text_stored)

    @strawberry.field(description="The id the event's device sent (its `Device.deviceId`).")
    async def device_id(self, info: strawberry.Info) -> str | None:
        from resolvers.devices.types import load_device

        device = None if self.device_pk is None else await load_device(ctx_of(info), self.device_pk)
        return None if device is None else device.device_id

    @strawberry.field(
        description="The user the event's person is known by now: its newest alias (a device's current user, "
        "`Device.latestAlias`); null when it has none. The gateway records which person did something, not "
        "which of its users was signed in then."
    )
    async def user_id(self, info: strawberry.Info) -> str | None:
        from resolvers.devices.types import load_latest_alias

        return await load_latest_alias(ctx_of(info), self.device_pk)

    @strawberry.field(description="The id of the session the event happened in, if any.")
    @cheap_field
    def session_id(self) -> strawberry.ID | None:
        return None if self.session_pk is None else to_global_id("Session", self.session_pk)

    @strawberry.field(
        description="The segmentation as the JSON text the gateway stores (for clients that pass it on as it is)."
    )
    @cheap_field
    def segmentation_text(self) -> str | None:
        return self.segmentation_text_stored

    @strawberry.field(description="Whether this occurrence is a pageview.")
    @cheap_field
    def is_pageview(self) -> bool:
        return self.path is not None

    @strawberry.field(description="The device that sent the event.")
    async def device(
        self, info: strawberry.Info
    ) -> Annotated[Device, strawberry.lazy("resolvers.devices.types")] | None:
        from resolvers.devices.types import load_device

        return None if self.device_pk is None else await load_device(ctx_of(info), self.device_pk)

    @strawberry.field(description="The session the event happened in, if any.")
    async def session(
        self, info: strawberry.Info
    ) -> Annotated[Session, strawberry.lazy("resolvers.sessions.types")] | None:
        from resolvers.sessions.types import load_session

        return None if self.session_pk is None else await load_session(ctx_of(info), self.session_pk)

    @strawberry.field(description="The product that received the event.")
    async def product(
        self, info: strawberry.Info
    ) -> Annotated[Product, strawberry.lazy("resolvers.products.types")]:
        from resolvers.products.types import load_product

        return found(await load_product(ctx_of(info), self.product_pk), "Product")


EVENT_COLUMNS = (
    "t.id, t.product_id, t.device_id, t.session_id, t.key, t.count, t.sum, t.duration, t.segmentation::text AS segmentation, "
    "t.occurred_at, t.path, t.title, t.referrer"
)
EVENT_ORDER = Order("t.occurred_at", kind=datetime)
# sum, duration (floats) and segmentation (JSON) are built the Python way: see resolvers.json_leaves
EVENT_JSON = {
    "id": json_leaves.global_id("Event"),
    "key": json_leaves.text("t.key"),
    "count": json_leaves.integer("t.count"),
    "timestamp": json_leaves.timestamp("t.occurred_at"),
    "path": json_leaves.text("t.path"),
    "title": json_leaves.text("t.title"),
    "referrer": json_leaves.text("t.referrer"),
    "isPageview": json_leaves.flag("t.path IS NOT NULL"),
    "deviceId": json_leaves.device_key("t.device_id"),
    "userId": latest_alias_of("t.device_id"),
    "sessionId": json_leaves.global_id("Session", "t.session_id"),
    "segmentationText": json_leaves.text("t.segmentation::text"),
}
EVENT_CURSORS = {"t.occurred_at": json_leaves.timestamp_cursor_value("t.occurred_at")}
PRODUCT_EVENTS = Listing(
    "events", "product_id", EVENT_COLUMNS, Event.from_row, json_leaves=EVENT_JSON, json_cursors=EVENT_CURSORS
)
DEVICE_EVENTS = Listing(
    "events", "device_id", EVENT_COLUMNS, Event.from_row, json_leaves=EVENT_JSON, json_cursors=EVENT_CURSORS
)
SESSION_EVENTS = Listing(
    "events", "session_id", EVENT_COLUMNS, Event.from_row, json_leaves=EVENT_JSON, json_cursors=EVENT_CURSORS
)
EVENT_BY_ID = ById("events", EVENT_COLUMNS, Event.from_row)


async def load_event(ctx: Context, pk: int) -> Event | None:
    return await EVENT_BY_ID.load(ctx, pk)


register_node("Event", load_event)
