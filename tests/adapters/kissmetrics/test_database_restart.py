"""Fault: PostgreSQL restarted (fast: every session terminated) under concurrent KISSmetrics beacons.

As for Countly's `/i` (tests/adapters/countly/test_database_restart.py): every beacon answered 200 is stored;
during the outage beacons get 503 with `Retry-After` and still the GIF (an `<img>` beacon shows nothing broken,
a client sees it was not stored), never a 200 for a write that was not stored, a 500 or no reply; and the
gateway recovers without a restart of its own. The Core API answers the outage in its `meta` shape.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import aiohttp

from adapters.kissmetrics.tracking import GIF
from gateway.db.pool import Database
from tests.conftest import Tenant
from tests.private_postgres import gateway_on_private_postgres

CLIENTS = 12
BEFORE = 150  # acknowledged beacons before the restart
AFTER = 150  # acknowledged beacons after it, to see the gateway recovered


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
        call = f"{client}-{sequence}"
        sequence += 1
        # an event name per call: events of one person, name and second count once
        params = {"_k": tenant.app_key, "_p": f"person-{client}", "_n": f"restart {call}", "plan": "pro"}
        try:
            async with http.get(url + "/e", params=params) as response:
                body = await response.read()
                statuses[response.status] += 1
                if body != GIF or response.headers["Content-Type"] != "image/gif":
                    problems.append(f"{response.status} without the GIF: {body[:100]!r}")
                elif response.status == 200:
                    acknowledged.append(call)
                elif response.status == 503:
                    if response.headers.get("Retry-After") != "5":
                        problems.append(f"503 without Retry-After: {dict(response.headers)}")
                    await asyncio.sleep(0.05)
                else:
                    problems.append(f"{response.status}")
        except (aiohttp.ClientError, TimeoutError) as error:
            problems.append(f"no reply: {error!r}")


async def test_acknowledged_beacons_survive_a_database_restart(tmp_path: Path) -> None:
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
                for _ in range(3000):  # recovered: beacons are acknowledged again, with no restart of ours
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
                "SELECT key FROM events WHERE product_id = $1 AND key LIKE 'restart %'", tenant.product_pk
            )
        finally:
            await db.close()
        missing = {f"restart {call}" for call in acknowledged} - {row["key"] for row in rows}
        assert not missing, f"{len(missing)} acknowledged beacons were lost, e.g. {sorted(missing)[:5]}"
