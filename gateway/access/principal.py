"""Who is asking: a principal (an account and the rights granted on it) and the permissions tokens carry.

Every resolver, loader and mutation reads the account from the principal, so tenancy follows from it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


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
