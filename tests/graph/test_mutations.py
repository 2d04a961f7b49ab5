"""Mutations: create, update and delete products, reports, segments and tokens; log in; record data."""

from __future__ import annotations

import aiohttp
import pytest

from gateway.db.pool import Database
from tests.conftest import Server, Tenant, gql


async def test_product_lifecycle(http: aiohttp.ClientSession, server: Server, tenant: Tenant) -> None:
    created = await gql(
        http,
        server,
        'mutation { createProduct(input: {name: "Shop", url: "https://shop.test", timezone: "Europe/Istanbul"}) '
        "{ id name url timezone status environment appKey account { id } } }",
        token=tenant.token,
    )
    assert created.errors is None, created.body
    product = created.data["createProduct"]
    assert product["timezone"] == "Europe/Istanbul" and product["status"] == "ACTIVE"
    assert len(product["appKey"]) == 40 and product["account"]["id"] == tenant.account_id

    updated = await gql(
        http,
        server,
        'mutation($id: ID!) { updateProduct(id: $id, input: {name: "Shop 2", status: PAUSED}) { name status url } }',
        {"id": product["id"]},
        tenant.token,
    )
    assert updated.data["updateProduct"] == {"name": "Shop 2", "status": "PAUSED", "url": "https://shop.test"}

    bad_zone = await gql(
        http,
        server,
        'mutation($id: ID!) { updateProduct(id: $id, input: {timezone: "Mars/Olympus"}) { id } }',
        {"id": product["id"]},
        tenant.token,
    )
    assert bad_zone.errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "Unknown time zone" in bad_zone.errors[0]["message"]

    deleted = await gql(
        http,
        server,
        "mutation($id: ID!) { deleteProduct(id: $id) { deletedId } }",
        {"id": product["id"]},
        tenant.token,
    )
    assert deleted.data == {"deleteProduct": {"deletedId": product["id"]}}
    gone = await gql(
        http, server, "query($id: ID!) { node(id: $id) { id } }", {"id": product["id"]}, tenant.token
    )
    assert gone.data == {"node": None}


async def test_reports_crud(http: aiohttp.ClientSession, server: Server, tenant: Tenant) -> None:
    created = await gql(
        http,
        server,
        'mutation($p: ID!) { createReport(input: {name: "Weekly", type: "dashboard", productId: $p, '
        'definition: {metrics: ["sessions"]}}) { id name type definition product { id } } }',
        {"p": tenant.product_id},
        tenant.token,
    )
    report = created.data["createReport"]
    assert report["definition"] == {"metrics": ["sessions"]} and report["product"]["id"] == tenant.product_id
    updated = await gql(
        http,
        server,
        'mutation($id: ID!) { updateReport(id: $id, input: {definition: {metrics: []}, name: "Daily"}) { name definition } }',
        {"id": report["id"]},
        tenant.token,
    )
    assert updated.data["updateReport"] == {"name": "Daily", "definition": {"metrics": []}}
    not_object = await gql(
        http,
        server,
        "mutation($id: ID!) { updateReport(id: $id, input: {definition: [1, 2]}) { name } }",
        {"id": report["id"]},
        tenant.token,
    )
    assert not_object.errors[0]["message"] == "`definition` must be a JSON object"
    listed = await gql(http, server, "{ reports { totalCount nodes { name } } }", token=tenant.token)
    assert listed.data["reports"] == {"totalCount": 1, "nodes": [{"name": "Daily"}]}
    deleted = await gql(
        http,
        server,
        "mutation($id: ID!) { deleteReport(id: $id) { deletedId } }",
        {"id": report["id"]},
        tenant.token,
    )
    assert deleted.errors is None
    again = await gql(
        http,
        server,
        "mutation($id: ID!) { deleteReport(id: $id) { deletedId } }",
        {"id": report["id"]},
        tenant.token,
    )
    assert again.errors[0]["extensions"]["code"] == "NOT_FOUND"


