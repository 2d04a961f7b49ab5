"""GDPR through FollowAnalytics' endpoints: access (a file per user, everything stored about them) and deletion
(every row that identifies them, in every table; rollups unchanged), with the documented error body.

The deletion test finds every table with a person reference in PostgreSQL's catalog (a foreign key to
`devices`, or a `device_id` / `person_id` column), and every text or JSON column of every table, so a table
added later that keeps people's rows or names fails it until the erasure covers it."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import re
import secrets
from pathlib import Path
from typing import Any

import aiohttp

from gateway.db.pool import Database
from tests.adapters.followanalytics.helpers import call, smtp_inbox
from tests.adapters.followanalytics.test_people import record
from tests.conftest import Server, Tenant, gateway_with, new_tenant

INVALID = (
    '{"status":"400","success":false,"error_message":"Please provide a valid list of user ids",'
    '"message":"Please provide a valid list of user ids"}'
)

PERSON_COLUMNS = """
SELECT DISTINCT c.table_name, c.column_name
FROM information_schema.columns c
WHERE c.table_schema = 'public' AND c.column_name IN ('device_id', 'person_id')
UNION
SELECT DISTINCT tc.table_name, kcu.column_name
FROM information_schema.table_constraints tc
JOIN information_schema.key_column_usage kcu ON kcu.constraint_name = tc.constraint_name
JOIN information_schema.constraint_column_usage ccu ON ccu.constraint_name = tc.constraint_name
WHERE tc.constraint_type = 'FOREIGN KEY' AND ccu.table_name = 'devices' AND tc.table_schema = 'public'
"""
TEXT_COLUMNS = """
SELECT table_name, column_name FROM information_schema.columns
WHERE table_schema = 'public' AND data_type IN ('text', 'jsonb', 'json', 'character varying', 'ARRAY')
  AND table_name IN (SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'
                     AND table_type = 'BASE TABLE')
