"""The 130 captured request/reply pairs of the real GoatCounter server, replayed against the gateway in order.

A fresh site is set up as the captured one was (host `stats.test`; tokens that may do everything, nothing, or
only count), and every request is sent as captured, with that run's values put right: tokens, ids (paths,
sites, exports, users, campaigns: the k-th one the capture saw is the k-th one here), times (hits' by the time
between the capture and now; periods' days by whole days and their times by whole hours, so that a period keeps
its days at any time of day) and the client address (each request has its own, but for the requests whose
rate limits are part of the story: exports, the bursts). Replies are compared on status, the headers that
matter, and the body: byte for byte where the real server's bytes are fixed, as JSON otherwise, with times
replaced by a marker. Where the gateway differs from GoatCounter on purpose, the expected reply is changed below,
each with its reason.
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import json
import re
import urllib.parse
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from yarl import URL

from gateway.db.pool import Database
from tests.adapters.goatcounter.helpers import loopback_address, new_site, token
from tests.conftest import Server

CAPTURES = Path(__file__).parents[4] / "shared" / "reference" / "goatcounter-captures"
if not CAPTURES.is_dir():
    CAPTURES = Path("/work/shared/reference/goatcounter-captures")
pytestmark = pytest.mark.skipif(
    not CAPTURES.is_dir(), reason="the GoatCounter captures are not beside the project"
)

CAPTURED_AT = datetime(2026, 12, 7, 9, 36, 33, tzinfo=UTC)
ALL = "1ryfuzqrw786uc27qqax6l61qrvm0h80ed0n1sz9nqvun5zx9"
NOTHING = "1mx4n40t81a9ihkug7ydhwdpmkt42s7152rdu2y224j2qzxat"
COUNT_ONLY = "1sla461y34ukv4w31rbjpyg6h2ve0tyq28lfn1m76y8lay3vuk"
MISSING_ID = 10**12
TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
# the requests that share a client address (their rate limits are what they show)
SHARED_CLIENT = [range(110, 116), range(118, 124), range(124, 130)]
HEADERS = [
    "Content-Type",
    "Cache-Control",
    "Www-Authenticate",
    "X-Goatcounter",
    "X-Goatcounter-Filter",
    "Access-Control-Allow-Origin",
    "Access-Control-Allow-Credentials",
    "Access-Control-Allow-Headers",
    "Access-Control-Allow-Methods",
    "Allow",
    "Location",
    "Cross-Origin-Resource-Policy",
    "X-Rate-Limit-Limit",
]
# captures not replayed, and why
SKIPPED = {130: "GET /status reports the Go build of the server: not part of the API"}


def captures() -> list[tuple[int, dict[str, Any]]]:
    found = []
    for file in sorted(CAPTURES.glob("*.json")):
        found.append((int(file.name[:3]), json.loads(file.read_text())))
    return found


class Story:
    """The values of this run that stand for the capture's."""

    def __init__(self, tokens: dict[str, str], site_pk: int, user_pk: int, email: str) -> None:
        self.tokens = tokens
        self.sites = {1: site_pk}
        self.user_pk = user_pk
        self.email = email
        self.paths: dict[int, int] = {}
        self.exports: dict[int, int] = {}
        self.campaigns: dict[int, int] = {}
        now = datetime.now(UTC)
        # hits' times move by the time since the capture, so that they stay as far from now as they were
        self.shift = now - CAPTURED_AT
        self.days = (now.date() - CAPTURED_AT.date()).days
        # a period's bounds move by whole hours: the hour holding the capture becomes the hour holding now, so the
        # period keeps its days (whatever the time of day) and still holds the hits sent now
        self.hours = _hour(now) - _hour(CAPTURED_AT)

    def path_id(self, captured: int) -> int:
        return self.paths.get(captured, MISSING_ID)

    # -- requests -----------------------------------------------------------------------------------------------

    def url(self, path: str) -> str:
        parts = urllib.parse.urlsplit(path)
        if parts.path == "/count":
            return path  # as sent, byte for byte (its length is part of a reply)
        segments = parts.path.split("/")
        if parts.path.startswith("/api/v0/stats/hits/") and segments[-1].isdigit():
            segments[-1] = str(self.path_id(int(segments[-1])))
        elif parts.path.startswith("/api/v0/sites/") and segments[-1].isdigit():
            segments[-1] = str(self.sites.get(int(segments[-1]), MISSING_ID))
        elif parts.path.startswith("/api/v0/export/") and segments[4].isdigit():
            segments[4] = str(self.exports.get(int(segments[4]), MISSING_ID))
        elif parts.path.startswith("/api/v0/stats/campaigns/") and segments[-1].isdigit():
            segments[-1] = str(self.campaigns.get(int(segments[-1]), MISSING_ID))
        query = []
        for key, value in urllib.parse.parse_qsl(parts.query, keep_blank_values=True):
            if key in ("after", "include_paths", "exclude_paths") and re.fullmatch(r"[\d,]+", value):
                value = ",".join(str(self.path_id(int(v))) for v in value.split(","))
            elif key in ("start", "end"):
                value = self.moved_bound(value)
            query.append((key, value))
        encoded = urllib.parse.urlencode(query, quote_via=urllib.parse.quote) if query else ""
        return "/".join(segments) + (f"?{encoded}" if encoded else "")

    def moved_bound(self, value: str) -> str:
        """A period's `start` or `end`: a day moves by whole days, a time by whole hours."""
        if re.fullmatch(r"\d{4}-\d\d-\d\d", value):
            return (date.fromisoformat(value) + timedelta(days=self.days)).isoformat()
        return _moved(value, self.hours)

    def moved_time(self, value: str) -> str:
        """A hit's `created_at` (only a valid time moves: a malformed one is echoed in the error, as sent)."""
        return _moved(value, self.shift)

    def headers(self, captured: dict[str, str]) -> dict[str, str]:
        headers = dict(captured)
        auth = headers.get("Authorization")
        if auth:
            for old, new in self.tokens.items():
                if old in auth:
                    auth = auth.replace(old, new)
            if auth.startswith("Basic ") and auth != "Basic !!!":
                decoded = base64.b64decode(auth[6:]).decode()
                for old, new in self.tokens.items():
                    decoded = decoded.replace(old, new)
                auth = "Basic " + base64.b64encode(decoded.encode()).decode()
            headers["Authorization"] = auth
        return headers

    def body(self, body: str | None) -> bytes | None:
        if body is None:
            return None
        if "created_at" in body and body.startswith("{"):
            value = json.loads(body)
            for hit in value.get("hits") or []:
                if isinstance(hit, dict) and isinstance(hit.get("created_at"), str):
                    hit["created_at"] = self.moved_time(hit["created_at"])
            return json.dumps(value).encode()
        return body.encode()

    # -- replies ------------------------------------------------------------------------------------------------

    def expected(self, value: Any, key: str = "") -> Any:
        """A captured JSON reply with this run's ids and days, and times as a marker."""
        if isinstance(value, dict):
            found = {}
            for name, item in value.items():
                if name == "stats" and isinstance(item, list) and item and "hourly" in item[0]:
                    found[name] = [self.day(day) for day in item]
                else:
                    found[name] = self.expected(item, name)
            if isinstance(found.get("path_id"), int) or (
                "path" in found and "event" in found and "id" in found
            ):
                field = "path_id" if "path_id" in found else "id"
                found[field] = self.path_id(value[field])
            if "cname" in found:  # a site
                found["id"] = self.sites.get(value["id"], value["id"])
            if isinstance(found.get("id"), str) and found["id"].isdigit():  # a campaign
                found["id"] = str(self.campaigns.get(int(found["id"]), MISSING_ID))
            return found
        if isinstance(value, list):
            return [self.expected(item, key) for item in value]
        if isinstance(value, str) and TIME.match(value):
            return "<time>"
        if key in ("site", "site_id", "parent") and isinstance(value, int):
            return self.sites.get(value, value)
        return value

    def day(self, day: dict[str, Any]) -> dict[str, Any]:
        moved = (date.fromisoformat(day["day"]) + timedelta(days=self.days)).isoformat()
        return {"day": moved, "hourly": sum(day["hourly"]), "daily": day["daily"]}


