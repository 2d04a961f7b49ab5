"""API tokens: made, stored as SHA-256 hashes, read from `Authorization` headers, looked up as principals.

Tokens are 256-bit random strings, so a fast hash is enough to store them.
"""

from __future__ import annotations

import hashlib
import secrets

import asyncpg

from gateway.access.principal import Principal, expand_permissions
from gateway.access.remembered import Remembered
from gateway.db.pool import Database

TOKEN_PREFIX = "agw_"


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


def bearer_token(header: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, or None."""
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


# API token -> principal: REST readers (Countly's `api_key`) send the token with every request
_tokens: Remembered[Principal] = Remembered(ttl=5.0, unknown_ttl=1.0)


async def principal_for_token(db: Database, token: str) -> Principal | None:
    """The principal a token stands for, or None for an unknown token (remembered for a few seconds)."""
    if not token or len(token) > 512:
        return None
    known, principal = _tokens.recall(token)
    return principal if known else _tokens.keep(token, await _lookup_token(db, token))


async def _lookup_token(db: Database, token: str) -> Principal | None:
    row = await db.fetchrow(
        "SELECT id, account_id, permissions, product_ids FROM api_tokens WHERE token_hash = $1",
        hash_token(token),
    )
    return None if row is None else principal_of_token_row(row)


def principal_of_token_row(row: asyncpg.Record) -> Principal:
    """The principal of an `api_tokens` row (id, account_id, permissions, product_ids)."""
    products = row["product_ids"]
    return Principal(
        account_id=row["account_id"],
        permissions=expand_permissions(row["permissions"]),
        token_id=row["id"],
        products=None if products is None else frozenset(products),
    )
