"""Batching analytics reads across products: one statement per read shape, whatever the number of products.

The analytics queries take an array of product ids as `$2` and name each row's product in `_product`.
`ProductRows` stands in for the database in those queries: it collects, through a request-scoped
DataLoader, the product ids of every read with the same statement and arguments, runs the statement once
for all of them, and hands each product its own rows. `products { analytics { ... } }` therefore costs the
same number of statements for 2 products as for 20.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Sequence
from typing import Any, Protocol

import asyncpg

from gateway.db.pool import KeptPlan
from resolvers.context import Context


class RowSource(Protocol):
    """Anything that runs a statement and returns its rows (a `Database`, or `ProductRows`)."""

    async def fetch(self, sql: str | KeptPlan, *args: Any) -> list[asyncpg.Record]: ...


def _hashable(value: Any) -> Hashable:
    if isinstance(value, list | tuple):
        return tuple(_hashable(v) for v in value)
    return value  # type: ignore[no-any-return]


class ProductRows:
    """The rows one product gets from batched statements (`$2` must be the one-element array `[product]`)."""

    def __init__(self, ctx: Context, product_id: int) -> None:
        self.ctx = ctx
        self.product_id = product_id

    async def fetch(self, sql: str | KeptPlan, *args: Any) -> list[asyncpg.Record]:
        account, products, *rest = args
        assert products == [self.product_id], "analytics statements take the product array as $2"
        shape = (sql, account, _hashable(rest))
        loader = self.ctx.keyed_loader(("analytics", shape), _batch_for(self.ctx, sql, account, rest))
        rows: list[asyncpg.Record] = await loader.load(self.product_id)
        return rows


def _batch_for(ctx: Context, sql: str | KeptPlan, account: int, rest: Sequence[Any]) -> Any:
    async def batch(product_ids: list[int]) -> list[list[asyncpg.Record]]:
        by_product: dict[int, list[asyncpg.Record]] = defaultdict(list)
        for row in await ctx.db.fetch(sql, account, list(dict.fromkeys(product_ids)), *rest):
            by_product[row["_product"]].append(row)
        return [by_product.get(product_id, []) for product_id in product_ids]

    return batch
