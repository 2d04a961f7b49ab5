"""Issue 22, item 15: PostgreSQL asked to shut down politely (SIGTERM, a smart shutdown) waits for every session
to end; the gateway kept idle sessions open forever (the pool's floor, LISTEN connections, job polls), so the
shutdown never finished. An idle gateway now holds no session, and recovers once the server is back."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import aiohttp

from tests.private_postgres import gateway_on_private_postgres

# paths whose replies are a GIF whatever their status (tracking pixels, beacons)
GIF_PATHS = ("/count", "/e", "/s", "/a")


def _gif(body: bytes) -> bool:
    return body.startswith(b"GIF89a")


async def test_a_smart_shutdown_finishes_and_the_gateway_recovers(tmp_path: Path) -> None:
    env = {**os.environ, "GATEWAY_POOL_IDLE_SECONDS": "1"}
    async with (
        gateway_on_private_postgres(tmp_path, env) as (postgres, tenant, url),
        aiohttp.ClientSession() as http,
    ):
        # some work first: a write through the engine, a read through the graph
        async with http.get(url + "/i", params={"app_key": tenant.app_key, "device_id": "d"}) as response:
            assert response.status == 200
        headers = {"Authorization": f"Bearer {tenant.token}"}
        async with http.post(url + "/graphql", json={"query": "{ account { id } }"}, headers=headers) as r:
            assert r.status == 200
        await asyncio.sleep(2.5)  # idle for longer than the pool keeps an unused connection
        seconds = await asyncio.to_thread(postgres.stop_smart, 30)  # raises when it does not finish
        assert seconds < 30
        async with http.get(url + "/healthz") as response:
            assert response.status == 503
        # the outage in each dialect's own shape, with Retry-After (gateway/http/error_shapes.py)
        bearer = {"Authorization": f"Bearer {tenant.token}"}
        outage = [
            (
                "GET",
                "/i",
                {"app_key": tenant.app_key, "device_id": "d"},
                {},
                lambda b: set(json.loads(b)) == {"result"},
            ),
            (
                "POST",
                "/graphql",
                None,
                bearer,
                lambda b: json.loads(b)["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE",
            ),
            (
                "GET",
                "/api/v0/me",
                None,
                {**bearer, "Content-Type": "application/json"},
                lambda b: "error" in json.loads(b),
            ),
            ("GET", "/count", {"p": "/x"}, {}, _gif),
            (
                "GET",
                "/api/apps",
                None,
                {"Authorization": f"Token {tenant.token}"},
                lambda b: json.loads(b)["status"] == 503,
            ),
            # KISSmetrics: a beacon still gets its GIF (with the 503: not stored), the APIs their own shapes
            ("GET", "/e", {"_k": tenant.app_key, "_p": "bob", "_n": "Signed Up"}, {}, _gif),
            ("GET", "/s", {"_k": tenant.app_key, "_p": "bob", "plan": "pro"}, {}, _gif),
            ("GET", "/a", {"_k": tenant.app_key, "_p": "bob", "_n": "bob@example.com"}, {}, _gif),
            (
                "GET",
                "/core/accounts",
                None,
                bearer,
                lambda b: (
                    json.loads(b)
                    == {
                        "meta": {
                            "status": 503,
                            "message": "service unavailable",
                            "errors": ["service_unavailable"],
                        }
                    }
                ),
            ),
            (
                "GET",
                "/query/queries/6f7c0cde-7d5e-4d7e-9b43-3c3c3c3c3c3c/status",
                None,
                bearer,
                lambda b: json.loads(b)["status"] == 503 and json.loads(b)["error"] == "Service Unavailable",
            ),
        ]
        for method, path, params, headers, shaped in outage:
            kwargs = {"json": {"query": "{ account { id } }"}} if method == "POST" else {}
            async with http.request(method, url + path, params=params, headers=headers, **kwargs) as response:
                body = await response.read()
                assert response.status == 503 and response.headers["Retry-After"] == "5", (
                    path,
                    response.status,
                    body[:200],
                )
                assert shaped(body if path in GIF_PATHS else body.decode()), (path, body[:200])
        await asyncio.to_thread(postgres.start_again)
        for _ in range(100):
            async with http.get(url + "/healthz") as response:
                if response.status == 200:
                    break
            await asyncio.sleep(0.1)
        assert response.status == 200, "the gateway did not recover without a restart"
        async with http.get(url + "/i", params={"app_key": tenant.app_key, "device_id": "d"}) as response:
            assert response.status == 200
