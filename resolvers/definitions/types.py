"""Event and property definitions: the names a product has seen, with usage and editable descriptions."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import asyncpg
import strawberry

from resolvers.context import Context, ctx_of
from resolvers.errors import found
from resolvers.node import Node, register_node
from resolvers.pagination import ById, Listing, Order

if TYPE_CHECKING:
    from resolvers.products.types import Product


@strawberry.type(description="An event name a product has received, with its totals and documentation.")
class EventDefinition(Node):
    product_pk: strawberry.Private[int]
    name: str
    display_name: str | None
    description: str | None
    visible: bool
    total: float = strawberry.field(description="Sum of the counts of every occurrence.")
    first_used: datetime | None
    last_used: datetime | None

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> EventDefinition:
        return cls(
            pk=row["id"],
            product_pk=row["product_id"],
            name=row["name"],
            display_name=row["display_name"],
            description=row["description"],
            visible=row["visible"],
            total=float(row["total"]),
            first_used=row["first_used"],
            last_used=row["last_used"],
        )

    @strawberry.field(description="The product of the definition.")
    async def product(
        self, info: strawberry.Info
    ) -> Annotated[Product, strawberry.lazy("resolvers.products.types")]:
        from resolvers.products.types import load_product

        return found(await load_product(ctx_of(info), self.product_pk), "Product")


@strawberry.type(description="A property: a segmentation key of events, or a user detail of devices.")
class PropertyDefinition(Node):
    product_pk: strawberry.Private[int]
    scope: str = strawberry.field(description="`event` for segmentation keys, `device` for user details.")
    name: str
    display_name: str | None
    description: str | None
    data_type: str
    first_seen: datetime | None
    last_seen: datetime | None

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> PropertyDefinition:
        return cls(
            pk=row["id"],
            product_pk=row["product_id"],
            scope=row["scope"],
            name=row["name"],
            display_name=row["display_name"],
            description=row["description"],
            data_type=row["data_type"],
            first_seen=row["first_seen"],
            last_seen=row["last_seen"],
        )


EVENT_DEFINITION_COLUMNS = (
    "t.id, t.product_id, t.name, t.display_name, t.description, t.visible, t.total, t.first_used, t.last_used"
)
PROPERTY_COLUMNS = "t.id, t.product_id, t.scope, t.name, t.display_name, t.description, t.data_type, t.first_seen, t.last_seen"
DEFINITION_ORDER = Order("t.id", descending=False)
PROPERTY_ORDER = Order("t.id", descending=False)
EVENT_DEFINITIONS = Listing(
    "event_definitions", "product_id", EVENT_DEFINITION_COLUMNS, EventDefinition.from_row
)
PROPERTY_DEFINITIONS = Listing(
    "property_definitions", "product_id", PROPERTY_COLUMNS, PropertyDefinition.from_row
)
EVENT_DEFINITION_BY_ID = ById("event_definitions", EVENT_DEFINITION_COLUMNS, EventDefinition.from_row)
PROPERTY_BY_ID = ById("property_definitions", PROPERTY_COLUMNS, PropertyDefinition.from_row)


async def load_event_definition(ctx: Context, pk: int) -> EventDefinition | None:
    return await EVENT_DEFINITION_BY_ID.load(ctx, pk)


async def load_property_definition(ctx: Context, pk: int) -> PropertyDefinition | None:
    return await PROPERTY_BY_ID.load(ctx, pk)


register_node("EventDefinition", load_event_definition)
register_node("PropertyDefinition", load_property_definition)
