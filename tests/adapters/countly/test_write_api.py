"""`/i`: every row of the write-API table, request formats, and malformed input (never a 500)."""

from __future__ import annotations

import asyncio
import hashlib
import json

import aiohttp

from adapters.countly.ingest import RECORD_BATCHES
from gateway.db.pool import Database
from tests.adapters.countly.helpers import call, get
from tests.conftest import Server, Tenant

SUCCESS = {"result": "Success"}
MISSING = {"result": 'Missing parameter "app_key" or "device_id"'}


async def test_success(http: aiohttp.ClientSession, server: Server, tenant: Tenant) -> None:
    answer = await get(http, server, "/i", app_key=tenant.app_key, device_id="d1", begin_session="1")
    assert (answer.status, answer.body) == (200, SUCCESS)
    assert answer.headers["Content-Type"] == "application/json; charset=utf-8"
    assert answer.headers["Access-Control-Allow-Origin"] == "*"


async def test_missing_app_key_or_device_id(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant
) -> None:
    for params in ({"device_id": "d1"}, {"app_key": tenant.app_key}, {}, {"app_key": "", "device_id": "x"}):
        answer = await get(http, server, "/i", **params)
        assert (answer.status, answer.body) == (400, MISSING)
    assert answer.text == '{"result":"Missing parameter \\"app_key\\" or \\"device_id\\""}'


async def test_unknown_app_key(http: aiohttp.ClientSession, server: Server) -> None:
    answer = await get(http, server, "/i", app_key="nope", device_id="d1")
    assert (answer.status, answer.body) == (400, {"result": "App does not exist"})


async def test_paused_app(http: aiohttp.ClientSession, server: Server, tenant: Tenant, db: Database) -> None:
    await db.execute("UPDATE products SET status = 'paused' WHERE id = $1", tenant.product_pk)
    answer = await get(http, server, "/i", app_key=tenant.app_key, device_id="d1")
    assert (answer.status, answer.body) == (400, {"result": "App is currently not accepting data"})


async def test_duplicate_request(http: aiohttp.ClientSession, server: Server, tenant: Tenant) -> None:
    params = {"app_key": tenant.app_key, "device_id": "dup", "timestamp": "1700000000123", "events": "[]"}
    first = await get(http, server, "/i", **params)
    second = await get(http, server, "/i", **params)
    assert (first.status, first.body) == (200, SUCCESS)
    assert (second.status, second.body) == (
        200,
        {"result": "Success", "info": "Request ignored: Duplicate request"},
    )


async def test_concurrent_requests_share_record_operations(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant, db: Database
) -> None:
    stats = server.app[RECORD_BATCHES].stats
    items, calls = stats.items, stats.calls
    answers = await asyncio.gather(
        *(
            get(http, server, "/i", app_key=tenant.app_key, device_id=f"c{n}", begin_session="1")
            for n in range(40)
        )
    )
    assert [(a.status, a.body) for a in answers] == [(200, SUCCESS)] * 40
    assert stats.items - items == 40
    assert stats.calls - calls < 40
    stored = await db.fetchval(
        "SELECT count(*) FROM devices WHERE product_id = $1 AND device_key LIKE 'c%'", tenant.product_pk
    )
    assert stored == 40


async def test_a_rejected_request_fails_alone_among_concurrent_ones(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant, db: Database
) -> None:
    too_long = "x" * 600
    alone = await get(http, server, "/i", app_key=tenant.app_key, device_id=too_long, begin_session="1")
    assert alone.status == 400 and "deviceId" in alone.body["result"]
    devices = [f"r{n}" for n in range(20)]
    devices[7] = too_long
    answers = await asyncio.gather(
        *(get(http, server, "/i", app_key=tenant.app_key, device_id=d, begin_session="1") for d in devices)
    )
    expected = [(alone.status, alone.body) if d == too_long else (200, SUCCESS) for d in devices]
    assert [(a.status, a.body) for a in answers] == expected
    stored = await db.fetchval(
        "SELECT count(*) FROM devices WHERE product_id = $1 AND device_key LIKE 'r%'", tenant.product_pk
    )
    assert stored == 19


async def test_ignored_device(http: aiohttp.ClientSession, server: Server, tenant: Tenant) -> None:
    answer = await get(
        http, server, "/i", app_key=tenant.app_key, device_id="00000000-0000-0000-0000-000000000000"
    )
    assert (answer.status, answer.body) == (200, {"result": "Ignoring device_id"})


async def _salted(db: Database, tenant: Tenant, salt: str) -> bool:
    columns = await db.fetch(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'products'"
    )
    names = {row["column_name"] for row in columns}
    column = next((n for n in ("checksum_salt", "salt") if n in names), None)
    if column is None:
        return False
    await db.execute(f"UPDATE products SET {column} = $1 WHERE id = $2", salt, tenant.product_pk)
    return True


