"""The ApiToken type: a credential of an account, shown in clear only once, when it is created."""

from __future__ import annotations

from datetime import datetime

import asyncpg
import strawberry

from gateway.access.principal import Permission
from resolvers.context import Context
from resolvers.node import Node, register_node, to_global_id
from resolvers.pagination import ById, Listing, Order

PermissionEnum = strawberry.enum(
    Permission,
    name="Permission",
    description="What a token may do. READ reads everything of the account, WRITE also records data, ADMIN "
    "also manages it; the finer ones allow one thing each: COUNT records data, EXPORT exports it, STATS reads "
    "analytics, READ_PRODUCTS, CREATE_PRODUCTS and UPDATE_PRODUCTS read, create and change products. READ "
    "implies STATS, EXPORT and READ_PRODUCTS; WRITE implies READ and COUNT; ADMIN implies them all.",
)


@strawberry.type(description="An API token (the secret itself is only returned by createToken and login).")
class ApiToken(Node):
    name: str
    permissions: list[PermissionEnum]  # type: ignore[valid-type]
    product_pks: strawberry.Private[list[int] | None]
    created_at: datetime
    last_used_at: datetime | None

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> ApiToken:
        return cls(
            pk=row["id"],
            name=row["name"],
            permissions=[Permission(p) for p in row["permissions"] if p in Permission._value2member_map_],
            product_pks=None if row["product_ids"] is None else list(row["product_ids"]),
            created_at=row["created_at"],
            last_used_at=row["last_used_at"],
        )

    @strawberry.field(description="The products the token may use; null when it may use every product.")
    def product_ids(self) -> list[strawberry.ID] | None:
        if self.product_pks is None:
            return None
        return [to_global_id("Product", pk) for pk in self.product_pks]


TOKEN_COLUMNS = "t.id, t.name, t.permissions, t.product_ids, t.created_at, t.last_used_at"
TOKEN_ORDER = Order("t.id", descending=False)
# the products a token may use (NULL: every product): a token limited to some products sees and revokes only
# the tokens limited to some of its own, as it makes no wider one (`createToken`)
TOKEN_PRODUCTS = "t.product_ids"
TOKENS = Listing(
    "api_tokens",
    "account_id",
    TOKEN_COLUMNS,
    ApiToken.from_row,
    product_column="",
    products_sql=TOKEN_PRODUCTS,
)
TOKEN_BY_ID = ById(
    "api_tokens", TOKEN_COLUMNS, ApiToken.from_row, product_column="", products_sql=TOKEN_PRODUCTS
)


async def load_token(ctx: Context, pk: int) -> ApiToken | None:
    if not ctx.principal or not ctx.principal.can(Permission.ADMIN):
        return None
    return await TOKEN_BY_ID.load(ctx, pk)


register_node("ApiToken", load_token)
