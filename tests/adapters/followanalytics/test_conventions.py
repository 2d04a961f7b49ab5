"""FollowAnalytics conventions: login (as the official shell client reads it), tokens, the envelope, errors with
their exact bodies, paging, dates, unknown and campaign paths, tenancy, and bad input that never gets a 500."""

from __future__ import annotations

import asyncio
import json
import re

import aiohttp

from gateway.db.pool import Database
from tests.adapters.followanalytics.helpers import call, login_token, seed_activity
from tests.conftest import Server, Tenant, new_tenant

# the official shell client's extraction of the token (sed, on the compact reply)
SHELL_REGEX = r's/.*auth_token":"\([-_a-zA-Z0-9]*\)".*/\1/p'


async def test_the_shell_client_reads_the_token_of_a_login(server: Server, tenant: Tenant) -> None:
    body = json.dumps({"email": tenant.email, "password": tenant.password})
    script = (
        f"curl -s -X POST -H 'Accept: application/json' -H 'Content-Type: application/json' "
        f"-d '{body}' {server.url}/api/login | sed -n '{SHELL_REGEX}'"
    )
    process = await asyncio.create_subprocess_shell(script, stdout=asyncio.subprocess.PIPE)
    out, _ = await process.communicate()
    token = out.decode().strip()
    assert re.fullmatch(r"[-_a-zA-Z0-9]{20,}", token), out
    async with aiohttp.ClientSession() as http:
        reply = await call(http, server, "GET", "/api/apps", token)
    assert reply.status == 200 and reply.json["success"] is True


async def test_login_answers_the_documented_user_object(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant
) -> None:
    reply = await call(
        http, server, "POST", "/api/login", json={"email": tenant.email, "password": tenant.password}
    )
    assert reply.status == 200
    assert '":' in reply.text and '": ' not in reply.text and '", "' not in reply.text
    assert reply.text.startswith('{"success":true,"result":{"auth_token":"')
    user = reply.json["result"]["user"]
    assert list(user) == [
        "id",
        "uid",
        "first_name",
        "last_name",
        "full_name",
        "email",
        "entities",
        "enable",
        "admin",
        "superadmin",
        "prefered_entity",
    ]
    assert user["email"] == tenant.email and user["admin"] is True and user["superadmin"] is False
    (entity,) = user["entities"]
    assert entity["id"] == tenant.account_pk and entity["identifier"].startswith("FAENTITY_")
    assert list(entity) == [
        "id",
        "name",
        "description",
        "identifier",
        "active",
        "qa_api_key",
        "prod_api_key",
        "data_retention_in_months",
    ]
    assert user["prefered_entity"] == {"id": tenant.account_pk, "name": entity["name"]}
    assert len(user["enable"]) == 24
    assert user["enable"]["downloads"] is True and user["enable"]["gdpr_data_manage"] is True
    assert user["enable"]["campaign_publish"] is False


async def test_login_errors_have_the_exact_bodies(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant
) -> None:
    missing = (
        '{"success":false,"status":400,"message":"The request must contain the user email and password.",'
        '"error_message":"The request must contain the user email and password."}'
    )
    for kwargs in (
        {"json": {"email": tenant.email}},
        {"json": {}},
        {"data": b"not json"},
        {"json": [1]},
        # not UTF-8 (found by tests/test_hostile_requests.py: it was a 500)
        {"data": b"\x80", "headers": {"Content-Type": "application/json"}},
        {"data": b"email=\xff", "headers": {"Content-Type": "application/x-www-form-urlencoded"}},
    ):
        reply = await call(http, server, "POST", "/api/login", **kwargs)
        assert (reply.status, reply.text) == (400, missing), kwargs
    reply = await call(
        http, server, "POST", "/api/login", json={"email": tenant.email, "password": "wrong password"}
    )
    assert (reply.status, reply.text) == (
        401,
        '{"success":false,"status":401,"message":"Invalid email or password.",'
        '"error_message":"Invalid email or password."}',
    )


async def test_tokens_are_required_and_checked(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant
) -> None:
    unauthenticated = (
        '{"success":false,"status":401,"message":"You need to sign in or provide a valid authentication token.",'
        '"error_message":"You need to sign in or provide a valid authentication token."}'
    )
    for headers in (
        {},
        {"Authorization": "Token nope"},
        {"Authorization": "Basic abc"},
        {"Authorization": "Token"},
    ):
        reply = await call(http, server, "GET", "/api/apps", headers=headers)
        assert (reply.status, reply.text) == (401, unauthenticated)
    for header in (f"Token {tenant.token}", f'Token token="{tenant.token}"', f"Bearer {tenant.token}"):
        reply = await call(http, server, "GET", "/api/apps", headers={"Authorization": header})
        assert reply.status == 200


async def test_unknown_and_campaign_paths_answer_the_vendors_404(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant
) -> None:
    for path in ("/api/nothing/here", "/api", "/api/"):
        reply = await call(http, server, "GET", path, tenant.token)
        assert (reply.status, reply.text) == (
            404,
            '{"success":false,"status":404,"message":"Not found.","error_message":"Not found."}',
        ), path
    message = "Campaigns are not available on this server: it collects and reports analytics only."
    for method, path in (
        ("GET", "/api/campaigns"),
        ("POST", "/api/campaign"),
        ("GET", "/api/campaigns/FACMPGN_1"),
        ("POST", "/api/transac/send"),
    ):
        reply = await call(http, server, method, path, tenant.token)
        assert reply.status == 404 and reply.json == {
            "success": False,
            "status": 404,
            "message": message,
            "error_message": message,
        }
    reply = await call(http, server, "DELETE", "/api/apps", tenant.token)
    assert reply.status == 405 and reply.json["success"] is False


