"""The Segment type: a named filter over device attributes whose members the graph can list."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import asyncpg
import strawberry

from resolvers.context import Context, ctx_of
from resolvers.errors import UserError, found
from resolvers.node import Node, register_node
from resolvers.pagination import ById, Condition, Connection, Listing, Order, page_request

if TYPE_CHECKING:
    from resolvers.devices.types import Device
    from resolvers.products.types import Product

# filter field (GraphQL name) -> device column; the only columns a segment may filter on
SEGMENT_ATTRIBUTES: dict[str, str] = {
    "os": "os",
    "osVersion": "os_version",
    "device": "device",
    "resolution": "resolution",
    "carrier": "carrier",
    "appVersion": "app_version",
    "locale": "locale",
    "country": "country",
    "city": "city",
}


@strawberry.input(
    description="Device attributes a segment matches; each listed attribute must be one of its values."
)
class SegmentFilterInput:
    os: list[str] | None = None
    os_version: list[str] | None = None
    device: list[str] | None = None
    resolution: list[str] | None = None
    carrier: list[str] | None = None
    app_version: list[str] | None = None
    locale: list[str] | None = None
    country: list[str] | None = None
    city: list[str] | None = None

    def to_json(self) -> dict[str, list[str]]:
        result: dict[str, list[str]] = {}
        for name, column in SEGMENT_ATTRIBUTES.items():
            values = getattr(self, column)
            if values is not None:
                if len(values) > 1000 or any(len(v) > 1000 for v in values):
                    raise UserError(f"Segment filter `{name}` is too large")
                result[column] = list(values)
        return result


@strawberry.type(description="The device attributes a segment matches (null: any value).")
class SegmentFilter:
    os: list[str] | None
    os_version: list[str] | None
    device: list[str] | None
    resolution: list[str] | None
    carrier: list[str] | None
    app_version: list[str] | None
    locale: list[str] | None
    country: list[str] | None
    city: list[str] | None

    @classmethod
    def from_json(cls, stored: dict[str, Any]) -> SegmentFilter:
        return cls(**{column: stored.get(column) for column in SEGMENT_ATTRIBUTES.values()})


@strawberry.federation.type(keys=["id"], description="A named group of a product's devices.")
class Segment(Node):
    account_pk: strawberry.Private[int]
    product_pk: strawberry.Private[int]
    identifier: str
    name: str
    filter: SegmentFilter
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> Segment:
        return cls(
            pk=row["id"],
            account_pk=row["account_id"],
            product_pk=row["product_id"],
            identifier=row["identifier"],
            name=row["name"],
            filter=SegmentFilter.from_json(row["filter"]),
            created_at=row["created_at"],
            updated_at=row["updated_at"],
        )

    @strawberry.field(description="The product whose devices the segment groups.")
    async def product(
        self, info: strawberry.Info
    ) -> Annotated[Product, strawberry.lazy("resolvers.products.types")]:
        from resolvers.products.types import load_product

        return found(await load_product(ctx_of(info), self.product_pk), "Product")

    @strawberry.field(description="The devices that match the segment's filter, most recently seen first.")
    async def devices(
        self,
        info: strawberry.Info,
        first: int | None = None,
        after: str | None = None,
        offset: Annotated[
            int | None, strawberry.argument(description="Devices skipped before the page (numbered pages).")
        ] = None,
    ) -> Connection[Annotated[Device, strawberry.lazy("resolvers.devices.types")]]:
        from resolvers.devices.types import DEVICE_ORDER

        ctx = ctx_of(info)
        request = page_request(ctx, first, after, DEVICE_ORDER, offset=offset)
        return await SEGMENT_MEMBERS.connection(ctx, self.pk, request, info)


def _matches(device: str) -> str:
    """Whether the device row `device` (an alias) matches the filter of the segment row `s`."""
    # the filter's values come from the stored segment row, never from the request's SQL text
    return " AND ".join(
        f"(NOT (s.filter ? '{column}') OR {device}.{column} IN (SELECT jsonb_array_elements_text(s.filter->'{column}')))"
        for column in SEGMENT_ATTRIBUTES.values()
    )


def _member_join() -> str:
    return (
        f"JOIN segments s ON s.product_id = t.product_id AND s.account_id = t.account_id AND {_matches('t')}"
    )


def segment_member_condition(device_column: str, segment_pks: list[int]) -> Condition:
    """A condition on a listed row (alias `t`) whose `device_column` must be a member of one of the segments."""
    return Condition(
        f"{device_column} IN (SELECT d.id FROM segments s JOIN devices d ON d.account_id = s.account_id "
        f"AND d.product_id = s.product_id AND {_matches('d')} "
        "WHERE s.id = ANY({}::bigint[]) AND s.account_id = t.account_id AND s.product_id = t.product_id)",
        tuple(segment_pks),
    )


def _members_listing() -> Listing[Device]:
    from resolvers.devices.types import DEVICE_COLUMNS, DEVICE_CURSORS, DEVICE_JSON, Device

    return Listing(
        "devices",
        "s.id",
        DEVICE_COLUMNS,
        Device.from_row,
        join=_member_join(),
        json_leaves=DEVICE_JSON,
        json_cursors=DEVICE_CURSORS,
    )


SEGMENT_COLUMNS = (
    "t.id, t.account_id, t.product_id, t.identifier, t.name, t.filter, t.created_at, t.updated_at"
)
SEGMENT_ORDER = Order("t.id", descending=False)
ACCOUNT_SEGMENTS = Listing("segments", "account_id", SEGMENT_COLUMNS, Segment.from_row)
PRODUCT_SEGMENTS = Listing("segments", "product_id", SEGMENT_COLUMNS, Segment.from_row)
SEGMENT_MEMBERS = _members_listing()
SEGMENT_BY_ID = ById("segments", SEGMENT_COLUMNS, Segment.from_row)


async def load_segment(ctx: Context, pk: int) -> Segment | None:
    return await SEGMENT_BY_ID.load(ctx, pk)


register_node("Segment", load_segment)
