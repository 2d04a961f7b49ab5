"""The Subscription root: a product's events and sessions as they are stored, from any gateway process.

Each write transaction notifies the product (PostgreSQL NOTIFY, see gateway.background.live_feed); on every wake-up the
subscription reads the new rows by keyset, scoped to the caller's account and product, and yields them in
pages. The checks (permission, the product being the caller's) run when the subscription is set up, so a
refused subscription fails at once instead of on its first event.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass

import strawberry

from gateway.access.principal import Permission
from gateway.background.live_feed import KeysetCursor, LiveFeed
from resolvers.context import Context, ctx_of
from resolvers.errors import UserError
from resolvers.events.types import EVENT_COLUMNS, Event
from resolvers.products.types import require_product_pk
from resolvers.sessions.types import SESSION_COLUMNS, Session

PAGE_SIZE = 200


@dataclass
class LiveContext(Context):
    """The context of an operation sent over a websocket: the request context plus the process's feed."""

    feed: LiveFeed | None = None


@strawberry.type(description="What a product stored in one write (or one page of a large write).")
class ActivityUpdate:
    events: list[Event] = strawberry.field(description="New events (pageviews included), oldest id first.")
    sessions: list[Session] = strawberry.field(
        description="Sessions that began; later heartbeats and ends of a session are not repeated here."
    )


async def _activity(
    ctx: LiveContext, feed: LiveFeed, account_id: int, product_pk: int
) -> AsyncGenerator[ActivityUpdate, None]:
    events = KeysetCursor("events", EVENT_COLUMNS, Event.from_row, account_id, product_pk, PAGE_SIZE)
    sessions = KeysetCursor("sessions", SESSION_COLUMNS, Session.from_row, account_id, product_pk, PAGE_SIZE)
    async with feed.subscribe(product_pk) as inbox:
        # listening before reading the starting point, so nothing committed in between is missed
        await events.start(ctx.db)
        await sessions.start(ctx.db)
        # an empty first update: from here on every commit is delivered, so a client that also reads what came
        # before (a dashboard's counts) reads it after this, and misses nothing committed in between
        yield ActivityUpdate(events=[], sessions=[])
        while True:
            await inbox.wait()
            more = True
            while more:
                # loaders cache per context: a long-lived subscription starts afresh for every update
                ctx.forget_loaded()
                new_events, more_events = await events.next_page(ctx.db)
                new_sessions, more_sessions = await sessions.next_page(ctx.db)
                more = more_events or more_sessions
                if new_events or new_sessions:
                    yield ActivityUpdate(events=new_events, sessions=new_sessions)


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="The events and sessions a product stores from now on, as they are committed "
        "(whichever gateway process received them). The first update is empty: it comes once the subscription "
        "listens, and every commit after it is delivered. Served over websockets (graphql-transport-ws)."
    )
    async def product_activity(
        self, info: strawberry.Info, product_id: strawberry.ID
    ) -> AsyncGenerator[ActivityUpdate, None]:
        ctx = ctx_of(info)
        principal = ctx.require(Permission.READ)
        product_pk = await require_product_pk(ctx, product_id)
        if not isinstance(ctx, LiveContext) or ctx.feed is None:
            raise UserError("Subscriptions are served over websockets (graphql-transport-ws) on /graphql")
        return _activity(ctx, ctx.feed, principal.account_id, product_pk)