async def test_events_paging_fields_and_filters(
    http: aiohttp.ClientSession, server: Server, db: Database, tenant: Tenant
) -> None:
    await seed_activity(db, tenant, devices=3, events_per_device=5)
    app = tenant.product_id
    everything = (await call(http, server, "GET", f"/api/apps/{app}/events?per_page=100", tenant.token)).json[
        "result"
    ]
    assert everything["total_events"] == 15 and everything["total_pages"] == 1
    events = everything["events"]
    assert [e["date_utc"] for e in events] == sorted(e["date_utc"] for e in events)
    assert list(events[0]) == ["name", "date_utc", "device_id", "user_id", "session_id", "details"]
    # pages of 4, and the documented fallbacks of page and per_page
    pages = []
    for page in (1, 2, 3, 4):
        found = await call(
            http, server, "GET", f"/api/apps/{app}/events?per_page=4&page={page}", tenant.token
        )
        assert found.json["result"]["total_pages"] == 4
        pages += found.json["result"]["events"]
    assert pages == events
    for query in ("page=0", "page=-2", "page=x", "per_page=0", "per_page=10001", "per_page=x"):
        found = await call(http, server, "GET", f"/api/apps/{app}/events?{query}", tenant.token)
        assert found.status == 200 and found.json["result"]["events"] == events, query
    # fields: picked in order, unknown ones null
    found = await call(
        http, server, "GET", f"/api/apps/{app}/events?fields=device_id,name,nope&per_page=2", tenant.token
    )
    assert found.json["result"]["events"] == [
        {"device_id": e["device_id"], "name": e["name"], "nope": None} for e in events[:2]
    ]
    # filters
    by_name = await call(http, server, "GET", f"/api/apps/{app}/events?names=e0,e2", tenant.token)
    assert by_name.json["result"]["events"] == [e for e in events if e["name"] in ("e0", "e2")]
    by_device = await call(
        http, server, "GET", f"/api/apps/{app}/events?device_ids=d1&names=e1", tenant.token
    )
    assert by_device.json["result"]["events"] == [
        e for e in events if e["device_id"] == "d1" and e["name"] == "e1"
    ]
    session = events[0]["session_id"]
    by_session = await call(
        http, server, "GET", f"/api/apps/{app}/events?session_ids={session}", tenant.token
    )
    assert by_session.json["result"]["events"] == [e for e in events if e["session_id"] == session]
    since = "2026-02-01T15:00:00%2B05:00"  # 10:00 UTC
    by_time = await call(
        http,
        server,
        "GET",
        f"/api/apps/{app}/events?since_date={since}&until_date=2026-02-01T11:00:00Z",
        tenant.token,
    )
    assert by_time.json["result"]["events"] == [e for e in events if "T10:" in e["date_utc"]]


async def test_bad_dates_are_400s_and_nothing_answers_500(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant
) -> None:
    app = tenant.product_id
    reply = await call(http, server, "GET", f"/api/apps/{app}/events?since_date=yesterday", tenant.token)
    message = "Invalid since_date: expected an ISO 8601 date, such as 2017-04-06T16:41:44+05:00"
    assert (reply.status, reply.json) == (
        400,
        {"success": False, "status": 400, "message": message, "error_message": message},
    )
    odd = [
        f"/api/apps/{app}/events?session_ids=%00,,zz&segment_ids=x&device_ids={'a' * 5000}",
        f"/api/apps/{app}/events?names=" + ",".join(["n"] * 3000),
        f"/api/apps/{app}/sessions?until_date=2026-13-45",
        "/api/apps/%FF%FE/events",
        "/api/apps/UHJvZHVjdDo5OTk5OTk5OTk5OTk5OTk5OTk5OQ==/events",
        f"/api/apps/{app}/events?page=99999999999999999999",
        "/api/segments/%00/devices",
        "/api/exports/download_url?export_token=" + "x" * 5000,
    ]
    for path in odd:
        found = await call(http, server, "GET", path, tenant.token)
        assert found.status in (200, 400, 404), (path, found.status, found.text)
        assert found.json["success"] is (found.status == 200)


async def test_another_accounts_app_is_a_404(
    http: aiohttp.ClientSession, server: Server, db: Database, tenant: Tenant
) -> None:
    await seed_activity(db, tenant, devices=1, events_per_device=1)
    other = await new_tenant(db)
    token = await login_token(http, server, other)
    not_found = '{"success":false,"status":404,"message":"App not found.","error_message":"App not found."}'
    for path in ("events", "sessions", "devices/d0/sessions", "events_export.csv?skip_email=true"):
        reply = await call(http, server, "GET", f"/api/apps/{tenant.product_id}/{path}", token)
        assert (reply.status, reply.text) == (404, not_found), path
    apps = await call(http, server, "GET", "/api/apps", token)
    assert [a["identifier"] for a in apps.json["result"]["apps"]] == [other.product_id]
