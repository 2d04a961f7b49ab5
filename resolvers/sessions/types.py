"""The Session type: one visit of a device, from its start through its heartbeats to its end."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import asyncpg
import strawberry

from gateway.execution.fast_path import prefetchable
from resolvers import json_leaves
from resolvers.context import Context, ctx_of
from resolvers.devices.types import latest_alias_of
from resolvers.errors import found
from resolvers.node import Node, register_node
from resolvers.pagination import ById, Connection, Listing, Order, page_request

if TYPE_CHECKING:
    from resolvers.devices.types import Device
    from resolvers.events.types import Event
    from resolvers.products.types import Product


@strawberry.federation.type(keys=["id"], description="A session of a device.")
class Session(Node):
    product_pk: strawberry.Private[int]
    device_pk: strawberry.Private[int]
    started_at: datetime
    duration: int = strawberry.field(description="Seconds, from the heartbeats the SDK sent.")
    ended_at: datetime | None = strawberry.field(description="Null while the session is open.")

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> Session:
        return cls(
            pk=row["id"],
            product_pk=row["product_id"],
            device_pk=row["device_id"],
            started_at=row["started_at"],
            duration=row["duration"],
            ended_at=row["ended_at"],
        )

    @strawberry.field(description="The device of the session.")
    async def device(
        self, info: strawberry.Info
    ) -> Annotated[Device, strawberry.lazy("resolvers.devices.types")]:
        from resolvers.devices.types import load_device

        return found(await load_device(ctx_of(info), self.device_pk), "Device")

    @strawberry.field(description="The id the session's device sent (its `Device.deviceId`).")
    async def device_id(self, info: strawberry.Info) -> str:
        from resolvers.devices.types import load_device

        return found(await load_device(ctx_of(info), self.device_pk), "Device").device_id

    @strawberry.field(
        description="The user the session's person is known by now: its newest alias (a device's current user, "
        "`Device.latestAlias`); null when it has none."
    )
    async def user_id(self, info: strawberry.Info) -> str | None:
        from resolvers.devices.types import load_latest_alias

        return await load_latest_alias(ctx_of(info), self.device_pk)

    @strawberry.field(description="The product of the session.")
    async def product(
        self, info: strawberry.Info
    ) -> Annotated[Product, strawberry.lazy("resolvers.products.types")]:
        from resolvers.products.types import load_product

        return found(await load_product(ctx_of(info), self.product_pk), "Product")

    @strawberry.field(description="Events recorded during the session, newest first.")
    @prefetchable
    def events(
        self, info: strawberry.Info, first: int | None = None, after: str | None = None
    ) -> Connection[Annotated[Event, strawberry.lazy("resolvers.events.types")]]:
        from resolvers.events.types import EVENT_ORDER, SESSION_EVENTS

        ctx = ctx_of(info)
        return SESSION_EVENTS.connection_now(ctx, self.pk, page_request(ctx, first, after, EVENT_ORDER), info)


SESSION_COLUMNS = "t.id, t.product_id, t.device_id, t.started_at, t.duration, t.ended_at"
SESSION_ORDER = Order("t.started_at", kind=datetime)
SESSION_JSON = {
    "id": json_leaves.global_id("Session"),
    "startedAt": json_leaves.timestamp("t.started_at"),
    "duration": json_leaves.integer("t.duration"),
    "endedAt": json_leaves.timestamp("t.ended_at"),
    "deviceId": json_leaves.device_key("t.device_id", required=True),
    "userId": latest_alias_of("t.device_id"),
}
SESSION_CURSORS = {"t.started_at": json_leaves.timestamp_cursor_value("t.started_at")}
PRODUCT_SESSIONS = Listing(
    "sessions",
    "product_id",
    SESSION_COLUMNS,
    Session.from_row,
    json_leaves=SESSION_JSON,
    json_cursors=SESSION_CURSORS,
)
DEVICE_SESSIONS = Listing(
    "sessions",
    "device_id",
    SESSION_COLUMNS,
    Session.from_row,
    json_leaves=SESSION_JSON,
    json_cursors=SESSION_CURSORS,
)
SESSION_BY_ID = ById("sessions", SESSION_COLUMNS, Session.from_row)


async def load_session(ctx: Context, pk: int) -> Session | None:
    return await SESSION_BY_ID.load(ctx, pk)


register_node("Session", load_session)
