"""Helpers of the FollowAnalytics tests: a tenant with data, requests with `Authorization: Token`, replies."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp

from gateway.db.pool import Database
from tests.conftest import Server, Tenant

BASE = datetime(2026, 2, 1, 9, tzinfo=UTC)


@dataclass
class FaReply:
    status: int
    text: str
    headers: Any
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.text)


async def call(
    http: aiohttp.ClientSession,
    server: Server,
    method: str,
    path: str,
    token: str | None = None,
    **kwargs: Any,
) -> FaReply:
    headers = {"Accept": "application/json", **kwargs.pop("headers", {})}
    if token is not None:
        headers["Authorization"] = f"Token {token}"
    async with http.request(method, server.url + path, headers=headers, **kwargs) as response:
        body = await response.read()
        text = body.decode("utf-8", "replace")
        return FaReply(response.status, text, response.headers, body)


async def login_token(http: aiohttp.ClientSession, server: Server, tenant: Tenant) -> str:
    reply = await call(
        http, server, "POST", "/api/login", json={"email": tenant.email, "password": tenant.password}
    )
    assert reply.status == 200, reply.text
    return str(reply.json["result"]["auth_token"])


async def seed_activity(db: Database, tenant: Tenant, devices: int = 3, events_per_device: int = 5) -> None:
    """Devices (d0, d1, ...) with one session each and events named e0/e1/e2, spread over hours."""
    for d in range(devices):
        device = await db.fetchval(
            """INSERT INTO devices (account_id, product_id, device_key, first_seen, last_seen, os, country)
               VALUES ($1, $2, $3, $4, $5, $6, 'FR') RETURNING id""",
            tenant.account_pk,
            tenant.product_pk,
            f"d{d}",
            BASE,
            BASE + timedelta(hours=d),
            "iOS" if d % 2 else "Android",
        )
        session = await db.fetchval(
            """INSERT INTO sessions (account_id, product_id, device_id, started_at, duration, ended_at)
               VALUES ($1, $2, $3, $4, 30, $5) RETURNING id""",
            tenant.account_pk,
            tenant.product_pk,
            device,
            BASE + timedelta(hours=d),
            BASE + timedelta(hours=d, seconds=30),
        )
        for e in range(events_per_device):
            await db.execute(
                """INSERT INTO events (account_id, product_id, device_id, session_id, key, occurred_at, segmentation)
                   VALUES ($1, $2, $3, $4, $5, $6, $7)""",
                tenant.account_pk,
                tenant.product_pk,
                device,
                session,
                f"e{e % 3}",
                BASE + timedelta(hours=d, minutes=e * 7),
                {"screen": f"s{e}", "n": e},
            )
