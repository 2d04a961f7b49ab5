"""`/e`, `/s`, `/a`: what trackers send is stored on one people model, and every call gets the GIF."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from urllib.parse import quote

import aiohttp

from gateway.db.pool import Database
from tests.adapters.kissmetrics.helpers import beacon, person
from tests.conftest import Server, Tenant, gql, new_tenant


async def test_record_set_and_read_back(http: aiohttp.ClientSession, server: Server, tenant: Tenant) -> None:
    k = tenant.app_key
    await beacon(http, server, f"/e?_k={k}&_p=bob%40bob.com&_n=Signed+Up&Plan=Pro&Amount=99.95")
    await beacon(http, server, f"/s?_k={k}&_p=BOB@bob.com&Plan=Enterprise&&Seats=12")
    await beacon(
        http, server, "/e", method="POST", data={"_k": k, "_p": "bob@bob.com", "_n": "Paid", "Card": "visa"}
    )
    found = await person(http, server, tenant, "Bob@Bob.com")
    assert found["deviceId"] == "bob@bob.com"
    # names are case-insensitive (kept in lower case), values as sent; the latest value of a name wins
    assert found["properties"] == {"plan": "Enterprise", "amount": "99.95", "seats": "12", "card": "visa"}
    assert sorted(e["key"] for e in found["events"]["nodes"]) == ["paid", "signed up"]
    # a tracked event is in the product's event analytics like any other
    reply = await gql(
        http,
        server,
        "query($p: ID!) { node(id: $p) { ... on Product { analytics { eventKeys { key } } "
        "properties(scope: PERSON) { nodes { name dataType } } } } }",
        {"p": tenant.product_id},
        tenant.token,
    )
    product = reply.data["node"]
    assert {e["key"] for e in product["analytics"]["eventKeys"]} == {"signed up", "paid"}
    types = {p["name"]: p["dataType"] for p in product["properties"]["nodes"]}
    assert types == {"plan": "string", "amount": "number", "seats": "number", "card": "string"}


async def test_timestamps_names_and_encodings(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant
) -> None:
    k = tenant.app_key
    # _t only with _d=1 (seconds, float seconds or milliseconds); otherwise the time of receipt
    await beacon(http, server, f"/e?_k={k}&_p=t1&_n=Old&_d=1&_t=1234567890")
    await beacon(http, server, f"/e?_k={k}&_p=t1&_n=Float&_d=1&_t=1234567890.683042")
    await beacon(http, server, f"/e?_k={k}&_p=t1&_n=Millis&_d=1&_t=1234567890123")
    await beacon(http, server, f"/e?_k={k}&_p=t1&_n=Now&_t=1234567890123")
    await beacon(http, server, f"/e?_k={k}&_p=t1&_n=Zero&_d=0&_t=1234567890")
    found = await person(http, server, tenant, "t1")
    times = {e["key"]: e["occurredAt"] for e in found["events"]["nodes"]}
    old = datetime.fromtimestamp(1234567890, UTC).isoformat()
    assert times["old"] == times["float"] == times["millis"] == old
    assert times["now"] > "2025" and times["zero"] > "2025"
    # `,` and `:` become spaces; an encodeURI client's `+` and `@` stay as they are
    await beacon(http, server, f"/s?_k={k}&&_p=ann+x@example.com&Favourite%20Colour=dark%20blue&a:b,c=1+1")
    found = await person(http, server, tenant, "ann+x@example.com")
    assert found["properties"] == {"favourite colour": "dark blue", "a b c": "1+1"}


async def test_duplicates_count_once(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant, db: Database
) -> None:
    k = tenant.app_key
    calls = [f"/e?_k={k}&_p=dup&_n=Click&_d=1&_t=1700000000" for _ in range(3)]
    calls.append(f"/e?_k={k}&_p=DUP&_n=click&_d=1&_t=1700000000.9")
    await asyncio.gather(*(beacon(http, server, c) for c in calls))
    await beacon(http, server, f"/e?_k={k}&_p=dup&_n=Other&_d=1&_t=1700000000")
    await beacon(http, server, f"/e?_k={k}&_p=dup&_n=Click&_d=1&_t=1700000000")
    await beacon(http, server, f"/e?_k={k}&_p=dup&_n=Click&_d=1&_t=1700000001")
    found = await person(http, server, tenant, "dup")
    keys = sorted(e["key"] for e in found["events"]["nodes"])
    assert keys == ["click", "click", "other"]
    total = await db.fetchval(
        "SELECT total FROM event_definitions WHERE product_id = $1 AND name = 'click'", tenant.product_pk
    )
    assert total == 2


async def test_values_of_8_kb_fit_in_a_get(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant
) -> None:
    # trackers send values up to about 8 KB, in the URL of an image beacon; a value beyond 8,192 characters is cut
    text, accents, too_long = "a" * 8192, "é" * 4000, "b" * 9000
    await beacon(
        http,
        server,
        f"/e?_k={tenant.app_key}&_p=long&_n=Read&Text={text}&Accents={quote(accents)}&More={too_long}",
    )
    found = await person(http, server, tenant, "long")
    assert found["properties"] == {"text": text, "accents": accents, "more": too_long[:8192]}


async def test_unknown_paused_and_foreign_keys_store_nothing(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant, db: Database
) -> None:
    other = await new_tenant(db)
    await beacon(http, server, "/e?_k=unknown&_p=x&_n=A")
    await beacon(http, server, f"/e?_k={other.app_key}&_p=foreign&_n=A")
    await db.execute("UPDATE products SET status = 'paused' WHERE id = $1", tenant.product_pk)
    await asyncio.sleep(5.1)  # the remembered key (5 s) sees the pause
    await beacon(http, server, f"/e?_k={tenant.app_key}&_p=paused&_n=A")
    assert await db.fetchval("SELECT count(*) FROM devices WHERE product_id = $1", tenant.product_pk) == 0
    assert await person(http, server, other, "foreign") is not None


async def test_bad_input_always_gets_the_gif(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant, db: Database
) -> None:
    k = tenant.app_key
    for query in (
        "",
        "?",
        "?&&&",
        "?_k=",
        f"?_k={k}",
        f"?_k={k}&_p=",
        f"?_k={k}&_p=%FF%FE&_n=%00",
        f"?_k={k}&_p=x&_d=1&_t=nan",
        f"?_k={k}&_p=x&_d=1&_t=1e309",
        f"?_k={k}&_p=x&_d=1&_t=-5",
        f"?_k={k}&_p=x&_d=1&_t=99999999999999999999999",
        # names beyond 255 characters are cut
        f"?_k={k}&_p={'p' * 1000}&_n={'n' * 1000}&{'k' * 500}={'v' * 4000}",
        f"?_k={k}&_p=x&%=%%",
        f"?_k={k}&_p=x&_n=a&_n=b",
    ):
        for path in ("/e", "/s", "/a"):
            await beacon(http, server, path + query)
    await beacon(
        http, server, f"/e?_k={k}", method="POST", data=b"\xff\xfe&&=", headers={"Content-Type": "x/y"}
    )
    await beacon(http, server, f"/a?_k={k}&_p=x&_n=y", method="POST")
    async with http.request("PUT", server.url + f"/e?_k={k}&_p=x") as response:
        assert response.status == 200 and response.content_type == "image/gif"
    long = await person(http, server, tenant, "p" * 255)
    assert long is not None and len(long["events"]["nodes"]) == 1