def _hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def _moved(value: str, by: timedelta) -> str:
    if not TIME.match(value):
        return value
    moved = datetime.fromisoformat(value.replace("Z", "+00:00")) + by
    return moved.strftime("%Y-%m-%dT%H:%M:%SZ")


def actual(value: Any) -> Any:
    """A reply of the gateway as `Story.expected` writes the capture's: times as a marker, hours summed."""
    if isinstance(value, dict):
        found = {}
        for name, item in value.items():
            if name == "stats" and isinstance(item, list) and item and "hourly" in item[0]:
                found[name] = [
                    {"day": d["day"], "hourly": sum(d["hourly"]), "daily": d["daily"]} for d in item
                ]
            else:
                found[name] = actual(item)
        return found
    if isinstance(value, list):
        return [actual(item) for item in value]
    if isinstance(value, str) and TIME.match(value):
        return "<time>"
    return value


async def replay(
    session: aiohttp.ClientSession, base: str, story: Story, capture: dict[str, Any]
) -> tuple[int, Any, bytes]:
    request = capture["request"]
    headers = story.headers(request.get("headers") or {})
    async with session.request(
        request["method"],
        URL(base + story.url(request["path"]), encoded=True),
        headers=headers,
        data=story.body(request.get("body")),
        allow_redirects=False,
    ) as response:
        return response.status, response.headers, await response.read()