async def test_segment_lists_matching_devices(
    http: aiohttp.ClientSession, server: Server, db: Database, tenant: Tenant
) -> None:
    await db.execute(
        """INSERT INTO devices (account_id, product_id, device_key, first_seen, last_seen, os, country)
           VALUES ($1, $2, 'a', now(), now(), 'Android', 'TR'), ($1, $2, 'b', now(), now(), 'iOS', 'TR'),
                  ($1, $2, 'c', now(), now(), 'Android', 'US')""",
        tenant.account_pk,
        tenant.product_pk,
    )
    created = await gql(
        http,
        server,
        """mutation($p: ID!) {
             a: createSegment(input: {productId: $p, identifier: "android-tr", name: "Android in Turkey",
                                     filter: {os: ["Android"], country: ["TR"]}}) { id }
             b: createSegment(input: {productId: $p, identifier: "tr", name: "Turkey", filter: {country: ["TR"]}}) { id }
           }""",
        {"p": tenant.product_id},
        tenant.token,
    )
    assert created.errors is None, created.body
    listed = await gql(
        http,
        server,
        "{ segments { nodes { identifier filter { os country } devices { totalCount nodes { deviceId } } } } }",
        token=tenant.token,
    )
    segments = {s["identifier"]: s for s in listed.data["segments"]["nodes"]}
    assert segments["android-tr"]["filter"] == {"os": ["Android"], "country": ["TR"]}
    assert [d["deviceId"] for d in segments["android-tr"]["devices"]["nodes"]] == ["a"]
    assert segments["tr"]["devices"]["totalCount"] == 2
    assert listed.statements <= 6, listed.statements
    duplicate = await gql(
        http,
        server,
        'mutation($p: ID!) { createSegment(input: {productId: $p, identifier: "tr", name: "again"}) { id } }',
        {"p": tenant.product_id},
        tenant.token,
    )
    assert "already has a segment" in duplicate.errors[0]["message"]
    updated = await gql(
        http,
        server,
        'mutation($id: ID!) { updateSegment(id: $id, input: {filter: {os: ["iOS"]}}) { devices { nodes { deviceId } } } }',
        {"id": created.data["b"]["id"]},
        tenant.token,
    )
    assert updated.data["updateSegment"]["devices"]["nodes"] == [{"deviceId": "b"}]


async def test_tokens_and_permissions(http: aiohttp.ClientSession, server: Server, tenant: Tenant) -> None:
    created = await gql(
        http,
        server,
        'mutation { createToken(name: "dashboards", permissions: [READ]) { secret token { id name permissions } } }',
        token=tenant.token,
    )
    payload = created.data["createToken"]
    assert payload["token"]["permissions"] == ["READ"]
    reader = payload["secret"]
    can_read = await gql(http, server, "{ viewer { permissions account { id } } }", token=reader)
    assert can_read.data["viewer"] == {"permissions": ["read"], "account": {"id": tenant.account_id}}
    cannot_write = await gql(
        http, server, 'mutation { createProduct(input: {name: "x"}) { id } }', token=reader
    )
    assert cannot_write.status == 403
    assert cannot_write.errors[0]["extensions"]["code"] == "FORBIDDEN"
    revoked = await gql(
        http,
        server,
        "mutation($id: ID!) { deleteToken(id: $id) { deletedId } }",
        {"id": payload["token"]["id"]},
        tenant.token,
    )
    assert revoked.errors is None
    after = await gql(http, server, "{ viewer { permissions } }", token=reader)
    assert after.status == 401


async def test_login_and_create_account(http: aiohttp.ClientSession, server: Server, tenant: Tenant) -> None:
    wrong = await gql(
        http,
        server,
        'mutation($e: String!) { login(email: $e, password: "wrong-password") { token } }',
        {"e": tenant.email},
    )
    assert wrong.status == 401
    assert wrong.errors[0]["message"] == "Wrong email or password"
    right = await gql(
        http,
        server,
        "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token account { id } } }",
        {"e": tenant.email.upper(), "p": tenant.password},
    )
    assert right.errors is None, right.body
    assert right.data["login"]["account"]["id"] == tenant.account_id
    token = right.data["login"]["token"]
    mine = await gql(http, server, "{ account { id } }", token=token)
    assert mine.data["account"]["id"] == tenant.account_id
    anonymous_query = await gql(http, server, "{ account { id } }")
    assert anonymous_query.status == 401

    new = await gql(
        http,
        server,
        'mutation { createAccount(input: {name: "other-'
        + tenant.email[:17]
        + '", email: "x-'
        + tenant.email
        + '", password: "long-enough"}) { accountId token } }',
        token=token,
    )
    assert new.errors is None, new.body
    other = await gql(
        http, server, "{ account { id products { totalCount } } }", token=new.data["createAccount"]["token"]
    )
    assert other.data["account"]["id"] == new.data["createAccount"]["accountId"] != tenant.account_id
    short = await gql(
        http,
        server,
        'mutation { createAccount(input: {name: "n", email: "a@b.c", password: "short"}) { token } }',
        token=token,
    )
    assert short.errors[0]["message"] == "`password` must have at least 8 characters"


