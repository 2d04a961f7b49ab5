"""The official clients against the gateway: py-KISSmetrics (PyPI) and the npm `kissmetrics` package record,
set and alias; what they sent reads back exactly through the graph and the Core API."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import aiohttp
import pytest
from yarl import URL

from tests.adapters.kissmetrics.helpers import person
from tests.conftest import Server, Tenant

ROOT = Path(__file__).resolve().parents[3]
NPM_CLIENT = ROOT / "node_modules" / "kissmetrics"


def _python_client(host: str, key: str) -> list[int]:
    import KISSmetrics

    client = KISSmetrics.Client(key=key, trk_host=host, trk_scheme="http")
    return [
        client.record("py-user@example.com", "Viewed Pricing", {"Plan": "Pro Plus", "Amount": 99.95}).status,
        client.record("py-user@example.com", "Back Dated", timestamp=1388534400).status,
        client.set("py-user@example.com", {"Company": "Acme & Co", "Seats": "12"}).status,
        client.alias("py-user@example.com", "py-anon-77").status,
    ]


async def test_py_kissmetrics(http: aiohttp.ClientSession, server: Server, tenant: Tenant) -> None:
    host = URL(server.url).raw_authority
    statuses = await asyncio.to_thread(_python_client, host, tenant.app_key)
    assert statuses == [200, 200, 200, 200]
    found = await person(http, server, tenant, "py-anon-77")
    assert found["deviceId"] == "py-user@example.com"
    assert found["properties"] == {
        "plan": "Pro Plus",
        "amount": "99.95",
        "company": "Acme & Co",
        "seats": "12",
    }
    events = {e["key"]: e["occurredAt"] for e in found["events"]["nodes"]}
    assert (
        set(events) == {"viewed pricing", "back dated"}
        and events["back dated"] == "2014-01-01T00:00:00+00:00"
    )
    async with http.get(
        server.url + "/core/properties", headers={"Authorization": f"Bearer {tenant.token}"}
    ) as response:
        names = {p["name"]: p["type"] for p in (await response.json())["data"]}
    assert names == {"plan": "text", "amount": "number", "company": "text", "seats": "number"}


async def test_npm_kissmetrics(http: aiohttp.ClientSession, server: Server, tenant: Tenant) -> None:
    node = shutil.which("node")
    if node is None or not NPM_CLIENT.is_dir():
        pytest.skip("node or node_modules/kissmetrics is missing (run `npm install`)")
    process = await asyncio.create_subprocess_exec(
        node,
        str(Path(__file__).with_name("km_client.js")),
        str(URL(server.url).port),
        tenant.app_key,
        cwd=str(ROOT),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0 and out.decode().strip() == "ok", err.decode()
    # encodeURI leaves `+` and `@` as they are: they read back as sent
    found = await person(http, server, tenant, "npm-anon-2")
    assert found["deviceId"] == "npm-user@example.com"
    assert found["properties"] == {"plan": "Pro", "referrer": "a+b@c", "seats": "5"}
    assert [e["key"] for e in found["events"]["nodes"]] == ["signed up"]
    assert {i["identity"] for i in found["identities"]} == {
        "npm-user@example.com",
        "npm-anon-1",
        "npm-anon-2",
    }
