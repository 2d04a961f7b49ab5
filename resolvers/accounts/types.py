"""The Account type: the tenant every other object belongs to."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated
from uuid import UUID

import asyncpg
import strawberry

from gateway.access.principal import ANY_PERMISSION
from resolvers.context import Context, ctx_of
from resolvers.node import Node, register_node
from resolvers.pagination import Connection, page_request

if TYPE_CHECKING:
    from resolvers.exports.types import Export
    from resolvers.products.types import Product
    from resolvers.reports.types import Report
    from resolvers.segments.types import Segment
    from resolvers.tokens.types import ApiToken
    from resolvers.users.types import User


@strawberry.federation.type(keys=["id"], description="A tenant: its products, reports, segments and exports.")
class Account(Node):
    uuid: UUID = strawberry.field(description="A stable UUID (KISSmetrics' Core API shows it as `id`).")
    name: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> Account:
        return cls(
            pk=row["id"],
            uuid=row["uuid"],
            name=row["name"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
        )

    @strawberry.field(description="The account's products (apps, sites).")
    async def products(
        self,
        info: strawberry.Info,
        first: int | None = None,
        after: str | None = None,
        offset: int | None = None,
    ) -> Connection[Annotated[Product, strawberry.lazy("resolvers.products.types")]]:
        from resolvers.products.types import PRODUCT_ORDER, PRODUCTS

        ctx = ctx_of(info)
        request = page_request(ctx, first, after, PRODUCT_ORDER, offset=offset)
        return await PRODUCTS.connection(ctx, self.pk, request, info)

    @strawberry.field(description="Saved reports of every product of the account.")
    async def reports(
        self, info: strawberry.Info, first: int | None = None, after: str | None = None
    ) -> Connection[Annotated[Report, strawberry.lazy("resolvers.reports.types")]]:
        from resolvers.reports.types import ACCOUNT_REPORTS, REPORT_ORDER

        ctx = ctx_of(info)
        return await ACCOUNT_REPORTS.connection(ctx, self.pk, page_request(ctx, first, after, REPORT_ORDER))

    @strawberry.field(description="Device segments of every product of the account.")
    async def segments(
        self, info: strawberry.Info, first: int | None = None, after: str | None = None
    ) -> Connection[Annotated[Segment, strawberry.lazy("resolvers.segments.types")]]:
        from resolvers.segments.types import ACCOUNT_SEGMENTS, SEGMENT_ORDER

        ctx = ctx_of(info)
        return await ACCOUNT_SEGMENTS.connection(ctx, self.pk, page_request(ctx, first, after, SEGMENT_ORDER))

    @strawberry.field(description="Export jobs of every product of the account.")
    async def exports(
        self, info: strawberry.Info, first: int | None = None, after: str | None = None
    ) -> Connection[Annotated[Export, strawberry.lazy("resolvers.exports.types")]]:
        from resolvers.exports.types import ACCOUNT_EXPORTS, EXPORT_ORDER

        ctx = ctx_of(info)
        return await ACCOUNT_EXPORTS.connection(ctx, self.pk, page_request(ctx, first, after, EXPORT_ORDER))

    @strawberry.field(
        description="API tokens of the account (their secrets are never shown again); for a caller limited to some "
        "products, the tokens limited to some of those."
    )
    async def tokens(
        self, info: strawberry.Info, first: int | None = None, after: str | None = None
    ) -> Connection[Annotated[ApiToken, strawberry.lazy("resolvers.tokens.types")]]:
        from gateway.access.principal import Permission
        from resolvers.tokens.types import TOKEN_ORDER, TOKENS

        ctx = ctx_of(info)
        ctx.require(Permission.ADMIN)
        return await TOKENS.connection(ctx, self.pk, page_request(ctx, first, after, TOKEN_ORDER))

    @strawberry.field(
        description="People who can log in to the account (an ADMIN credential of the whole account only: a "
        "token limited to some products is not shown the account's logins)."
    )
    async def users(
        self, info: strawberry.Info, first: int | None = None, after: str | None = None
    ) -> Connection[Annotated[User, strawberry.lazy("resolvers.users.types")]]:
        from gateway.access.principal import Permission
        from resolvers.users.types import USER_ORDER, USERS

        ctx = ctx_of(info)
        ctx.require_whole_account(Permission.ADMIN)
        return await USERS.connection(ctx, self.pk, page_request(ctx, first, after, USER_ORDER))


async def _accounts_by_id(ctx: Context, ids: list[int]) -> list[Account | None]:
    # an account is visible only to its own principal
    rows = await ctx.db.fetch(
        "SELECT id, uuid, name, created_at, updated_at FROM accounts WHERE id = ANY($1::bigint[]) AND id = $2",
        list(set(ids)),
        ctx.account_for(*ANY_PERMISSION),
    )
    found = {row["id"]: Account.from_row(row) for row in rows}
    return [found.get(i) for i in ids]


async def load_account(ctx: Context, pk: int) -> Account | None:
    return await ctx.loader(_accounts_by_id).load(pk)


register_node("Account", load_account)