def sessions() -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(local_addr=(loopback_address(), 0), force_close=True)
    return aiohttp.ClientSession(
        connector=connector,
        auto_decompress=False,
        skip_auto_headers=("User-Agent", "Accept-Encoding", "Content-Type"),
    )


async def test_the_captured_story_replays(server: Server, db: Database) -> None:
    # a period's bounds move by whole hours (`Story.hours`), and the hits sent now must fall in the same hour
    now = datetime.now(UTC)
    left = 3600 - (now.minute * 60 + now.second)
    if left < 30:
        await asyncio.sleep(left + 1)
    site = await new_site(db, host="stats.test")
    tokens = {
        ALL: await token(
            db, site, "count", "export", "site-read", "site-create", "site-update", "stats", name="all"
        ),
        NOTHING: await token(db, site, name="nothing"),
        COUNT_ONLY: await token(db, site, "count", name="count"),
    }
    user_pk = await db.fetchval("SELECT id FROM users WHERE account_id = $1", site.tenant.account_pk)
    story = Story(tokens, site.product_pk, user_pk, site.tenant.email)
    shared: dict[int, aiohttp.ClientSession] = {}
    failures: list[str] = []
    try:
        for number, capture in captures():
            if number in SKIPPED:
                continue
            if number == 60:  # every path of the story exists: the k-th path is the capture's path k
                ids = await db.fetch(
                    "SELECT id FROM web_paths WHERE product_id = $1 ORDER BY id", site.product_pk
                )
                story.paths = {k: row["id"] for k, row in enumerate(ids, start=1)}
                campaigns = await db.fetch(
                    "SELECT id FROM web_campaigns WHERE product_id = $1 ORDER BY id", site.product_pk
                )
                story.campaigns = {k: row["id"] for k, row in enumerate(campaigns, start=1)}
            group = next((i for i, numbers in enumerate(SHARED_CLIENT) if number in numbers), None)
            if group is None:
                async with sessions() as session:
                    status, headers, raw = await replay(session, server.url, story, capture)
            else:
                if group not in shared:
                    shared[group] = sessions()
                if number in (111, 113):
                    await _until_finished(server.url, story)
                status, headers, raw = await replay(shared[group], server.url, story, capture)
            if number == 102 and status == 200:
                story.sites[2] = json.loads(raw)["id"]
            if number == 110 and status == 202:
                story.exports[1] = json.loads(raw)["id"]
            failures += [
                f"{number:03d} {capture['name']}: {problem}"
                for problem in compare(number, story, capture, status, headers, raw)
            ]
    finally:
        for session in shared.values():
            await session.close()
    assert not failures, "\n".join(failures)


async def _until_finished(base: str, story: Story) -> None:
    """The real server exports an empty file at once; here the export worker writes it: wait for it (asking
    from other addresses, as the rate limit of the story's own is part of it)."""
    headers = {
        "Host": "stats.test",
        "Content-Type": "application/json",
        "Authorization": f"Bearer {story.tokens[ALL]}",
    }
    for _ in range(200):
        async with (
            sessions() as session,
            session.get(f"{base}/api/v0/export/{story.exports[1]}", headers=headers) as response,
        ):
            if json.loads(await response.read())["finished_at"] is not None:
                return
        await asyncio.sleep(0.05)


