"""Sites by `Host`: the product a web request counts for, from its host name, remembered for a few seconds.

A request names its site before anyone is authenticated (a page's `/count` pixel carries no credential), so the
lookup is global: a product's hosts are unique across accounts (`product_hosts`), and so are site codes. The
host `stats.example.com` picks the product holding that host, else the product whose site code is `stats`.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.access.principal import Permission, Principal
from gateway.access.remembered import Remembered
from gateway.db.pool import Database


@dataclass(frozen=True)
class SiteProduct:
    """A product picked by host, and a principal that may count (only count) for it."""

    principal: Principal
    product_id: int
    account_id: int
    status: str
    timezone: str


@dataclass(frozen=True)
class WebSettings:
    """What counting a product's web hits needs to know of it besides what the ingestion's own statement reads
    (status, time zone): its account and the IPs whose hits it drops."""

    account_id: int
    ignored_ips: frozenset[str]


# host -> its product: browsers send the host with every hit; a changed host takes effect within the TTL
_hosts: Remembered[SiteProduct] = Remembered(ttl=5.0, unknown_ttl=1.0)
# product id -> its web settings: every batch of hits needs them
_settings: Remembered[WebSettings] = Remembered(ttl=5.0, unknown_ttl=1.0)

_BY_HOST = """
SELECT p.id, p.account_id, p.status, p.timezone
FROM product_hosts h JOIN products p ON p.id = h.product_id WHERE h.host = $1
UNION ALL
(SELECT p.id, p.account_id, p.status, p.timezone FROM products p WHERE p.site_code = $2)
LIMIT 1
"""


def host_name(header: str | None) -> str:
    """The host of a `Host` header: lower case, without port or trailing dot ('' when there is none)."""
    host = (header or "").strip().lower()
    if host.startswith("["):  # an IPv6 literal, [::1]:8080
        return host[1 : host.find("]")] if "]" in host else ""
    return host.rsplit(":", 1)[0].rstrip(".") if host.count(":") == 1 else host.rstrip(".")


async def product_for_host(db: Database, header: str | None) -> SiteProduct | None:
    """The product a request's `Host` header names, or None."""
    host = host_name(header)
    if not host or len(host) > 253:
        return None
    known, found = _hosts.recall(host)
    return found if known else _hosts.keep(host, await _lookup(db, host))


def forget_hosts() -> None:
    """Empty the host and settings caches (after a product's hosts, site code or ignored IPs changed in this
    process)."""
    _hosts.clear()
    _settings.clear()


async def web_settings(db: Database, product_id: int) -> WebSettings | None:
    """The web settings of a product (None: no such product), remembered for a few seconds: a changed list of
    ignored IPs takes effect within that time in other processes."""
    key = str(product_id)
    known, found = _settings.recall(key)
    if known:
        return found
    row = await db.fetchrow("SELECT account_id, ignored_ips FROM products WHERE id = $1", product_id)
    settings = None if row is None else WebSettings(row["account_id"], frozenset(row["ignored_ips"]))
    return _settings.keep(key, settings)


async def _lookup(db: Database, host: str) -> SiteProduct | None:
    row = await db.fetchrow(_BY_HOST, host, host.split(".", 1)[0])
    if row is None:
        return None
    principal = Principal(
        account_id=row["account_id"], permissions=frozenset({Permission.COUNT}), product_id=row["id"]
    )
    return SiteProduct(
        principal=principal,
        product_id=row["id"],
        account_id=row["account_id"],
        status=row["status"],
        timezone=row["timezone"],
    )
