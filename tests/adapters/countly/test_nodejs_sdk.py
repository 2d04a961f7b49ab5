"""The real countly-sdk-nodejs against the live gateway: a session with events, read back through the graph."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import aiohttp
import pytest

from tests.adapters.countly.helpers import get
from tests.conftest import Server, Tenant, gql

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = Path(__file__).with_name("sdk_client.js")
SDK = ROOT / "node_modules" / "countly-sdk-nodejs"

READ_BACK = """
query ($id: ID!) {
  node(id: $id) {
    ... on Product {
      sessions(first: 10) { nodes { duration endedAt } }
      events(first: 50) { nodes { key count sum duration segmentation } }
    }
  }
}
"""


@pytest.fixture
def node() -> str:
    found = shutil.which("node")
    if found is None or not SDK.is_dir():
        pytest.skip("node or node_modules/countly-sdk-nodejs is missing (run `npm install`)")
    return found


async def test_sdk_session_and_events(
    node: str, http: aiohttp.ClientSession, server: Server, tenant: Tenant, tmp_path: Path
) -> None:
    process = await asyncio.create_subprocess_exec(
        node,
        str(SCRIPT),
        server.url,
        tenant.app_key,
        "sdk-device-1",
        str(tmp_path),
        cwd=str(ROOT),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, (out.decode(), err.decode())

    reply = await gql(http, server, READ_BACK, {"id": tenant.product_id}, token=tenant.token)
    product = reply.data["node"]
    sessions = product["sessions"]["nodes"]
    assert len(sessions) == 1
    assert sessions[0]["duration"] == 45
    assert sessions[0]["endedAt"] is not None
    events = product["events"]["nodes"]
    purchases = [e for e in events if e["key"] == "purchase"]
    assert sum(e["count"] for e in purchases) == 3
    assert sum(e["sum"] for e in purchases) == pytest.approx(10.0)
    assert sorted(e["segmentation"]["plan"] for e in purchases) == ["free", "pro"]
    levels = [e for e in events if e["key"] == "level_up"]
    assert [(e["count"], e["duration"]) for e in levels] == [(3, 12)]

    answer = await get(
        http, server, "/o", app_id=tenant.product_id, api_key=tenant.token, method="get_events"
    )
    assert answer.status == 200
    assert set(answer.body["list"]) == {"purchase", "level_up"}
    assert answer.body["segments"]["purchase"] == ["plan"]
    assert answer.body["segments"]["level_up"] == []

    def year_totals(document: dict[str, object], letters: str) -> dict[str, float]:
        years = [value for key, value in document.items() if key.isdigit() and isinstance(value, dict)]
        return {letter: sum(year.get(letter, 0) for year in years) for letter in letters}

    read = {"app_id": tenant.product_id, "api_key": tenant.token}
    sessions = await get(http, server, "/o", method="sessions", **read)
    assert sessions.status == 200
    assert year_totals(sessions.body, "tnd") == {"t": 1, "n": 1, "d": 45}
    purchase = await get(http, server, "/o", method="events", event="purchase", **read)
    assert year_totals(purchase.body, "cs") == {"c": 3, "s": pytest.approx(10.0)}
    assert purchase.body["meta"]["segments"] == ["plan"]
    by_plan = await get(http, server, "/o", method="events", event="purchase", segmentation="plan", **read)
    assert sorted(by_plan.body["meta"]["plan"]) == ["free", "pro"]
    levels_doc = await get(http, server, "/o", method="events", event="level_up", **read)
    assert year_totals(levels_doc.body, "c") == {"c": 3}
