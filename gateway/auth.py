"""Credentials: API tokens (stored as SHA-256 hashes), password hashes and the principal of a request.

A principal is who is asking and on which account; every resolver, loader and mutation reads the account
from it. Tokens are 256-bit random strings, so a fast hash is enough to store them; passwords are low-entropy
and get scrypt.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Generic, TypeVar

from gateway.db import Database

V = TypeVar("V")

TOKEN_PREFIX = "agw_"


class Permission(enum.StrEnum):
    """What a token may do; ADMIN implies WRITE, WRITE implies READ."""

    READ = "read"
    WRITE = "write"
    ADMIN = "admin"


_IMPLIED = {
    Permission.READ: {Permission.READ},
    Permission.WRITE: {Permission.READ, Permission.WRITE},
    Permission.ADMIN: {Permission.READ, Permission.WRITE, Permission.ADMIN},
}


@dataclass(frozen=True)
class Principal:
    """The caller: an account, the rights granted on it and, for write keys, the one product they open."""

    account_id: int
    permissions: frozenset[Permission]
    token_id: int | None = None
    product_id: int | None = None

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions


def expand_permissions(granted: list[str] | tuple[str, ...]) -> frozenset[Permission]:
    result: set[Permission] = set()
    for name in granted:
        try:
            result |= _IMPLIED[Permission(name)]
        except ValueError:
            continue
    return frozenset(result)


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=2**14, r=8, p=1, dklen=32)
    return "scrypt$" + base64.b64encode(salt).decode() + "$" + base64.b64encode(digest).decode()


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, salt_b64, digest_b64 = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    salt = base64.b64decode(salt_b64)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=2**14, r=8, p=1, dklen=32)
    return hmac.compare_digest(digest, base64.b64decode(digest_b64))


def bearer_token(header: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, or None."""
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


class Remembered(Generic[V]):
    """Credentials looked up lately, each for a few seconds: clients send theirs with every request.

    A change to a credential (a product paused, a token's rights) reaches the processes that remember it
    within its time to live; unknown credentials are remembered for less time. Bounded: emptied when full.
    """

    def __init__(self, ttl: float, unknown_ttl: float, size: int = 10_000) -> None:
        self.ttl, self.unknown_ttl, self.size = ttl, unknown_ttl, size
        self._entries: dict[str, tuple[V | None, float]] = {}

    def recall(self, key: str) -> tuple[bool, V | None]:
        """(whether `key` is remembered, what it stands for)."""
        cached = self._entries.get(key)
        if cached is not None and cached[1] > time.monotonic():
            return True, cached[0]
        return False, None

    def keep(self, key: str, found: V | None) -> V | None:
        """Remember what `key` stands for (None: nothing), and return it."""
        if len(self._entries) >= self.size:
            self._entries.clear()
        self._entries[key] = (found, time.monotonic() + (self.ttl if found is not None else self.unknown_ttl))
        return found

    def clear(self) -> None:
        self._entries.clear()


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
        "SELECT id, account_id, permissions FROM api_tokens WHERE token_hash = $1", hash_token(token)
    )
    if row is None:
        return None
    return Principal(
        account_id=row["account_id"],
        permissions=expand_permissions(row["permissions"]),
        token_id=row["id"],
    )


@dataclass(frozen=True)
class AppKeyProduct:
    """What an app key opens: a product to write to, and whether it accepts data."""

    principal: Principal
    product_id: int
    status: str


# app key -> what it opens: SDKs send the key with every request; pausing a product takes effect within the TTL
_app_keys: Remembered[AppKeyProduct] = Remembered(ttl=5.0, unknown_ttl=1.0)


async def product_for_app_key(db: Database, app_key: str) -> AppKeyProduct | None:
    """Access to the one product an app key names: legacy SDKs write, and old readers read, with it alone."""
    if not app_key or len(app_key) > 512:
        return None
    known, found = _app_keys.recall(app_key)
    return found if known else _app_keys.keep(app_key, await _lookup_app_key(db, app_key))


def forget_app_keys() -> None:
    """Empty the app key cache (after a product's key or status changed in this process)."""
    _app_keys.clear()


async def _lookup_app_key(db: Database, app_key: str) -> AppKeyProduct | None:
    row = await db.fetchrow("SELECT id, account_id, status FROM products WHERE app_key = $1", app_key)
    if row is None:
        return None
    principal = Principal(
        account_id=row["account_id"],
        permissions=frozenset({Permission.READ, Permission.WRITE}),
        product_id=row["id"],
    )
    return AppKeyProduct(principal=principal, product_id=row["id"], status=row["status"])
