"""The User type: a person who logs in to an account with an email and a password."""

from __future__ import annotations

from datetime import datetime

import asyncpg
import strawberry

from gateway.access.principal import Permission
from resolvers.context import Context
from resolvers.node import Node, register_node
from resolvers.pagination import ById, Listing, Order


@strawberry.type(description="A person who can log in to the account.")
class User(Node):
    email: str
    created_at: datetime

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> User:
        return cls(pk=row["id"], email=row["email"], created_at=row["created_at"])


USER_COLUMNS = "t.id, t.email, t.created_at"
USER_ORDER = Order("t.id", descending=False)
USERS = Listing("users", "account_id", USER_COLUMNS, User.from_row, product_column="")
USER_BY_ID = ById("users", USER_COLUMNS, User.from_row, product_column="")


async def load_user(ctx: Context, pk: int) -> User | None:
    if not ctx.principal or not ctx.principal.can(Permission.ADMIN):
        return None
    return await USER_BY_ID.load(ctx, pk)


register_node("User", load_user)
