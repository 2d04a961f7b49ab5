"""A product's web hosts (and when its first web hit came): loaded per product in one statement; hosts are checked
and replaced by the product mutations.

Hosts are unique across accounts (a request names its site by `Host` before anyone is authenticated), so a host
another product holds is refused rather than taken over.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import datetime

import asyncpg

from gateway.access.principal import ANY_PERMISSION
from gateway.db.pool import Transaction
from resolvers.context import Context
from resolvers.errors import UserError

MAX_HOSTS = 20
# a DNS name (labels of letters, digits and hyphens) or an IPv4 address, without port
_HOST = re.compile(
    r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$"
)


def normalize_host(raw: str) -> str:
    """`raw` as stored: lower case, without a trailing dot; raises UserError when it is no host name."""
    host = raw.strip().lower().rstrip(".")
    if not _HOST.match(host):
        raise UserError(f"{raw!r} is not a host name (letters, digits, hyphens and dots, without a port)")
    return host


def normalize_hosts(raw: list[str]) -> list[str]:
    """Hosts as stored, each once, in the order given."""
    if len(raw) > MAX_HOSTS:
        raise UserError(f"At most {MAX_HOSTS} hosts per product")
    return list(dict.fromkeys(normalize_host(host) for host in raw))


async def _hosts_of(ctx: Context, product_ids: list[int]) -> list[list[str]]:
    rows = await ctx.db.fetch(
        """SELECT product_id, host FROM product_hosts
           WHERE account_id = $1 AND product_id = ANY($2::bigint[]) ORDER BY product_id, position, host""",
        ctx.account_for(*ANY_PERMISSION),
        list(dict.fromkeys(product_ids)),
    )
    found: dict[int, list[str]] = defaultdict(list)
    for row in rows:
        found[row["product_id"]].append(row["host"])
    return [found.get(product_id, []) for product_id in product_ids]


async def load_hosts(ctx: Context, product_id: int) -> list[str]:
    """The hosts of one of the caller's products."""
    return await ctx.loader(_hosts_of).load(product_id)


async def replace_hosts(tx: Transaction, account_id: int, product_id: int, hosts: list[str]) -> None:
    """Make `hosts` the product's hosts (in the open transaction); a host another product holds is refused."""
    await tx.execute(
        "DELETE FROM product_hosts WHERE account_id = $1 AND product_id = $2", account_id, product_id
    )
    try:
        await tx.execute(
            """INSERT INTO product_hosts (host, account_id, product_id, position)
               SELECT h.host, $1, $2, h.position - 1 FROM unnest($3::text[]) WITH ORDINALITY AS h(host, position)""",
            account_id,
            product_id,
            hosts,
        )
    except asyncpg.UniqueViolationError:
        raise UserError("A host is already used by another product", code="CONFLICT") from None


async def _first_web_hits(ctx: Context, product_ids: list[int]) -> list[datetime | None]:
    rows = await ctx.db.fetch(
        """SELECT DISTINCT ON (product_id) product_id, created_at FROM web_paths
           WHERE account_id = $1 AND product_id = ANY($2::bigint[]) ORDER BY product_id, id""",
        ctx.account_for(*ANY_PERMISSION),
        list(dict.fromkeys(product_ids)),
    )
    found = {row["product_id"]: row["created_at"] for row in rows}
    return [found.get(product_id) for product_id in product_ids]


async def load_first_web_hit(ctx: Context, product_id: int) -> datetime | None:
    """When the first web hit of one of the caller's products was counted (its first path's creation)."""
    return await ctx.loader(_first_web_hits).load(product_id)
