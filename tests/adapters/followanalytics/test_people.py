"""FollowAnalytics devices and users on the people model: a device's users are the names its person gained
(aliases), the newest its current user; lists by device ids, current user ids, segments and `updated_since`
(delta syncs see every device changed since, and no other); sessions of a user."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import aiohttp

from gateway.db.pool import Database
from tests.adapters.followanalytics.helpers import call
from tests.conftest import Server, Tenant, gql

RECORD = """
mutation ($product: ID!, $requests: [RecordInput!]!) {
  record(productId: $product, requests: $requests) { outcome }
}
"""


async def record(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant, *requests: dict[str, Any]
) -> None:
    reply = await gql(
        http, server, RECORD, {"product": tenant.product_id, "requests": list(requests)}, tenant.token
    )
    assert reply.errors is None and all(r["outcome"] == "STORED" for r in reply.data["record"]), reply.body


async def test_devices_with_their_users_filters_and_delta_syncs(
    http: aiohttp.ClientSession, server: Server, db: Database, tenant: Tenant
) -> None:
    app = tenant.product_id
    await record(
        http,
        server,
        tenant,
        {"deviceId": "phone-1", "beginSession": True, "metrics": {"_os": "iOS"}},
        {"deviceId": "phone-2", "beginSession": True, "metrics": {"_os": "Android"}},
    )
    await record(http, server, tenant, {"deviceId": "phone-1", "alias": "alice"})
    await asyncio.sleep(0.01)
    await record(http, server, tenant, {"deviceId": "phone-1", "alias": "alice@work"})
    reply = await call(
        http, server, "GET", f"/api/apps/{app}/devices?fields=current_user_id,users,os", tenant.token
    )
    assert reply.status == 200
    result = reply.json["result"]
    assert result["total_devices"] == 2
    by_id = {d["device_id"]: d for d in result["devices"]}
    assert by_id["phone-1"] == {
        "device_id": "phone-1",
        "application_id": app,
        "current_user_id": "alice@work",
        "users": ["alice", "alice@work"],
        "os": "iOS",
    }
    assert by_id["phone-2"]["current_user_id"] is None and by_id["phone-2"]["users"] == []
    # a device's current user is its newest user: what `current_user_ids` matches (case-insensitively)
    found = await call(
        http, server, "GET", f"/api/apps/{app}/devices?current_user_ids=ALICE@work", tenant.token
    )
    assert [d["device_id"] for d in found.json["result"]["devices"]] == ["phone-1"]
    found = await call(http, server, "GET", f"/api/apps/{app}/devices?current_user_ids=alice", tenant.token)
    assert found.json["result"]["devices"] == []
    found = await call(http, server, "GET", f"/api/apps/{app}/devices?device_ids=phone-2,nope", tenant.token)
    assert [d["device_id"] for d in found.json["result"]["devices"]] == ["phone-2"]
    # delta sync: only what changed since
    mark = datetime.now(UTC)
    await asyncio.sleep(0.01)
    await record(http, server, tenant, {"deviceId": "phone-2", "properties": {"plan": "pro"}})
    since = mark.isoformat().replace("+00:00", "Z")
    found = await call(http, server, "GET", f"/api/apps/{app}/devices?updated_since={since}", tenant.token)
    assert [d["device_id"] for d in found.json["result"]["devices"]] == ["phone-2"]
    # sessions of a user: those of the person whose current user it is
    found = await call(http, server, "GET", f"/api/apps/{app}/users/alice@work/sessions", tenant.token)
    assert [s["device_id"] for s in found.json["result"]["sessions"]] == ["phone-1"]
    found = await call(http, server, "GET", f"/api/apps/{app}/events?user_ids=nobody", tenant.token)
    assert found.json["result"]["events"] == []


async def test_events_and_sessions_answer_the_user_their_user_ids_filter_matches(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant
) -> None:
    app = tenant.product_id
    await record(
        http,
        server,
        tenant,
        {"deviceId": "tab-1", "beginSession": True, "events": [{"key": "open"}]},
        {"deviceId": "tab-2", "beginSession": True, "events": [{"key": "open"}]},
    )
    await record(http, server, tenant, {"deviceId": "tab-1", "alias": "bo"})
    await asyncio.sleep(0.01)
    await record(http, server, tenant, {"deviceId": "tab-1", "alias": "Bo@Home", "events": [{"key": "buy"}]})

    async def listed(path: str, items: str) -> list[dict[str, Any]]:
        reply = await call(http, server, "GET", f"/api/apps/{app}/{path}", tenant.token)
        assert reply.status == 200, reply.text
        return list(reply.json["result"][items])

    # every event and session of a person answers its current user (its newest alias), or null without one
    events = await listed("events?fields=name,device_id,user_id", "events")
    assert sorted((e["device_id"], e["name"], e["user_id"]) for e in events) == [
        ("tab-1", "buy", "Bo@Home"),
        ("tab-1", "open", "Bo@Home"),
        ("tab-2", "open", None),
    ]
    sessions = await listed("sessions?fields=device_id,user_id", "sessions")
    assert sorted((s["device_id"], s["user_id"] or "") for s in sessions) == [
        ("tab-1", "Bo@Home"),
        ("tab-2", ""),
    ]
    # the filters match that same user, in any case, and no former one
    for query in ("user_ids=bo@home", "user_ids=BO@HOME,nobody"):
        events = await listed(f"events?{query}", "events")
        assert {(e["device_id"], e["user_id"]) for e in events} == {("tab-1", "Bo@Home")}
        sessions = await listed(f"sessions?{query}", "sessions")
        assert [(s["device_id"], s["user_id"]) for s in sessions] == [("tab-1", "Bo@Home")]
    assert await listed("events?user_ids=bo", "events") == []
    assert await listed("sessions?user_ids=bo", "sessions") == []
    assert await listed("users/bo/sessions", "sessions") == []
    assert [s["user_id"] for s in await listed("users/bo@home/sessions", "sessions")] == ["Bo@Home"]
    devices = await listed("devices?current_user_ids=bo@home&fields=current_user_id", "devices")
    assert [(d["device_id"], d["current_user_id"]) for d in devices] == [("tab-1", "Bo@Home")]
