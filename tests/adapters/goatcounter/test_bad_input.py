"""Malformed input never gets a 500: bodies, dates, ids, sizes, huge batches, invalid UTF-8, NUL characters."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from gateway.db.pool import Database
from tests.adapters.goatcounter.helpers import FIREFOX, call, client, new_site, token
from tests.conftest import Server, gateway_with, gql


@pytest.fixture
async def server(migrated: str, tmp_path: Path) -> AsyncIterator[Server]:
    unlimited = {"goatcounter-api": (0, 1.0), "goatcounter-count": (0, 1.0), "goatcounter-pixel": (0, 1.0)}
    async with gateway_with(migrated, tmp_path, rate_limits=unlimited) as relaxed:
        yield relaxed


BODIES: list[bytes] = [
    b"",
    b"null",
    b"[]",
    b'"hits"',
    b"12",
    b"{",
    b'{"hits": {}}',
    b'{"hits": [1, "x", null, []]}',
    b'{"hits": [{"path": 5}]}',
    b'{"hits": [{"path": "/a", "bot": 1e400}]}',
    b'{"hits": [{"path": "/a", "bot": 99999999999999999999999}]}',
    b'{"hits": [{"path": "/a", "bot": -5}], "no_sessions": true}',
    b'{"hits": [{"path": "/a", "created_at": "0001-01-01T00:00:00Z"}], "no_sessions": true}',
    b'{"hits": [{"path": "/a", "created_at": "9999-12-31T23:59:59Z"}], "no_sessions": true}',
    b'{"hits": [{"path": "/a", "created_at": "2026-02-30T00:00:00Z"}], "no_sessions": true}',
    b'{"hits": [{"path": "/a", "created_at": 5}], "no_sessions": true}',
    b'{"hits": [{"path": "/\\u0000nul", "title": "a\\u0000b", "ref": "\\u0000"}], "no_sessions": true}',
    b'{"hits": [{"path": "/\\ud800x", "title": "\\udfff", "user_agent": "\\ud83d"}], "no_sessions": true}',
    b'{"hits": [{"path": "/\xff\xfe invalid utf-8", "title": "\xc3\x28"}], "no_sessions": true}',
    b'{"hits": [{"path": "/a", "size": "1e999,NaN,-1"}], "no_sessions": true}',
    b'{"hits": [{"path": "/a", "size": "x,y"}], "no_sessions": true}',
    b'{"hits": [{"path": "/a", "location": "\\u0000\\u0000", "ip": "::::::1", "language": "x"}], "no_sessions": true}',
    b'{"hits": [{"path": "/a", "ip": "999.1.1.1", "user_agent": "' + b"u" * 600 + b'"}]}',
    b'{"hits": [{"path": "' + "é".encode() * 2048 + b'"}], "no_sessions": true}',
    b'{"hits": [{"path": "/a", "query": "?utm_campaign=' + b"c" * 5000 + b'"}], "no_sessions": true}',
    b'{"hits": [{"path": "/a", "ref": "' + b"r" * 2048 + b'", "session": "' + b"s" * 10000 + b'"}]}',
    b'{"filter": [null], "hits": [{"path": "/a"}]}',
    b'{"filter": "ip", "hits": [{"path": "/a"}]}',
    json.dumps({"no_sessions": True, "hits": [{"path": f"/{i}"} for i in range(1000)]}).encode(),
    b'{"hits": [' + b"[" * 5000 + b"]" * 5000 + b"]}",
    b'{"hits": [{"path": "/a"}], "no_sessions": "yes"}',
]

URLS = [
    "/api/v0/paths?limit=99999999999999999999999",
    "/api/v0/paths?limit=-5&after=-1",
    "/api/v0/paths?after=abc",
    "/api/v0/paths?limit=",
    "/api/v0/stats/total?start=0001-01-01&end=9999-12-31",
    "/api/v0/stats/total?start=2026-13-45",
    "/api/v0/stats/total?start=2026-01-01T00:00:00%2B99:00",
    "/api/v0/stats/total?start=2026-01-02&end=2026-01-01",
    "/api/v0/stats/total?start=1999-01-01&end=2026-01-01",
    "/api/v0/stats/hits?include_paths=1,,2",
    "/api/v0/stats/hits?include_paths=99999999999999999999999",
    "/api/v0/stats/hits?exclude_paths=" + ",".join(str(i) for i in range(600)),
    "/api/v0/stats/hits?path_by_name=maybe",
    "/api/v0/stats/hits?limit=0&daily=1",
    "/api/v0/stats/hits/-1",
    "/api/v0/stats/hits/99999999999999999999",
    "/api/v0/stats/browsers?offset=-3&limit=-3",
    "/api/v0/stats/browsers?offset=99999999999999",
    "/api/v0/stats/browsers/%00",
    "/api/v0/stats/browsers/%ff%fe",
    "/api/v0/stats/locations/" + "x" * 3000,
    "/api/v0/stats/campaigns/99999999999999999999",
    "/api/v0/stats/languages/nld",
    "/api/v0/sites/-1",
    "/api/v0/sites/1e5",
    "/api/v0/export/99999999999999999999999999",
    "/api/v0/export/%ff/download",
    "/api/v0/%ff%fe",
]

PIXELS = [
    "/count",
    "/count?p=%00&t=%00&r=%00",
    "/count?p=/a&s=1e999",
    "/count?p=/a&s=,,,&e=1&b=99999999999999999999",
    "/count?p=%ff%fe%fd",
    "/count?p=/%ED%A0%80",
    "/count?p=/a&q=%ff&r=%ff",
    "/count?p=/a&ns=maybe",
    "/count?p=/a&b=-1",
]


async def test_no_bad_request_gets_a_500(server: Server, db: Database) -> None:
    site = await new_site(db)
    secret = await token(db, site, "count", "export", "stats", "site-read", "site-create", "site-update")
    async with client() as http:
        for body in BODIES:
            answer = await call(http, server.url + "/api/v0/count", "POST", site.host, secret, body)
            assert answer.status < 500, (body[:80], answer.status, answer.text[:300])
            if answer.status >= 400:
                assert "error" in answer.text, body[:80]
        for body in (
            b'{"start_from_hit_id": -7}',
            b'{"start_from_hit_id": 1e99}',
            b'{"start_from_hit_id": "x"}',
        ):
            answer = await call(http, server.url + "/api/v0/export", "POST", site.host, secret, body)
            assert answer.status < 500, (body, answer.status, answer.text)
        for body in (
            b'{"cname": "' + b"x" * 300 + b'.example"}',
            b'{"cname": "bad host!.example"}',
            b'{"cname": 5}',
            b'{"cname": "a\\u0000b.example"}',
            b'{"cname": "ok.example", "setttings": {"public": [], "ignore_ips": "not-an-ip"}}',
        ):
            answer = await call(http, server.url + "/api/v0/sites", "PUT", site.host, secret, body)
            assert answer.status < 500, (body, answer.status, answer.text)
        for method, body in (
            ("PATCH", b'{"settings": {"ignore_ips": ["1.2.3.4", "x"]}}'),
            ("POST", b'{"cname": ""}'),
        ):
            answer = await call(
                http, server.url + f"/api/v0/sites/{site.product_pk}", method, site.host, secret, body
            )
            assert answer.status < 500, (body, answer.status, answer.text)
        for url in URLS:
            answer = await call(http, server.url + url, host=site.host, token=secret)
            assert answer.status < 500, (url, answer.status, answer.text[:300])
        for url in PIXELS:
            answer = await call(
                http, server.url + url, host=site.host, content_type=None, headers={"User-Agent": FIREFOX}
            )
            assert answer.status < 500, (url, answer.status, answer.headers.get("X-Goatcounter"))
        for auth in ("Basic " + "=" * 10, "Bearer " + "x" * 10000, "Basic OjpfOg=="):
            answer = await call(
                http, server.url + "/api/v0/me", host=site.host, headers={"Authorization": auth}
            )
            assert answer.status < 500, (auth[:20], answer.status)


async def test_the_graph_refuses_bad_hits_without_failing(
    http: aiohttp.ClientSession, server: Server, db: Database
) -> None:
    site = await new_site(db)
    hits: list[dict[str, Any]] = [
        {"path": "/a\u0000b", "title": "\ud800", "session": "s", "referrer": "\u0000"},
        {"path": "/b", "session": "s", "timestamp": "0001-01-01T00:00:00+00:00"},
        {"path": "/c", "session": "s", "bot": 2147483647, "screen": "NaN"},
        {"path": "/d", "userAgent": "x" * 513, "ip": "::1"},
    ]
    reply = await gql(
        http,
        server,
        "mutation ($p: ID!, $h: [PageviewInput!]!) { recordPageviews(productId: $p, pageviews: $h) { outcome } }",
        {"p": site.tenant.product_id, "h": hits},
        token=site.tenant.token,
    )
    assert reply.status == 200 and reply.errors is None, reply.body
    assert [r["outcome"] for r in reply.data["recordPageviews"]] == ["STORED", "REFUSED", "BOT", "REFUSED"]
    stored = await db.fetchval(
        "SELECT path FROM events WHERE product_id = $1 ORDER BY id LIMIT 1", site.product_pk
    )
    assert stored == "/ab"
