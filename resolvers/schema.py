"""The graph's root: Query and Mutation assembled from the domains, and the executable schema.

The schema is an Apollo Federation v2 subgraph (entities carry `@key(fields: "id")`), so a federation router
can compose it with other graphs; `schema.graphql` at the project's root is printed from it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import strawberry

from gateway.access.principal import ANY_PERMISSION, Permission
from gateway.execution.fast_path import install_direct_resolvers
from resolvers.accounts.mutations import AccountMutations
from resolvers.accounts.types import Account, load_account
from resolvers.context import ctx_of
from resolvers.definitions.mutations import DefinitionMutations
from resolvers.definitions.types import (
    ACCOUNT_EVENT_DEFINITIONS,
    ACCOUNT_PROPERTY_DEFINITIONS,
    DEFINITION_ORDER,
    PROPERTY_ORDER,
    EventDefinition,
    PropertyDefinition,
    PropertyScope,
)
from resolvers.devices.types import ACCOUNT_PEOPLE, DEVICE_ORDER, Device
from resolvers.events.types import Event
from resolvers.exports.mutations import ExportMutations
from resolvers.exports.types import ACCOUNT_EXPORTS, EXPORT_ORDER, Export
from resolvers.ingest.mutations import IngestMutations, install_record_resolver
from resolvers.live.subscriptions import Subscription
from resolvers.node import Node, fetch_by_uuid, fetch_node
from resolvers.pagination import Condition, Connection, page_request
from resolvers.people.filters import PeopleFilter, people_conditions
from resolvers.people.mutations import PeopleMutations
from resolvers.people.requests import PersonRequest, PersonRequestMutations, load_person_request
from resolvers.products.mutations import ProductMutations
from resolvers.products.types import PRODUCT_ORDER, PRODUCTS, Product
from resolvers.reports.mutations import ReportMutations
from resolvers.reports.runs import ReportRun
from resolvers.reports.types import ACCOUNT_REPORTS, REPORT_ORDER, Report
from resolvers.segments.mutations import SegmentMutations
from resolvers.segments.types import ACCOUNT_SEGMENTS, SEGMENT_ORDER, Segment
from resolvers.sessions.types import Session
from resolvers.tokens.mutations import TokenMutations
from resolvers.tokens.types import ApiToken
from resolvers.tokens.viewer import ViewerToken, load_viewer_token
from resolvers.users.types import User, load_token_user
from resolvers.web.mutations import WebMutations, install_pageviews_resolver
from resolvers.web.types import WebPath

MAX_NODES_PER_CALL = 100


@strawberry.type(description="What the caller's credential is and may do.")
class Viewer:
    account: Account
    permissions: list[str]
    token_pk: strawberry.Private[int | None] = None

    @strawberry.field(
        description="The user the credential was issued to (null for tokens made for programs)."
    )
    async def user(self, info: strawberry.Info) -> User | None:
        return await load_token_user(ctx_of(info), self.token_pk)

    @strawberry.field(description="The API token of the request (null for other credentials).")
    async def token(self, info: strawberry.Info) -> ViewerToken | None:
        return await load_viewer_token(info)


@strawberry.type(description="The caller's hourly query-cost budget, after this query was charged.")
class RateLimit:
    limit: int = strawberry.field(description="Points per hour.")
    cost: int = strawberry.field(description="Points this query cost (estimated nodes / 100, at least 1).")
    used: int
    remaining: int
    reset_at: datetime


@strawberry.type
class Query:
    @strawberry.field(description="Any object by its global id; null when it does not exist or is not yours.")
    async def node(self, info: strawberry.Info, id: strawberry.ID) -> Node | None:
        return await fetch_node(ctx_of(info), id)  # type: ignore[no-any-return]

    @strawberry.field(description=f"Several objects by global id (at most {MAX_NODES_PER_CALL}), in order.")
    async def nodes(self, info: strawberry.Info, ids: list[strawberry.ID]) -> list[Node | None]:
        from resolvers.errors import UserError

        if len(ids) > MAX_NODES_PER_CALL:
            raise UserError(f"At most {MAX_NODES_PER_CALL} ids per call")
        import asyncio

        ctx = ctx_of(info)
        return list(await asyncio.gather(*(fetch_node(ctx, i) for i in ids)))

    @strawberry.field(description="The caller's account.")
    async def account(self, info: strawberry.Info) -> Account:
        ctx = ctx_of(info)
        found = await load_account(ctx, ctx.account_for(*ANY_PERMISSION))
        assert found is not None
        return found

    @strawberry.field(description="The caller's credential: its account and permissions.")
    async def viewer(self, info: strawberry.Info) -> Viewer:
        ctx = ctx_of(info)
        principal = ctx.require_any(*ANY_PERMISSION)
        account = await load_account(ctx, principal.account_id)
        assert account is not None
        return Viewer(
            account=account,
            permissions=sorted(p.value for p in principal.permissions),
            token_pk=principal.token_id,
        )

    @strawberry.field(description="The query-cost budget of the caller's token (null for other credentials).")
    def rate_limit(self, info: strawberry.Info) -> RateLimit | None:
        budget = ctx_of(info).budget
        if budget is None:
            return None
        return RateLimit(
            limit=budget.limit,
            cost=budget.cost,
            used=budget.used,
            remaining=budget.remaining,
            reset_at=budget.reset_at,
        )

    @strawberry.field(description="The products of the caller's account.")
    async def products(
        self,
        info: strawberry.Info,
        first: int | None = None,
        after: str | None = None,
        offset: int | None = None,
    ) -> Connection[Product]:
        ctx = ctx_of(info)
        request = page_request(ctx, first, after, PRODUCT_ORDER, offset=offset)
        return await PRODUCTS.connection(ctx, ctx.account_for(*PRODUCTS.permissions), request, info)

    @strawberry.field(description="The saved reports of the caller's account.")
    async def reports(
        self,
        info: strawberry.Info,
        first: int | None = None,
        after: str | None = None,
        offset: int | None = None,
    ) -> Connection[Report]:
        ctx = ctx_of(info)
        return await ACCOUNT_REPORTS.connection(
            ctx, ctx.account_id, page_request(ctx, first, after, REPORT_ORDER, offset=offset)
        )

    @strawberry.field(description="The event definitions of every product of the caller's account.")
    async def event_definitions(
        self,
        info: strawberry.Info,
        first: int | None = None,
        after: str | None = None,
        offset: int | None = None,
    ) -> Connection[EventDefinition]:
        ctx = ctx_of(info)
        request = page_request(ctx, first, after, DEFINITION_ORDER, offset=offset)
        return await ACCOUNT_EVENT_DEFINITIONS.connection(ctx, ctx.account_id, request, info)

    @strawberry.field(description="The property definitions of every product of the caller's account.")
    async def property_definitions(
        self,
        info: strawberry.Info,
        first: int | None = None,
        after: str | None = None,
        offset: int | None = None,
        scope: PropertyScope | None = None,
    ) -> Connection[PropertyDefinition]:
        ctx = ctx_of(info)
        conditions = [] if scope is None else [Condition("t.scope = {}", scope.value)]
        request = page_request(ctx, first, after, PROPERTY_ORDER, conditions, offset=offset)
        return await ACCOUNT_PROPERTY_DEFINITIONS.connection(ctx, ctx.account_id, request, info)

    @strawberry.field(
        description="The caller's object with this UUID (account, product, report, report run, event or "
        "property definition); null when there is none."
    )
    async def node_by_uuid(self, info: strawberry.Info, uuid: UUID) -> Node | None:
        return await fetch_by_uuid(ctx_of(info), uuid)  # type: ignore[no-any-return]

    @strawberry.field(
        description="The people (devices) of every product of the caller's account, most recently seen first."
    )
    async def people(
        self,
        info: strawberry.Info,
        first: int | None = None,
        after: str | None = None,
        offset: int | None = None,
        where: PeopleFilter | None = None,
    ) -> Connection[Device]:
        ctx = ctx_of(info)
        request = page_request(ctx, first, after, DEVICE_ORDER, people_conditions(where), offset=offset)
        return await ACCOUNT_PEOPLE.connection(ctx, ctx.account_id, request, info)

    @strawberry.field(description="A request about people's own data (GDPR), by its UUID; null when unknown.")
    async def person_request(self, info: strawberry.Info, uuid: UUID) -> PersonRequest | None:
        ctx = ctx_of(info)
        ctx.require(Permission.ADMIN)
        return await load_person_request(ctx, uuid)

    @strawberry.field(description="The device segments of the caller's account.")
    async def segments(
        self,
        info: strawberry.Info,
        first: int | None = None,
        after: str | None = None,
        identifier: Annotated[
            str | None, strawberry.argument(description="Only the segments with this identifier.")
        ] = None,
        offset: Annotated[
            int | None, strawberry.argument(description="Segments skipped before the page (numbered pages).")
        ] = None,
    ) -> Connection[Segment]:
        ctx = ctx_of(info)
        conditions = [] if identifier is None else [Condition("t.identifier = {}", identifier)]
        return await ACCOUNT_SEGMENTS.connection(
            ctx, ctx.account_id, page_request(ctx, first, after, SEGMENT_ORDER, conditions, offset=offset)
        )

    @strawberry.field(description="The export jobs of the caller's account, newest first.")
    async def exports(
        self, info: strawberry.Info, first: int | None = None, after: str | None = None
    ) -> Connection[Export]:
        ctx = ctx_of(info)
        return await ACCOUNT_EXPORTS.connection(
            ctx, ctx.account_for(*ACCOUNT_EXPORTS.permissions), page_request(ctx, first, after, EXPORT_ORDER)
        )


@strawberry.type
class Mutation(
    AccountMutations,
    TokenMutations,
    ProductMutations,
    ReportMutations,
    DefinitionMutations,
    SegmentMutations,
    ExportMutations,
    IngestMutations,
    WebMutations,
    PersonRequestMutations,
    PeopleMutations,
):
    pass


ENTITY_TYPES = [
    Account,
    Product,
    Device,
    Session,
    Event,
    EventDefinition,
    PropertyDefinition,
    Report,
    ReportRun,
    Segment,
    Export,
    ApiToken,
    User,
    WebPath,
]


def build_schema(direct_resolvers: bool = True) -> strawberry.federation.Schema:
    """The executable graph; `direct_resolvers=False` keeps Strawberry's resolver path everywhere (tests)."""
    built = strawberry.federation.Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=ENTITY_TYPES,
        federation_version="2.5",
    )
    if direct_resolvers:
        install_record_resolver(built._schema)
        install_pageviews_resolver(built._schema)
        install_direct_resolvers(built._schema)
    return built


schema = build_schema()
