"""The per-request context every resolver receives: who is asking, the database and the request's loaders."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import strawberry
from strawberry.dataloader import DataLoader

from gateway.access.budget import Budget
from gateway.access.principal import Permission, Principal, broader
from gateway.config import Limits
from gateway.db.pool import Database

if TYPE_CHECKING:
    from gateway.ingest.engine import IngestEngine

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

BatchFn = Callable[["Context", list[K]], Awaitable[Sequence[V]]]


class SharedLoader(DataLoader[K, V]):
    """A DataLoader whose pending loads survive the cancellation of one of their awaiters.

    One load is shared by every field of a request that asks for the same key. When a field fails, graphql-core
    cancels its sibling fields, and cancelling a task cancels the future it awaits: a sibling awaiting the shared
    future directly would cancel it for the other fields awaiting it too, whose CancelledError then ended the
    whole request without a reply. Each awaiter gets its own shield of the pending future instead.
    """

    def load(self, key: K) -> Awaitable[V]:
        future = super().load(key)
        if isinstance(future, asyncio.Future) and not future.done():
            return asyncio.shield(future)
        return future


class NotPermitted(Exception):
    """The principal lacks the right an operation needs."""


class NotAuthenticated(Exception):
    """The operation needs a principal and the request has none."""


@dataclass
class Context:
    db: Database
    principal: Principal | None
    limits: Limits = field(default_factory=Limits)
    engine: IngestEngine | None = None
    request_id: str = ""
    # the caller's query-cost budget after this request was charged (None for shims and anonymous calls)
    budget: Budget | None = None
    # while the executor prefetches a list's child fields, loads are collected here instead of awaited
    prefetch: list[Awaitable[Any]] | None = None
    # set by the executor that passes pre-built lists through (`gateway.execution.fast_path.SerializedList`);
    # loaders build such lists only then
    serialized_lists: bool = False
    # set by a caller that writes the result with `gateway.http.graphql_endpoint.encode_json`: such lists may then stay
    # the JSON text PostgreSQL wrote (`gateway.execution.fast_path.RawJson`) instead of being parsed into objects
    raw_json: bool = False
    # whether this gateway can send e-mail (GATEWAY_SMTP_URL is set): exports may then be delivered by e-mail
    mail: bool = False
    # while a listing learns how a child connection loads, the connection is recorded here instead of loaded
    capture: list[Any] | None = None
    # per-run analyses of selections, by the identity of what was analysed (see `Listing._projection`)
    selections: dict[Any, Any] = field(default_factory=dict)
    _loaders: dict[Any, DataLoader[Any, Any]] = field(default_factory=dict)

    def loader(self, batch: BatchFn[K, V]) -> DataLoader[K, V]:
        """The request's one DataLoader for `batch` (created on first use, so it batches and caches)."""
        found = self._loaders.get(batch)
        if found is None:

            async def load(keys: list[K]) -> Sequence[V]:
                return await batch(self, keys)

            found = SharedLoader(load_fn=load)
            self._loaders[batch] = found
        return found

    def keyed_loader(
        self, key: Hashable, load: Callable[[list[K]], Awaitable[Sequence[V]]]
    ) -> DataLoader[K, V]:
        """The request's DataLoader for `key`, made from `load` on first use (for loaders built at run time)."""
        found = self._loaders.get(key)
        if found is None:
            found = SharedLoader(load_fn=load)
            self._loaders[key] = found
        return found

    def forget_loaded(self) -> None:
        """Drop the request's loader caches (a long subscription must not keep every row it ever loaded)."""
        self._loaders.clear()

    def require(self, permission: Permission) -> Principal:
        """The principal, if it holds `permission`; raises otherwise."""
        return self.require_any(permission)

    def require_any(self, *permissions: Permission) -> Principal:
        """The principal, if it holds one of `permissions` (any principal when none is named); raises otherwise."""
        if self.principal is None:
            raise NotAuthenticated("Authentication required: send Authorization: Bearer <token>.")
        if permissions and not self.principal.can_any(permissions):
            names = "' or '".join(p.value for p in (*permissions, *broader(permissions)))
            raise NotPermitted(f"This token lacks the '{names}' permission.")
        return self.principal

    def require_whole_account(self, permission: Permission) -> Principal:
        """The principal, if it holds `permission` and may use every product of its account: what changes the
        account as a whole (renaming or deleting it, its account-wide reports) needs; raises otherwise."""
        principal = self.require(permission)
        if principal.product_scope is not None:
            raise NotPermitted(
                "This token is limited to some products: it cannot change what belongs to the whole account."
            )
        return principal

    @property
    def account_id(self) -> int:
        return self.require(Permission.READ).account_id

    def account_for(self, *permissions: Permission) -> int:
        """The caller's account, for a read that one of `permissions` allows."""
        return self.require_any(*permissions).account_id

    @property
    def product_scope(self) -> tuple[int, ...] | None:
        """The products the credential may see (an app key's one product, a token's list), or None for every
        product of the account."""
        return self.principal.product_scope if self.principal else None


def ctx_of(info: strawberry.Info) -> Context:
    context = info.context
    assert isinstance(context, Context)
    return context
