"""Small result types shared by mutations of several domains, and the one way to change or delete an owned row."""

from __future__ import annotations

from typing import Any

import asyncpg
import strawberry

from gateway.access.principal import Permission
from resolvers.context import Context
from resolvers.errors import NotFound
from resolvers.inputs import own_pk, set_clause
from resolvers.scope import product_scope_sql


@strawberry.type(description="The id of what a delete mutation removed.")
class DeletePayload:
    deleted_id: strawberry.ID


async def delete_owned(
    ctx: Context,
    permission: Permission,
    table: str,
    type_name: str,
    global_id: strawberry.ID,
    *,
    product_column: str = "product_id",
    products_sql: str = "",
) -> DeletePayload:
    """Delete the caller's row of `table` (a name from code) named by `global_id`; foreign ids, and ids of rows
    of products the caller's credential may not use (`resolvers/scope.py`), are not found."""
    principal = ctx.require(permission)
    params: list[Any] = [own_pk(global_id, type_name), principal.account_id]
    scope = product_scope_sql(ctx, params, product_column, products_sql)
    deleted = await ctx.db.fetchval(
        f"DELETE FROM {table} AS t WHERE t.id = $1 AND t.account_id = $2{scope} RETURNING t.id", *params
    )
    if deleted is None:
        raise NotFound(type_name)
    return DeletePayload(deleted_id=global_id)


async def update_owned(
    ctx: Context,
    principal_account: int,
    table: str,
    columns: str,
    type_name: str,
    global_id: strawberry.ID,
    changes: dict[str, Any],
    *,
    touch: bool = True,
    product_column: str = "product_id",
) -> asyncpg.Record:
    """Apply `changes` (column names from code) to the caller's row named by `global_id`; returns `columns`.
    `touch`: the row's `updated_at` becomes now (tables without one say False). A row of a product the caller's
    credential may not use is not found, as a foreign one is."""
    params: list[Any] = [own_pk(global_id, type_name), principal_account]
    scope = product_scope_sql(ctx, params, product_column)
    assignments, values = set_clause(changes, len(params) + 1, touch=touch)
    row = await ctx.db.fetchrow(
        f"UPDATE {table} AS t SET {assignments} WHERE t.id = $1 AND t.account_id = $2{scope} RETURNING {columns}",
        *params,
        *values,
    )
    if row is None:
        raise NotFound(type_name)
    return row
