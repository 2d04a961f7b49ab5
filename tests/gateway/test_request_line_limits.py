"""How long a request's URL and each of its headers may be (`GATEWAY_MAX_URL_BYTES`, `GATEWAY_MAX_HEADER_BYTES`):
just under the limits a route answers, just over aiohttp's parser refuses before any route runs."""

from __future__ import annotations

import aiohttp

from gateway.config import Limits
from tests.conftest import Server

LIMITS = Limits()


async def status_of(http: aiohttp.ClientSession, url: str, headers: dict[str, str] | None = None) -> int:
    async with http.get(url, headers=headers) as response:
        await response.read()
        return response.status


async def test_long_urls_reach_the_routes(http: aiohttp.ClientSession, server: Server) -> None:
    path = "/healthz?pad="
    # the limit counts the URL as it is on the request line (path and query)
    under = server.url + path + "x" * (LIMITS.max_url_bytes - len(path))
    assert await status_of(http, under) == 200
    assert await status_of(http, under + "x") == 400


async def test_long_headers_reach_the_routes(http: aiohttp.ClientSession, server: Server) -> None:
    # a site's cookies travel with its pixel hits and beacons; 8 KB of them was refused before
    cookie = "; ".join(f"c{i}={'v' * 1000}" for i in range(12))
    assert 8190 < len(cookie) < LIMITS.max_header_bytes
    assert await status_of(http, server.url + "/healthz", {"Cookie": cookie}) == 200
    over = {"Cookie": "v" * (LIMITS.max_header_bytes + 1)}
    assert await status_of(http, server.url + "/healthz", over) == 400
