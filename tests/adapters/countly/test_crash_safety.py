"""Crash safety: SIGKILL the gateway under concurrent ingestion; every acknowledged request is stored."""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path

import aiohttp

from gateway.db.pool import Database
from tests.conftest import Tenant
from tests.process import start_gateway

CLIENTS = 16
KILL_AFTER = 300  # acknowledged requests before the kill


async def _client(
    http: aiohttp.ClientSession,
    url: str,
    tenant: Tenant,
    client: int,
    acknowledged: list[str],
    enough: asyncio.Event,
    stop: asyncio.Event,
) -> None:
    sequence = 0
    while not stop.is_set():
        request_id = f"{client}-{sequence}"
        sequence += 1
        params = {
            "app_key": tenant.app_key,
            "device_id": f"crash-device-{client}",
            "events": json.dumps(
                [{"key": "crash_test", "count": 1, "segmentation": {"request": request_id}}]
            ),
        }
        if sequence == 1:
            params["begin_session"] = "1"
        try:
            async with http.get(url + "/i", params=params) as response:
                body = await response.json(content_type=None)
                if response.status == 200 and body == {"result": "Success"}:
                    acknowledged.append(request_id)
                    if len(acknowledged) >= KILL_AFTER:
                        enough.set()
        except (TimeoutError, aiohttp.ClientError, ValueError):
            return  # the server died mid-request: this one was never acknowledged


async def test_acknowledged_writes_survive_sigkill(
    migrated: str, db: Database, tenant: Tenant, tmp_path: Path
) -> None:
    process, url = await asyncio.to_thread(start_gateway, migrated, str(tmp_path))
    acknowledged: list[str] = []
    enough, stop = asyncio.Event(), asyncio.Event()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
        clients = [
            asyncio.create_task(_client(http, url, tenant, c, acknowledged, enough, stop))
            for c in range(CLIENTS)
        ]
        await asyncio.wait_for(enough.wait(), timeout=60)
        process.send_signal(signal.SIGKILL)  # no shutdown, no flush: only what was committed may survive
        await asyncio.to_thread(process.wait)
        stop.set()
        await asyncio.gather(*clients)
    assert len(acknowledged) >= KILL_AFTER

    restarted, url = await asyncio.to_thread(start_gateway, migrated, str(tmp_path))
    try:
        stored = {
            row["request"]
            for row in await db.fetch(
                "SELECT segmentation->>'request' AS request FROM events WHERE product_id = $1 AND key = 'crash_test'",
                tenant.product_pk,
            )
        }
        missing = set(acknowledged) - stored
        assert not missing, f"{len(missing)} acknowledged requests were lost, e.g. {sorted(missing)[:5]}"
        # the restarted gateway accepts writes again
        async with (
            aiohttp.ClientSession() as http,
            http.get(
                url + "/i", params={"app_key": tenant.app_key, "device_id": "after-restart"}
            ) as response,
        ):
            assert response.status == 200 and await response.json() == {"result": "Success"}
    finally:
        restarted.terminate()
        await asyncio.to_thread(restarted.wait)
