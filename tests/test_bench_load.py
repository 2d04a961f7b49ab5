"""The load generator over real HTTP on loopback: `/i` clients send each device's requests one at a time and in
order, as Countly's SDKs do, and a plain workload still sends every sequence number once."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from aiohttp import web

from bench.builders import ingest_builder
from bench.load import Req, run_load

KINDS = ("begin_session", "events", "end_session")


@dataclass
class Seen:
    """What the server saw: each device's requests in arrival order, and the most in flight at once per device."""

    kinds: dict[str, list[str]] = field(default_factory=dict)
    in_flight: dict[str, int] = field(default_factory=dict)
    most_in_flight: int = 0
    paths: list[str] = field(default_factory=list)


@pytest.fixture
async def server() -> AsyncIterator[tuple[str, Seen]]:
    seen = Seen()

    async def countly(request: web.Request) -> web.Response:
        device = request.query["device_id"]
        seen.kinds.setdefault(device, []).append(next(k for k in KINDS if k in request.query))
        seen.in_flight[device] = seen.in_flight.get(device, 0) + 1
        seen.most_in_flight = max(seen.most_in_flight, seen.in_flight[device])
        await asyncio.sleep(random.uniform(0, 0.002))  # replies overtake each other
        seen.in_flight[device] -= 1
        return web.json_response({"result": "Success"})

    async def numbered(request: web.Request) -> web.Response:
        seen.paths.append(request.match_info["n"])
        await asyncio.sleep(random.uniform(0, 0.002))
        return web.json_response({"result": "Success"})

    app = web.Application()
    app.router.add_get("/i", countly)
    app.router.add_get("/n/{n}", numbered)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}", seen
    await runner.cleanup()


async def test_i_clients_send_each_devices_session_in_order(server: tuple[str, Seen]) -> None:
    base, seen = server
    result = await run_load(ingest_builder(base, "key", "t", 2), concurrency=8, max_requests=240)
    assert result.ok == 240 and result.failed == 0
    assert seen.most_in_flight == 1
    # clients run at their own pace, so the last devices of some may not have reached end_session
    assert all(kinds == list(KINDS[: len(kinds)]) for kinds in seen.kinds.values())
    assert sum(len(kinds) for kinds in seen.kinds.values()) == 240
    assert result.units == 2 * sum("events" in kinds for kinds in seen.kinds.values())
    assert {device.rsplit("-", 2)[1] for device in seen.kinds} == {str(client) for client in range(8)}


async def test_a_plain_workload_sends_each_number_once(server: tuple[str, Seen]) -> None:
    base, seen = server
    result = await run_load(lambda i: Req("GET", f"{base}/n/{i}"), concurrency=8, max_requests=100)
    assert result.ok == 100
    assert sorted(map(int, seen.paths)) == list(range(100))
