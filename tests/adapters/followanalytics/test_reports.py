"""The export-only endpoints: the seed's messages with their exact bodies, the defaults, and the figures they
write (from rollups kept by the ingestion engine: data sent the way a Countly SDK sends it)."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import aiohttp

from gateway.db.pool import Database
from tests.adapters.followanalytics.helpers import call
from tests.adapters.followanalytics.test_exports import _download
from tests.conftest import Server, Tenant, new_tenant

DAY = 86400
SD = int(datetime(2026, 1, 10, tzinfo=UTC).timestamp())


def _body(message: str) -> str:
    return f'{{"success":false,"status":400,"message":"{message}","error_message":"{message}"}}'


async def test_missing_dates_have_the_seeds_messages(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant
) -> None:
    app = tenant.product_id
    required = [f"/api/performance_export?apps={app}", f"/api/apps/{app}/analytics/download_metrics"]
    optional = [f"/api/events_export?app={app}", f"/api/event_details_export?app={app}&event_id=1"]
    for path in required + optional:
        join = "&" if "?" in path else "?"
        reply = await call(http, server, "GET", f"{path}{join}ed={SD + DAY}", tenant.token)
        assert (reply.status, reply.text) == (400, _body("Missing start date")), path
        reply = await call(http, server, "GET", f"{path}{join}sd={SD}", tenant.token)
        assert (reply.status, reply.text) == (400, _body("Missing end date")), path
    for path in required:
        join = "&" if "?" in path else "?"
        reply = await call(http, server, "GET", path, tenant.token)
        assert (reply.status, reply.text) == (400, _body("Missing start date")), path
    reply = await call(
        http, server, "GET", f"/api/events_export?app={app}&sd={SD + 5}&ed={SD + DAY}", tenant.token
    )
    assert (reply.status, reply.text) == (
        400,
        _body("Invalid start date: sd must be a Unix time at midnight UTC"),
    )
    reply = await call(http, server, "GET", f"/api/performance_export?sd={SD}&ed={SD + DAY}", tenant.token)
    assert (reply.status, reply.text) == (400, _body("Missing app identifiers"))
    reply = await call(
        http, server, "GET", f"/api/events_export?app={app}&sd={SD + DAY}&ed={SD}", tenant.token
    )
    assert (reply.status, reply.text) == (400, _body("Invalid end date: ed must not come before sd"))


async def test_defaults_start_exports(http: aiohttp.ClientSession, server: Server, tenant: Tenant) -> None:
    for path in (f"/api/events_export.csv?app={tenant.product_id}&skip_email=true",):
        reply = await call(http, server, "GET", path, tenant.token)
        assert reply.status == 200 and "callback" in reply.json["result"]


async def _countly(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant, device: str, at: int, events: list[dict]
) -> None:
    query = {
        "app_key": tenant.app_key,
        "device_id": device,
        "timestamp": str(at),
        "begin_session": "1",
        "events": json.dumps(events),
    }
    async with http.get(server.url + "/i", params=query) as response:
        assert response.status == 200, await response.text()


async def test_figures_per_day_and_event_totals_and_details(
    http: aiohttp.ClientSession, server: Server, db: Database, tenant: Tenant
) -> None:
    await _countly(
        http, server, tenant, "a", SD + 3600, [{"key": "buy", "count": 2, "segmentation": {"plan": "pro"}}]
    )
    await _countly(
        http, server, tenant, "b", SD + 7200, [{"key": "buy", "count": 1, "segmentation": {"plan": "free"}}]
    )
    await _countly(http, server, tenant, "b", SD + DAY + 60, [{"key": "open", "count": 1}])
    app = tenant.product_id
    reply = await call(
        http,
        server,
        "GET",
        f"/api/performance_export.csv?apps={app}&sd={SD}&ed={SD + 2 * DAY}&skip_email=true",
        tenant.token,
    )
    status, _, body = await _download(http, reply.json["result"]["callback"])
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    assert [(r["date"], r["sessions"], r["downloads"], r["events"]) for r in rows] == [
        ("2026-01-10", "2", "2", "3"),
        ("2026-01-11", "1", "0", "1"),
    ]
    assert rows[0]["app_identifier"] == app
    reply = await call(
        http,
        server,
        "GET",
        f"/api/events_export.csv?app={app}&sd={SD}&ed={SD + DAY}&skip_email=true",
        tenant.token,
    )
    _, _, body = await _download(http, reply.json["result"]["callback"])
    assert list(csv.reader(io.StringIO(body.decode()))) == [["event_name", "occurrences"], ["buy", "3"]]
    event_id = await db.fetchval(
        "SELECT id FROM event_definitions WHERE product_id = $1 AND name = 'buy'", tenant.product_pk
    )
    reply = await call(
        http,
        server,
        "GET",
        f"/api/event_details_export.csv?app={app}&event_id={event_id}&sd={SD}&ed={SD + 2 * DAY}&skip_email=true",
        tenant.token,
    )
    _, _, body = await _download(http, reply.json["result"]["callback"])
    assert list(csv.reader(io.StringIO(body.decode()))) == [
        ["attribute", "value", "occurrences"],
        ["plan", "pro", "2"],
        ["plan", "free", "1"],
    ]
    # an event of another account, or no event at all, is a 404
    other = await new_tenant(db)
    for event in (str(event_id), "999999999", "x"):
        reply = await call(
            http,
            server,
            "GET",
            f"/api/event_details_export?app={other.product_id}&event_id={event}&sd={SD}&ed={SD}",
            other.token,
        )
        assert (reply.status, reply.json["message"]) == (404, "Event not found.")
