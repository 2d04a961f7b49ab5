"""Aliases join two people with their histories into one, in either order, and the graph's people filters."""

from __future__ import annotations

import aiohttp
import pytest

from gateway.db.pool import Database
from tests.adapters.kissmetrics.helpers import beacon, person
from tests.conftest import Server, Tenant, gql

MONTH_USERS = """query($p: ID!) { node(id: $p) { ... on Product { analytics {
  sessions(since: "2024-01-01T00:00:00Z", until: "2024-02-01T00:00:00Z", granularity: MONTH) { uniqueUsers } } } } }"""


async def _history(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant, who: str, event: str, ts: int
) -> None:
    k = tenant.app_key
    await beacon(http, server, f"/e?_k={k}&_p={who}&_n={event}&Origin={who}&_d=1&_t={ts}")
    # a Countly session of the same identity: sessions belong to people too
    async with http.get(
        server.url + "/i", params={"app_key": k, "device_id": who, "begin_session": "1", "timestamp": str(ts)}
    ) as response:
        assert response.status == 200


@pytest.mark.parametrize("order", ["anonymous first", "named first"])
async def test_alias_joins_two_histories_in_either_order(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant, db: Database, order: str
) -> None:
    k = tenant.app_key
    await _history(http, server, tenant, "anon-42", "Viewed", 1704103200)
    await _history(http, server, tenant, "ann@example.com", "Signed%20Up", 1704106800)
    first, second = (
        ("anon-42", "ann@example.com") if order == "anonymous first" else ("ann@example.com", "anon-42")
    )
    await beacon(http, server, f"/a?_k={k}&_p={first}&_n={second}")
    await beacon(http, server, f"/a?_k={k}&_p={second}&_n={first}")  # repeatable, in any order
    a, b = (
        await person(http, server, tenant, "ANON-42"),
        await person(http, server, tenant, "Ann@Example.com"),
    )
    assert a["id"] == b["id"]
    assert sorted(e["key"] for e in a["events"]["nodes"]) == ["signed up", "viewed"]
    assert len(a["sessions"]["nodes"]) == 2
    assert {i["identity"] for i in a["identities"]} == {"anon-42", "ann@example.com"}
    # the person known first is kept, whatever the order of the alias' names
    assert a["deviceId"] == "anon-42"
    # the value set last wins
    assert a["properties"]["origin"] == "ann@example.com"
    assert await db.fetchval("SELECT count(*) FROM devices WHERE product_id = $1", tenant.product_pk) == 1
    # a later session of either name is the same user: the month still counts two sessions' users... once each
    async with http.get(
        server.url + "/i",
        params={
            "app_key": k,
            "device_id": "ann@example.com",
            "begin_session": "1",
            "timestamp": "1704200000",
        },
    ) as response:
        assert response.status == 200
    users = await gql(http, server, MONTH_USERS, {"p": tenant.product_id}, tenant.token)
    assert (
        users.data["node"]["analytics"]["sessions"]["uniqueUsers"] == 2
    )  # counted before the alias; not a third time
    # a third identity joins the same person
    await beacon(http, server, f"/a?_k={k}&_p=ann@example.com&_n=ann-crm-7")
    assert (await person(http, server, tenant, "ann-crm-7"))["id"] == a["id"]


PEOPLE = """query($p: ID!, $where: PeopleFilter) { node(id: $p) { ... on Product {
  devices(first: 20, where: $where) { totalCount nodes { deviceId } } } } }"""


async def test_people_filters(http: aiohttp.ClientSession, server: Server, tenant: Tenant) -> None:
    k = tenant.app_key
    await beacon(http, server, f"/e?_k={k}&_p=p1&_n=Bought&Plan=Pro&Seats=10&_d=1&_t=1704103200")
    await beacon(http, server, f"/e?_k={k}&_p=p1&_n=Bought&_d=1&_t=1704103300")
    await beacon(http, server, f"/e?_k={k}&_p=p2&_n=Bought&Plan=Free&Seats=2&_d=1&_t=1704103200")
    await beacon(http, server, f"/s?_k={k}&_p=p3&Plan=pro")

    async def people(where: dict) -> list[str]:
        reply = await gql(http, server, PEOPLE, {"p": tenant.product_id, "where": where}, tenant.token)
        assert reply.errors is None, reply.body
        return sorted(n["deviceId"] for n in reply.data["node"]["devices"]["nodes"])

    assert await people({"properties": [{"name": "PLAN", "value": "Pro"}]}) == ["p1"]
    assert await people({"properties": [{"name": "plan", "test": "NOT_EQUALS", "value": "Pro"}]}) == [
        "p2",
        "p3",
    ]
    assert await people({"properties": [{"name": "seats", "test": "GREATER_THAN", "value": "5"}]}) == ["p1"]
    assert await people({"properties": [{"name": "seats", "test": "NOT_EXISTS"}]}) == ["p3"]
    period = {"since": "2024-01-01T00:00:00Z", "until": "2024-01-02T00:00:00Z"}
    assert await people({"events": [{"key": "bought", "period": period, "atLeast": 2}]}) == ["p1"]
    assert await people({"events": [{"key": "bought", "did": False}]}) == ["p3"]
    assert await people({"identity": "P2"}) == ["p2"]
    reply = await gql(
        http,
        server,
        PEOPLE,
        {
            "p": tenant.product_id,
            "where": {"properties": [{"name": "seats", "test": "GREATER_THAN", "value": "x"}]},
        },
        tenant.token,
    )
    assert reply.status == 200 and "must be a number" in reply.errors[0]["message"]
