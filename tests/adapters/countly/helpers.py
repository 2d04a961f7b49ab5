"""Helpers of the Countly shim tests: plain HTTP calls that return status, parsed body and headers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import aiohttp

from tests.conftest import Server


@dataclass
class Answer:
    status: int
    text: str
    headers: Any

    @property
    def body(self) -> Any:
        return json.loads(self.text)


async def call(
    http: aiohttp.ClientSession,
    server: Server,
    method: str,
    path: str,
    params: dict[str, Any] | None = None,
    **kwargs: Any,
) -> Answer:
    async with http.request(method, server.url + path, params=params, **kwargs) as response:
        return Answer(response.status, await response.text(), response.headers)


async def get(http: aiohttp.ClientSession, server: Server, path: str, **params: Any) -> Answer:
    return await call(http, server, "GET", path, params=_encode(params))


def _encode(params: dict[str, Any]) -> dict[str, str]:
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}