def compare(
    number: int, story: Story, capture: dict[str, Any], status: int, headers: Any, raw: bytes
) -> list[str]:
    want = capture["response"]
    problems = []
    expected_status, expected_body, exact = want["status"], want.get("body"), True
    expected_headers = {name: value for name, value in want["headers"] if name in HEADERS}
    override = OVERRIDES.get(number)
    if override is not None:
        expected_status, expected_body, exact, changed = override(story, want)
        expected_headers.update(changed)
    if status != expected_status:
        problems.append(f"status {status}, want {expected_status} ({raw[:300]!r})")
        return problems
    if "X-Rate-Limit-Limit" in expected_headers and expected_headers["X-Rate-Limit-Limit"] == "16384":
        expected_headers["X-Rate-Limit-Limit"] = (
            "4"  # the capture's server counted pixels with a raised limit
        )
    for name, value in expected_headers.items():
        got = headers.get(name)
        if name == "Content-Type" and value.startswith("text/html") and got and got.startswith("text/html"):
            continue
        if got != value:
            problems.append(f"header {name}: {got!r}, want {value!r}")
    if any(number in numbers for numbers in SHARED_CLIENT[1:]):
        remaining = dict(want["headers"]).get("X-Rate-Limit-Remaining")
        if headers.get("X-Rate-Limit-Remaining") != remaining:
            problems.append(
                f"X-Rate-Limit-Remaining {headers.get('X-Rate-Limit-Remaining')}, want {remaining}"
            )
    body = gzip.decompress(raw) if headers.get("Content-Encoding") == "gzip" else raw
    if "body_base64" in want and override is None:
        if body != base64.b64decode(want["body_base64"]):
            problems.append(f"bytes {body[:100]!r}, want the captured ones")
        return problems
    if expected_body is None or callable(expected_body):
        if callable(expected_body):
            problems += expected_body(story, body)
        return problems
    content_type = dict(want["headers"]).get("Content-Type", "")
    if content_type.startswith("text/html") and status != 301:
        return problems  # GoatCounter's error page: status and type only (see the README)
    if not expected_body or not exact:
        if exact and body != expected_body.encode():
            problems.append(f"body {body[:200]!r}, want {expected_body[:200]!r}")
        elif not exact:
            got, wanted = actual(json.loads(body)), story.expected(json.loads(expected_body))
            if got != wanted:
                problems.append(f"body\n  got  {json.dumps(got)[:1500]}\n  want {json.dumps(wanted)[:1500]}")
        return problems
    try:
        parsed = json.loads(expected_body)
    except ValueError:
        parsed = None
    fixed = not _has_run_values(parsed)
    if fixed:
        if body != expected_body.encode():
            problems.append(f"bytes {body[:400]!r}, want {expected_body[:400]!r}")
    else:
        got, wanted = actual(json.loads(body)), story.expected(parsed)
        if got != wanted:
            problems.append(f"body\n  got  {json.dumps(got)[:1500]}\n  want {json.dumps(wanted)[:1500]}")
    return problems


def _has_run_values(value: Any) -> bool:
    """Whether a captured reply holds values of that run (ids, times, days), compared as JSON."""
    if isinstance(value, dict):
        ids = {"id", "path_id", "site", "site_id"}
        if any(isinstance(value[key], int) for key in ids & set(value)):
            return True
        if set(value) & {"user", "sites", "stats", "paths", "hits", "refs", "day"}:
            return True
        return any(_has_run_values(item) for item in value.values())
    if isinstance(value, list):
        return any(_has_run_values(item) for item in value)
    return isinstance(value, str) and bool(TIME.match(value))


# -- where the gateway differs on purpose -------------------------------------------------------------------------


def _me(story: Story, want: dict[str, Any]) -> tuple[int, Any, bool, dict[str, str]]:
    value = json.loads(want["body"])
    value["user"]["id"] = story.user_pk
    value["user"]["email"] = story.email
    # every product of the account: the token was made for all of them
    value["token"]["sites"] = [-1]
    return want["status"], json.dumps(value), False, {}


def _site_codes(story: Story, want: dict[str, Any]) -> tuple[int, Any, bool, dict[str, str]]:
    """Sites: this run's codes (random) are compared by shape."""

    def check(story: Story, body: bytes) -> list[str]:
        wanted = json.loads(want["body"])
        got = json.loads(body)
        for item in [got] if "sites" not in got else got["sites"]:
            if not re.fullmatch(r"[a-z0-9-]+", item.pop("code")):
                return ["a site code is not a code"]
        for item in [wanted] if "sites" not in wanted else wanted["sites"]:
            item.pop("code")
        if actual(got) != story.expected(wanted):
            return [
                f"body\n  got  {json.dumps(actual(got))[:1500]}\n  want {json.dumps(story.expected(wanted))[:1500]}"
            ]
        return []

    return want["status"], check, False, {}


