"""Subscriptions over websockets (graphql-transport-ws), fed by PostgreSQL LISTEN/NOTIFY across processes."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from gateway.background.live_feed import LIVE_KEY
from gateway.db.pool import Database
from gateway.http import graphql_ws
from tests.conftest import Server, Tenant, gateway_with, gql, new_tenant
from tests.process import GATEWAY, start_gateway

PROTOCOL = "graphql-transport-ws"

ACTIVITY = """subscription($p: ID!) {
  productActivity(productId: $p) {
    events { id key count segmentation isPageview path product { id } session { id } }
    sessions { id duration device { id } }
  }
}"""
RECORD_EVENTS = """mutation($p: ID!, $d: String!, $e: [EventOccurrenceInput!]!) {
  recordEvents(productId: $p, deviceId: $d, events: $e) { outcome }
}"""
RECORD_SESSION = """mutation($p: ID!, $d: String!) {
  recordSession(productId: $p, deviceId: $d, action: BEGIN) { outcome }
}"""


def ws_url(base: str) -> str:
    return base.replace("http://", "ws://", 1) + "/graphql"


async def receive(ws: aiohttp.ClientWebSocketResponse, timeout: float = 5.0) -> dict[str, Any]:  # noqa: ASYNC109
    message = await ws.receive(timeout=timeout)
    assert message.type is aiohttp.WSMsgType.TEXT, (message.type, message.data, message.extra)
    return dict(json.loads(message.data))


async def closed_with(ws: aiohttp.ClientWebSocketResponse, timeout: float = 5.0) -> int | None:  # noqa: ASYNC109
    """The close code the server ended the socket with (messages before it are skipped)."""
    deadline = time.monotonic() + timeout
    while True:
        message = await ws.receive(timeout=max(0.1, deadline - time.monotonic()))
        if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING):
            return ws.close_code


async def connect(
    http: aiohttp.ClientSession, base: str, token: str | None = None, **init: Any
) -> aiohttp.ClientWebSocketResponse:
    ws = await http.ws_connect(ws_url(base), protocols=(PROTOCOL,))
    assert ws.protocol == PROTOCOL
    if token is not None:
        await ws.send_json(
            {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}", **init}}
        )
        assert await receive(ws) == {"type": "connection_ack"}
    return ws


async def start_activity(ws: aiohttp.ClientWebSocketResponse, op_id: str, product_id: str) -> None:
    await ws.send_json(
        {"type": "subscribe", "id": op_id, "payload": {"query": ACTIVITY, "variables": {"p": product_id}}}
    )


async def listening(ws: aiohttp.ClientWebSocketResponse, op_id: str) -> None:
    """The subscription's first update, empty: it listens, and every commit from now on is delivered."""
    message = await receive(ws)
    assert message["type"] == "next" and message["id"] == op_id, message
    assert message["payload"]["data"]["productActivity"] == {"events": [], "sessions": []}, message


async def record(http: aiohttp.ClientSession, server: Server, tenant: Tenant, keys: list[str]) -> None:
    reply = await gql(
        http,
        server,
        RECORD_EVENTS,
        {"p": tenant.product_id, "d": "phone-1", "e": [{"key": k, "segmentation": {"k": k}} for k in keys]},
        token=tenant.token,
    )
    assert reply.data == {"recordEvents": {"outcome": "STORED"}}, reply.body


async def collect_keys(ws: aiohttp.ClientWebSocketResponse, op_id: str, wanted: int) -> list[str]:
    keys: list[str] = []
    while len(keys) < wanted:
        message = await receive(ws)
        assert message["type"] == "next" and message["id"] == op_id, message
        assert "errors" not in message["payload"], message
        keys += [e["key"] for e in message["payload"]["data"]["productActivity"]["events"]]
    return keys


# -- in process ---------------------------------------------------------------------------------------------


