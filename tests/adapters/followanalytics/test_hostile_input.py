"""Input a real script or a hostile client may send, found by the FollowAnalytics conformance audit: an ISO
offset whose `+` a URL turned into a space, times at the ends of the calendar, pages deep beyond any list, bodies
over the size limit sent in chunks, and overlong customer ids. None may answer 500, a reply that is not the
vendor's JSON, or a message of the graph's internals."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp

from gateway.db.pool import Database
from tests.adapters.followanalytics.helpers import FaReply, call, seed_activity
from tests.conftest import Server, Tenant


def assert_vendor_error(reply: FaReply, status: int, message: str) -> None:
    assert reply.headers["Content-Type"] == "application/json; charset=utf-8", reply.text
    assert (reply.status, reply.json) == (
        status,
        {"success": False, "status": status, "message": message, "error_message": message},
    )


async def test_an_iso_offset_written_unencoded_in_the_url_is_read(
    http: aiohttp.ClientSession, server: Server, db: Database, tenant: Tenant
) -> None:
    # `?since_date=2017-04-06T16:41:44+05:00` typed as documented: the query's `+` decodes to a space
    await seed_activity(db, tenant, devices=2, events_per_device=2)
    app = tenant.product_id
    encoded = await call(
        http, server, "GET", f"/api/apps/{app}/events?since_date=2026-02-01T14:30:00%2B05:00", tenant.token
    )
    assert encoded.status == 200, encoded.text
    for since in ("2026-02-01T14:30:00+05:00", "2026-02-01T14:30:00+0500", "2026-02-01T14:30:00.000+05"):
        raw = await call(http, server, "GET", f"/api/apps/{app}/events?since_date={since}", tenant.token)
        assert (raw.status, raw.json) == (200, encoded.json), since
    # 09:30 UTC: the events of the device seen at 10:00, not those of the one seen at 09:00
    assert [e["date_utc"] for e in encoded.json["result"]["events"]] == [
        "2026-02-01T10:00:00+00:00",
        "2026-02-01T10:07:00+00:00",
    ]
    devices = await call(
        http, server, "GET", f"/api/apps/{app}/devices?updated_since=2017-04-06T16:41:44+05:00", tenant.token
    )
    assert devices.status == 200 and devices.json["result"]["total_devices"] == 2, devices.text
    # a space anywhere else is still no date
    bad = await call(
        http, server, "GET", f"/api/apps/{app}/events?since_date=2017-04-06T16:41:44 5", tenant.token
    )
    assert bad.status == 400


async def test_times_at_the_ends_of_the_calendar_are_never_500s(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant
) -> None:
    app = tenant.product_id
    message = "Invalid {}: expected an ISO 8601 date, such as 2017-04-06T16:41:44+05:00"
    for name, value in (
        ("since_date", "0001-01-01T00:00:00%2B05:00"),
        ("until_date", "9999-12-31T23:59:59-05:00"),
    ):
        reply = await call(http, server, "GET", f"/api/apps/{app}/events?{name}={value}", tenant.token)
        assert_vendor_error(reply, 400, message.format(name))
    reply = await call(
        http, server, "GET", "/api/customer_profiles?updated_since=0001-01-01T00:00:00%2B01:00", tenant.token
    )
    assert_vendor_error(reply, 400, message.format("updated_since"))
    for value in ("0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z"):
        reply = await call(http, server, "GET", f"/api/apps/{app}/sessions?since_date={value}", tenant.token)
        assert reply.status == 200, (value, reply.text)


async def test_a_page_beyond_every_list_is_empty_never_page_one_or_an_internal_message(
    http: aiohttp.ClientSession, server: Server, db: Database, tenant: Tenant
) -> None:
    await seed_activity(db, tenant, devices=2, events_per_device=1)
    app = tenant.product_id
    lists = {
        f"/api/apps/{app}/events": ("events", "per_page", 2),
        f"/api/apps/{app}/sessions": ("sessions", "per_page", 2),
        f"/api/apps/{app}/devices": ("devices", "per_page", 2),
        "/api/segments": ("segments", "per_page", 0),
        "/api/customer_profiles": ("profiles", "num_per_page", 2),
    }
    # only pages below 1 take the default: every other page is a page of its own, so a script paging forward
    # until an empty page ends
    for path, (items, size, total) in lists.items():
        for page, per_page in (
            (1_000_001, 1),
            (1_000_000, 10_000),
            (2_147_483_647, 10_000),
            (99_999_999_999_999_999_999, 1),
        ):
            reply = await call(http, server, "GET", f"{path}?page={page}&{size}={per_page}", tenant.token)
            assert reply.status == 200, (path, page, reply.text)
            assert reply.json["result"][items] == [], (path, page)
            assert reply.json["result"][f"total_{items}"] == total, (path, page)


async def test_a_body_over_the_size_limit_sent_in_chunks_is_a_vendor_413(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(40):
            yield b" " * 100_000  # 4 MB, no Content-Length

    for path in ("/api/login", "/api/attribute_values", "/api/gdpr/access_user_data"):
        reply = await call(
            http,
            server,
            "POST",
            path,
            tenant.token,
            data=chunks(),
            headers={"Content-Type": "application/json"},
        )
        assert_vendor_error(reply, 413, "Request entity too large")


async def test_an_overlong_customer_id_is_named_as_the_gem_sent_it(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant
) -> None:
    body = {
        "sor": "SOR-SDK_1",
        "api_key": tenant.app_key,
        "customer_attribute_values": [
            {
                "attribute_key": "team",
                "attribute_value": "PSG",
                "customer_id": "c" * 501,
                "customer_id_type": "user_id",
            }
        ],
    }
    reply = await call(http, server, "POST", "/api/attribute_values", json=body)
    assert_vendor_error(reply, 400, "customer_attribute_values[0]: customer_id must have 1 to 500 characters")


async def test_a_list_parameter_left_blank_filters_nothing(
    http: aiohttp.ClientSession, server: Server, db: Database, tenant: Tenant
) -> None:
    # a script that writes `names=#{names.join(",")}` for every call sends `names=` when it has none: as with a
    # blank `fields`, that is no filter (Rails' `present?`), not a filter that nothing matches
    await seed_activity(db, tenant, devices=2, events_per_device=2)
    app = tenant.product_id
    for path, items, total in (
        (f"/api/apps/{app}/events?names=&device_ids=,&user_ids=&session_ids=&segment_ids=", "events", 4),
        (f"/api/apps/{app}/sessions?device_ids=&user_ids=", "sessions", 2),
        (f"/api/apps/{app}/devices?device_ids=&current_user_ids=&segment_ids=", "devices", 2),
        ("/api/customer_profiles?customer_ids=&attribute_keys=", "profiles", 2),
    ):
        reply = await call(http, server, "GET", path, tenant.token)
        assert reply.status == 200, (path, reply.text)
        assert reply.json["result"][f"total_{items}"] == total, (path, reply.text)


async def test_the_v3_attribute_values_refuse_an_unknown_customer_type(
    http: aiohttp.ClientSession, server: Server, db: Database, tenant: Tenant
) -> None:
    await seed_activity(db, tenant, devices=1, events_per_device=1)
    path = "/api/attribute_values?sor_id=SOR-SDK_1&customer_id=d0&customer_type="
    reply = await call(http, server, "GET", path + "zz", tenant.token)
    assert_vendor_error(reply, 400, "Invalid customer_type: user_id or device_id")
    for kind in ("user_id", "device_id"):
        found = await call(http, server, "GET", path + kind, tenant.token)
        assert (found.status, found.json) == (
            200,
            {"customer_id": "d0", "customer_id_type": kind, "attribute_values": {}},
        )
