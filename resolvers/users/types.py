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


async def _users_of_tokens(ctx: Context, token_ids: list[int]) -> list[User | None]:
    rows = await ctx.db.fetch(
        """SELECT k.id AS token_id, t.id, t.email, t.created_at
           FROM api_tokens k JOIN users t ON t.id = k.user_id AND t.account_id = k.account_id
           WHERE k.id = ANY($1::bigint[]) AND k.account_id = $2""",
        list(dict.fromkeys(token_ids)),
        ctx.account_id,
    )
    found = {row["token_id"]: User.from_row(row) for row in rows}
    return [found.get(token_id) for token_id in token_ids]


async def load_token_user(ctx: Context, token_id: int | None) -> User | None:
    """The user a token was issued to (its own user: no admin right needed), or None for tokens of programs."""
    if token_id is None:
        return None
    return await ctx.loader(_users_of_tokens).load(token_id)


async def load_user(ctx: Context, pk: int) -> User | None:
    if not ctx.principal or not ctx.principal.can(Permission.ADMIN):
        return None
    return await USER_BY_ID.load(ctx, pk)


register_node("User", load_user)