async def test_subscribe_receives_events_then_complete(
    server: Server, http: aiohttp.ClientSession, tenant: Tenant
) -> None:
    ws = await connect(http, server.url, tenant.token)
    await ws.send_json({"type": "ping", "payload": {"n": 1}})
    assert await receive(ws) == {"type": "pong", "payload": {"n": 1}}
    await start_activity(ws, "a1", tenant.product_id)
    await listening(ws, "a1")

    await record(http, server, tenant, ["signup"])
    message = await receive(ws)
    assert message["type"] == "next" and message["id"] == "a1"
    activity = message["payload"]["data"]["productActivity"]
    assert [e["key"] for e in activity["events"]] == ["signup"]
    event = activity["events"][0]
    assert event["segmentation"] == {"k": "signup"} and event["count"] == 1 and not event["isPageview"]
    assert event["product"] == {"id": tenant.product_id}

    # a session begins: the new session arrives, with its relations resolved
    reply = await gql(http, server, RECORD_SESSION, {"p": tenant.product_id, "d": "phone-2"}, tenant.token)
    assert reply.data == {"recordSession": {"outcome": "STORED"}}, reply.body
    message = await receive(ws)
    sessions = message["payload"]["data"]["productActivity"]["sessions"]
    assert len(sessions) == 1 and sessions[0]["device"]["id"]

    # several writes, each delivered exactly once and in order
    await asyncio.gather(*(record(http, server, tenant, [f"e{i}"]) for i in range(5)))
    assert sorted(await collect_keys(ws, "a1", 5)) == [f"e{i}" for i in range(5)]

    # another tenant's writes never reach this subscriber
    other = await new_tenant(_db(server))
    await record(http, server, other, ["foreign"])
    await record(http, server, tenant, ["mine"])
    assert await collect_keys(ws, "a1", 1) == ["mine"]

    # complete: the server stops the operation and sends nothing more for it
    await ws.send_json({"type": "complete", "id": "a1"})
    feed = server.app[LIVE_KEY]
    for _ in range(200):
        if feed.subscriber_count(tenant.product_pk) == 0:
            break
        await asyncio.sleep(0.01)
    assert feed.subscriber_count(tenant.product_pk) == 0
    await record(http, server, tenant, ["after-complete"])
    await ws.send_json({"type": "ping"})
    assert await receive(ws) == {"type": "pong"}
    # the id is free again
    await start_activity(ws, "a1", tenant.product_id)
    await listening(ws, "a1")
    await ws.close()


def _db(server: Server) -> Database:
    from gateway.state import STATE_KEY

    return server.app[STATE_KEY].db


async def test_foreign_or_unknown_product_is_not_found(
    server: Server, http: aiohttp.ClientSession, tenant: Tenant
) -> None:
    other = await new_tenant(_db(server))
    ws = await connect(http, server.url, tenant.token)
    await start_activity(ws, "x", other.product_id)
    message = await receive(ws)
    assert message["type"] == "error" and message["id"] == "x", message
    assert [e["extensions"]["code"] for e in message["payload"]] == ["NOT_FOUND"]
    await start_activity(ws, "y", "UHJvZHVjdDo5OTk5OTk5OTk=")
    message = await receive(ws)
    assert message["type"] == "error" and message["payload"][0]["extensions"]["code"] in (
        "NOT_FOUND",
        "BAD_USER_INPUT",
    )
    # a validation error is an error message too, and the socket stays usable
    await ws.send_json({"type": "subscribe", "id": "z", "payload": {"query": "subscription { nope }"}})
    message = await receive(ws)
    assert message["type"] == "error" and message["id"] == "z"
    await ws.send_json({"type": "subscribe", "id": "q", "payload": {"query": "{ viewer { permissions } }"}})
    assert (await receive(ws))["payload"]["data"]["viewer"]["permissions"]
    assert await receive(ws) == {"type": "complete", "id": "q"}
    await ws.close()


async def query_over_socket(ws: aiohttp.ClientWebSocketResponse, op_id: str, query: str) -> dict[str, Any]:
    """Run a query on an acknowledged socket: its `next` payload, or its `error` message."""
    await ws.send_json({"type": "subscribe", "id": op_id, "payload": {"query": query}})
    message = await receive(ws)
    if message["type"] == "next":
        assert await receive(ws) == {"type": "complete", "id": op_id}
        return dict(message["payload"])
    assert message["type"] == "error" and message["id"] == op_id, message
    return message


