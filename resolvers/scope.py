"""The part of a statement that keeps it to the products the caller's credential may use.

A token limited to some products (and an app key, to its one product) reads and changes the rows of those
products only. Every statement that reads or changes rows by what a client names (a list's parent, a global id)
says so itself, with this condition beside its `account_id` one, rather than trusting a check made before it:
lists and loaders by id (`resolvers/pagination.py`), changes and deletions by id (`resolvers/payloads.py`).

Most rows belong to one product (`product_column`). Some cover several, or the whole account: an export over
several products or over every person of the account, a token that may use every product. Those name every
product they cover in `products_sql` (a bigint[]; NULL: every product of the account), and a limited credential
reaches them only when it may use each of those products.
"""

from __future__ import annotations

from typing import Any

from resolvers.context import Context


def within_scope(placeholder: str, product_column: str = "product_id", products_sql: str = "") -> str:
    """The condition that the row (alias `t`) is within the products of `placeholder` (a bigint[]): its product
    one of them (`product_column`), and every product it covers too (`products_sql`, a bigint[]; NULL, every
    product of the account, is never contained)."""
    conditions = [f"t.{product_column} = ANY({placeholder})"] if product_column else []
    if products_sql:
        conditions.append(f"({products_sql}) <@ {placeholder}")
    return " AND ".join(conditions)


def product_scope_sql(
    ctx: Context, params: list[Any], product_column: str = "product_id", products_sql: str = ""
) -> str:
    """`AND ...` conditions on the row (alias `t`) for a credential limited to some products, their one value
    appended to `params`; '' for a credential that may use every product (or rows of no product)."""
    scope = ctx.product_scope
    if scope is None or not (product_column or products_sql):
        return ""
    params.append(list(scope))
    return " AND " + within_scope(f"${len(params)}::bigint[]", product_column, products_sql)
