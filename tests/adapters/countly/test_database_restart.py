"""Fault: PostgreSQL restarted (fast: every session terminated) under concurrent `/i` load.

Beside the SIGKILL test of the gateway (`test_crash_safety.py`): every acknowledged request is stored; during
the outage clients get 503 in Countly's shape (`{"result": ...}`, JSON, `Retry-After`), never a 500 or a request
left without a reply, so SDKs keep their data queued; and the gateway recovers without a restart of its own.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path

import aiohttp

from gateway.db.pool import Database
from tests.conftest import Tenant
from tests.private_postgres import gateway_on_private_postgres

CLIENTS = 12
BEFORE = 150  # acknowledged requests before the restart
AFTER = 150  # acknowledged requests after it, to see the gateway recovered


async def _client(
    http: aiohttp.ClientSession,
    url: str,
    tenant: Tenant,
    client: int,
    acknowledged: list[str],
    statuses: Counter[int],
    problems: list[str],
    stop: asyncio.Event,
) -> None:
    sequence = 0
    while not stop.is_set():
        request_id = f"{client}-{sequence}"
        sequence += 1
        params = {
            "app_key": tenant.app_key,
            "device_id": f"restart-device-{client}",
            "events": json.dumps([{"key": "restart_test", "segmentation": {"request": request_id}}]),
        }
        if sequence == 1:
            params["begin_session"] = "1"
        try:
            async with http.get(url + "/i", params=params) as response:
                text = await response.text()
                statuses[response.status] += 1
                if response.status == 200 and json.loads(text) == {"result": "Success"}:
                    acknowledged.append(request_id)
                elif response.status == 503:
                    if json.loads(text).keys() != {"result"} or "Retry-After" not in response.headers:
                        problems.append(f"503 not in Countly's shape: {text[:200]} {dict(response.headers)}")
                    await asyncio.sleep(0.05)  # an SDK waits before it retries
                else:
                    problems.append(f"{response.status}: {text[:200]}")
        except (aiohttp.ClientError, TimeoutError) as error:
            problems.append(f"no reply: {error!r}")


async def test_acknowledged_writes_survive_a_database_restart(tmp_path: Path) -> None:
    async with gateway_on_private_postgres(tmp_path) as (postgres, tenant, url):
        acknowledged: list[str] = []
        statuses: Counter[int] = Counter()
        problems: list[str] = []
        stop = asyncio.Event()
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
            clients = [
                asyncio.create_task(_client(http, url, tenant, c, acknowledged, statuses, problems, stop))
                for c in range(CLIENTS)
            ]
            try:
                for _ in range(3000):
                    if len(acknowledged) >= BEFORE:
                        break
                    await asyncio.sleep(0.02)
                await asyncio.to_thread(postgres.restart_fast)
                restarted_at = len(acknowledged)
                for _ in range(
                    3000
                ):  # recovered: the clients are acknowledged again, with no restart of ours
                    if len(acknowledged) >= restarted_at + AFTER:
                        break
                    await asyncio.sleep(0.02)
            finally:
                stop.set()
                await asyncio.gather(*clients)
        assert not problems, problems[:5]
        assert len(acknowledged) >= restarted_at + AFTER, f"not recovered: {statuses}"
        assert statuses[503] > 0, f"the restart was not seen: {statuses}"
        assert set(statuses) <= {200, 503}, statuses
        db = await Database.connect(postgres.url, min_size=0, max_size=2)
        try:
            rows = await db.fetch(
                "SELECT segmentation->>'request' AS request FROM events WHERE product_id = $1 AND key = 'restart_test'",
                tenant.product_pk,
            )
        finally:
            await db.close()
        missing = set(acknowledged) - {row["request"] for row in rows}
        assert not missing, f"{len(missing)} acknowledged requests were lost, e.g. {sorted(missing)[:5]}"
