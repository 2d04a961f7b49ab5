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
    found = await call(http, server, "GET", f"/api/apps/{app}/devices?current_user_ids=ALICE", tenant.token)
    assert [d["device_id"] for d in found.json["result"]["devices"]] == ["phone-1"]
    found = await call(http, server, "GET", f"/api/apps/{app}/devices?device_ids=phone-2,nope", tenant.token)
    assert [d["device_id"] for d in found.json["result"]["devices"]] == ["phone-2"]
    # delta sync: only what changed since
    mark = datetime.now(UTC)
    await asyncio.sleep(0.01)
    await record(http, server, tenant, {"deviceId": "phone-2", "properties": {"plan": "pro"}})
    since = mark.isoformat().replace("+00:00", "Z")
    found = await call(http, server, "GET", f"/api/apps/{app}/devices?updated_since={since}", tenant.token)
    assert [d["device_id"] for d in found.json["result"]["devices"]] == ["phone-2"]
    # sessions of a user: those of the person the user id names
    found = await call(http, server, "GET", f"/api/apps/{app}/users/alice/sessions", tenant.token)
    assert [s["device_id"] for s in found.json["result"]["sessions"]] == ["phone-1"]
    found = await call(http, server, "GET", f"/api/apps/{app}/events?user_ids=nobody", tenant.token)
    assert found.json["result"]["events"] == []
