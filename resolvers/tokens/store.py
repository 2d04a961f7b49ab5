"""Issuing API tokens: the secret is returned once and only its hash is stored."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.access.principal import Permission
from gateway.access.tokens import hash_token, new_token
from gateway.db.pool import Database, Transaction


@dataclass(frozen=True)
class IssuedToken:
    id: int
    secret: str


async def issue_token(
    db: Database | Transaction,
    account_id: int,
    name: str,
    permissions: list[Permission],
    user_id: int | None = None,
    product_ids: list[int] | None = None,
) -> IssuedToken:
    """A new token of the account; `product_ids`: the products it may use (None: all of them)."""
    secret = new_token()
    token_id = await db.fetchval(
        """INSERT INTO api_tokens (account_id, user_id, name, token_hash, permissions, product_ids)
           VALUES ($1, $2, $3, $4, $5, $6) RETURNING id""",
        account_id,
        user_id,
        name,
        hash_token(secret),
        [p.value for p in permissions],
        product_ids,
    )
    return IssuedToken(id=int(token_id), secret=secret)