async def test_operations_over_a_socket_meet_the_limits_of_http(
    http: aiohttp.ClientSession, migrated: str, tmp_path: Path, tenant: Tenant
) -> None:
    """The node estimate and the hourly budget apply to every operation on a socket, subscriptions included
    (charged once, when they start), as they do to every HTTP request."""
    large = "{ products(first: 10) { nodes { events(first: 10) { nodes { id } } } } }"  # 110 nodes
    limits = {"max_nodes": 100, "cost_budget_per_hour": 3}
    async with gateway_with(migrated, tmp_path, limits=limits) as server:
        ws = await connect(http, server.url, tenant.token)
        refused = await query_over_socket(ws, "big", large)
        assert [e["extensions"]["code"] for e in refused["payload"]] == ["QUERY_TOO_LARGE"]
        assert "110 nodes" in refused["payload"][0]["message"]
        # refused before it runs: not charged
        first = await query_over_socket(ws, "1", "{ rateLimit { limit cost used } }")
        assert first["data"] == {"rateLimit": {"limit": 3, "cost": 1, "used": 1}}
        # the budget is the token's, shared with HTTP
        over_http = await gql(http, server, "{ rateLimit { used } }", token=tenant.token)
        assert over_http.data == {"rateLimit": {"used": 2}}
        third = await query_over_socket(ws, "3", "{ rateLimit { used } }")
        assert third["data"] == {"rateLimit": {"used": 3}}
        limited = await query_over_socket(ws, "4", "{ viewer { permissions } }")
        assert [e["extensions"]["code"] for e in limited["payload"]] == ["RATE_LIMITED"]
        await start_activity(ws, "live", tenant.product_id)
        limited = await receive(ws)
        assert limited["type"] == "error" and limited["id"] == "live", limited
        assert [e["extensions"]["code"] for e in limited["payload"]] == ["RATE_LIMITED"]
        assert (await gql(http, server, "{ viewer { permissions } }", token=tenant.token)).status == 429
        await ws.close()


async def test_a_token_revoked_after_the_socket_opened_runs_nothing(
    server: Server, http: aiohttp.ClientSession
) -> None:
    tenant = await new_tenant(_db(server))
    ws = await connect(http, server.url, tenant.token)
    answer = await query_over_socket(ws, "before", "{ viewer { permissions } }")
    assert answer["data"]["viewer"]["permissions"]
    await _db(server).execute("DELETE FROM api_tokens WHERE account_id = $1", tenant.account_pk)
    await ws.send_json(
        {"type": "subscribe", "id": "after", "payload": {"query": "{ viewer { permissions } }"}}
    )
    assert await closed_with(ws) == 4403


