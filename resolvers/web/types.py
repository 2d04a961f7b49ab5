"""Types of the web analytics: paths, series, totals, pages, breakdowns, and the inputs that shape a read."""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import asyncpg
import strawberry
from strawberry.scalars import JSON

from gateway.access.principal import Permission
from resolvers.context import Context, ctx_of
from resolvers.errors import found
from resolvers.node import Node, register_node
from resolvers.pagination import ById

if TYPE_CHECKING:
    from resolvers.products.types import Product


@strawberry.enum(description="What web hits are broken down by.")
class WebDimension(enum.Enum):
    REFERRER = "referrer"
    BROWSER = "browser"
    SYSTEM = "system"
    SIZE = "size"
    LOCATION = "location"
    LANGUAGE = "language"
    CAMPAIGN = "campaign"


@strawberry.enum(description="The length of a series' buckets, in the product's local time.")
class WebGrain(enum.Enum):
    HOUR = "h"
    DAY = "d"


@strawberry.enum(description="What ranks pages: their visitors (then pageviews) or their pageviews.")
class WebOrder(enum.Enum):
    VISITORS = "visitors"
    PAGEVIEWS = "pageviews"


@strawberry.input(
    description="Which paths a read counts: all of them (no filter), the included ones (by id or by path; an "
    "event by its name), less the excluded ones."
)
class WebPathFilter:
    include: list[strawberry.ID] | None = None
    exclude: list[strawberry.ID] | None = None
    include_names: list[str] | None = None
    exclude_names: list[str] | None = None


@strawberry.federation.type(
    keys=["id"], description="A path of a site, or the name of an event it counts (`event` true)."
)
class WebPath(Node):
    product_pk: strawberry.Private[int]
    path: str = strawberry.field(description="The page's path, or the event's name.")
    title: str = strawberry.field(description="The latest title sent with it ('' for none).")
    event: bool = strawberry.field(description="Whether this names an event rather than a page.")
    created_at: datetime = strawberry.field(description="When its first hit was counted.")

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> WebPath:
        return cls(
            pk=row["id"],
            product_pk=row["product_id"],
            path=row["path"],
            title=row["title"],
            event=row["event"],
            created_at=row["created_at"],
        )

    @strawberry.field(description="The site.")
    async def product(
        self, info: strawberry.Info
    ) -> Annotated[Product, strawberry.lazy("resolvers.products.types")]:
        from resolvers.products.types import load_product

        return found(await load_product(ctx_of(info), self.product_pk), "Product")


WEB_PATH_COLUMNS = "t.id, t.product_id, t.path, t.title, t.event, t.created_at"
WEB_PATH_BY_ID = ById(
    "web_paths", WEB_PATH_COLUMNS, WebPath.from_row, permissions=(Permission.READ, Permission.STATS)
)


async def load_web_path(ctx: Context, pk: int) -> WebPath | None:
    return await WEB_PATH_BY_ID.load(ctx, pk)


register_node("WebPath", load_web_path)


@strawberry.type(
    description="Pageviews and visitors per bucket, as dense arrays: element i of each is the bucket that starts "
    "i grains after `start` (zero where nothing was counted), from the bucket holding the period's start to the "
    "last one starting before its end."
)
class WebSeries:
    grain: WebGrain
    start: str = strawberry.field(
        description="Start of the first bucket, in the product's local wall-clock time (`2026-11-23T14:00:00`)."
    )
    size: int = strawberry.field(description="The number of buckets: the length of both arrays.")
    pageviews: JSON = strawberry.field(description="Pageviews per bucket (integers).")
    visitors: JSON = strawberry.field(description="Visitors per bucket (integers): first visits of a path.")


@strawberry.type(description="A site's (or some paths') counts over a period, and their series.")
class WebTotals:
    pageviews: int = strawberry.field(description="Hits counted: pageviews and events.")
    visitors: int = strawberry.field(description="First visits of each path by each session.")
    event_pageviews: int = strawberry.field(description="The hits of events among `pageviews`.")
    event_visitors: int = strawberry.field(description="The visitors of events among `visitors`.")
    series: WebSeries


@strawberry.type(description="One path's counts over a period, and its series.")
class WebPageStats:
    path: WebPath
    pageviews: int
    visitors: int
    # built when asked: a list of top pages often wants their counts alone, and then no series is read at all
    make_series: strawberry.Private[Callable[[], WebSeries]]

    @strawberry.field
    def series(self) -> WebSeries:
        return self.make_series()


@strawberry.type(description="A page of the period's most visited paths.")
class WebPageList:
    pages: list[WebPageStats]
    more: bool = strawberry.field(description="Whether more paths follow (ask again with a larger offset).")


@strawberry.type(
    description="One value of a dimension (or one detail of a value) and its counts over a period."
)
class WebStat:
    value: str = strawberry.field(
        description="The value as stored: a referrer, a browser or system name (details: its version), a size "
        "class (phone, tablet, desktop, desktophd, unknown; details: a width), an ISO 3166-1 country (details: "
        "an ISO 3166-2 region), an ISO 639-3 language, a campaign (details: its referrers); '' when unknown."
    )
    name: str = strawberry.field(
        description="The value for people: a country's or language's name, a browser "
        "and its version; '' when unknown."
    )
    pageviews: int
    visitors: int
    referrer_scheme: str | None = strawberry.field(
        default=None,
        description="Referrers: `h` a web page (count.js counts its host), `c` a campaign, `o` anything else.",
    )
    id: strawberry.ID | None = strawberry.field(
        default=None, description="The stored object this names, if any: a campaign, a referrer's path."
    )


@strawberry.type(description="A page of a dimension's values (or of a value's details), most visitors first.")
class WebStatList:
    stats: list[WebStat]
    more: bool = strawberry.field(description="Whether more values follow.")


@strawberry.type(description="A page of a site's paths, by id.")
class WebPathList:
    paths: list[WebPath]
    more: bool = strawberry.field(description="Whether more paths follow (ask again after the last id).")
