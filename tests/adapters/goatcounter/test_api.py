"""The GoatCounter API beyond the captures: how a site is chosen, permissions and tenancy, the pixel's rules,
exports and their cursor, rate limits."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.db.pool import Database
from tests.adapters.goatcounter.helpers import CHROME, FIREFOX, call, client, new_site, token
from tests.conftest import Server, gateway_with

# most tests here make many calls from one address: the per-second limit of the API is lifted for them
RELAXED = {"goatcounter-api": (0, 1.0)}


@pytest.fixture
async def server(migrated: str, tmp_path: Path) -> AsyncIterator[Server]:
    async with gateway_with(migrated, tmp_path, rate_limits=RELAXED) as relaxed:
        yield relaxed


async def test_the_site_is_the_hosts_or_the_only_one(server: Server, db: Database) -> None:
    site = await new_site(db)
    secret = await token(db, site, "stats", "count")
    second = await db.fetchval(
        "INSERT INTO products (account_id, name, app_key) VALUES ($1, 'two', md5(random()::text)) RETURNING id",
        site.tenant.account_pk,
    )
    code = await db.fetchval("SELECT site_code FROM products WHERE id = $1", second)
    async with client() as http:
        count = {"no_sessions": True, "hits": [{"path": "/by-code"}]}
        assert (
            await call(http, server.url + "/api/v0/count", "POST", f"{code}.stats.example", secret, count)
        ).status == 202
        count = {"no_sessions": True, "hits": [{"path": "/by-host"}]}
        assert (
            await call(http, server.url + "/api/v0/count", "POST", site.host.upper() + ":8080", secret, count)
        ).status == 202
        # two sites and a host naming neither
        unknown = await call(http, server.url + "/api/v0/paths", host="unknown.example", token=secret)
        assert (unknown.status, unknown.text) == (
            400,
            '{"error":"no site at this domain (\\"unknown.example\\")"}',
        )
        by_code = await call(http, server.url + "/api/v0/paths", host=f"{code}.stats.example", token=secret)
        assert [p["path"] for p in by_code.json["paths"]] == ["/by-code"]
        by_host = await call(http, server.url + "/api/v0/paths", host=site.host, token=secret)
        assert [p["path"] for p in by_host.json["paths"]] == ["/by-host"]
    limited = await token(db, site, "stats", products=[second])
    async with client() as http:
        # the token may use one site: any host picks it, but not a host of another of its account's sites
        only = await call(http, server.url + "/api/v0/paths", host="anything.example", token=limited)
        assert [p["path"] for p in only.json["paths"]] == ["/by-code"]
        refused = await call(http, server.url + "/api/v0/paths", host=site.host, token=limited)
        assert (refused.status, refused.json) == (
            403,
            {"error": "this token does not have access to this site"},
        )
        me = await call(http, server.url + "/api/v0/me", host=site.host, token=limited)
        assert me.json["token"]["sites"] == [second] and me.json["token"]["permissions"] == 64


async def test_permissions_are_named_as_goatcounter_names_them(server: Server, db: Database) -> None:
    site = await new_site(db)
    nothing = await token(db, site)
    count_only = await token(db, site, "count")
    async with client() as http:
        for method, path, body, needs in (
            ("POST", "/api/v0/count", {"hits": [{"path": "/"}]}, "'count'"),
            ("GET", "/api/v0/paths", None, "'stats'"),
            ("GET", "/api/v0/stats/total", None, "'stats'"),
            ("POST", "/api/v0/export", {}, "'export'"),
            ("GET", "/api/v0/sites", None, "'site-read'"),
            ("PUT", "/api/v0/sites", {"cname": "new.example"}, "'site-create'"),
            ("PATCH", "/api/v0/sites/1", {}, "'site-update'"),
        ):
            answer = await call(http, server.url + path, method, site.host, nothing, body)
            assert (answer.status, answer.json) == (403, {"error": f"requires {needs} permissions"}), path
        me = await call(http, server.url + "/api/v0/me", host=site.host, token=nothing)
        assert me.status == 200 and me.json["token"]["permissions"] == 1
        stats = await call(http, server.url + "/api/v0/stats/browsers", host=site.host, token=count_only)
        assert stats.json == {"error": "requires 'stats' permissions"}


async def test_another_accounts_token_sees_nothing_of_a_site(server: Server, db: Database) -> None:
    owner = await new_site(db)
    owner_token = await token(db, owner, "count", "stats", "export", "site-read", "site-update")
    stranger = await new_site(db)
    strangers = await token(db, stranger, "count", "stats", "export", "site-read", "site-update")
    async with client() as http:
        hits = {
            "hits": [
                {"path": "/secret", "user_agent": FIREFOX, "ip": "81.2.69.142", "ref": "https://x.example"}
            ]
        }
        assert (
            await call(http, server.url + "/api/v0/count", "POST", owner.host, owner_token, hits)
        ).status == 202
        exported = await call(http, server.url + "/api/v0/export", "POST", owner.host, owner_token, {})
        export_id = exported.json["id"]
        path_id = (await call(http, server.url + "/api/v0/paths", host=owner.host, token=owner_token)).json[
            "paths"
        ][0]["id"]
    async with client() as http:
        # with the owner's Host, the stranger's token reads its own (only) site: nothing of the owner's
        for path in (
            "/api/v0/paths",
            "/api/v0/stats/hits",
            "/api/v0/stats/toprefs",
            "/api/v0/stats/browsers",
        ):
            answer = await call(http, server.url + path, host=owner.host, token=strangers)
            assert answer.status == 200 and "/secret" not in answer.text and "x.example" not in answer.text, (
                path
            )
        total = await call(http, server.url + "/api/v0/stats/total", host=owner.host, token=strangers)
        assert total.json["total"] == 0
        refs = await call(
            http, server.url + f"/api/v0/stats/hits/{path_id}", host=owner.host, token=strangers
        )
        assert refs.json == {"refs": [], "more": False}
        including = await call(
            http,
            server.url + f"/api/v0/stats/total?include_paths={path_id}",
            host=owner.host,
            token=strangers,
        )
        assert including.json["total"] == 0
        for path in (
            f"/api/v0/sites/{owner.product_pk}",
            f"/api/v0/export/{export_id}",
            f"/api/v0/export/{export_id}/download",
        ):
            answer = await call(http, server.url + path, host=owner.host, token=strangers)
            assert (answer.status, answer.json) == (404, {"error": "not found"}), path
        patched = await call(
            http,
            server.url + f"/api/v0/sites/{owner.product_pk}",
            "PATCH",
            owner.host,
            strangers,
            {"link_domain": "x"},
        )
        assert patched.status == 404
        sites = await call(http, server.url + "/api/v0/sites", host=owner.host, token=strangers)
        assert [s["id"] for s in sites.json["sites"]] == [stranger.product_pk]
    # /count of one site never writes into another
    async with client() as http:
        pixel = await call(
            http,
            server.url + "/count?p=/from-pixel",
            host=stranger.host,
            content_type=None,
            headers={"User-Agent": CHROME},
        )
        assert pixel.status == 200
    async with client() as http:
        mine = await call(http, server.url + "/api/v0/paths", host=owner.host, token=owner_token)
        assert [p["path"] for p in mine.json["paths"]] == ["/secret"]
        theirs = await call(http, server.url + "/api/v0/paths", host=stranger.host, token=strangers)
        assert [p["path"] for p in theirs.json["paths"]] == ["/from-pixel"]


async def test_the_pixel_counts_by_session_drops_ignored_ips_and_keeps_bots_apart(
    server: Server, db: Database
) -> None:
    site = await new_site(db)
    secret = await token(db, site, "stats", "export")
    await db.execute("UPDATE products SET ignored_ips = '{127.0.0.99}' WHERE id = $1", site.product_pk)
    pixel = server.url + "/count?p=/page&t=Page&s=390,844,3&rnd=1"
    async with client() as http:
        for _ in range(2):  # one session: one visitor, two pageviews
            answer = await call(
                http, pixel, host=site.host, content_type=None, headers={"User-Agent": FIREFOX}
            )
            assert answer.status == 200 and answer.headers["Content-Type"] == "image/gif"
        bot = await call(http, pixel, host=site.host, content_type=None, headers={"User-Agent": "curl/8.0"})
        assert bot.status == 200
        headless = await call(
            http, pixel + "&b=153", host=site.host, content_type=None, headers={"User-Agent": CHROME}
        )
        assert headless.status == 200
        ignored = await call(
            http,
            pixel,
            host=site.host,
            content_type=None,
            headers={"User-Agent": CHROME, "X-Forwarded-For": "1.1.1.1"},
        )
        assert ignored.status == 200  # X-Forwarded-For is not trusted: the peer's address counts
        beacon = await call(
            http, server.url + "/count?p=/beacon", "POST", site.host, None, b"", None, {"User-Agent": CHROME}
        )
        assert beacon.status == 200
        head = await call(http, pixel, "HEAD", site.host, content_type=None)
        assert head.status == 405
        unknown = await call(
            http, pixel, host="nowhere.example", content_type=None, headers={"User-Agent": CHROME}
        )
        assert (
            unknown.status == 400
            and unknown.headers["X-Goatcounter"] == 'no site at this domain ("nowhere.example")'
        )
    async with client() as http:
        hits = await call(http, server.url + "/api/v0/stats/hits", host=site.host, token=secret)
        # two sessions on /page (Firefox twice, Chrome), one on /beacon; bots are not counted
        assert [(h["path"], h["count"]) for h in hits.json["hits"]] == [("/page", 2), ("/beacon", 1)]
    stored = await db.fetch(
        "SELECT web->>'bot' AS bot, web->>'first_visit' AS first FROM events WHERE product_id = $1 ORDER BY id",
        site.product_pk,
    )
    assert [(r["bot"], r["first"]) for r in stored] == [
        ("0", "true"),
        ("0", "false"),
        ("1", "false"),
        ("153", "false"),
        ("0", "true"),
        ("0", "true"),
    ]
    sizes = await db.fetchval(
        "SELECT sum(pageviews) FROM web_rollups WHERE product_id = $1 AND dimension = 'size' AND value = 'phone' "
        "AND path_id = 0",
        site.product_pk,
    )
    assert sizes == 3
    # the owner's own address is dropped
    await db.execute("UPDATE products SET ignored_ips = '{127.0.0.1}' WHERE id = $1", site.product_pk)
    await asyncio.sleep(5.1)  # hosts are remembered for 5 s
    connector_ip = "127.0.0.1"
    import aiohttp

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=(connector_ip, 0))) as http:
        async with http.get(pixel, headers={"Host": site.host, "User-Agent": CHROME}) as response:
            assert response.status == 202
            assert response.headers["X-Goatcounter"] == 'ignored because "127.0.0.1" is in the IP ignore list'


async def test_exports_continue_after_their_cursor(server: Server, db: Database) -> None:
    site = await new_site(db)
    secret = await token(db, site, "count", "export")

    async def finished(http: object, export_id: int) -> dict:
        for _ in range(200):
            async with client() as poll:
                answer = await call(
                    poll, server.url + f"/api/v0/export/{export_id}", host=site.host, token=secret
                )
            if answer.json["finished_at"]:
                return answer.json  # type: ignore[no-any-return]
            await asyncio.sleep(0.05)
        raise AssertionError("the export did not finish")

    first_hits = {
        "no_sessions": True,
        "hits": [{"path": f"/one/{i}", "title": 'Say "hi", all'} for i in range(3)],
    }
    async with client() as http:
        assert (
            await call(http, server.url + "/api/v0/count", "POST", site.host, secret, first_hits)
        ).status == 202
        started = await call(http, server.url + "/api/v0/export", "POST", site.host, secret, {})
        assert started.status == 202 and started.headers["Content-Type"] == "text/plain; charset=utf-8"
        pending = await call(
            http, server.url + f"/api/v0/export/{started.json['id']}/download", host=site.host, token=secret
        )
        assert pending.status in (200, 202)
    first = await finished(None, started.json["id"])
    assert first["num_rows"] == 3 and first["start_from_hit_id"] == 0 and first["hash"].startswith("sha256-")
    async with client() as http:
        download = await call(
            http, server.url + f"/api/v0/export/{first['id']}/download", host=site.host, token=secret
        )
    assert download.status == 200 and download.headers["Content-Type"] == "application/gzip"
    assert download.headers["Content-Disposition"] == f'attachment; filename="{first["path"]}"'
    lines = gzip.decompress(download.raw).decode().split("\n")
    assert lines[0].startswith("2Path,Title,Event,UserAgent,Browser,System,Session,Bot,Referrer,")
    assert lines[1].startswith('/one/0,"Say ""hi"", all",0,,,,,0,,o,,,1,') and lines[-1] == ""
    assert len(lines) == 5

    async with client() as http:
        more = {"no_sessions": True, "hits": [{"path": "/two"}]}
        assert (await call(http, server.url + "/api/v0/count", "POST", site.host, secret, more)).status == 202
        again = await call(
            http,
            server.url + "/api/v0/export",
            "POST",
            site.host,
            secret,
            {"start_from_hit_id": first["last_hit_id"]},
        )
        limited = await call(http, server.url + "/api/v0/export", "POST", site.host, secret, {})
        assert limited.status == 429 and limited.headers["X-Rate-Limit-Limit"] == "1"
    second = await finished(None, again.json["id"])
    assert (second["start_from_hit_id"], second["num_rows"]) == (first["last_hit_id"], 1)
    async with client() as http:
        download = await call(
            http, server.url + f"/api/v0/export/{second['id']}/download", host=site.host, token=secret
        )
    assert gzip.decompress(download.raw).decode().split("\n")[1].startswith("/two,")
    # files are kept for a while, then deleted
    await db.execute(
        "UPDATE exports SET expires_at = now() - interval '1 second' WHERE id = $1", second["id"]
    )
    from gateway.background.housekeeping import Housekeeping

    await Housekeeping(db, None, 1.0).sweep()
    async with client() as http:
        gone = await call(
            http, server.url + f"/api/v0/export/{second['id']}/download", host=site.host, token=secret
        )
    assert (gone.status, gone.json) == (
        400,
        {"error": "exports are kept for 24 hours; this export file has been deleted"},
    )


async def test_rate_limits_per_client_and_configurable(migrated: str, tmp_path: Path, db: Database) -> None:
    site = await new_site(db)
    secret = await token(db, site, "stats")
    async with gateway_with(migrated, tmp_path) as server, client() as http:
        statuses = [
            (await call(http, server.url + "/api/v0/me", host=site.host, token=secret)).status
            for _ in range(6)
        ]
        assert statuses[:4] == [200] * 4 and 429 in statuses[4:]
    async with (
        gateway_with(migrated, tmp_path, rate_limits={"goatcounter-api": (10, 60.0)}) as server,
        client() as http,
    ):
        answers = [
            await call(http, server.url + "/api/v0/me", host=site.host, token=secret) for _ in range(11)
        ]
        assert [a.status for a in answers] == [200] * 10 + [429]
        assert (
            answers[0].headers["X-Rate-Limit-Limit"] == "10"
            and answers[9].headers["X-Rate-Limit-Remaining"] == "0"
        )
        assert 0 < int(answers[10].headers["Retry-After"]) <= 60
        assert answers[10].json["error"].startswith("rate limited exceeded; try again in ")