async def test_auth_and_protocol_close_codes(
    server: Server, http: aiohttp.ClientSession, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a bad token, or none, is refused: 4403 Forbidden
    ws = await connect(http, server.url)
    await ws.send_json({"type": "connection_init", "payload": {"Authorization": "Bearer agw_nope"}})
    assert await closed_with(ws) == 4403
    ws = await connect(http, server.url)
    await ws.send_json({"type": "connection_init"})
    assert await closed_with(ws) == 4403
    # subscribing before the acknowledgement: 4401 Unauthorized
    ws = await connect(http, server.url)
    await start_activity(ws, "1", tenant.product_id)
    assert await closed_with(ws) == 4401
    # the token may come as `token`, or in the upgrade request's header
    ws = await http.ws_connect(ws_url(server.url), protocols=(PROTOCOL,))
    await ws.send_json({"type": "connection_init", "payload": {"token": tenant.token}})
    assert await receive(ws) == {"type": "connection_ack"}
    # a second init: 4429
    await ws.send_json({"type": "connection_init", "payload": {"token": tenant.token}})
    assert await closed_with(ws) == 4429
    ws = await http.ws_connect(
        ws_url(server.url), protocols=(PROTOCOL,), headers={"Authorization": f"Bearer {tenant.token}"}
    )
    await ws.send_json({"type": "connection_init", "payload": {}})
    assert await receive(ws) == {"type": "connection_ack"}
    # the same id twice while running: 4409
    await start_activity(ws, "dup", tenant.product_id)
    await start_activity(ws, "dup", tenant.product_id)
    assert await closed_with(ws) == 4409
    # invalid messages: 4400
    for bad in ("not json", json.dumps({"no": "type"}), json.dumps({"type": "next", "id": "1"})):
        ws = await connect(http, server.url, tenant.token)
        await ws.send_str(bad)
        assert await closed_with(ws) == 4400, bad
    ws = await connect(http, server.url, tenant.token)
    await ws.send_json({"type": "subscribe", "id": "1", "payload": {"query": 5}})
    assert await closed_with(ws) == 4400
    # no subprotocol: 4406; no init in time: 4408
    ws = await http.ws_connect(ws_url(server.url))
    assert await closed_with(ws) == 4406
    monkeypatch.setattr(graphql_ws, "INIT_TIMEOUT", 0.2)
    ws = await http.ws_connect(ws_url(server.url), protocols=(PROTOCOL,))
    assert await closed_with(ws) == 4408


async def test_a_fault_of_the_gateway_closes_the_socket_with_1011(
    server: Server, http: aiohttp.ClientSession, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An exception the protocol does not expect ends the socket with 1011 and a reason that names nothing;
    before, it went to the HTTP error handling, which wrote a reply into the upgraded connection (the client
    read it as a broken frame)."""

    async def broken(self: graphql_ws.Connection, data: str) -> None:
        raise RuntimeError("/work/secret.py: something internal")

    ws = await connect(http, server.url, tenant.token)
    monkeypatch.setattr(graphql_ws.Connection, "handle", broken)
    await ws.send_json({"type": "ping"})
    message = await ws.receive(timeout=5)
    assert message.type is aiohttp.WSMsgType.CLOSE, (message.type, message.data)
    assert (message.data, message.extra) == (1011, "Internal error")
    # the gateway goes on serving sockets
    monkeypatch.undo()
    ws = await connect(http, server.url, tenant.token)
    await ws.send_json({"type": "ping"})
    assert await receive(ws) == {"type": "pong"}
    await ws.close()


async def test_subscription_over_http_is_refused(
    server: Server, http: aiohttp.ClientSession, tenant: Tenant
) -> None:
    # GraphQL over HTTP does not stream: the operation fails instead of hanging
    reply = await gql(http, server, ACTIVITY, {"p": tenant.product_id}, token=tenant.token)
    assert reply.errors and not reply.data


async def test_listen_connection_reconnects(
    server: Server, http: aiohttp.ClientSession, tenant: Tenant
) -> None:
    feed = server.app[LIVE_KEY]
    ws = await connect(http, server.url, tenant.token)
    await start_activity(ws, "r", tenant.product_id)
    await listening(ws, "r")
    pid = feed.server_pid
    assert pid is not None
    assert await _db(server).fetchval("SELECT pg_terminate_backend($1)", pid)
    for _ in range(300):
        if feed.server_pid not in (None, pid):
            break
        await asyncio.sleep(0.02)
    assert feed.server_pid not in (None, pid), "the feed did not reconnect"
    await record(http, server, tenant, ["after-reconnect"])
    assert await collect_keys(ws, "r", 1) == ["after-reconnect"]
    await ws.close()


# -- two processes ------------------------------------------------------------------------------------------


@pytest.fixture
def credentials(migrated: str, tmp_path: Path) -> dict[str, Any]:
    result = subprocess.run(
        [*GATEWAY, "bootstrap", "--json", "--account", f"live-{tmp_path.name}", "--data-dir", str(tmp_path)]
        + ["--database-url", migrated],
        capture_output=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr.decode()
    return dict(json.loads(result.stdout))


@pytest.fixture
async def two_gateways(migrated: str, tmp_path: Path) -> AsyncIterator[list[str]]:
    """Two separate `serve` processes on two ports, sharing only the database."""
    processes: list[tuple[subprocess.Popen[bytes], str]] = []
    env = {**os.environ, "GATEWAY_POOL_MIN": "1"}
    try:
        for i in range(2):
            processes.append(
                await asyncio.to_thread(start_gateway, migrated, str(tmp_path / str(i)), env=env)
            )
        yield [url for _, url in processes]
    finally:
        for process, _ in processes:
            process.send_signal(signal.SIGTERM)
        for process, _ in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


async def test_events_written_by_another_process_arrive(
    two_gateways: list[str], credentials: dict[str, Any], http: aiohttp.ClientSession
) -> None:
    reader, writer = two_gateways
    token, product_id = credentials["token"], credentials["product_id"]
    ws = await connect(http, reader, token)
    await start_activity(ws, "live", product_id)
    await listening(ws, "live")
    writer_server = Server(url=writer, app=None, settings=None)  # type: ignore[arg-type]

    async def write(key: str, device: str) -> None:
        # a fresh HTTP connection per write, each answered by the other process
        async with aiohttp.ClientSession() as fresh:
            reply = await gql(
                fresh,
                writer_server,
                RECORD_EVENTS,
                {"p": product_id, "d": device, "e": [{"key": key}]},
                token=token,
            )
            assert reply.data == {"recordEvents": {"outcome": "STORED"}}, reply.body

    for i in range(3):
        await write(f"remote-{i}", f"device-{i}")
    assert sorted(await collect_keys(ws, "live", 3)) == ["remote-0", "remote-1", "remote-2"]
    await ws.send_json({"type": "complete", "id": "live"})
    await ws.close()