async def test_record_and_read_back(http: aiohttp.ClientSession, server: Server, tenant: Tenant) -> None:
    begun = await gql(
        http,
        server,
        """mutation($p: ID!) { recordSession(productId: $p, deviceId: "phone-1", action: BEGIN,
                                           metrics: {os: "Android", appVersion: "1.2"}) { outcome stored } }""",
        {"p": tenant.product_id},
        tenant.token,
    )
    assert begun.data == {"recordSession": {"outcome": "STORED", "stored": True}}, begun.body
    events = await gql(
        http,
        server,
        """mutation($p: ID!) { recordEvents(productId: $p, deviceId: "phone-1", events: [
             {key: "purchase", count: 2, sum: 9.5, segmentation: {plan: "pro"}},
             {key: "pageview", path: "/pricing", title: "Pricing", referrer: "https://search.test/"}]) { outcome } }""",
        {"p": tenant.product_id},
        tenant.token,
    )
    assert events.data == {"recordEvents": {"outcome": "STORED"}}
    read = await gql(
        http,
        server,
        """query($p: ID!) { node(id: $p) { ... on Product {
             events(orderBy: OLDEST_FIRST) { totalCount nodes { key count sum segmentation path isPageview
                                             device { deviceId os appVersion } session { id } } }
             purchases: events(key: "purchase") { totalCount }
             sessions { nodes { device { deviceId } events { totalCount } } }
             eventDefinitions { nodes { name total } } } } }""",
        {"p": tenant.product_id},
        tenant.token,
    )
    assert read.errors is None, read.body
    product = read.data["node"]
    assert product["events"]["totalCount"] == 2
    purchase, pageview = product["events"]["nodes"]
    assert purchase["key"] == "purchase" and purchase["count"] == 2 and purchase["sum"] == 9.5
    assert purchase["segmentation"] == {"plan": "pro"}
    assert purchase["device"] == {"deviceId": "phone-1", "os": "Android", "appVersion": "1.2"}
    assert purchase["session"] is not None
    assert pageview["path"] == "/pricing" and pageview["isPageview"] is True
    assert product["purchases"]["totalCount"] == 1
    assert product["sessions"]["nodes"] == [{"device": {"deviceId": "phone-1"}, "events": {"totalCount": 2}}]
    assert {d["name"]: d["total"] for d in product["eventDefinitions"]["nodes"]} == {
        "purchase": 2,
        "pageview": 1,
    }


async def test_failed_logins_are_limited(http: aiohttp.ClientSession, server: Server, tenant: Tenant) -> None:
    from resolvers.accounts.store import MAX_FAILED_LOGINS

    login = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }"
    for _ in range(MAX_FAILED_LOGINS):
        wrong = await gql(http, server, login, {"e": tenant.email, "p": "not-the-password"})
        assert wrong.status == 401
    # the limit holds even for the right password, and for the same email in other letter case
    blocked = await gql(http, server, login, {"e": tenant.email.upper(), "p": tenant.password})
    assert blocked.status == 429
    assert blocked.errors[0]["message"] == "Too many failed logins for this email; try again next hour"


async def test_an_unknown_email_costs_the_same_password_check_as_a_wrong_password(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gateway.access import passwords
    from resolvers.accounts.store import MAX_FAILED_LOGINS

    checked: list[tuple[str, str]] = []
    real = passwords.verify_password

    def spied(password: str, stored: str) -> bool:  # runs on the hashing threads, as the real one does
        checked.append((password, stored))
        return real(password, stored)

    monkeypatch.setattr(passwords, "verify_password", spied)
    login = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }"
    wrong = await gql(http, server, login, {"e": tenant.email, "p": "not-the-password"})
    unknown = await gql(http, server, login, {"e": "nobody-" + tenant.email, "p": "not-the-password"})
    # the same answer, after one scrypt check each, of a hash with the same parameters
    assert (wrong.status, wrong.body) == (unknown.status, unknown.body) and wrong.status == 401
    assert [password for password, _ in checked] == ["not-the-password", "not-the-password"]
    known_hash, unknown_hash = (stored for _, stored in checked)
    assert unknown_hash.split("$")[0] == known_hash.split("$")[0] == "scrypt"
    assert unknown_hash == passwords.UNKNOWN_USER_HASH and unknown_hash != known_hash
    # and counts against the email's failed logins like any wrong password
    for _ in range(MAX_FAILED_LOGINS - 1):
        assert (await gql(http, server, login, {"e": "nobody-" + tenant.email, "p": "x"})).status == 401
    assert (await gql(http, server, login, {"e": "nobody-" + tenant.email, "p": "x"})).status == 429
