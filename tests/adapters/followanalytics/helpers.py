"""Helpers of the FollowAnalytics tests: a tenant with data, requests with `Authorization: Token`, replies."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from aiosmtpd.controller import Controller

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


@dataclass
class Inbox:
    """The messages a real SMTP server on loopback (aiosmtpd) received, and its address for the gateway."""

    url: str = ""
    messages: list[Any] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        self.messages.append(envelope)
        return "250 OK"

    async def wait_for(self, count: int) -> list[Any]:
        for _ in range(200):
            if len(self.messages) >= count:
                break
            await asyncio.sleep(0.05)
        return self.messages


@contextmanager
def smtp_inbox() -> Iterator[Inbox]:
    """An SMTP server on a free loopback port, for `GATEWAY_SMTP_URL` (`Inbox.url`)."""
    inbox = Inbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    inbox.url = f"smtp://127.0.0.1:{port}"
    try:
        yield inbox
    finally:
        controller.stop()
