"""Mutations that create and delete API tokens."""

from __future__ import annotations

from typing import Annotated

import strawberry

from gateway.access.principal import Permission
from resolvers.context import ctx_of
from resolvers.errors import UserError
from resolvers.inputs import check_text
from resolvers.payloads import DeletePayload, delete_owned
from resolvers.products.types import require_product_pk
from resolvers.tokens.store import issue_token
from resolvers.tokens.types import TOKEN_COLUMNS, TOKEN_PRODUCTS, ApiToken, PermissionEnum


@strawberry.type(description="A new token: `secret` is shown now and never again.")
class CreateTokenPayload:
    token: ApiToken
    secret: str


@strawberry.type
class TokenMutations:
    @strawberry.mutation(
        description="Create an API token of the caller's account. A caller limited to some products makes tokens "
        "limited to those (or to some of them)."
    )
    async def create_token(
        self,
        info: strawberry.Info,
        name: str,
        permissions: list[PermissionEnum],  # type: ignore[valid-type]
        product_ids: Annotated[
            list[strawberry.ID] | None,
            strawberry.argument(description="Limit the token to these products (default: every product)."),
        ] = None,
    ) -> CreateTokenPayload:
        ctx = ctx_of(info)
        principal = ctx.require(Permission.ADMIN)
        if not permissions:
            raise UserError("Give the token at least one permission")
        products = None
        if product_ids is not None:
            # require_product_pk reports a product outside the caller's own scope as not found
            products = [await require_product_pk(ctx, product_id) for product_id in product_ids]
        elif principal.product_scope is not None:
            # a token limited to some products makes tokens limited to them too, never a wider one
            products = list(principal.product_scope)
        issued = await issue_token(
            ctx.db,
            principal.account_id,
            check_text("name", name),
            [Permission(p) for p in permissions],
            product_ids=None if products is None else sorted(set(products)),
        )
        row = await ctx.db.fetchrow(f"SELECT {TOKEN_COLUMNS} FROM api_tokens t WHERE t.id = $1", issued.id)
        assert row is not None
        return CreateTokenPayload(token=ApiToken.from_row(row), secret=issued.secret)

    @strawberry.mutation(
        description="Revoke an API token. A caller limited to some products revokes only tokens limited to some of "
        "those (itself included)."
    )
    async def delete_token(self, info: strawberry.Info, id: strawberry.ID) -> DeletePayload:
        return await delete_owned(
            ctx_of(info),
            Permission.ADMIN,
            "api_tokens",
            "ApiToken",
            id,
            product_column="",
            products_sql=TOKEN_PRODUCTS,
        )
