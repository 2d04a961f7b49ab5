"""FollowAnalytics exports: download URLs (202 while written, 200 with the file, 400 for bad tokens), CSV and XLS
files holding exactly the JSON endpoint's rows (XLS read back by xlrd and calamine), e-mail delivery through a
real SMTP server on loopback, and the 400 that points to `skip_email=true` when no SMTP server is configured."""

from __future__ import annotations

import asyncio
import csv
import email
import email.policy
import hashlib
import io
import json
import re
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import xlrd
from python_calamine import CalamineWorkbook

from gateway.db.pool import Database
from tests.adapters.followanalytics.helpers import call, seed_activity, smtp_inbox
from tests.conftest import Server, Tenant, gateway_with

BAD_TOKEN = (
    '{"success":false,"status":400,"message":"The export token is missing, invalid or expired.",'
    '"error_message":"The export token is missing, invalid or expired."}'
)


async def _download(http: aiohttp.ClientSession, callback: str) -> Any:
    path = callback[callback.index("/api/") :]
    for _ in range(200):
        async with http.get(callback.split("/api/")[0] + path) as response:
            body = await response.read()
            if response.status != 202:
                return response.status, response.headers, body
            assert json.loads(body) == {
                "success": True,
                "status": 202,
                "result": "Your report is being generated, try again later.",
            }
        await asyncio.sleep(0.05)
    raise AssertionError("the export never finished")


async def _export(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant, path: str
) -> tuple[int, Any, bytes]:
    reply = await call(http, server, "GET", path, tenant.token)
    assert reply.status == 200, reply.text
    callback = reply.json["result"]["callback"]
    assert re.fullmatch(
        r"http://127\.0\.0\.1:\d+/api/exports/download_url\?export_token=[-_A-Za-z0-9]+", callback
    )
    return await _download(http, callback)


def _xls_rows(body: bytes) -> list[list[Any]]:
    book = xlrd.open_workbook(file_contents=body)
    rows: list[list[Any]] = []
    for index, sheet in enumerate(book.sheets()):
        for r in range(sheet.nrows):
            if r == 0 and index > 0:
                assert sheet.row_values(0) == rows[0]  # every sheet repeats the header
                continue
            values = []
            for cell in sheet.row(r):
                if cell.ctype == xlrd.XL_CELL_DATE:
                    values.append(xlrd.xldate_as_datetime(cell.value, book.datemode).replace(tzinfo=UTC))
                elif cell.ctype == xlrd.XL_CELL_EMPTY:
                    values.append(None)
                else:
                    values.append(cell.value)
            rows.append(values)
    return rows


