"""Helpers of the GoatCounter tests: a site (an account, its product named by a host, tokens with GoatCounter's
permissions), and requests sent from a loopback address of their own, so that each test has its own rate-limit
counters (limits are per client IP)."""

from __future__ import annotations

import gzip
import itertools
import json
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp

from gateway.access.principal import Permission
from gateway.db.pool import Database
from resolvers.tokens.store import issue_token
from tests.conftest import Tenant, new_tenant

# loopback source addresses, one per client: 127.0.<n>.<m>
_addresses = itertools.count(1)

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"
CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
PERMISSIONS = {
    "count": Permission.COUNT,
    "export": Permission.EXPORT,
    "site-read": Permission.READ_PRODUCTS,
    "site-create": Permission.CREATE_PRODUCTS,
    "site-update": Permission.UPDATE_PRODUCTS,
    "stats": Permission.STATS,
}


def loopback_address() -> str:
    n = next(_addresses)
    return f"127.0.{n // 250 + 1}.{n % 250 + 1}"


@asynccontextmanager
async def client() -> AsyncIterator[aiohttp.ClientSession]:
    """An HTTP client whose requests come from a loopback address no other client uses."""
    connector = aiohttp.TCPConnector(local_addr=(loopback_address(), 0), force_close=True)
    async with aiohttp.ClientSession(connector=connector, auto_decompress=False) as session:
        yield session


@dataclass
class Site:
    """An account with one site, named by `host`."""

    tenant: Tenant
    host: str
    code: str

    @property
    def product_pk(self) -> int:
        return self.tenant.product_pk


async def new_site(db: Database, host: str | None = None) -> Site:
    tenant = await new_tenant(db)
    host = host or f"site-{secrets.token_hex(4)}.test"
    code = await db.fetchval(
        "UPDATE products SET name = $2 WHERE id = $1 RETURNING site_code", tenant.product_pk, host
    )
    await db.execute(
        "INSERT INTO product_hosts (host, account_id, product_id) VALUES ($1, $2, $3)",
        host,
        tenant.account_pk,
        tenant.product_pk,
    )
    return Site(tenant, host, code)


async def token(
    db: Database, site: Site, *names: str, products: list[int] | None = None, name: str | None = None
) -> str:
    """A token of the site's account with GoatCounter's permissions `names` (none: a token that may do nothing),
    made for the account's user."""
    user = await db.fetchval("SELECT min(id) FROM users WHERE account_id = $1", site.tenant.account_pk)
    issued = await issue_token(
        db,
        site.tenant.account_pk,
        name or " ".join(names) or "nothing",
        [PERMISSIONS[n] for n in names],
        user_id=user,
        product_ids=products,
    )
    return issued.secret


@dataclass
class Answer:
    status: int
    headers: Any
    raw: bytes  # as sent (maybe gzip-compressed)

    @property
    def body(self) -> bytes:
        if self.headers.get("Content-Encoding") == "gzip":
            return gzip.decompress(self.raw)
        return self.raw

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode()


async def call(
    http: aiohttp.ClientSession,
    url: str,
    method: str = "GET",
    host: str | None = None,
    token: str | None = None,
    body: Any = None,
    content_type: str | None = "application/json",
    headers: dict[str, str] | None = None,
) -> Answer:
    """One request as GoatCounter's clients send it (JSON content type, bearer token, the site's Host)."""
    sent = dict(headers or {})
    if host is not None:
        sent["Host"] = host
    if content_type is not None:
        sent.setdefault("Content-Type", content_type)
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"
    data = body if isinstance(body, bytes | str) or body is None else json.dumps(body)
    async with http.request(method, url, data=data, headers=sent, allow_redirects=False) as response:
        return Answer(response.status, response.headers, await response.read())