async def test_checksums(http: aiohttp.ClientSession, server: Server, tenant: Tenant, db: Database) -> None:
    import pytest

    if not await _salted(db, tenant, "s3cret"):
        pytest.skip("products have no checksum salt column yet")
    query = f"app_key={tenant.app_key}&device_id=c1&begin_session=1"
    good = hashlib.sha1((query + "s3cret").encode()).hexdigest().upper()
    answer = await call(http, server, "GET", f"/i?{query}&checksum={good}")
    assert (answer.status, answer.body) == (200, SUCCESS)
    answer = await call(http, server, "GET", f"/i?{query}&session_duration=5&checksum={good}")
    assert (answer.status, answer.body) == (200, {"result": "Request does not match checksum"})
    answer = await call(http, server, "GET", f"/i?{query}&session_duration=6")
    assert (answer.status, answer.body) == (200, {"result": "Request does not have checksum"})
    body = f"app_key={tenant.app_key}&device_id=c2&begin_session=1"
    good256 = hashlib.sha256((body + "s3cret").encode()).hexdigest().upper()
    answer = await call(
        http,
        server,
        "POST",
        "/i",
        data=body + "&checksum256=" + good256,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert (answer.status, answer.body) == (200, SUCCESS)


async def test_post_formats_and_override(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant, db: Database
) -> None:
    form = {"app_key": tenant.app_key, "device_id": "form", "begin_session": "1"}
    answer = await call(http, server, "POST", "/i", data=form)
    assert (answer.status, answer.body) == (200, SUCCESS)
    multipart = aiohttp.FormData()
    for key, value in {"app_key": tenant.app_key, "device_id": "multi", "begin_session": "1"}.items():
        multipart.add_field(key, value)
    answer = await call(http, server, "POST", "/i", data=multipart)
    assert (answer.status, answer.body) == (200, SUCCESS)
    answer = await call(
        http, server, "POST", "/i", json={"app_key": tenant.app_key, "device_id": "json", "begin_session": 1}
    )
    assert (answer.status, answer.body) == (200, SUCCESS)
    # body fields override query fields: a wrong query app_key is replaced by the body's
    answer = await call(
        http,
        server,
        "POST",
        "/i",
        params={"app_key": "wrong", "device_id": "q"},
        data={"app_key": tenant.app_key},
    )
    assert (answer.status, answer.body) == (200, SUCCESS)
    keys = await db.fetch("SELECT device_key FROM devices WHERE product_id = $1", tenant.product_pk)
    assert {"form", "multi", "json", "q"} <= {row["device_key"] for row in keys}


async def test_malformed_input_never_fails(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant
) -> None:
    base = {"app_key": tenant.app_key, "device_id": "mal"}
    cases = [
        {"events": "[{bad json"},
        {"metrics": "{bad"},
        {"events": '{"key":"single"}'},
        {"events": '[1, "x", null, {"count": 3}, {"key": ""}, {"key": "ok", "count": "abc", "sum": "NaN"}]'},
        {
            "events": json.dumps(
                [{"key": "k" * 600}, {"key": "fine", "segmentation": {"a": [1], "b": {"c": 1}}}]
            )
        },
        {"session_duration": "abc"},
        {"session_duration": "99999999999999999999"},
        {"events": json.dumps([{"key": "big", "count": 10**20, "sum": 1e308, "dur": -5}])},
        {"metrics": json.dumps({"_os": {"x": 1}, "_os_version": [1], "_device": None, "_carrier": 5})},
        {"user_details": "not json", "timestamp": "garbage", "unknown_param": "x", "hc": "1", "rr": "2"},
        {"begin_session": "yes", "timestamp": "9999999999999"},
    ]
    for extra in cases:
        answer = await get(http, server, "/i", **base, **extra)
        assert answer.status == 200, (extra, answer.text)
        assert answer.body == SUCCESS, (extra, answer.text)
    answer = await call(http, server, "POST", "/i", data={**base, "metrics": "x" * 100_000})
    assert (answer.status, answer.body) == (200, SUCCESS)
    answer = await call(http, server, "POST", "/i", data={**base, "device_id": "x" * 5000})
    assert answer.status < 500
    assert "result" in answer.body
    answer = await call(
        http, server, "POST", "/i", data=b"\xff\xfe\x00garbage", headers={"Content-Type": "application/json"}
    )
    assert (answer.status, answer.body) == (400, MISSING)


async def test_bad_events_json_stores_the_rest(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant, db: Database
) -> None:
    answer = await get(
        http,
        server,
        "/i",
        app_key=tenant.app_key,
        device_id="rest",
        begin_session="1",
        events="[{not json",
        metrics=json.dumps({"_os": "Android"}),
    )
    assert (answer.status, answer.body) == (200, SUCCESS)
    count = await db.fetchval("SELECT count(*) FROM sessions WHERE product_id = $1", tenant.product_pk)
    assert count == 1


async def test_jsonp_and_escaping(http: aiohttp.ClientSession, server: Server) -> None:
    answer = await get(http, server, "/i", callback="cb")
    assert answer.status == 400
    assert answer.text == 'cb({"result":"Missing parameter \\"app_key\\" or \\"device_id\\""})'
    answer = await get(http, server, "/i", callback="<script>")
    assert answer.text.startswith("{")


async def test_options_and_other_methods(http: aiohttp.ClientSession, server: Server) -> None:
    for path in ("/i", "/i/bulk", "/o", "/o/analytics/dashboard", "/o/analytics/countries", "/o/sdk"):
        answer = await call(http, server, "OPTIONS", path)
        assert answer.status == 200
        assert answer.headers["Access-Control-Allow-Origin"] == "*"
        assert answer.headers["Access-Control-Allow-Methods"] == "POST, GET, OPTIONS"
        assert answer.headers["Access-Control-Allow-Headers"] == "countly-token, Content-Type"
        for method in ("PUT", "DELETE", "PATCH"):
            answer = await call(http, server, method, path)
            assert (answer.status, answer.body) == (405, {"result": "Method not allowed"})
