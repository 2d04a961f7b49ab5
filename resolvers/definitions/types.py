"""Event and property definitions: the names a product has seen, with usage and editable descriptions."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Annotated
from uuid import UUID

import asyncpg
import strawberry

from gateway.execution.fast_path import prefetchable
from resolvers.context import Context, ctx_of
from resolvers.node import Node, register_node
from resolvers.pagination import ById, Listing, Order

if TYPE_CHECKING:
    from resolvers.products.types import Product


@strawberry.enum(description="Which properties a list holds.")
class PropertyScope(enum.Enum):
    EVENT = "event"
    PERSON = "device"


@strawberry.type(description="An event name a product has received, with its totals and documentation.")
class EventDefinition(Node):
    product_pk: strawberry.Private[int]
    uuid: UUID = strawberry.field(description="A stable UUID (KISSmetrics' Core API shows it as `id`).")
    index: int = strawberry.field(
        description="A small stable number within the product (people searches use it)."
    )
    name: str
    display_name: str | None
    description: str | None
    visible: bool
    total: float = strawberry.field(description="Sum of the counts of every occurrence.")
    first_used: datetime | None = strawberry.field(description="The earliest occurrence's own time.")
    last_used: datetime | None = strawberry.field(description="The latest occurrence's own time.")
    first_sent: datetime | None = strawberry.field(description="When the gateway first received the name.")
    last_sent: datetime | None = strawberry.field(description="When the gateway last received the name.")

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> EventDefinition:
        return cls(
            pk=row["id"],
            product_pk=row["product_id"],
            uuid=row["uuid"],
            index=row["rank"],
            name=row["name"],
            display_name=row["display_name"],
            description=row["description"],
            visible=row["visible"],
            total=float(row["total"]),
            first_used=row["first_used"],
            last_used=row["last_used"],
            first_sent=row["first_sent"],
            last_sent=row["last_sent"],
        )

    @strawberry.field(description="The product of the definition.")
    @prefetchable
    def product(
        self, info: strawberry.Info
    ) -> Annotated[Product, strawberry.lazy("resolvers.products.types")]:
        # prefetchable: the products of a page of definitions are loaded at once, then read without an await
        from resolvers.products.types import PRODUCT_BY_ID

        return PRODUCT_BY_ID.load_now(ctx_of(info), self.product_pk, "Product")  # type: ignore[return-value]


@strawberry.type(
    description="A property: a segmentation key of events, or a property of people (user details, "
    "KISSmetrics properties, attributes)."
)
class PropertyDefinition(Node):
    product_pk: strawberry.Private[int]
    uuid: UUID = strawberry.field(description="A stable UUID (KISSmetrics' Core API shows it as `id`).")
    index: int = strawberry.field(
        description="A small stable number within the product and scope (people searches use it)."
    )
    scope: str = strawberry.field(
        description="`event` for segmentation keys, `device` for properties of people (names in lower case)."
    )
    name: str
    display_name: str | None
    description: str | None
    visible: bool
    data_type: str = strawberry.field(
        description='`number` when every value seen reads as a number (text such as "123" included), '
        "`string` when values of several types were seen, else `boolean` or `object`."
    )
    first_seen: datetime | None = strawberry.field(description="The earliest value's own time.")
    last_seen: datetime | None = strawberry.field(description="The latest value's own time.")
    first_sent: datetime | None = strawberry.field(description="When the gateway first received the name.")
    last_sent: datetime | None = strawberry.field(description="When the gateway last received the name.")

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> PropertyDefinition:
        return cls(
            pk=row["id"],
            product_pk=row["product_id"],
            uuid=row["uuid"],
            index=row["rank"],
            scope=row["scope"],
            name=row["name"],
            display_name=row["display_name"],
            description=row["description"],
            visible=row["visible"],
            data_type=row["data_type"],
            first_seen=row["first_seen"],
            last_seen=row["last_seen"],
            first_sent=row["first_sent"],
            last_sent=row["last_sent"],
        )

    @strawberry.field(description="The product of the definition.")
    @prefetchable
    def product(
        self, info: strawberry.Info
    ) -> Annotated[Product, strawberry.lazy("resolvers.products.types")]:
        # prefetchable: the products of a page of definitions are loaded at once, then read without an await
        from resolvers.products.types import PRODUCT_BY_ID

        return PRODUCT_BY_ID.load_now(ctx_of(info), self.product_pk, "Product")  # type: ignore[return-value]


# `index` is the definition's rank by id in its product (definitions are only ever added): one probe of the
# (product_id, id) index per row. Lists compute it for their page's rows only (`Listing.page_columns`).
def _event_rank(alias: str) -> str:
    return (
        f"(SELECT count(*) FROM event_definitions r WHERE r.product_id = {alias}.product_id "
        f"AND r.id <= {alias}.id)::int AS rank"
    )


def _property_rank(alias: str) -> str:
    return (
        f"(SELECT count(*) FROM property_definitions r WHERE r.product_id = {alias}.product_id "
        f"AND r.scope = {alias}.scope AND r.id <= {alias}.id)::int AS rank"
    )


EVENT_DEFINITION_FIELDS = (
    "t.id, t.product_id, t.uuid, t.name, t.display_name, t.description, t.visible, t.total, t.first_used, "
    "t.last_used, t.first_sent, t.last_sent"
)
PROPERTY_FIELDS = (
    "t.id, t.product_id, t.uuid, t.scope, t.name, t.display_name, t.description, t.visible, t.data_type, "
    "t.first_seen, t.last_seen, t.first_sent, t.last_sent"
)
EVENT_DEFINITION_COLUMNS = f"{EVENT_DEFINITION_FIELDS}, {_event_rank('t')}"
PROPERTY_COLUMNS = f"{PROPERTY_FIELDS}, {_property_rank('t')}"
DEFINITION_ORDER = Order("t.id", descending=False)
PROPERTY_ORDER = Order("t.id", descending=False)


EVENT_DEFINITIONS = Listing(
    "event_definitions",
    "product_id",
    EVENT_DEFINITION_FIELDS,
    EventDefinition.from_row,
    page_columns=_event_rank("x"),
)
PROPERTY_DEFINITIONS = Listing(
    "property_definitions",
    "product_id",
    PROPERTY_FIELDS,
    PropertyDefinition.from_row,
    page_columns=_property_rank("x"),
)
ACCOUNT_EVENT_DEFINITIONS = Listing(
    "event_definitions",
    "account_id",
    EVENT_DEFINITION_FIELDS,
    EventDefinition.from_row,
    page_columns=_event_rank("x"),
)
ACCOUNT_PROPERTY_DEFINITIONS = Listing(
    "property_definitions",
    "account_id",
    PROPERTY_FIELDS,
    PropertyDefinition.from_row,
    page_columns=_property_rank("x"),
)
EVENT_DEFINITION_BY_ID = ById("event_definitions", EVENT_DEFINITION_COLUMNS, EventDefinition.from_row)
PROPERTY_BY_ID = ById("property_definitions", PROPERTY_COLUMNS, PropertyDefinition.from_row)


async def load_event_definition(ctx: Context, pk: int) -> EventDefinition | None:
    return await EVENT_DEFINITION_BY_ID.load(ctx, pk)


async def load_property_definition(ctx: Context, pk: int) -> PropertyDefinition | None:
    return await PROPERTY_BY_ID.load(ctx, pk)


register_node("EventDefinition", load_event_definition)
register_node("PropertyDefinition", load_property_definition)
