"""Who is asking: a principal (an account and the rights granted on it) and the permissions tokens carry.

Every resolver, loader and mutation reads the account from the principal, so tenancy follows from it.

Permissions come in two sizes. The broad ones, READ, WRITE and ADMIN, mean what they always meant: READ reads
everything of the account, WRITE also records data, ADMIN also manages the account (ADMIN implies WRITE, WRITE
implies READ). The fine ones name one thing a token may do: COUNT (record data), EXPORT (start and download
exports), STATS (read analytics), and READ_PRODUCTS, CREATE_PRODUCTS, UPDATE_PRODUCTS. A broad permission
implies the fine ones of what it allows (READ: STATS, EXPORT, READ_PRODUCTS; WRITE: also COUNT; ADMIN: all), so
checks may ask for the fine permission and every older token passes them as before. A fine-grained token may
also be limited to some products of its account.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass


class Permission(enum.StrEnum):
    """What a token may do; see the module docstring for what implies what."""

    READ = "read"
    WRITE = "write"
    ADMIN = "admin"
    COUNT = "count"
    EXPORT = "export"
    STATS = "stats"
    READ_PRODUCTS = "read_products"
    CREATE_PRODUCTS = "create_products"
    UPDATE_PRODUCTS = "update_products"


# the broad permissions a stored one stands for (as tokens always had them), and the fine ones each allows
_BROAD: dict[Permission, frozenset[Permission]] = {
    Permission.READ: frozenset({Permission.READ}),
    Permission.WRITE: frozenset({Permission.READ, Permission.WRITE}),
    Permission.ADMIN: frozenset({Permission.READ, Permission.WRITE, Permission.ADMIN}),
}
_FINE: dict[Permission, frozenset[Permission]] = {
    Permission.READ: frozenset({Permission.STATS, Permission.EXPORT, Permission.READ_PRODUCTS}),
    Permission.WRITE: frozenset({Permission.COUNT}),
    Permission.ADMIN: frozenset({Permission.CREATE_PRODUCTS, Permission.UPDATE_PRODUCTS}),
}
# what a read that any credential of the account may make asks for: no permission (the account's name, its
# products' names and settings, the credential itself; not their data)
ANY_PERMISSION: tuple[Permission, ...] = ()


@dataclass(frozen=True)
class Principal:
    """The caller: an account, the rights granted on it and, when limited, the products it may use.

    `product_id` is the one product of a write key (an app key); `products` the products a token is limited
    to (None: every product of the account).
    """

    account_id: int
    permissions: frozenset[Permission]
    token_id: int | None = None
    product_id: int | None = None
    products: frozenset[int] | None = None

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions or any(
            permission in _FINE.get(granted, ()) for granted in self.permissions
        )

    def can_any(self, permissions: Iterable[Permission]) -> bool:
        return any(self.can(permission) for permission in permissions)

    @property
    def product_scope(self) -> tuple[int, ...] | None:
        """The products this credential may use, or None for every product of its account."""
        if self.product_id is not None:
            if self.products is not None and self.product_id not in self.products:
                return ()
            return (self.product_id,)
        if self.products is not None:
            return tuple(sorted(self.products))
        return None

    def may_use_product(self, product_id: int) -> bool:
        scope = self.product_scope
        return scope is None or product_id in scope


def broader(permissions: Iterable[Permission]) -> list[Permission]:
    """The broad permissions that imply some of `permissions` but are not among them (for messages)."""
    wanted = set(permissions)
    return [broad for broad, fine in _FINE.items() if fine & wanted and broad not in wanted]


def expand_permissions(granted: list[str] | tuple[str, ...]) -> frozenset[Permission]:
    """The permissions a stored list grants (a broad one with the broad ones it implies; `Principal.can` adds
    the fine ones); unknown names are ignored."""
    result: set[Permission] = set()
    for name in granted:
        try:
            permission = Permission(name)
        except ValueError:
            continue
        result |= _BROAD.get(permission, {permission})
    return frozenset(result)