def _export(story: Story, want: dict[str, Any]) -> tuple[int, Any, bool, dict[str, str]]:
    """The real server exported no hits (it kept none); this gateway keeps and exports them all."""

    def check(story: Story, body: bytes) -> list[str]:
        got = json.loads(body)
        wanted = json.loads(want["body"])
        problems = []
        if got["id"] != story.exports.get(1, got["id"]) or got["site_id"] != story.sites[1]:
            problems.append(f"ids {got['id']}, {got['site_id']}")
        if not re.fullmatch(r"goatcounter-export-[a-z0-9-]+-\d{8}T\d{6}Z-0\.csv\.gz", got["path"]):
            problems.append(f"path {got['path']}")
        if list(got) != list(wanted):
            problems.append(f"keys {list(got)}")
        finished = wanted["finished_at"] is not None
        if finished and not (
            got["num_rows"] > 0 and got["last_hit_id"] > 0 and got["hash"].startswith("sha256-")
        ):
            problems.append(f"finished export {got}")
        if not finished and (got["num_rows"], got["last_hit_id"], got["hash"]) != (None, None, None):
            problems.append(f"new export {got}")
        return problems

    return want["status"], check, False, {}


def _download(story: Story, want: dict[str, Any]) -> tuple[int, Any, bool, dict[str, str]]:
    def check(story: Story, body: bytes) -> list[str]:
        lines = gzip.decompress(body).decode().split("\n")
        header = "2Path,Title,Event,UserAgent,Browser,System,Session,Bot,Referrer,Referrer scheme,Screen size,Location,FirstVisit,Date"
        if lines[0] != header or len(lines) < 3 or lines[-1] != "":
            return [f"file {lines[:3]}"]
        return []

    return want["status"], check, False, {}


def _rate_limited(story: Story, want: dict[str, Any]) -> tuple[int, Any, bool, dict[str, str]]:
    """The time left in the window is this run's."""
    text = want["body"]

    def check(story: Story, body: bytes) -> list[str]:
        prefix = text.split(" in ")[0]
        return [] if body.decode().startswith(prefix) else [f"body {body!r}"]

    return want["status"], check, False, {}


def _languages(story: Story, want: dict[str, Any]) -> tuple[int, Any, bool, dict[str, str]]:
    # GoatCounter does not collect languages by default (its site setting `collect` is 190, without the
    # language bit); the gateway counts the Accept-Language of /hello (capture 045)
    body = {
        "stats": [
            {"id": "(unknown)", "name": "(unknown)", "count": 12},
            {"id": "deu", "name": "German", "count": 1},
        ],
        "more": False,
    }
    return 200, json.dumps(body), False, {}


def _locations(story: Story, want: dict[str, Any]) -> tuple[int, Any, bool, dict[str, str]]:
    # 1.2.3.4 (capture 043) is APNIC's: the registries' data (iptocc) places it in AU, GoatCounter's GeoLite2 nowhere
    body = {
        "stats": [
            {"id": "(unknown)", "name": "(unknown)", "count": 12},
            {"id": "AU", "name": "Australia", "count": 1},
        ],
        "more": False,
    }
    return 200, json.dumps(body), False, {}


def _campaign_not_a_number(story: Story, want: dict[str, Any]) -> tuple[int, Any, bool, dict[str, str]]:
    # the real server fails with a 500; bad input never gets a 500 here
    return 400, '{"errors":{"id":["must be a whole number"]}}', True, {}


OVERRIDES = {
    1: _me,
    9: _me,
    10: _me,
    13: _me,
    22: _me,
    118: _me,
    119: _me,
    120: _me,
    121: _me,
    124: _me,
    125: _me,
    126: _me,
    127: _me,
    83: _locations,
    84: _languages,
    96: _campaign_not_a_number,
    98: _site_codes,
    99: _site_codes,
    102: _site_codes,
    106: _site_codes,
    107: _site_codes,
    108: _site_codes,
    109: _site_codes,
    110: _export,
    111: _export,
    112: _download,
    113: _export,
    114: _download,
    115: _rate_limited,
    122: _rate_limited,
    123: _rate_limited,
    128: _rate_limited,
    129: _rate_limited,
}