def _as_json_value(name: str, value: Any) -> Any:
    """A cell of a file, as the JSON endpoint writes the field."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    if name == "details":
        return json.loads(value)
    return value


async def test_csv_and_xls_hold_the_json_endpoints_rows(
    http: aiohttp.ClientSession, server: Server, db: Database, tenant: Tenant
) -> None:
    await seed_activity(db, tenant, devices=4, events_per_device=6)
    app = tenant.product_id
    query = "names=e0,e1&since_date=2026-02-01T09:10:00Z"
    listed = await call(http, server, "GET", f"/api/apps/{app}/events?{query}", tenant.token)
    events = listed.json["result"]["events"]
    assert len(events) > 5
    status, headers, body = await _export(
        http, server, tenant, f"/api/apps/{app}/events_export.csv?{query}&skip_email=true"
    )
    assert status == 200 and headers["Content-Type"] == "text/csv; charset=utf-8"
    assert hashlib.sha256(body).hexdigest() == headers["Digest"].removeprefix("sha-256=")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8"))))
    assert rows[0] == ["name", "date_utc", "device_id", "user_id", "session_id", "details"]
    assert [
        {name: _as_json_value(name, value) for name, value in zip(rows[0], row, strict=True)}
        for row in rows[1:]
    ] == events
    # XLS: the default format (no suffix), the same rows
    for suffix in ("", ".xls"):
        status, headers, body = await _export(
            http, server, tenant, f"/api/apps/{app}/events_export{suffix}?{query}&skip_email=true"
        )
        assert status == 200 and headers["Content-Type"] == "application/vnd.ms-excel"
        sheet = _xls_rows(body)
        assert sheet[0] == ["name", "date_utc", "device_id", "user_id", "session_id", "details"]
        assert [
            {name: _as_json_value(name, value) for name, value in zip(sheet[0], row, strict=True)}
            for row in sheet[1:]
        ] == events
        calamine = CalamineWorkbook.from_filelike(io.BytesIO(body))
        assert len(calamine.get_sheet_by_index(0).to_python()) == len(events) + 1


async def test_fields_and_other_lists_export_too(
    http: aiohttp.ClientSession, server: Server, db: Database, tenant: Tenant
) -> None:
    await seed_activity(db, tenant, devices=3, events_per_device=2)
    app = tenant.product_id
    sessions = (
        await call(http, server, "GET", f"/api/apps/{app}/sessions?fields=session_id,device_id", tenant.token)
    ).json
    status, _, body = await _export(
        http,
        server,
        tenant,
        f"/api/apps/{app}/sessions_export.csv?fields=session_id,device_id&skip_email=true",
    )
    rows = list(csv.reader(io.StringIO(body.decode())))
    assert rows[0] == ["session_id", "device_id"]
    assert [dict(zip(rows[0], row, strict=True)) for row in rows[1:]] == sessions["result"]["sessions"]
    status, _, body = await _export(
        http, server, tenant, f"/api/apps/{app}/devices/d2/sessions_export.csv?skip_email=true"
    )
    assert [row[1] for row in csv.reader(io.StringIO(body.decode()))][1:] == ["d2"]


async def test_download_tokens_missing_invalid_or_expired_are_400s(
    http: aiohttp.ClientSession, server: Server, db: Database, tenant: Tenant
) -> None:
    for query in ("", "?export_token=", "?export_token=nope", "?other=1"):
        reply = await call(http, server, "GET", f"/api/exports/download_url{query}")
        assert (reply.status, reply.text) == (400, BAD_TOKEN)
    reply = await call(
        http, server, "GET", f"/api/apps/{tenant.product_id}/events_export.csv?skip_email=true", tenant.token
    )
    callback = reply.json["result"]["callback"]
    status, _, _ = await _download(http, callback)
    assert status == 200
    token = callback.rsplit("=", 1)[1]
    await db.execute(
        "UPDATE exports SET link_expires_at = now() - interval '1 second' WHERE link_hash = $1",
        hashlib.sha256(token.encode()).digest(),
    )
    reply = await call(http, server, "GET", callback[callback.index("/api/") :])
    assert (reply.status, reply.text) == (400, BAD_TOKEN)


async def test_a_file_being_written_answers_202(
    http: aiohttp.ClientSession, server: Server, db: Database, tenant: Tenant
) -> None:
    token = secrets.token_urlsafe(32)
    # a running job whose worker beats: no other worker takes it, and its file is not written yet
    await db.execute(
        """INSERT INTO exports (account_id, product_id, kind, format, status, heartbeat_at, link_hash, link_expires_at)
           VALUES ($1, $2, 'events', 'xls', 'running', now() + interval '1 hour', $3, now() + interval '7 days')""",
        tenant.account_pk,
        tenant.product_pk,
        hashlib.sha256(token.encode()).digest(),
    )
    reply = await call(http, server, "GET", f"/api/exports/download_url?export_token={token}")
    assert (reply.status, reply.text) == (
        202,
        '{"success":true,"status":202,"result":"Your report is being generated, try again later."}',
    )


async def test_without_an_smtp_server_email_exports_point_to_skip_email(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant
) -> None:
    message = (
        "E-mail delivery is not configured on this server: add skip_email=true to get a download URL instead."
    )
    for path in ("events_export", "events_export.csv?skip_email=false", "sessions_export.xls"):
        reply = await call(http, server, "GET", f"/api/apps/{tenant.product_id}/{path}", tenant.token)
        assert (reply.status, reply.json) == (
            400,
            {"success": False, "status": 400, "message": message, "error_message": message},
        )


async def test_email_exports_send_the_link_through_the_smtp_server(
    http: aiohttp.ClientSession, migrated: str, tmp_path: Path, db: Database, tenant: Tenant
) -> None:
    await seed_activity(db, tenant, devices=2, events_per_device=2)
    with smtp_inbox() as inbox:
        async with gateway_with(migrated, tmp_path, smtp_url=inbox.url, smtp_from="gw@example.test") as gw:
            reply = await call(
                http, gw, "GET", f"/api/apps/{tenant.product_id}/events_export.csv", tenant.token
            )
            assert (reply.status, reply.text) == (
                200,
                '{"success":true,"result":"Your report is being generated and will be sent to the email '
                f'{tenant.email} when it is completed"}}',
            )
            (envelope,) = await inbox.wait_for(1)
            assert envelope.rcpt_tos == [tenant.email] and envelope.mail_from == "gw@example.test"
            mail = email.message_from_bytes(envelope.content, policy=email.policy.default)
            assert mail["Subject"] == "Your events export is ready"
            text = mail.get_content()
            link = re.search(r"(http://\S+/exports/download\?token=[-_A-Za-z0-9]+)", text)
            assert link is not None, text
            async with http.get(link.group(1).replace(gw.settings.base_url, gw.url)) as response:
                assert response.status == 200
                rows = list(csv.reader(io.StringIO((await response.read()).decode())))
            assert len(rows) == 5 and rows[0][0] == "name"
    found = await db.fetchrow(
        "SELECT emailed_at, email_error, email_token FROM exports WHERE account_id = $1 AND email_to IS NOT NULL",
        tenant.account_pk,
    )
    assert found["emailed_at"] is not None and found["email_error"] is None and found["email_token"] is None


async def test_xls_splits_sheets_beyond_65536_rows(db: Database) -> None:
    from gateway.background.xls import XlsFile

    file = XlsFile(["n", "when"], ["int", "time"], "Events")
    start = datetime(2026, 1, 1, tzinfo=UTC)
    total, parts = 70_000, []
    for first in range(0, total, 10_000):
        batch = [(i, start + timedelta(seconds=i)) for i in range(first, min(first + 10_000, total))]
        parts.append(file.rows(batch, total - first - len(batch)))
    tail, head = file.finish()
    book = xlrd.open_workbook(file_contents=head + b"".join(parts) + tail)
    assert [(s.name, s.nrows) for s in book.sheets()] == [
        ("Events", 65_536),
        ("Events (2)", 70_000 - 65_535 + 1),
    ]
    last = book.sheet_by_index(1)
    assert last.row_values(0) == ["n", "when"] and last.cell_value(last.nrows - 1, 0) == total - 1
