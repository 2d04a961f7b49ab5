"""Fault: PostgreSQL restarted (fast: every session terminated) under concurrent KISSmetrics beacons.

As for Countly's `/i` (tests/adapters/countly/test_database_restart.py): every beacon answered 200 is stored;
during the outage beacons get 503 with `Retry-After` and still the GIF (an `<img>` beacon shows nothing broken,
a client sees it was not stored), never a 200 for a write that was not stored, a 500 or no reply; and the
gateway recovers without a restart of its own. The Core API answers the outage in its `meta` shape.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp

from adapters.kissmetrics.tracking import GIF
from gateway.db.pool import Database
from tests.private_postgres import Tally, gateway_on_private_postgres, writes_across_a_restart


async def test_acknowledged_beacons_survive_a_database_restart(tmp_path: Path) -> None:
    async with gateway_on_private_postgres(tmp_path) as (postgres, tenant, url):

        async def client(http: aiohttp.ClientSession, number: int, tally: Tally, stop: asyncio.Event) -> None:
            sequence = 0
            while not stop.is_set():
                call = f"{number}-{sequence}"
                sequence += 1
                # an event name per call: events of one person, name and second count once
                params = {
                    "_k": tenant.app_key,
                    "_p": f"person-{number}",
                    "_n": f"restart {call}",
                    "plan": "pro",
                }
                try:
                    async with http.get(url + "/e", params=params) as response:
                        body = await response.read()
                        tally.statuses[response.status] += 1
                        if body != GIF or response.headers["Content-Type"] != "image/gif":
                            tally.problems.append(f"{response.status} without the GIF: {body[:100]!r}")
                        elif response.status == 200:
                            tally.acknowledged.append(call)
                        elif response.status == 503:
                            if response.headers.get("Retry-After") != "5":
                                tally.problems.append(f"503 without Retry-After: {dict(response.headers)}")
                            await asyncio.sleep(0.05)
                        else:
                            tally.problems.append(f"{response.status}")
                except (aiohttp.ClientError, TimeoutError) as error:
                    tally.problems.append(f"no reply: {error!r}")

        tally = await writes_across_a_restart(postgres, client)
        db = await Database.connect(postgres.url, min_size=0, max_size=2)
        try:
            rows = await db.fetch(
                "SELECT key FROM events WHERE product_id = $1 AND key LIKE 'restart %'", tenant.product_pk
            )
        finally:
            await db.close()
        missing = {f"restart {call}" for call in tally.acknowledged} - {row["key"] for row in rows}
        assert not missing, f"{len(missing)} acknowledged beacons were lost, e.g. {sorted(missing)[:5]}"
