"""The Product type: one concept for a Countly app, GoatCounter site, KISSmetrics product, FollowAnalytics app."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Annotated
from uuid import UUID

import asyncpg
import strawberry

from gateway.access.principal import ANY_PERMISSION, Permission
from gateway.execution.fast_path import prefetchable
from resolvers import json_leaves
from resolvers.context import Context, ctx_of
from resolvers.errors import NotFound, found
from resolvers.filters import (
    TimeRange,
    device_condition,
    device_ids_condition,
    identities_condition,
    time_conditions,
    user_ids_condition,
)
from resolvers.node import Node, register_node
from resolvers.pagination import ById, Condition, Connection, Listing, Order, page_request

if TYPE_CHECKING:
    from resolvers.accounts.types import Account
    from resolvers.analytics.types import ProductAnalytics
    from resolvers.definitions.types import EventDefinition, PropertyDefinition, PropertyScope
    from resolvers.devices.types import Device
    from resolvers.events.filters import EventFilter
    from resolvers.events.types import Event
    from resolvers.exports.types import Export
    from resolvers.people.filters import PeopleFilter
    from resolvers.products.sdk_health import SdkHealthDay
    from resolvers.reports.types import Report
    from resolvers.segments.types import Segment
    from resolvers.sessions.types import Session
    from resolvers.web.analytics import WebAnalytics


@strawberry.enum(description="Whether a product accepts incoming data.")
class ProductStatus(enum.Enum):
    ACTIVE = "active"
    PAUSED = "paused"


@strawberry.enum(description="Order of events in a list.")
class EventOrder(enum.Enum):
    NEWEST_FIRST = "newest"
    OLDEST_FIRST = "oldest"


@strawberry.federation.type(keys=["id"], description="An app or web site that sends analytics data.")
class Product(Node):
    account_pk: strawberry.Private[int]
    uuid: UUID = strawberry.field(description="A stable UUID (KISSmetrics' Core API shows it as `id`).")
    name: str
    url: str | None
    status: ProductStatus
    environment: str
    timezone: str = strawberry.field(description="IANA time zone in which the product's data is bucketed.")
    app_key: str = strawberry.field(description="The write key legacy SDKs send (Countly `app_key`).")
    site_code: str = strawberry.field(
        description="The site's code: a request whose `Host` starts with `<siteCode>.` counts for this product "
        "(web pages' hits, and the web analytics API)."
    )
    ignored_ips: list[str] = strawberry.field(
        description="IP addresses whose web hits are dropped (the owner's own visits, monitors)."
    )
    public: bool = strawberry.field(
        description="Whether the product's analytics may be read without a token: with its app key alone "
        "(Countly readers that send only `app_key`) and, for a site, by anyone (GoatCounter's public sites). "
        "Off by default: app keys ship inside apps and web pages."
    )
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> Product:
        return cls(
            pk=row["id"],
            account_pk=row["account_id"],
            uuid=row["uuid"],
            name=row["name"],
            url=row["url"],
            status=ProductStatus(row["status"]),
            environment=row["environment"],
            timezone=row["timezone"],
            app_key=row["app_key"],
            site_code=row["site_code"],
            ignored_ips=list(row["ignored_ips"]),
            public=row["public"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
        )

    @strawberry.field(description="Whether the product has received any session or event.")
    async def has_data(self, info: strawberry.Info) -> bool:
        return await ctx_of(info).loader(_products_with_data).load(self.pk)

    @strawberry.field(description="The account the product belongs to.")
    async def account(
        self, info: strawberry.Info
    ) -> Annotated[Account, strawberry.lazy("resolvers.accounts.types")]:
        from resolvers.accounts.types import load_account

        return found(await load_account(ctx_of(info), self.account_pk), "Account")

    @strawberry.field(
        description="Aggregated analytics (sessions, users, metrics, events) read from rollups."
    )
    def analytics(
        self, info: strawberry.Info
    ) -> Annotated[ProductAnalytics, strawberry.lazy("resolvers.analytics.types")]:
        from resolvers.analytics.types import ProductAnalytics

        ctx_of(info).require(Permission.STATS)
        return ProductAnalytics(account_id=self.account_pk, product_id=self.pk, timezone=self.timezone)

    @strawberry.field(
        description="Web analytics (pageviews, visitors, paths, referrers, browsers, systems, screen sizes, "
        "locations, languages, campaigns) read from rollups."
    )
    def web_analytics(
        self, info: strawberry.Info
    ) -> Annotated[WebAnalytics, strawberry.lazy("resolvers.web.analytics")]:
        from resolvers.web.analytics import WebAnalytics

        ctx_of(info).require(Permission.STATS)
        return WebAnalytics(account_id=self.account_pk, product_id=self.pk, timezone=self.timezone)

    @strawberry.field(description="When the product's first web hit was counted (null before any).")
    async def first_web_hit_at(self, info: strawberry.Info) -> datetime | None:
        from resolvers.products.hosts import load_first_web_hit

        return await load_first_web_hit(ctx_of(info), self.pk)

    @strawberry.field(
        description="Web hosts whose requests count for this product (its custom domains), in the order "
        "they were given; hosts are unique across all accounts."
    )
    async def hosts(self, info: strawberry.Info) -> list[str]:
        from resolvers.products.hosts import load_hosts

        return await load_hosts(ctx_of(info), self.pk)

    @strawberry.field(description="Sessions of the product, newest first.")
    @prefetchable
    def sessions(
        self,
        info: strawberry.Info,
        first: int | None = None,
        after: str | None = None,
        period: TimeRange | None = None,
        device: strawberry.ID | None = None,
        device_ids: Annotated[
            list[str] | None,
            strawberry.argument(description="Only the sessions of these devices, by the id their SDK sent."),
        ] = None,
        identities: Annotated[
            list[str] | None,
            strawberry.argument(description="Only the sessions of the people known by one of these names."),
        ] = None,
        user_ids: Annotated[
            list[str] | None,
            strawberry.argument(
                description="Only the sessions of the people whose current user (`Session.userId`) is one of these."
            ),
        ] = None,
        offset: Annotated[
            int | None, strawberry.argument(description="Sessions skipped before the page (numbered pages).")
        ] = None,
    ) -> Connection[Annotated[Session, strawberry.lazy("resolvers.sessions.types")]]:
        from resolvers.sessions.types import PRODUCT_SESSIONS, SESSION_ORDER

        ctx = ctx_of(info)
        conditions = time_conditions("t.started_at", period) + device_condition(device)
        conditions += device_ids_condition(device_ids) + identities_condition(identities)
        conditions += user_ids_condition(user_ids)
        request = page_request(ctx, first, after, SESSION_ORDER, conditions, offset=offset)
        return PRODUCT_SESSIONS.connection_now(ctx, self.pk, request, info)

    @strawberry.field(description="Event occurrences (pageviews included), newest first unless ordered.")
    @prefetchable
    def events(
        self,
        info: strawberry.Info,
        first: int | None = None,
        after: str | None = None,
        period: TimeRange | None = None,
        key: str | None = None,
        device: strawberry.ID | None = None,
        order_by: EventOrder = EventOrder.NEWEST_FIRST,
        where: Annotated[EventFilter, strawberry.lazy("resolvers.events.filters")] | None = None,
    ) -> Connection[Annotated[Event, strawberry.lazy("resolvers.events.types")]]:
        from resolvers.events.filters import list_conditions
        from resolvers.events.types import PRODUCT_EVENTS

        ctx = ctx_of(info)
        conditions = list_conditions(period, where) + device_condition(device)
        if key is not None:
            conditions.append(Condition("t.key = {}", key))
        order = Order("t.occurred_at", descending=order_by is EventOrder.NEWEST_FIRST, kind=datetime)
        request = page_request(ctx, first, after, order, conditions)
        return PRODUCT_EVENTS.connection_now(ctx, self.pk, request, info)

    @strawberry.field(
        description="Page `number` (from 1) of the product's events, `first` per page: numbered pages, as REST "
        "clients read them. The page's start is found from an hourly count of the stored events, without "
        "reading the events before it, so a deep page costs what the first does (filters by device, session or "
        "segment skip the rows before the page instead)."
    )
    async def event_page(
        self,
        info: strawberry.Info,
        number: int,
        first: int | None = None,
        period: TimeRange | None = None,
        order_by: EventOrder = EventOrder.NEWEST_FIRST,
        where: Annotated[EventFilter, strawberry.lazy("resolvers.events.filters")] | None = None,
    ) -> Connection[Annotated[Event, strawberry.lazy("resolvers.events.types")]]:
        from resolvers.events.pages import event_page

        return await event_page(ctx_of(info), self.pk, info, number, first, period, order_by, where)

    @strawberry.field(
        description="How many events the product has in `period` that match `where` (counted from the hourly "
        "page index unless filtered by device, session or segment)."
    )
    async def event_count(
        self,
        info: strawberry.Info,
        period: TimeRange | None = None,
        where: Annotated[EventFilter, strawberry.lazy("resolvers.events.filters")] | None = None,
    ) -> int:
        from resolvers.events.pages import event_count

        return await event_count(ctx_of(info), self.pk, period, where)

    @strawberry.field(description="Devices (people) seen by the product, most recently seen first.")
    @prefetchable
    def devices(
        self,
        info: strawberry.Info,
        first: int | None = None,
        after: str | None = None,
        last_seen: TimeRange | None = None,
        where: Annotated[PeopleFilter, strawberry.lazy("resolvers.people.filters")] | None = None,
        offset: Annotated[
            int | None, strawberry.argument(description="Devices skipped before the page (numbered pages).")
        ] = None,
    ) -> Connection[Annotated[Device, strawberry.lazy("resolvers.devices.types")]]:
        from resolvers.devices.types import DEVICE_ORDER, PRODUCT_DEVICES
        from resolvers.people.filters import people_conditions

        ctx = ctx_of(info)
        conditions = time_conditions("t.last_seen", last_seen) + people_conditions(where)
        request = page_request(ctx, first, after, DEVICE_ORDER, conditions, offset=offset)
        return PRODUCT_DEVICES.connection_now(ctx, self.pk, request, info)

    @strawberry.field(description="The person the product knows by this identity (case-insensitive), if any.")
    async def person(
        self, info: strawberry.Info, identity: str
    ) -> Annotated[Device, strawberry.lazy("resolvers.devices.types")] | None:
        from resolvers.devices.types import load_device_by_identity

        return await load_device_by_identity(ctx_of(info), self.pk, identity)

    @strawberry.field(description="Saved reports of the product.")
    @prefetchable
    def reports(
        self,
        info: strawberry.Info,
        first: int | None = None,
        after: str | None = None,
        offset: int | None = None,
    ) -> Connection[Annotated[Report, strawberry.lazy("resolvers.reports.types")]]:
        from resolvers.reports.types import PRODUCT_REPORTS, REPORT_ORDER

        ctx = ctx_of(info)
        request = page_request(ctx, first, after, REPORT_ORDER, offset=offset)
        return PRODUCT_REPORTS.connection_now(ctx, self.pk, request)

    @strawberry.field(description="Device segments of the product.")
    @prefetchable
    def segments(
        self, info: strawberry.Info, first: int | None = None, after: str | None = None
    ) -> Connection[Annotated[Segment, strawberry.lazy("resolvers.segments.types")]]:
        from resolvers.segments.types import PRODUCT_SEGMENTS, SEGMENT_ORDER

        ctx = ctx_of(info)
        return PRODUCT_SEGMENTS.connection_now(ctx, self.pk, page_request(ctx, first, after, SEGMENT_ORDER))

    @strawberry.field(description="Export jobs of the product.")
    @prefetchable
    def exports(
        self, info: strawberry.Info, first: int | None = None, after: str | None = None
    ) -> Connection[Annotated[Export, strawberry.lazy("resolvers.exports.types")]]:
        from resolvers.exports.types import EXPORT_ORDER, PRODUCT_EXPORTS

        ctx = ctx_of(info)
        return PRODUCT_EXPORTS.connection_now(ctx, self.pk, page_request(ctx, first, after, EXPORT_ORDER))

    @strawberry.field(description="Event names the product has received, in the order first received.")
    @prefetchable
    def event_definitions(
        self,
        info: strawberry.Info,
        first: int | None = None,
        after: str | None = None,
        offset: int | None = None,
    ) -> Connection[Annotated[EventDefinition, strawberry.lazy("resolvers.definitions.types")]]:
        from resolvers.definitions.types import DEFINITION_ORDER, EVENT_DEFINITIONS

        ctx = ctx_of(info)
        request = page_request(ctx, first, after, DEFINITION_ORDER, offset=offset)
        return EVENT_DEFINITIONS.connection_now(ctx, self.pk, request, info)

    @strawberry.field(
        description="What the product's SDKs reported about their own health (Countly's health checks), per "
        "day and SDK, newest first."
    )
    @prefetchable
    def sdk_health(
        self, info: strawberry.Info, first: int | None = None, after: str | None = None
    ) -> Connection[Annotated[SdkHealthDay, strawberry.lazy("resolvers.products.sdk_health")]]:
        from resolvers.products.sdk_health import PRODUCT_SDK_HEALTH, SDK_HEALTH_ORDER

        ctx = ctx_of(info)
        request = page_request(ctx, first, after, SDK_HEALTH_ORDER)
        return PRODUCT_SDK_HEALTH.connection_now(ctx, self.pk, request)

    @strawberry.field(
        description="Properties seen on events (segmentation keys) and people (user details, KISSmetrics "
        "properties), in the order first received; `scope` keeps one kind."
    )
    @prefetchable
    def properties(
        self,
        info: strawberry.Info,
        first: int | None = None,
        after: str | None = None,
        offset: int | None = None,
        scope: Annotated[PropertyScope, strawberry.lazy("resolvers.definitions.types")] | None = None,
    ) -> Connection[Annotated[PropertyDefinition, strawberry.lazy("resolvers.definitions.types")]]:
        from resolvers.definitions.types import PROPERTY_DEFINITIONS, PROPERTY_ORDER

        ctx = ctx_of(info)
        conditions = [] if scope is None else [Condition("t.scope = {}", scope.value)]
        request = page_request(ctx, first, after, PROPERTY_ORDER, conditions, offset=offset)
        return PROPERTY_DEFINITIONS.connection_now(ctx, self.pk, request, info)


PRODUCT_COLUMNS = (
    "t.id, t.account_id, t.uuid, t.name, t.url, t.status, t.environment, t.timezone, t.app_key, t.site_code, "
    "t.ignored_ips, t.public, t.created_at, t.updated_at"
)
PRODUCT_ORDER = Order("t.id", descending=False)
# status (an enum) is built the Python way: see resolvers.json_leaves
PRODUCT_JSON = {
    "id": json_leaves.global_id("Product"),
    "uuid": json_leaves.text("t.uuid::text"),
    "name": json_leaves.text("t.name"),
    "url": json_leaves.text("t.url"),
    "environment": json_leaves.text("t.environment"),
    "timezone": json_leaves.text("t.timezone"),
    "appKey": json_leaves.text("t.app_key"),
    "siteCode": json_leaves.text("t.site_code"),
    "public": json_leaves.flag("t.public"),
    "createdAt": json_leaves.timestamp("t.created_at"),
    "updatedAt": json_leaves.timestamp("t.updated_at"),
}
PRODUCTS = Listing(
    "products",
    "account_id",
    PRODUCT_COLUMNS,
    Product.from_row,
    product_column="id",
    # a product's name and settings are shown to any credential of its account (its data is not)
    permissions=ANY_PERMISSION,
    json_leaves=PRODUCT_JSON,
    json_cursors={"t.id": json_leaves.integer_cursor_value("t.id")},
)
PRODUCT_BY_ID = ById(
    "products", PRODUCT_COLUMNS, Product.from_row, product_column="id", permissions=ANY_PERMISSION
)


async def _products_with_data(ctx: Context, pks: list[int]) -> list[bool]:
    rows = await ctx.db.fetch(
        """SELECT p.id, EXISTS (SELECT 1 FROM event_hours h WHERE h.account_id = $2 AND h.product_id = p.id
                                AND h.key = '' AND h.rows > 0)
                     OR EXISTS (SELECT 1 FROM sessions s WHERE s.product_id = p.id AND s.account_id = $2)
                        AS has_data
           FROM unnest($1::bigint[]) AS p(id)""",
        list(dict.fromkeys(pks)),
        # whether data came, not the data: for credentials that read products as for those that read stats
        ctx.account_for(Permission.READ_PRODUCTS, Permission.STATS),
    )
    found = {row["id"]: row["has_data"] for row in rows}
    return [bool(found.get(pk)) for pk in pks]


async def load_product(ctx: Context, pk: int) -> Product | None:
    return await PRODUCT_BY_ID.load(ctx, pk)


register_node("Product", load_product)


async def require_product_pk(ctx: Context, global_id: strawberry.ID) -> int:
    """The primary key of one of the caller's products; a foreign or unknown id is reported as not found."""
    from resolvers.inputs import own_pk

    pk = own_pk(global_id, "Product")
    if await load_product(ctx, pk) is None:
        raise NotFound("Product")
    return pk
