"""Mutations that create and delete API tokens."""

from __future__ import annotations

import strawberry

from gateway.auth import Permission
from resolvers.context import ctx_of
from resolvers.errors import NotFound, UserError
from resolvers.inputs import check_text, own_pk
from resolvers.payloads import DeletePayload
from resolvers.tokens.store import issue_token
from resolvers.tokens.types import TOKEN_COLUMNS, ApiToken, PermissionEnum


@strawberry.type(description="A new token: `secret` is shown now and never again.")
class CreateTokenPayload:
    token: ApiToken
    secret: str


@strawberry.type
class TokenMutations:
    @strawberry.mutation(description="Create an API token of the caller's account.")
    async def create_token(
        self,
        info: strawberry.Info,
        name: str,
        permissions: list[PermissionEnum],  # type: ignore[valid-type]
    ) -> CreateTokenPayload:
        ctx = ctx_of(info)
        principal = ctx.require(Permission.ADMIN)
        if not permissions:
            raise UserError("Give the token at least one permission")
        issued = await issue_token(
            ctx.db, principal.account_id, check_text("name", name), [Permission(p) for p in permissions]
        )
        row = await ctx.db.fetchrow(f"SELECT {TOKEN_COLUMNS} FROM api_tokens t WHERE t.id = $1", issued.id)
        assert row is not None
        return CreateTokenPayload(token=ApiToken.from_row(row), secret=issued.secret)

    @strawberry.mutation(description="Revoke an API token.")
    async def delete_token(self, info: strawberry.Info, id: strawberry.ID) -> DeletePayload:
        ctx = ctx_of(info)
        principal = ctx.require(Permission.ADMIN)
        deleted = await ctx.db.fetchval(
            "DELETE FROM api_tokens WHERE id = $1 AND account_id = $2 RETURNING id",
            own_pk(id, "ApiToken"),
            principal.account_id,
        )
        if deleted is None:
            raise NotFound("ApiToken")
        return DeletePayload(deleted_id=id)