"""


async def _totals(db: Database, tenant: Tenant) -> tuple[Any, ...]:
    sessions = await db.fetchrow(
        "SELECT sum(t), sum(n), sum(u), sum(d) FROM session_rollups WHERE product_id = $1", tenant.product_pk
    )
    events = await db.fetchrow(
        "SELECT sum(c), sum(s) FROM event_rollups WHERE product_id = $1", tenant.product_pk
    )
    return (*sessions, *events)


async def _activity(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant, device: str, user: str
) -> None:
    await record(
        http,
        server,
        tenant,
        {
            "deviceId": device,
            "beginSession": True,
            "metrics": {"_os": "iOS"},
            "events": [{"key": "buy", "count": 2, "segmentation": {"item": "hat"}}],
            "properties": {"plan": "gold"},
        },
    )
    await record(http, server, tenant, {"deviceId": device, "alias": user, "endSession": True})


async def test_deletion_removes_every_row_that_names_the_users(
    http: aiohttp.ClientSession, server: Server, db: Database, tenant: Tenant
) -> None:
    gone_device, gone_user = "dev-" + secrets.token_hex(8), "user-" + secrets.token_hex(8)
    kept_device = "dev-" + secrets.token_hex(8)
    await _activity(http, server, tenant, gone_device, gone_user)
    await _activity(http, server, tenant, kept_device, "user-" + secrets.token_hex(8))
    person = await db.fetchval(
        "SELECT id FROM devices WHERE product_id = $1 AND device_key = $2", tenant.product_pk, gone_device
    )
    # a people search that lists the user: its result rows name them too
    await db.execute(
        """INSERT INTO reports (account_id, product_id, name, type) VALUES ($1, $2, 'r', 'people')""",
        tenant.account_pk,
        tenant.product_pk,
    )
    report = await db.fetchval("SELECT max(id) FROM reports WHERE account_id = $1", tenant.account_pk)
    run = await db.fetchval(
        """INSERT INTO report_runs (account_id, report_id, product_id, definition, starts_at, ends_at)
           VALUES ($1, $2, $3, '{}', now(), now()) RETURNING id""",
        tenant.account_pk,
        report,
        tenant.product_pk,
    )
    await db.execute(
        "INSERT INTO report_run_rows (account_id, run_id, seq, person_id, person, cells) VALUES ($1, $2, 0, $3, $4, '[]')",
        tenant.account_pk,
        run,
        person,
        gone_device,
    )
    before = await _totals(db, tenant)
    reply = await call(
        http, server, "POST", "/api/gdpr/delete_user_data", tenant.token, json={"users": [gone_user]}
    )
    assert reply.status == 200, reply.text
    result = reply.json["result"]
    status = await call(
        http, server, "GET", result["callback_url"][result["callback_url"].index("/api/") :], tenant.token
    )
    assert status.json["status"] == "processed" and status.json["users_requested"] == 1
    assert status.json["users_deleted"] == 1 and status.json["kind"] == "deletion"
    # no row points at the person, in any table with a person reference
    references = await db.fetch(PERSON_COLUMNS)
    assert {(r["table_name"], r["column_name"]) for r in references} >= {
        ("sessions", "device_id"),
        ("events", "device_id"),
        ("person_identities", "person_id"),
        ("person_properties", "person_id"),
        ("report_run_rows", "person_id"),
    }
    for ref in references:
        left = await db.fetchval(
            f'SELECT count(*) FROM "{ref["table_name"]}" WHERE "{ref["column_name"]}" = $1', person
        )
        assert left == 0, ref
    assert await db.fetchval("SELECT count(*) FROM devices WHERE id = $1", person) == 0
    # no text anywhere names the device or the user
    for column in await db.fetch(TEXT_COLUMNS):
        for name in (gone_device, gone_user):
            found = await db.fetchval(
                f'SELECT count(*) FROM "{column["table_name"]}" WHERE "{column["column_name"]}"::text LIKE $1',
                f"%{name}%",
            )
            assert found == 0, (column["table_name"], column["column_name"], name)
    # the other person is untouched, and the analytics totals are what they were
    assert await db.fetchval("SELECT count(*) FROM devices WHERE device_key = $1", kept_device) == 1
    assert await _totals(db, tenant) == before
    listed = await call(http, server, "GET", f"/api/apps/{tenant.product_id}/events", tenant.token)
    assert {e["device_id"] for e in listed.json["result"]["events"]} == {kept_device}
    assert listed.json["result"]["total_events"] == 1


async def test_access_gives_a_file_of_everything_per_user(
    http: aiohttp.ClientSession, server: Server, db: Database, tenant: Tenant
) -> None:
    await _activity(http, server, tenant, "phone-a", "ann")
    reply = await call(
        http,
        server,
        "POST",
        "/api/gdpr/access_user_data",
        tenant.token,
        json={"users": ["ann", "nobody"], "skip_email": True},
    )
    assert reply.status == 200, reply.text
    callback = reply.json["result"]["callback_url"]
    assert "/api/gdpr_request/export?request_id=" in callback
    for _ in range(200):
        state = (await call(http, server, "GET", callback[callback.index("/api/") :], tenant.token)).json
        assert list(state) == ["status", "download_urls", "requested_at", "skip_email"]
        assert state["requested_at"].endswith("Z") and len(state["requested_at"]) == 24
        if state["status"] == "processed":
            break
        assert state["download_urls"] == {"ann": None, "nobody": None}
        await asyncio.sleep(0.05)
    assert state["skip_email"] is True and set(state["download_urls"]) == {"ann", "nobody"}
    async with http.get(state["download_urls"]["ann"]) as response:
        assert response.status == 200
        document = json.loads(await response.read())
    (person,) = document["people"]
    assert document["identity"] == "ann" and person["device_id"] == "phone-a"
    assert [i["identity"] for i in person["identities"]] == ["phone-a", "ann"]
    assert person["properties"][0]["name"] == "plan" and person["properties"][0]["value"] == "gold"
    assert len(person["sessions"]) == 1 and person["events"][0]["name"] == "buy"
    assert person["events"][0]["details"] == {"item": "hat"}
    async with http.get(state["download_urls"]["nobody"]) as response:
        assert json.loads(await response.read()) == {"identity": "nobody", "people": []}


async def test_bad_gdpr_requests_have_the_documented_body(
    http: aiohttp.ClientSession, server: Server, db: Database, tenant: Tenant
) -> None:
    for path in ("/api/gdpr/access_user_data", "/api/gdpr/delete_user_data"):
        for body in (
            {},
            {"users": []},
            {"users": "abc"},
            {"users": [None]},
            {"users": [""]},
            [1],
            {"users": [True]},
        ):
            reply = await call(http, server, "POST", path, tenant.token, json=body)
            assert (reply.status, reply.text) == (400, INVALID), (path, body)
        reply = await call(http, server, "POST", path, tenant.token, data=b"{nope")
        assert (reply.status, reply.text) == (400, INVALID)
    for query in ("", "?request_id=x", f"?request_id={'0' * 8}-0000-0000-0000-{'0' * 12}"):
        reply = await call(http, server, "GET", f"/api/gdpr_request/export{query}", tenant.token)
        assert reply.status == 404 and reply.json["message"] == "GDPR request not found."
    # another account's request is not found either
    reply = await call(
        http, server, "POST", "/api/gdpr/delete_user_data", tenant.token, json={"users": ["x"]}
    )
    other = await new_tenant(db)
    callback = reply.json["result"]["callback_url"]
    status = await call(http, server, "GET", callback[callback.index("/api/") :], other.token)
    assert status.status == 404


async def test_access_without_skip_email_mails_each_users_link(
    http: aiohttp.ClientSession, migrated: str, tmp_path: Path, db: Database, tenant: Tenant
) -> None:
    with smtp_inbox() as inbox:
        async with gateway_with(migrated, tmp_path, smtp_url=inbox.url, smtp_from="gw@example.test") as gw:
            await _activity(http, gw, tenant, "phone-m", "mia")
            for body in ({"users": ["mia", "nobody"], "skip_email": False}, {"users": ["mia"]}):
                reply = await call(http, gw, "POST", "/api/gdpr/access_user_data", tenant.token, json=body)
                assert reply.status == 200, reply.text
            callback = reply.json["result"]["callback_url"]
            messages = await inbox.wait_for(3)
            assert len(messages) == 3
            links: dict[str, str] = {}
            for envelope in messages:
                assert envelope.rcpt_tos == [tenant.email] and envelope.mail_from == "gw@example.test"
                mail = email.message_from_bytes(envelope.content, policy=email.policy.default)
                assert mail["Subject"] == "The personal data you requested is ready"
                text = mail.get_content()
                named = re.search(r"about '([^']+)'", text)
                link = re.search(r"(http://\S+/exports/download\?token=[-_A-Za-z0-9]+)", text)
                assert named is not None and link is not None, text
                links[named.group(1)] = link.group(1).replace(gw.settings.base_url, gw.url)
            assert set(links) == {"mia", "nobody"}
            async with http.get(links["mia"]) as response:
                assert response.status == 200
                document = json.loads(await response.read())
            assert document["identity"] == "mia" and document["people"][0]["device_id"] == "phone-m"
            state = (await call(http, gw, "GET", callback[callback.index("/api/") :], tenant.token)).json
            assert state["skip_email"] is False


async def test_access_without_skip_email_and_without_smtp_points_to_skip_email(
    http: aiohttp.ClientSession, server: Server, db: Database, tenant: Tenant
) -> None:
    message = 'E-mail delivery is not configured on this server: send "skip_email":true to get the download URLs instead.'
    for body in ({"users": ["ann"]}, {"users": ["ann"], "skip_email": False}):
        reply = await call(http, server, "POST", "/api/gdpr/access_user_data", tenant.token, json=body)
        assert (reply.status, reply.json) == (
            400,
            {"status": "400", "success": False, "error_message": message, "message": message},
        )
    assert (
        await db.fetchval("SELECT count(*) FROM person_requests WHERE account_id = $1", tenant.account_pk)
        == 0
    )
