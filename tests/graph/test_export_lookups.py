"""Exports look each device up once a chunk (`ExportField.lookup`, `resolvers/lookups.py`), and write the very
bytes the per-row subqueries wrote: rows of no device, of a deleted device, of an erased person, of another
product's device and of another account's device, people with no user, one, two and two made at the same time."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from typing import Any

import aiohttp
import pytest

from gateway.db.pool import Database
from resolvers.exports import sources
from resolvers.people.erasure import erase_people
from tests.adapters.followanalytics.test_exports import _export as fa_export
from tests.conftest import Server, Tenant, gql, new_tenant
from tests.graph.plans import lookup_scans
from tests.graph.test_exports import _finished

START = """mutation($p: ID!, $kind: ExportKind!, $format: ExportFormat!, $fields: [ExportFieldInput!]) {
  startExport(input: {productId: $p, kind: $kind, format: $format, fields: $fields}) { id }
}"""
FIELDS = {
    "EVENTS": ["id", "key", "deviceId", "userId", "timestamp", "deviceId", "sessionId"],
    "SESSIONS": ["userId", "id", "deviceId", "startedAt"],
}
# the file's bytes as the worker wrote them before lookups: the same fields, each value a subquery per row
PER_ROW = {
    name: {field: replace(value, lookup=None) for field, value in fields.items()}
    for name, fields in (("EVENT_FIELDS", sources.EVENT_FIELDS), ("SESSION_FIELDS", sources.SESSION_FIELDS))
}


async def _seed(db: Database, tenant: Tenant) -> None:
    account, product = tenant.account_pk, tenant.product_pk

    async def device(
        key: str, aliases: list[tuple[str, int]], of: tuple[int, int] = (account, product)
    ) -> int:
        pk: int = await db.fetchval(
            """INSERT INTO devices (account_id, product_id, device_key, first_seen, last_seen)
               VALUES ($1, $2, $3, '2026-03-01', '2026-03-02') RETURNING id""",
            *of,
            key,
        )
        for alias, day in aliases:
            await db.execute(
                """INSERT INTO person_identities (account_id, product_id, key, identity, person_id, kind, created_at)
                   VALUES ($1, $2, lower($3), $3, $4, 'alias', '2026-03-01'::timestamptz + $5 * interval '1 day')""",
                *of,
                alias,
                pk,
                day,
            )
        return pk

    async def event(device_id: int | None, key: str, second: int) -> None:
        await db.execute(
            """INSERT INTO events (account_id, product_id, device_id, key, occurred_at)
               VALUES ($1, $2, $3, $4, '2026-03-05'::timestamptz + $5 * interval '1 second')""",
            account,
            product,
            device_id,
            key,
            second,
        )

    async def session(device_id: int, second: int) -> None:
        await db.execute(
            """INSERT INTO sessions (account_id, product_id, device_id, started_at)
               VALUES ($1, $2, $3, '2026-03-05'::timestamptz + $4 * interval '1 second')""",
            account,
            product,
            device_id,
            second,
        )

    phones = [
        await device("phone-none", []),
        await device("phone-one", [("Ann", 0)]),
        await device("phone-two", [("old-bob", 0), ("New-Bob", 2)]),
        await device("phone-tie", [("tie-a", 1), ("tie-b", 1)]),  # same time: the larger key is the newest
    ]
    other = await db.fetchval(
        "INSERT INTO products (account_id, name, app_key) VALUES ($1, 'other', $2) RETURNING id",
        account,
        f"other-{account}",
    )
    elsewhere = await device("elsewhere", [("eve", 0)], (account, other))
    stranger = await new_tenant(db)
    theirs = await device("theirs", [("their-user", 0)], (stranger.account_pk, stranger.product_pk))
    deleted = await device("deleted", [("del", 0)])
    erased = await device("erased", [("gone-user", 0)])
    # many rows a device, interleaved, some at the same time (the id breaks the tie), over several chunks
    for n in range(24):
        await event(phones[n % 4], f"tap-{n}", n // 3)
        if n < 8:  # two sessions a phone
            await session(phones[n % 4], n)
    await event(None, "no-device", 3)
    await event(theirs, "their-device", 4)
    await event(elsewhere, "other-product", 5)
    await event(deleted, "deleted-device", 6)
    await session(theirs, 7)
    await session(elsewhere, 8)
    await db.execute("DELETE FROM devices WHERE id = $1", deleted)
    assert (await erase_people(db, account, ["gone-user"], None)).people == 1
    await event(erased, "erased-person", 7)  # written after the erasure, as a late write could be


async def _file(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant, kind: str, file_format: str
) -> bytes:
    started = await gql(
        http,
        server,
        START,
        {
            "p": tenant.product_id,
            "kind": kind,
            "format": file_format,
            "fields": [{"field": f} for f in FIELDS[kind]],
        },
        tenant.token,
    )
    assert started.errors is None, started.errors
    export = await _finished(http, server, tenant, started.data["startExport"]["id"])
    assert export["status"] == "FINISHED", export
    async with http.get(
        server.url + export["downloadUrl"], headers={"Authorization": f"Bearer {tenant.token}"}
    ) as r:
        assert r.status == 200
        return await r.read()


async def _files(http: aiohttp.ClientSession, server: Server, tenant: Tenant) -> dict[str, bytes]:
    files = {
        f"{kind} {file_format}": await _file(http, server, tenant, kind, file_format)
        for kind in FIELDS
        for file_format in ("CSV", "JSON", "XLS")
    }
    app = tenant.product_id
    for path in (
        "events_export.csv?since_date=2026-03-01T00:00:00Z&",
        "sessions_export.xls?",
        "events_export?",
    ):
        status, _, body = await fa_export(http, server, tenant, f"/api/apps/{app}/{path}skip_email=true")
        assert status == 200, body
        files[path] = body
    return files


async def test_exported_files_are_the_same_as_with_a_lookup_per_row(
    http: aiohttp.ClientSession,
    server: Server,
    db: Database,
    tenant: Tenant,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await _seed(db, tenant)
    monkeypatch.setattr("gateway.background.export_rows.CHUNK", 7)  # chunks cut between a device's rows
    looked_up = await _files(http, server, tenant)
    with monkeypatch.context() as patch:
        for name, fields in PER_ROW.items():
            patch.setattr(sources, name, fields)
        per_row = await _files(http, server, tenant)
    for name, body in looked_up.items():
        assert body == per_row[name], name

    rows = list(csv.reader(io.StringIO(looked_up["EVENTS CSV"].decode())))
    assert rows[0] == FIELDS["EVENTS"]
    found = {row[1]: (row[2], row[3], row[5]) for row in rows[1:]}
    assert len(found) == 29
    expected = {"phone-none": "", "phone-one": "Ann", "phone-two": "New-Bob", "phone-tie": "tie-b"}
    for n in range(24):
        key = ["phone-none", "phone-one", "phone-two", "phone-tie"][n % 4]
        assert found[f"tap-{n}"] == (key, expected[key], key)
    assert found["other-product"] == ("elsewhere", "eve", "elsewhere")  # a device of the account
    for nobody in ("no-device", "their-device", "deleted-device", "erased-person"):
        assert found[nobody] == ("", "", ""), nobody
    # newest first, ties by id: the order the list pages in
    listed = await db.fetch(
        "SELECT key FROM events WHERE product_id = $1 ORDER BY occurred_at DESC, id DESC", tenant.product_pk
    )
    assert [row[1] for row in rows[1:]] == [row["key"] for row in listed]
    assert [row["key"] for row in json.loads(looked_up["EVENTS JSON"])] == [row["key"] for row in listed]
    sessions = list(csv.reader(io.StringIO(looked_up["SESSIONS CSV"].decode())))
    assert {(row[0], row[2]) for row in sessions[1:]} == {
        ("", "phone-none"),
        ("Ann", "phone-one"),
        ("New-Bob", "phone-two"),
        ("tie-b", "phone-tie"),
        ("eve", "elsewhere"),
        ("", ""),  # another account's device: not found
    }


async def test_each_device_of_a_chunk_is_looked_up_once(
    http: aiohttp.ClientSession,
    server: Server,
    db: Database,
    tenant: Tenant,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The chunk statement reads each device's key and user once, not once per row."""
    await _seed(db, tenant)
    statements: list[tuple[str, tuple[Any, ...]]] = []
    fetch = Database.fetch

    async def capturing(self: Database, sql: Any, *args: Any) -> Any:
        statements.append((sql, args))
        return await fetch(self, sql, *args)

    with monkeypatch.context() as patch:
        patch.setattr(Database, "fetch", capturing)
        await _file(http, server, tenant, "EVENTS", "CSV")
    sql, args = next((sql, args) for sql, args in statements if " FROM events t " in sql)
    looked_up = await lookup_scans(db, sql, args)
    assert {scan["Relation Name"] for scan in looked_up} == {"devices", "person_identities"}
    # 29 rows, 9 keys: 4 phones, another product's device, another account's, the deleted, the erased, and the
    # row of no device (its null key finds nothing)
    assert all(scan["Actual Loops"] == 9 for scan in looked_up), looked_up
    rows = await db.fetch(sql, *args)
    assert len(rows) == 29
