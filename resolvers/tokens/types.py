"""The ApiToken type: a credential of an account, shown in clear only once, when it is created."""

from __future__ import annotations

from datetime import datetime

import asyncpg
import strawberry

from gateway.access.principal import Permission
from resolvers.context import Context
from resolvers.node import Node, register_node
from resolvers.pagination import ById, Listing, Order

PermissionEnum = strawberry.enum(Permission, name="Permission", description="What a token may do.")


@strawberry.type(description="An API token (the secret itself is only returned by createToken and login).")
class ApiToken(Node):
    name: str
    permissions: list[PermissionEnum]  # type: ignore[valid-type]
    created_at: datetime
    last_used_at: datetime | None

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> ApiToken:
        return cls(
            pk=row["id"],
            name=row["name"],
            permissions=[Permission(p) for p in row["permissions"] if p in Permission._value2member_map_],
            created_at=row["created_at"],
            last_used_at=row["last_used_at"],
        )


TOKEN_COLUMNS = "t.id, t.name, t.permissions, t.created_at, t.last_used_at"
TOKEN_ORDER = Order("t.id", descending=False)
TOKENS = Listing("api_tokens", "account_id", TOKEN_COLUMNS, ApiToken.from_row, product_column="")
TOKEN_BY_ID = ById("api_tokens", TOKEN_COLUMNS, ApiToken.from_row, product_column="")


async def load_token(ctx: Context, pk: int) -> ApiToken | None:
    if not ctx.principal or not ctx.principal.can(Permission.ADMIN):
        return None
    return await TOKEN_BY_ID.load(ctx, pk)


register_node("ApiToken", load_token)
