"""Fault: PostgreSQL restarted (fast: every session terminated) under concurrent `/i` load.

Beside the SIGKILL test of the gateway (`test_crash_safety.py`): every acknowledged request is stored; during
the outage clients get 503 in Countly's shape (`{"result": ...}`, JSON, `Retry-After`), never a 500 or a request
left without a reply, so SDKs keep their data queued; and the gateway recovers without a restart of its own.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import aiohttp

from gateway.db.pool import Database
from tests.private_postgres import Tally, gateway_on_private_postgres, writes_across_a_restart


async def test_acknowledged_writes_survive_a_database_restart(tmp_path: Path) -> None:
    async with gateway_on_private_postgres(tmp_path) as (postgres, tenant, url):

        async def client(http: aiohttp.ClientSession, number: int, tally: Tally, stop: asyncio.Event) -> None:
            sequence = 0
            while not stop.is_set():
                request_id = f"{number}-{sequence}"
                sequence += 1
                params = {
                    "app_key": tenant.app_key,
                    "device_id": f"restart-device-{number}",
                    "events": json.dumps([{"key": "restart_test", "segmentation": {"request": request_id}}]),
                }
                if sequence == 1:
                    params["begin_session"] = "1"
                try:
                    async with http.get(url + "/i", params=params) as response:
                        text = await response.text()
                        tally.statuses[response.status] += 1
                        if response.status == 200 and json.loads(text) == {"result": "Success"}:
                            tally.acknowledged.append(request_id)
                        elif response.status == 503:
                            if json.loads(text).keys() != {"result"} or "Retry-After" not in response.headers:
                                tally.problems.append(
                                    f"503 not in Countly's shape: {text[:200]} {dict(response.headers)}"
                                )
                            await asyncio.sleep(0.05)  # an SDK waits before it retries
                        else:
                            tally.problems.append(f"{response.status}: {text[:200]}")
                except (aiohttp.ClientError, TimeoutError) as error:
                    tally.problems.append(f"no reply: {error!r}")

        tally = await writes_across_a_restart(postgres, client)
        db = await Database.connect(postgres.url, min_size=0, max_size=2)
        try:
            rows = await db.fetch(
                "SELECT segmentation->>'request' AS request FROM events WHERE product_id = $1 AND key = 'restart_test'",
                tenant.product_pk,
            )
        finally:
            await db.close()
        missing = set(tally.acknowledged) - {row["request"] for row in rows}
        assert not missing, f"{len(missing)} acknowledged requests were lost, e.g. {sorted(missing)[:5]}"
