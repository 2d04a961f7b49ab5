"""`Product.webAnalytics`: a site's pageviews and visitors over a period, read from `web_rollups`.

Every field is one statement, whatever the number of products, paths or buckets it returns (`ProductRows`
batches the reads of several products into one statement per read shape). Counts are pageviews (hits: pages
and events) and visitors (first visits of a path by a session); bots are never counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import strawberry
from strawberry.scalars import JSON

from gateway.ingest.buckets import zone_of
from gateway.ingest.web.cleaning import SIZES
from gateway.ingest.web.hits import storable
from gateway.ingest.web.places import country_name, language_name, region_name
from resolvers.analytics.batching import ProductRows
from resolvers.analytics.types import AnalyticsRange
from resolvers.context import ctx_of
from resolvers.errors import UserError
from resolvers.node import InvalidId, pk_of, to_global_id
from resolvers.selection import asks_for
from resolvers.web import sql
from resolvers.web.types import (
    WebDimension,
    WebGrain,
    WebOrder,
    WebPageList,
    WebPageStats,
    WebPath,
    WebPathFilter,
    WebPathList,
    WebSeries,
    WebStat,
    WebStatList,
    WebTotals,
)

MAX_LIMIT = 500
# how far back `recentVisitors` reads the hits
RECENT_MINUTES = 60
MAX_PATH_FILTER = 500
# the longest series a read may ask for: about 400 days of hours, 20 years of days
MAX_BUCKETS = {"h": 24 * 400, "d": 366 * 20}


@dataclass(frozen=True)
class _Read:
    """The arguments every statement of a read shares ($3 to $8), and which paths it counts."""

    paths: sql.Paths
    args: tuple[Any, ...]
    # whether a whole month may lie in the period: its sums are then read (`sql.month_spans`)
    months: bool


def _pks(ids: list[strawberry.ID] | None) -> list[int]:
    found = []
    for global_id in ids or []:
        try:
            found.append(pk_of(global_id, "WebPath"))
        except InvalidId:
            raise UserError(f"{global_id!r} is not a WebPath id") from None
    return found


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _read(period: AnalyticsRange, paths: WebPathFilter | None) -> _Read:
    since, until = _aware(period.since), _aware(period.until)
    include, exclude = _pks(paths.include if paths else None), _pks(paths.exclude if paths else None)
    include_names = [storable(name) for name in paths.include_names or []] if paths else []
    exclude_names = [storable(name) for name in paths.exclude_names or []] if paths else []
    if max(len(include) + len(include_names), len(exclude) + len(exclude_names)) > MAX_PATH_FILTER:
        raise UserError(f"At most {MAX_PATH_FILTER} paths included or excluded")
    if paths is not None and (paths.include is not None or paths.include_names is not None):
        which = sql.Paths.INCLUDED
    elif exclude or exclude_names:
        which = sql.Paths.EXCLUDED
    else:
        which = sql.Paths.SITE
    return _Read(
        which,
        (since, until, include, exclude, include_names, exclude_names),
        _may_hold_a_month(since, until),
    )


def _may_hold_a_month(since: datetime, until: datetime) -> bool:
    """Whether the local days a read of the period counts may hold a whole month, in any time zone (they begin at
    most a day before the period's local start, which is within 14 hours of UTC): if not, its reads skip looking
    for months (`sql.month_spans`). Only a matter of speed: both statements answer the same."""
    try:
        low = since.astimezone(UTC).replace(tzinfo=None) - timedelta(days=2)
        high = until.astimezone(UTC).replace(tzinfo=None) + timedelta(days=2)
        first = low.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        if first < low:
            first = (first + timedelta(days=32)).replace(day=1)
        return (first + timedelta(days=32)).replace(day=1) <= high
    except OverflowError:
        return True  # at the ends of the calendar: the statements that look for months answer the same


def _page(limit: int, offset: int) -> tuple[int, int]:
    if not 0 <= limit <= MAX_LIMIT:
        raise UserError(f"`limit` must be between 0 and {MAX_LIMIT}")
    if offset < 0:
        raise UserError("`offset` must not be negative")
    return limit, offset


def _local(moment: datetime, timezone: str) -> datetime:
    return moment.astimezone(zone_of(timezone)).replace(tzinfo=None)


def _first_bucket(moment: datetime, timezone: str, grain: str) -> datetime:
    local = _local(moment, timezone).replace(minute=0, second=0, microsecond=0)
    return local.replace(hour=0) if grain == "d" else local


@dataclass(frozen=True)
class _Buckets:
    """The buckets of a series: from the one holding `since` to the last starting before `until`, in the
    product's local wall-clock time (as the rollups' buckets)."""

    start: datetime
    size: int

    @classmethod
    def of(cls, read: _Read, timezone: str, grain: str) -> _Buckets:
        start = _first_bucket(read.args[0], timezone, grain)
        last = _local(read.args[1], timezone) - timedelta(microseconds=1)
        step = timedelta(hours=1) if grain == "h" else timedelta(days=1)
        return cls(start, (last - start) // step + 1 if last >= start else 0)

    def series(self, grain: WebGrain, pageviews: list[int], visitors: list[int]) -> WebSeries:
        return WebSeries(
            grain=grain,
            start=self.start.isoformat(),
            size=self.size,
            pageviews=JSON(pageviews),
            visitors=JSON(visitors),
        )

    def dense(self, row: Any) -> tuple[list[int], list[int]]:
        """Pageviews and visitors per bucket, from a row's sparse series (`series_offsets`, `series_pageviews`,
        `series_visitors`)."""
        pageviews, visitors = [0] * self.size, [0] * self.size
        if row is not None:
            for offset, views, visits in zip(
                row["series_offsets"], row["series_pageviews"], row["series_visitors"], strict=True
            ):
                if 0 <= offset < self.size:
                    pageviews[offset] += views
                    visitors[offset] += visits
        return pageviews, visitors


def _check_span(read: _Read, grain: str) -> None:
    since, until = read.args[0], read.args[1]
    step = timedelta(hours=1) if grain == "h" else timedelta(days=1)
    if until > since and (until - since) / step > MAX_BUCKETS[grain]:
        raise UserError(
            f"A series holds at most {MAX_BUCKETS[grain]} buckets: use a longer grain or a shorter period"
        )


def _names(dimension: WebDimension, value: str, detail_of: str | None = None) -> str:
    """The name of a value (or, with `detail_of`, of a detail of that value) for people."""
    if dimension is WebDimension.LOCATION:
        return region_name(value) if detail_of is not None else country_name(value)
    if dimension is WebDimension.LANGUAGE:
        return language_name(value)
    if dimension in (WebDimension.BROWSER, WebDimension.SYSTEM) and detail_of is not None:
        return f"{detail_of} {value}".strip()
    return value


@strawberry.type(description="Web analytics of one product (a site), read from rollups; see each field.")
class WebAnalytics:
    account_id: strawberry.Private[int]
    product_id: strawberry.Private[int]
    timezone: strawberry.Private[str]

    def _rows(self, info: strawberry.Info) -> ProductRows:
        return ProductRows(ctx_of(info), self.product_id)

    @strawberry.field(
        description="Visitors (sessions) of the site's hits since `since`, for live views: at most the last "
        f"{RECENT_MINUTES} minutes (an earlier `since` counts from then). Read from the hits themselves."
    )
    async def recent_visitors(self, info: strawberry.Info, since: datetime) -> int:
        earliest = datetime.now(UTC) - timedelta(minutes=RECENT_MINUTES)
        since = max(since if since.tzinfo else since.replace(tzinfo=UTC), earliest)
        rows = await self._rows(info).fetch(sql.RECENT_VISITORS, self.account_id, [self.product_id], since)
        return int(rows[0]["visitors"]) if rows else 0

    @strawberry.field(description="The site's paths and event names, by id (the order they were first seen).")
    async def paths(
        self, info: strawberry.Info, limit: int = 20, after: strawberry.ID | None = None
    ) -> WebPathList:
        limit, _ = _page(limit, 0)
        after_pk = _pks([after])[0] if after is not None else 0
        rows = await self._rows(info).fetch(sql.PATHS, self.account_id, [self.product_id], after_pk, limit)
        paths = [
            WebPath(
                pk=row["id"],
                product_pk=self.product_id,
                path=row["path"],
                title=row["title"],
                event=row["event"],
                created_at=row["created_at"],
            )
            for row in rows
        ]
        return WebPathList(paths=paths[:limit], more=len(paths) > limit)

    @strawberry.field(
        description="Pageviews and visitors of the period (of the included paths, less the excluded ones), with "
        "those of events, and their series at the grain asked (hours by default)."
    )
    async def totals(
        self,
        info: strawberry.Info,
        period: AnalyticsRange,
        paths: WebPathFilter | None = None,
        grain: WebGrain = WebGrain.HOUR,
    ) -> WebTotals:
        read = _read(period, paths)
        _check_span(read, grain.value)
        rows = await self._rows(info).fetch(
            sql.totals(read.paths, grain.value), self.account_id, [self.product_id], *read.args
        )
        row = rows[0] if rows else None
        buckets = _Buckets.of(read, self.timezone, grain.value)
        pageviews, visitors = buckets.dense(row)
        return WebTotals(
            pageviews=sum(pageviews),
            visitors=sum(visitors),
            event_pageviews=row["event_pageviews"] if row else 0,
            event_visitors=row["event_visitors"] if row else 0,
            series=buckets.series(grain, pageviews, visitors),
        )

    @strawberry.field(
        description="The period's most visited paths (most visitors first, or most pageviews; then the newest "
        "path first), each with its "
        "counts and series at the grain asked; `limit` paths from `offset`."
    )
    async def pages(
        self,
        info: strawberry.Info,
        period: AnalyticsRange,
        paths: WebPathFilter | None = None,
        limit: int = 20,
        offset: int = 0,
        order_by: WebOrder = WebOrder.VISITORS,
        grain: WebGrain = WebGrain.HOUR,
    ) -> WebPageList:
        read = _read(period, paths)
        limit, offset = _page(limit, offset)
        _check_span(read, grain.value)
        with_series = asks_for(info, "pages", "series")
        rows = await self._rows(info).fetch(
            sql.pages(read.paths, grain.value, with_series, read.months),
            self.account_id,
            [self.product_id],
            *read.args,
            order_by.value,
            offset,
            limit + 1,
        )
        buckets = _Buckets.of(read, self.timezone, grain.value)
        pages = [
            WebPageStats(
                path=WebPath(
                    pk=row["path_id"],
                    product_pk=self.product_id,
                    path=row["path"],
                    title=row["title"],
                    event=row["event"],
                    created_at=row["created_at"],
                ),
                pageviews=row["pageviews"],
                visitors=row["visitors"],
                make_series=partial(lambda r: buckets.series(grain, *buckets.dense(r)), row),
            )
            for row in rows
        ]
        return WebPageList(pages=pages[:limit], more=len(pages) > limit)

    @strawberry.field(
        description="The period's values of a dimension, most visitors first (`limit` from `offset`), counted on "
        "whole local days. Sizes list every class, in order (phone, tablet, desktop, desktophd, unknown)."
    )
    async def breakdown(
        self,
        info: strawberry.Info,
        dimension: WebDimension,
        period: AnalyticsRange,
        paths: WebPathFilter | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> WebStatList:
        read = _read(period, paths)
        limit, offset = _page(limit, offset)
        sizes = dimension is WebDimension.SIZE
        rows = await self._rows(info).fetch(
            sql.dimension_values(read.paths, dimension.value, read.months),
            self.account_id,
            [self.product_id],
            *read.args,
            0 if sizes else offset,
            len(SIZES) if sizes else limit + 1,
        )
        referrers = dimension is WebDimension.REFERRER
        stats = [
            WebStat(
                value=row["value"],
                name=_names(dimension, row["value"]),
                pageviews=row["pageviews"],
                visitors=row["visitors"],
                referrer_scheme=row["scheme"] if referrers else None,
                id=to_global_id("WebCampaign", row["campaign_id"])
                if row["campaign_id"] is not None
                else None,
            )
            for row in rows
        ]
        if sizes:
            counted = {stat.value: stat for stat in stats}
            every = [
                counted.get(size) or WebStat(value=size, name=size, pageviews=0, visitors=0) for size in SIZES
            ]
            return WebStatList(stats=every, more=False)
        return WebStatList(stats=stats[:limit], more=len(stats) > limit)

    @strawberry.field(
        description="The details of one value of a dimension over the period, most visitors first: a browser's "
        "or system's versions, a size class's widths, a country's regions, a campaign's referrers, the paths a "
        "referrer brought visitors to. Name the value by `value`, or a campaign by its `id`."
    )
    async def breakdown_details(
        self,
        info: strawberry.Info,
        dimension: WebDimension,
        period: AnalyticsRange,
        value: str | None = None,
        id: strawberry.ID | None = None,
        paths: WebPathFilter | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> WebStatList:
        if dimension is WebDimension.LANGUAGE:
            raise UserError("Languages have no details")
        read = _read(period, paths)
        limit, offset = _page(limit, offset)
        db = self._rows(info)
        if id is not None:
            if dimension is not WebDimension.CAMPAIGN:
                raise UserError("Only campaigns are named by id: give `value`")
            try:
                campaign = pk_of(id, "WebCampaign")
            except InvalidId:
                raise UserError(f"{id!r} is not a WebCampaign id") from None
            named = await db.fetch(sql.CAMPAIGN_NAMES, self.account_id, [self.product_id], campaign)
            if not named:
                return WebStatList(stats=[], more=False)
            value = named[0]["name"]
        if value is None:
            raise UserError("Give the `value` (or a campaign's `id`) whose details to read")
        page = (*read.args, offset, limit + 1, storable(value))
        if dimension is WebDimension.REFERRER:
            rows = await db.fetch(sql.referrer_paths(read.months), self.account_id, [self.product_id], *page)
            stats = [
                WebStat(
                    value=row["path"],
                    name=row["path"],
                    pageviews=row["pageviews"],
                    visitors=row["visitors"],
                    id=to_global_id("WebPath", row["path_id"]),
                )
                for row in rows
            ]
        else:
            rows = await db.fetch(
                sql.dimension_details(read.paths, dimension.value, read.months),
                self.account_id,
                [self.product_id],
                *page,
            )
            stats = [
                WebStat(
                    value=row["value"],
                    name=_names(dimension, row["value"], value),
                    pageviews=row["pageviews"],
                    visitors=row["visitors"],
                )
                for row in rows
            ]
        return WebStatList(stats=stats[:limit], more=len(stats) > limit)
