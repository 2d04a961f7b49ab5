"""`/o` documents and `/o/analytics/*`: data written through `/i` in a non-UTC app, read back exactly.

The app runs in Europe/Istanbul (UTC+3 all year), so every bucket below is a local time three hours ahead of the
UTC timestamp sent, and a session just before UTC midnight lands on the next local day.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from adapters.countly.periods import parse_period
from gateway.db.pool import Database
from tests.adapters.countly.helpers import Answer, call, get
from tests.conftest import Server, Tenant, gql, new_tenant
from tests.gateway.test_metrics import scrape, value

ZONE = "Europe/Istanbul"
TZ = ZoneInfo(ZONE)
JSON_TYPE = "application/json; charset=utf-8"
ANDROID = {
    "_os": "Android",
    "_os_version": "4.4",
    "_device": "Nexus 5",
    "_carrier": "Turkcell",
    "_resolution": "1080x1920",
    "_app_version": "1.2.3",
}
IOS = {
    "_os": "iOS",
    "_os_version": "17.1",
    "_device": "iPhone14,2",
    "_carrier": "Vodafone",
    "_resolution": "1170x2532",
    "_app_version": "1.2.3",
}


def ms(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> int:
    """A local Istanbul wall-clock time as epoch milliseconds."""
    return int(datetime(year, month, day, hour, minute, second, tzinfo=TZ).timestamp() * 1000)


async def send(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant, device: str, **params: Any
) -> None:
    answer = await get(http, server, "/i", app_key=tenant.app_key, device_id=device, **params)
    assert (answer.status, answer.body) == (200, {"result": "Success"}), answer.text


async def read(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant, path: str = "/o", **params: Any
) -> Answer:
    answer = await get(http, server, path, app_id=tenant.product_id, api_key=tenant.token, **params)
    assert answer.headers["Content-Type"] == JSON_TYPE
    return answer


async def ok(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant, path: str = "/o", **params: Any
) -> Any:
    answer = await read(http, server, tenant, path, **params)
    assert answer.status == 200, answer.text
    return answer.body


# -- a fixed history in January / February 2024 ----------------------------------------------------------------

# 2024-01-15 00:00 local .. 2024-02-01 23:59:59 local (18 days; the previous period is 28 Dec - 14 Jan)
PERIOD = [ms(2024, 1, 15), ms(2024, 2, 1, 23, 59, 59)]


@pytest.fixture
async def history(http: aiohttp.ClientSession, server: Server, db: Database) -> Tenant:
    tenant = await new_tenant(db, timezone=ZONE)
    a, b = "device-a", "device-b"
    # A: 2024-01-14 22:30 UTC = 15 Jan 01:30 local, new, Android in Turkey; ends 60 s later
    await send(
        http,
        server,
        tenant,
        a,
        begin_session=1,
        metrics=ANDROID,
        country_code="TR",
        timestamp=ms(2024, 1, 15, 1, 30),
    )
    await send(http, server, tenant, a, end_session=1, session_duration=60, timestamp=ms(2024, 1, 15, 1, 31))
    await send(
        http, server, tenant, a, events=[{"key": "[CLY]_view", "count": 1}], timestamp=ms(2024, 1, 15, 1, 32)
    )
    await send(
        http,
        server,
        tenant,
        a,
        timestamp=ms(2024, 1, 15, 1, 35),
        events=[
            {
                "key": "purchase",
                "count": 2,
                "sum": 3.5,
                "dur": 10,
                "segmentation": {"item": "sword.v2", "country": "TR"},
            },
        ],
    )
    await send(
        http, server, tenant, a, events=[{"key": "level_up", "count": 1}], timestamp=ms(2024, 1, 15, 1, 36)
    )
    # B: 15 Jan 10:00 local, new, iOS in the US
    await send(
        http,
        server,
        tenant,
        b,
        begin_session=1,
        metrics=IOS,
        country_code="US",
        timestamp=ms(2024, 1, 15, 10, 0),
    )
    # A again: 16 Jan 11:00 (same week w3, not unique in it), 1 Feb 12:00 (week w5, month February)
    await send(
        http,
        server,
        tenant,
        a,
        begin_session=1,
        metrics=ANDROID,
        country_code="TR",
        timestamp=ms(2024, 1, 16, 11, 0),
    )
    await send(
        http,
        server,
        tenant,
        a,
        begin_session=1,
        metrics=ANDROID,
        country_code="TR",
        timestamp=ms(2024, 2, 1, 12, 0),
        events=[{"key": "purchase", "count": 1, "sum": 1.5, "segmentation": {"item": "shield"}}],
    )
    return tenant


USERS = {
    "2024": {
        "t": 4,
        "n": 2,
        "u": 2,
        "d": 60,
        "e": 8,
        "TR": {"t": 3, "n": 1, "u": 1},
        "US": {"t": 1, "n": 1, "u": 1},
        "w3": {"u": 2, "TR": {"u": 1}, "US": {"u": 1}},
        "w5": {"u": 1, "TR": {"u": 1}},
        "1": {
            "t": 3,
            "n": 2,
            "u": 2,
            "d": 60,
            "e": 7,
            "TR": {"t": 2, "n": 1, "u": 1},
            "US": {"t": 1, "n": 1, "u": 1},
            "15": {
                "t": 2,
                "n": 2,
                "u": 2,
                "d": 60,
                "e": 6,
                "TR": {"t": 1, "n": 1, "u": 1},
                "US": {"t": 1, "n": 1, "u": 1},
                # per-value numbers stop at the day; hours hold only the totals
                "1": {"t": 1, "n": 1, "u": 1, "d": 60, "e": 5},
                "10": {"t": 1, "n": 1, "u": 1, "e": 1},
            },
            "16": {
                "t": 1,
                "u": 1,
                "e": 1,
                "TR": {"t": 1, "u": 1},
                "11": {"t": 1, "u": 1, "e": 1},
            },
        },
        "2": {
            "t": 1,
            "u": 1,
            "e": 1,
            "TR": {"t": 1, "u": 1},
            "1": {
                "t": 1,
                "u": 1,
                "e": 1,
                "TR": {"t": 1, "u": 1},
                "12": {"t": 1, "u": 1, "e": 1},
            },
        },
    },
    "meta": {"countries": ["TR", "US"]},
}


async def test_users_document_at_every_level(
    http: aiohttp.ClientSession, server: Server, history: Tenant
) -> None:
    for method in ("sessions", "users", "locations"):
        assert await ok(http, server, history, method=method, period=PERIOD) == USERS
    # the period as a JSON string, and in a JSON POST body
    assert await ok(http, server, history, method="users", period=json.dumps(PERIOD)) == USERS
    answer = await call(
        http,
        server,
        "POST",
        "/o",
        json={"app_id": history.product_id, "api_key": history.token, "method": "users", "period": PERIOD},
    )
    assert (answer.status, answer.body) == (200, USERS)


def _segment(doc: dict[str, Any], value: str, path: list[str]) -> Any:
    node: Any = doc
    for key in path:
        node = node[key]
    return node[value]


async def test_metric_documents(http: aiohttp.ClientSession, server: Server, history: Tenant) -> None:
    devices = await ok(http, server, history, method="devices", period=PERIOD)
    assert devices == {
        "2024": {
            "Nexus 5": {"t": 3, "n": 1, "u": 1},
            "iPhone14,2": {"t": 1, "n": 1, "u": 1},
            "w3": {"Nexus 5": {"u": 1}, "iPhone14,2": {"u": 1}},
            "w5": {"Nexus 5": {"u": 1}},
            "1": {
                "Nexus 5": {"t": 2, "n": 1, "u": 1},
                "iPhone14,2": {"t": 1, "n": 1, "u": 1},
                "15": {"Nexus 5": {"t": 1, "n": 1, "u": 1}, "iPhone14,2": {"t": 1, "n": 1, "u": 1}},
                "16": {"Nexus 5": {"t": 1, "u": 1}},
            },
            "2": {
                "Nexus 5": {"t": 1, "u": 1},
                "1": {"Nexus 5": {"t": 1, "u": 1}},
            },
        },
        "meta": {"devices": ["Nexus 5", "iPhone14,2"]},
    }
    carriers = await ok(http, server, history, method="carriers", period=PERIOD)
    assert carriers["meta"] == {"carriers": ["Turkcell", "Vodafone"]}
    assert carriers["2024"]["Turkcell"] == {"t": 3, "n": 1, "u": 1}
    assert carriers["2024"]["1"]["15"] == {
        "Turkcell": {"t": 1, "n": 1, "u": 1},
        "Vodafone": {"t": 1, "n": 1, "u": 1},
    }
    assert not any(key.isdigit() for key in carriers["2024"]["1"]["15"])  # no hours per value

    details = await ok(http, server, history, method="device_details", period=PERIOD)
    assert details == await ok(http, server, history, method="app_versions", period=PERIOD)
    assert details["meta"] == {
        "os": ["Android", "iOS"],
        "os_versions": ["17:1", "4:4"],  # dots become ':'
        "resolutions": ["1080x1920", "1170x2532"],
        "app_versions": ["1:2:3"],
    }
    day = details["2024"]["1"]["15"]
    assert {k: v for k, v in day.items() if not k.isdigit()} == {
        "Android": {"t": 1, "n": 1, "u": 1},
        "4:4": {"t": 1, "n": 1, "u": 1},
        "1080x1920": {"t": 1, "n": 1, "u": 1},
        "iOS": {"t": 1, "n": 1, "u": 1},
        "17:1": {"t": 1, "n": 1, "u": 1},
        "1170x2532": {"t": 1, "n": 1, "u": 1},
        "1:2:3": {"t": 2, "n": 2, "u": 2},  # both devices run 1.2.3
    }
    assert details["2024"]["1:2:3"] == {"t": 4, "n": 2, "u": 2}
    assert details["2024"]["w3"]["1:2:3"] == {"u": 2}


async def test_events_documents(http: aiohttp.ClientSession, server: Server, history: Tenant) -> None:
    purchase = {
        "2024": {
            "c": 3,
            "s": 5,
            "dur": 10,
            "1": {
                "c": 2,
                "s": 3.5,
                "dur": 10,
                "15": {"c": 2, "s": 3.5, "dur": 10, "1": {"c": 2, "s": 3.5, "dur": 10}},
            },
            "2": {"c": 1, "s": 1.5, "1": {"c": 1, "s": 1.5, "12": {"c": 1, "s": 1.5}}},
        },
        "meta": {"segments": ["country", "item"]},
    }
    assert await ok(http, server, history, method="events", event="purchase", period=PERIOD) == purchase
    # no event: the first key not starting with [CLY]
    assert await ok(http, server, history, method="events", period=PERIOD) == purchase

    by_item = await ok(
        http, server, history, method="events", event="purchase", segmentation="item", period=PERIOD
    )
    assert by_item == {
        "2024": {
            "sword:v2": {"c": 2, "s": 3.5, "dur": 10},
            "shield": {"c": 1, "s": 1.5},
            "1": {
                "sword:v2": {"c": 2, "s": 3.5, "dur": 10},
                "15": {
                    "sword:v2": {"c": 2, "s": 3.5, "dur": 10},
                    "1": {"sword:v2": {"c": 2, "s": 3.5, "dur": 10}},
                },
            },
            "2": {
                "shield": {"c": 1, "s": 1.5},
                "1": {"shield": {"c": 1, "s": 1.5}, "12": {"shield": {"c": 1, "s": 1.5}}},
            },
        },
        "meta": {"segments": ["country", "item"], "item": ["shield", "sword:v2"]},
    }

    merged = await ok(http, server, history, method="events", events=["purchase", "level_up"], period=PERIOD)
    assert merged["2024"]["c"] == 4
    assert merged["2024"]["s"] == 5
    assert merged["2024"]["1"]["15"]["1"] == {"c": 3, "s": 3.5, "dur": 10}
    assert "meta" not in merged

    listing = await ok(http, server, history, method="get_events")
    assert listing["list"] == ["[CLY]_view", "purchase", "level_up"]
    assert listing["order"] == listing["list"]
    assert listing["segments"] == {"[CLY]_view": [], "purchase": ["country", "item"], "level_up": []}
    assert listing["map"] == {}
    assert listing["limits"]["event_limit"] == 500

    # unknown keys and segmentation keys are empty documents, never errors
    assert await ok(http, server, history, method="events", event="nope", period=PERIOD) == {}
    assert (
        await ok(http, server, history, method="events", event="purchase", segmentation="nope", period=PERIOD)
        == {}
    )
    assert await ok(
        http, server, history, method="events", events="not json", event="level_up", period=PERIOD
    ) == {"2024": {"c": 1, "1": {"c": 1, "15": {"c": 1, "1": {"c": 1}}}}, "meta": {"segments": []}}


async def test_period_reaches_back_one_period(
    http: aiohttp.ClientSession, server: Server, db: Database
) -> None:
    tenant = await new_tenant(db, timezone=ZONE)
    await send(
        http, server, tenant, "old", begin_session=1, timestamp=ms(2023, 12, 1, 12)
    )  # before both periods
    await send(
        http, server, tenant, "prev", begin_session=1, timestamp=ms(2024, 1, 5, 23, 30)
    )  # previous period
    await send(http, server, tenant, "now", begin_session=1, timestamp=ms(2024, 1, 20, 0, 30))  # the period
    await send(http, server, tenant, "late", begin_session=1, timestamp=ms(2024, 2, 10, 9))  # after it
    doc = await ok(http, server, tenant, method="sessions", period=PERIOD)
    one = {"t": 1, "n": 1, "u": 1, "e": 1}
    assert doc == {
        # the years, months and weeks overlapping [28 Dec 2023, 2 Feb 2024) are whole; days and hours only
        # inside it (the old session's week w48 and the late one's w6 do not overlap it)
        "2023": {**one, "12": one},
        "2024": {
            "t": 3,
            "n": 3,
            "u": 3,
            "e": 3,
            "w1": {"u": 1},
            "w3": {"u": 1},
            "1": {"t": 2, "n": 2, "u": 2, "e": 2, "5": {**one, "23": one}, "20": {**one, "0": one}},
            "2": one,
        },
        "meta": {"countries": []},
    }
    # March (31 days) reaches back to 30 Jan: January whole at month level only, 10 Feb down to the hour
    march = await ok(http, server, tenant, method="sessions", period=[ms(2024, 3, 1), ms(2024, 3, 31, 12)])
    assert march == {
        "2024": {
            "t": 3,
            "n": 3,
            "u": 3,
            "e": 3,
            "w6": {"u": 1},
            "1": {"t": 2, "n": 2, "u": 2, "e": 2},
            "2": {**one, "10": {**one, "9": one}},
        },
        "meta": {"countries": []},
    }


# -- data written now: default period, refresh, dashboard, countries ----------------------------------------------


@pytest.fixture
async def recent(http: aiohttp.ClientSession, server: Server, db: Database) -> tuple[Tenant, datetime]:
    tenant = await new_tenant(db, timezone=ZONE)
    local = datetime.now(TZ)
    if local.hour == 0 and local.minute == 0 and local.second < 10:
        await asyncio.sleep(11)  # keep both writes on one local day
    stamp = int(datetime.now(UTC).timestamp() * 1000) - 1000
    forty_days_ago = stamp - 40 * 86400 * 1000
    await send(
        http,
        server,
        tenant,
        "z",
        begin_session=1,
        metrics={"_os": "Android"},
        country_code="TR",
        timestamp=forty_days_ago,
    )
    await send(
        http,
        server,
        tenant,
        "x",
        begin_session=1,
        session_duration=120,
        country_code="TR",
        metrics={"_os": "Android", "_carrier": "Turkcell", "_resolution": "1080x1920"},
        timestamp=stamp,
    )
    await send(
        http,
        server,
        tenant,
        "y",
        begin_session=1,
        country_code="US",
        metrics={"_os": "iOS", "_carrier": "Vodafone", "_resolution": "1170x2532"},
        timestamp=stamp,
    )
    return tenant, datetime.fromtimestamp(stamp / 1000, TZ).replace(tzinfo=None)


async def test_default_period_and_refresh(
    http: aiohttp.ClientSession, server: Server, recent: tuple[Tenant, datetime]
) -> None:
    tenant, at = recent
    year, month, day, hour = str(at.year), str(at.month), str(at.day), str(at.hour)
    week = f"w{-(-at.timetuple().tm_yday // 7)}"
    both = {"TR": {"t": 1, "n": 1, "u": 1}, "US": {"t": 1, "n": 1, "u": 1}}
    today = {"t": 2, "n": 2, "u": 2, "d": 120, "e": 2, **both}
    this_hour = {"t": 2, "n": 2, "u": 2, "d": 120, "e": 2}  # hours hold only the totals
    default = await ok(
        http, server, tenant, method="users"
    )  # 30days: the 40-days-old session is still fetched
    assert default[year][month][day] == {**today, hour: this_hour}
    assert default[year][week] == {"u": 2, "TR": {"u": 1}, "US": {"u": 1}}
    old = datetime.fromtimestamp((datetime.now(UTC) - timedelta(days=40)).timestamp(), TZ)
    assert str(old.day) in default[str(old.year)][str(old.month)]
    assert default["meta"] == {"countries": ["TR", "US"]}

    refresh = await ok(http, server, tenant, method="users", action="refresh")
    assert refresh == {
        year: {
            month: {**today, day: {**today, hour: this_hour}},
            week: {"u": 2, "TR": {"u": 1}, "US": {"u": 1}},
        },
        "meta": {"countries": ["TR", "US"]},
    }
    refreshed_devices = await ok(http, server, tenant, method="carriers", action="refresh")
    assert refreshed_devices[year][month][day] == {
        "Turkcell": {"t": 1, "n": 1, "u": 1},
        "Vodafone": {"t": 1, "n": 1, "u": 1},
    }
    for period in ("7days", "60days", "month", "day", "hour"):
        assert (await ok(http, server, tenant, method="users", period=period))[year][month][day] == {
            **today,
            hour: this_hour,
        }
    assert await ok(http, server, tenant, method="users", period="yesterday") != {}


async def test_dashboard(
    http: aiohttp.ClientSession, server: Server, recent: tuple[Tenant, datetime]
) -> None:
    tenant, at = recent
    body = await ok(http, server, tenant, "/o/analytics/dashboard")
    assert list(body) == ["30days", "7days", "today"]
    thirty = body["30days"]
    assert thirty["dashboard"] == {
        "total_sessions": {"total": 2, "change": "100%", "trend": "u"},
        "total_users": {"total": 2, "change": "100%", "trend": "u", "is_estimate": True},
        "new_users": {"total": 2, "change": "100%", "trend": "u"},
        "total_time": {"total": "2.0 min", "change": "NA", "trend": "u"},
        "avg_time": {"total": "1.0 min", "change": "NA", "trend": "u"},
        "avg_requests": {"total": "1.0", "change": "0%", "trend": "u"},
    }
    assert thirty["top"] == {
        "platforms": [{"name": "Android", "percent": 50}, {"name": "iOS", "percent": 50}],
        "resolutions": [{"name": "1080x1920", "percent": 50}, {"name": "1170x2532", "percent": 50}],
        "carriers": [{"name": "Turkcell", "percent": 50}, {"name": "Vodafone", "percent": 50}],
        "users": [{"name": f"{at.day} {at.strftime('%b')}", "percent": 100}],
    }
    assert thirty["period"] == parse_period("30days", ZONE).label
    start = at - timedelta(days=29)
    assert thirty["period"] == f"{start.day} {start.strftime('%b')} - {at.day} {at.strftime('%b')}"
    today = body["today"]["dashboard"]
    assert today["total_sessions"] == {"total": 2, "change": "NA", "trend": "u"}
    assert today["total_users"] == {"total": 2, "change": "NA", "trend": "u", "is_estimate": False}
    assert body["7days"]["dashboard"]["new_users"] == {"total": 2, "change": "NA", "trend": "u"}

    single = await ok(http, server, tenant, "/o/analytics/dashboard", period="7days")
    assert list(single) == ["7days"] and single["7days"] == body["7days"]
    assert list(await ok(http, server, tenant, "/o/analytics/dashboard", period="30days")) == [
        "30days",
        "7days",
        "today",
    ]
    assert list(await ok(http, server, tenant, "/o/analytics/dashboard", period="hour")) == ["hour"]


async def test_dashboard_trend_down(http: aiohttp.ClientSession, server: Server, db: Database) -> None:
    tenant = await new_tenant(db, timezone=ZONE)
    now = int(datetime.now(UTC).timestamp() * 1000) - 1000
    for index in range(4):  # four sessions in the previous 30 days, three in these 30 days
        await send(
            http, server, tenant, f"p{index}", begin_session=1, timestamp=now - (35 + index) * 86400_000
        )
    for index in range(3):
        await send(
            http, server, tenant, f"c{index}", begin_session=1, timestamp=now - (2 + index) * 86400_000
        )
    dashboard = (await ok(http, server, tenant, "/o/analytics/dashboard", period="30days"))["30days"][
        "dashboard"
    ]
    assert dashboard["total_sessions"] == {"total": 3, "change": "-25%", "trend": "d"}


async def test_countries(
    http: aiohttp.ClientSession, server: Server, recent: tuple[Tenant, datetime]
) -> None:
    tenant, _ = recent
    body = await ok(http, server, tenant, "/o/analytics/countries")
    both = [
        {"country": "Turkey", "code": "tr", "t": 1, "u": 1, "n": 1},
        {"country": "United States", "code": "us", "t": 1, "u": 1, "n": 1},
    ]
    assert body == {"30days": both, "7days": both, "today": both}
    assert await ok(http, server, tenant, "/o/analytics/countries", period="yesterday") == {"yesterday": []}
    sixty = await ok(http, server, tenant, "/o/analytics/countries", period="60days")
    assert sixty == {"60days": [{"country": "Turkey", "code": "tr", "t": 2, "u": 2, "n": 2}, both[1]]}


# -- empty apps, JSONP, odd input ----------------------------------------------------------------------------


async def test_empty_app(http: aiohttp.ClientSession, server: Server, tenant: Tenant) -> None:
    for method in (
        "sessions",
        "users",
        "locations",
        "devices",
        "carriers",
        "device_details",
        "app_versions",
        "events",
    ):
        assert await ok(http, server, tenant, method=method) == {}
        assert await ok(http, server, tenant, method=method, action="refresh") == {}
    body = await ok(http, server, tenant, "/o/analytics/dashboard")
    assert body["today"]["dashboard"]["total_sessions"] == {"total": 0, "change": "NA", "trend": "u"}
    assert body["today"]["dashboard"]["total_time"]["total"] == "0.0 min"
    assert body["30days"]["top"] == {"platforms": [], "resolutions": [], "carriers": [], "users": []}
    assert await ok(http, server, tenant, "/o/analytics/countries") == {
        "30days": [],
        "7days": [],
        "today": [],
    }


async def test_jsonp_read(http: aiohttp.ClientSession, server: Server, history: Tenant) -> None:
    answer = await read(http, server, history, method="devices", period=PERIOD, callback="cb")
    assert answer.status == 200
    assert answer.text.startswith("cb({") and answer.text.endswith("})")
    assert json.loads(answer.text[3:-1])["meta"] == {"devices": ["Nexus 5", "iPhone14,2"]}
    answer = await read(http, server, history, "/o/analytics/countries", callback="cb")
    assert answer.text.startswith("cb({")


@pytest.mark.parametrize(
    "params",
    [
        {"method": "sessions", "period": "garbage"},
        {"method": "sessions", "period": "[1,2,3]"},
        {"method": "sessions", "period": '["a","b"]'},
        {"method": "sessions", "period": "[9999999999999999,1]"},
        {"method": "sessions", "period": "0days"},
        {"method": "events", "period": "99999days"},
        {"method": "devices", "period": "[-99999999999999,0]"},
    ],
)
async def test_bad_period(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant, params: dict[str, str]
) -> None:
    answer = await read(http, server, tenant, **params)
    assert (answer.status, answer.body) == (400, {"result": "Invalid period"})
    answer = await read(http, server, tenant, "/o/analytics/dashboard", period=params["period"])
    assert (answer.status, answer.body) == (400, {"result": "Invalid period"})


async def test_odd_input_never_fails(http: aiohttp.ClientSession, server: Server, history: Tenant) -> None:
    odd: list[dict[str, Any]] = [
        {"method": "events", "event": "x" * 5000},
        {"method": "events", "events": "[1, {}, null]"},
        {"method": "events", "events": json.dumps([f"k{i}" for i in range(300)])},
        {"method": "events", "segmentation": "", "event": "purchase"},
        {"method": "users", "action": "nonsense"},
        {"method": "users", "period": "[1704067200000,1704067200000]"},
        {"method": "get_events", "period": "garbage"},
    ]
    for params in odd:
        answer = await read(http, server, history, **params)
        assert answer.status == 200, (params, answer.text)
        assert isinstance(answer.body, dict)
    answer = await call(
        http,
        server,
        "POST",
        "/o",
        json={"app_id": history.product_id, "api_key": history.token, "method": "users", "period": {"a": 1}},
    )
    assert (answer.status, answer.body) == (400, {"result": "Invalid period"})
    answer = await call(
        http,
        server,
        "POST",
        "/o",
        json={"app_id": history.product_id, "api_key": history.token, "method": "users", "period": 7},
    )
    assert (answer.status, answer.body) == (400, {"result": "Invalid period"})
    answer = await read(http, server, history, method="nope")
    assert (answer.status, answer.body) == (400, {"result": "Invalid method"})


PERIODS = """
query ($id: ID!, $ranges: [AnalyticsRange!]!) {
  node(id: $id) {
    ... on Product {
      analytics {
        periods(ranges: $ranges, metrics: [OS]) {
          sessions uniqueUsers uniqueUsersEstimated duration requests
          metrics { metric values { value sessions newUsers uniqueUsers } }
        }
      }
    }
  }
}
"""


async def test_graph_periods_uniques(http: aiohttp.ClientSession, server: Server, history: Tenant) -> None:
    def at(*local: int) -> str:
        return datetime(*local, tzinfo=TZ).isoformat()  # type: ignore[misc]

    ranges = [
        {"since": at(2024, 1, 1), "until": at(2024, 2, 1)},  # one stored month: exact
        {"since": at(2024, 1, 1), "until": at(2025, 1, 1)},  # one stored year: exact
        {"since": at(2024, 1, 15), "until": at(2024, 2, 2)},  # w3 + w4 + 29..31 Jan + 1 Feb: an estimate
        {"since": at(2024, 1, 16, 5), "until": at(2024, 1, 16, 6)},  # widened to the whole day 16 Jan
    ]
    await gql(http, server, "{ __typename }", token=history.token)  # the token remembered: no lookup below
    reply = await gql(
        http, server, PERIODS, {"id": history.product_id, "ranges": ranges}, token=history.token
    )
    assert reply.errors is None, reply.errors
    found = reply.data["node"]["analytics"]["periods"]
    assert [(p["sessions"], p["uniqueUsers"], p["uniqueUsersEstimated"]) for p in found] == [
        (3, 2, False),
        (4, 2, False),
        (4, 3, True),
        (1, 1, False),
    ]
    assert found[0]["metrics"] == [
        {
            "metric": "OS",
            "values": [
                {"value": "Android", "sessions": 2, "newUsers": 1, "uniqueUsers": 2},
                {"value": "iOS", "sessions": 1, "newUsers": 1, "uniqueUsers": 1},
            ],
        }
    ]
    assert reply.statements <= 4


async def test_reads_send_few_statements(
    http: aiohttp.ClientSession, server: Server, history: Tenant
) -> None:
    """An `/o` read names its product once for the authorisation and again for the document: the second
    operation finds it in the request's loaders, and the token is remembered from the read before."""
    reads = [
        ("/o", {"method": "sessions", "period": "30days"}),
        ("/o", {"method": "events", "event": "purchase", "period": "30days"}),
        ("/o/analytics/dashboard", {}),
    ]
    counts = []
    for path, params in reads:
        await ok(http, server, history, path, **params)
        before, _ = await scrape(http, server)
        await ok(http, server, history, path, **params)
        after, _ = await scrape(http, server)
        counts.append(
            value(after, "gateway_sql_statements_total", route=path)
            - value(before, "gateway_sql_statements_total", route=path)
        )
    # sessions: the product, the tree; events: the product, its event definitions, its keys and segments, the
    # tree; the dashboard: the product, the periods' rows, the periods before them, the metric values' sums
    assert counts == [2, 4, 4]
