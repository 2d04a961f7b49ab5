"""Numbered pages and counts of a product's events (`Product.eventPage`, `Product.eventCount`)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from gateway.execution.graphql_core import GRAPHQL_MAX_INT
from resolvers.context import Context
from resolvers.errors import UserError
from resolvers.events.filters import EventFilter, hour_scope, list_conditions
from resolvers.events.page_index import PageIndex, offset_key
from resolvers.filters import TimeRange
from resolvers.pagination import Connection, Listing, Order, page_request

if TYPE_CHECKING:
    from resolvers.events.types import Event
    from resolvers.products.types import EventOrder

MAX_PAGE_NUMBER = GRAPHQL_MAX_INT


async def event_page(
    ctx: Context,
    product_pk: int,
    info: Any,
    number: int,
    first: int | None,
    period: TimeRange | None,
    order_by: EventOrder,
    where: EventFilter | None,
) -> Connection[Event]:
    """Page `number` of `first` events: the row before it from the page index, then a cursor page after it."""
    from resolvers.events.types import PRODUCT_EVENTS
    from resolvers.products.types import EventOrder

    if not 1 <= number <= MAX_PAGE_NUMBER:
        raise UserError("`number` must be 1 or more")
    descending = order_by is EventOrder.NEWEST_FIRST
    order = Order("t.occurred_at", descending=descending)
    request = page_request(ctx, first, None, order, list_conditions(period, where))
    offset = (number - 1) * request.first
    if offset:
        scope = hour_scope(period, where)
        if scope is not None:
            after = await PageIndex(ctx, product_pk, scope).after_key(offset, descending)
        else:
            after = await offset_key(ctx, PRODUCT_EVENTS, product_pk, request, offset)
        request = replace(request, after=after)
    listing: Listing[Event] = PRODUCT_EVENTS
    return await listing.connection(ctx, product_pk, request, info)


async def event_count(
    ctx: Context, product_pk: int, period: TimeRange | None, where: EventFilter | None
) -> int:
    """How many events match: from the page index when it can count them, else by counting the rows."""
    from resolvers.events.types import PRODUCT_EVENTS

    scope = hour_scope(period, where)
    if scope is not None:
        return await PageIndex(ctx, product_pk, scope).total()
    return await PRODUCT_EVENTS.count_rows(ctx, product_pk, list_conditions(period, where))
