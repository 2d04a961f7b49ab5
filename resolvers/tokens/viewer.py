"""The token a request was made with, as its holder may see it (`Viewer.token`), with the token's user."""

from __future__ import annotations

from datetime import datetime

import strawberry

from gateway.access.principal import Permission
from resolvers.context import Context, ctx_of
from resolvers.node import to_global_id
from resolvers.tokens.types import PermissionEnum
from resolvers.users.types import User


@strawberry.type(description="The API token of the request: its name, rights and products, and its user.")
class ViewerToken:
    id: strawberry.ID = strawberry.field(
        description="The token's global id: a client that got the token from `login` signs out by revoking it "
        "with `deleteToken(id:)`."
    )
    name: str
    permissions: list[PermissionEnum]  # type: ignore[valid-type]
    product_pks: strawberry.Private[list[int] | None]
    created_at: datetime
    user: User | None = strawberry.field(description="The user the token was made for, if any.")

    @strawberry.field(description="The products the token may use; null when it may use every product.")
    def product_ids(self) -> list[strawberry.ID] | None:
        if self.product_pks is None:
            return None
        return [to_global_id("Product", pk) for pk in self.product_pks]


async def load_viewer_token(info: strawberry.Info) -> ViewerToken | None:
    """The caller's own token (any permission may see itself), or None for other credentials."""
    ctx: Context = ctx_of(info)
    principal = ctx.principal
    if principal is None or principal.token_id is None:
        return None
    row = await ctx.db.fetchrow(
        """SELECT t.name, t.permissions, t.product_ids, t.created_at, u.id AS user_id, u.email, u.created_at AS user_created_at
           FROM api_tokens t LEFT JOIN users u ON u.id = t.user_id AND u.account_id = t.account_id
           WHERE t.id = $1 AND t.account_id = $2""",
        principal.token_id,
        principal.account_id,
    )
    if row is None:
        return None
    user = None
    if row["user_id"] is not None:
        user = User(pk=row["user_id"], email=row["email"], created_at=row["user_created_at"])
    return ViewerToken(
        id=to_global_id("ApiToken", principal.token_id),
        name=row["name"],
        permissions=[Permission(p) for p in row["permissions"] if p in Permission._value2member_map_],
        product_pks=None if row["product_ids"] is None else list(row["product_ids"]),
        created_at=row["created_at"],
        user=user,
    )
