"""The documents `/o` and `/o/analytics/*` answer with, fetched from the graph and reshaped.

Every document comes from `Product.analytics` (`resolvers/analytics/`) through the `.graphql` operations beside
this module:

- `sessions`, `users`, `locations`: the users document: totals (`t n u d e`) and, per country code, `t n u`,
  at year, month, Countly week (`w<N>`, uniques only), day and hour; `meta.countries`.
- `devices`, `carriers`: per device / carrier value; `meta.devices` / `meta.carriers`.
- `device_details`, `app_versions`: per OS, OS version, resolution and app version value, merged in one
  document; `meta.os`, `meta.os_versions`, `meta.resolutions`, `meta.app_versions`.
- `events`: `c s dur` of one key (`event`), several merged (`events=["a","b"]`) or the first key not starting
  with `[CLY]`; per value of `segmentation` when asked; `meta.segments`.
- the time range is the `period` plus the previous period of equal length (as Countly fetches it), or with
  `action=refresh` today plus the current month and week.
- `get_events`, `/o/analytics/dashboard` and `/o/analytics/countries`.

The time documents hold thousands of buckets: PostgreSQL nests them (`rollupTree`, `eventRollupTree`), and
the shim adds `meta`. No data at all is `{}`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from aiohttp import web

from adapters.countly import replies, shapes
from adapters.countly.operations import operation
from adapters.countly.params import CountlyRequest, json_param
from adapters.countly.periods import Period, parse_period
from gateway.access.principal import Principal
from gateway.execution.executor import RequestError
from gateway.execution.fast_path import RawJson
from gateway.execution.inprocess import run_operation
from gateway.json_text import compact_json

LIMITS = {"event_limit": 500, "event_segmentation_limit": 100, "event_segmentation_value_limit": 1000}
ALL_GRAINS = ["YEAR", "MONTH", "WEEK", "DAY", "HOUR"]
REFRESH_GRAINS = ["MONTH", "WEEK", "DAY", "HOUR"]
MAX_EVENT_KEYS = 100
TOP_COUNTRIES = 10
DEFAULT_PERIODS = (("30days", "30days"), ("7days", "7days"), ("today", "hour"))
# the metric values a segmented document holds, and the `meta` list each one is named in
DEVICE_DETAILS_META = {
    "OS": "os",
    "OS_VERSION": "os_versions",
    "RESOLUTION": "resolutions",
    "APP_VERSION": "app_versions",
}


# a reply document: objects, or JSON text already escaped the Countly way (`replies.data` writes either)
Document = dict[str, Any] | RawJson


class ReadFailed(Exception):
    """A read the graph could not answer; `status` and `message` are what the client is told."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


async def _query(
    request: web.Request,
    principal: Principal,
    name: str,
    variables: dict[str, Any],
    raw_json: bool = False,
) -> dict[str, Any]:
    try:
        result = await run_operation(request, principal, operation(name), variables, raw_json=raw_json)
    except RequestError as exc:
        raise ReadFailed(400, str(exc)) from None
    if result.errors:
        error = result.errors[0]
        code = (error.extensions or {}).get("code")
        if code == "INTERNAL_SERVER_ERROR":
            raise ReadFailed(500, "Internal server error")
        raise ReadFailed(400, error.message)
    return result.data or {}


async def _analytics(
    request: web.Request,
    principal: Principal,
    name: str,
    variables: dict[str, Any],
    raw_json: bool = False,
) -> dict[str, Any]:
    data = await _query(request, principal, name, variables, raw_json)
    return ((data.get("node") or {}).get("analytics")) or {}


@lru_cache(maxsize=8192)
def _local(value: str) -> datetime:
    """A bucket start printed with the product's offset, as the local wall-clock time it stands for.

    Cached: a document's buckets repeat the same starts (every metric value of a day has that day's start).
    """
    return datetime.fromisoformat(value).replace(tzinfo=None)


def _iso(moment: datetime) -> str:
    return moment.isoformat()


@dataclass(frozen=True)
class Window:
    """The UTC range a time document covers and the grains it holds."""

    since: datetime
    until: datetime
    grains: list[str]


def read_window(req: CountlyRequest, timezone: str) -> Window:
    """`action=refresh`: today (with the current month and week); else the period and the one before it."""
    if req.text("action") == "refresh":
        period = parse_period("hour", timezone)
        return Window(period.utc(period.start), period.utc(period.end), REFRESH_GRAINS)
    period = parse_period(req.params.get("period"), timezone)
    return Window(period.utc(period.previous_start), period.utc(period.end), ALL_GRAINS)


def _with_meta(tree: Any, meta: dict[str, Any] | None) -> Document:
    """The time document: the graph's tree and `meta` as its last key; `{}` (without meta) when it is empty.

    The tree comes as PostgreSQL's text (`RawJson`): it holds numbers and keys only, which Countly's reply
    escaping leaves alone, so `meta` (escaped here) is written into that text and the tree is never parsed.
    """
    if not tree:
        return {}
    if type(tree) is RawJson:
        if meta is None:
            return tree
        return RawJson(tree.text[:-1] + ',"meta":' + compact_json(replies.escape_data(meta)) + "}")
    document = dict(tree)
    if meta is not None:
        document["meta"] = meta
    return document


# -- sessions / users / locations, devices, carriers, device details ------------------------------------------


async def _session_document(
    request: web.Request,
    principal: Principal,
    product_id: str,
    timezone: str,
    req: CountlyRequest,
    metrics: dict[str, str],
    totals: bool,
) -> Document:
    window = read_window(req, timezone)
    # per-value data stops at the day, as in Countly; an hour-only window has none
    value_grains = [grain for grain in window.grains if grain != "HOUR"]
    analytics = await _analytics(
        request,
        principal,
        "rollup_tree",
        {
            "id": product_id,
            "since": _iso(window.since),
            "until": _iso(window.until),
            "grains": window.grains,
            "metricGrains": value_grains,
            "metrics": list(metrics) if value_grains else [],
            "totals": totals,
        },
        raw_json=True,
    )
    found = analytics.get("rollupTree") or {}
    meta: dict[str, set[str]] = {name: set() for name in metrics.values()}
    for listed in found.get("values") or []:
        meta[metrics[listed["metric"]]].update(shapes.clean_value(value) for value in listed["values"])
    return _with_meta(found.get("tree"), {name: sorted(values) for name, values in meta.items()})


async def users_document(
    request: web.Request, principal: Principal, product_id: str, timezone: str, req: CountlyRequest
) -> Document:
    """`method=sessions|users|locations`: the totals with the per-country values, `meta.countries`."""
    return await _session_document(
        request, principal, product_id, timezone, req, {"COUNTRY": "countries"}, totals=True
    )


async def devices_document(
    request: web.Request, principal: Principal, product_id: str, timezone: str, req: CountlyRequest
) -> Document:
    """`method=devices`: per device model."""
    return await _session_document(
        request, principal, product_id, timezone, req, {"DEVICE": "devices"}, totals=False
    )


async def carriers_document(
    request: web.Request, principal: Principal, product_id: str, timezone: str, req: CountlyRequest
) -> Document:
    """`method=carriers`: per carrier."""
    return await _session_document(
        request, principal, product_id, timezone, req, {"CARRIER": "carriers"}, totals=False
    )


async def device_details_document(
    request: web.Request, principal: Principal, product_id: str, timezone: str, req: CountlyRequest
) -> Document:
    """`method=device_details|app_versions`: per OS, OS version, resolution and app version."""
    return await _session_document(
        request, principal, product_id, timezone, req, DEVICE_DETAILS_META, totals=False
    )


# -- events ----------------------------------------------------------------------------------------------------


@dataclass
class EventCatalog:
    """The app's event keys in order of arrival and, per key, its segmentation keys."""

    keys: list[str]
    segments: dict[str, list[str]]


async def event_catalog(request: web.Request, principal: Principal, product_id: str) -> EventCatalog:
    data = await _query(request, principal, "event_keys", {"id": product_id})
    node = data.get("node") or {}
    nodes = (node.get("eventDefinitions") or {}).get("nodes") or []
    keys = [item["name"] for item in nodes if item.get("visible", True)]
    segments: dict[str, list[str]] = {}
    for info in (node.get("analytics") or {}).get("eventKeys") or []:
        segments[info["key"]] = [seg["key"] for seg in info.get("segmentations") or []]
    return EventCatalog(keys, segments)


async def get_events_document(
    request: web.Request, principal: Principal, product_id: str, timezone: str, req: CountlyRequest
) -> dict[str, Any]:
    """`method=get_events`: event keys, their segmentation keys, and Countly's limits (only limits when empty)."""
    catalog = await event_catalog(request, principal, product_id)
    if not catalog.keys:
        return {"limits": LIMITS}
    return {
        "list": catalog.keys,
        "segments": {key: list(catalog.segments.get(key, [])) for key in catalog.keys},
        "map": {},
        "order": catalog.keys,
        "limits": LIMITS,
    }


def _event_keys(req: CountlyRequest, catalog: EventCatalog) -> list[str]:
    """`events=["a","b"]`, else `event=KEY`, else the first key not starting with `[CLY]`."""
    asked = json_param(req.params.get("events"))
    if isinstance(asked, list):
        keys = [key for key in asked if isinstance(key, str) and key]
        if keys:
            return list(dict.fromkeys(keys))[:MAX_EVENT_KEYS]
    event = req.text("event")
    if event:
        return [event]
    for key in catalog.keys:
        if not key.startswith("[CLY]"):
            return [key]
    return []


async def events_document(
    request: web.Request, principal: Principal, product_id: str, timezone: str, req: CountlyRequest
) -> Document:
    """`method=events`: `c s dur` per bucket of the event key(s), per segmentation value when asked."""
    window = read_window(req, timezone)
    catalog = await event_catalog(request, principal, product_id)
    keys = _event_keys(req, catalog)
    if not keys:
        return {}
    segmentation = req.text("segmentation") or None
    analytics = await _analytics(
        request,
        principal,
        "event_rollup_tree",
        {
            "id": product_id,
            "keys": keys,
            "since": _iso(window.since),
            "until": _iso(window.until),
            "grains": [grain for grain in window.grains if grain != "WEEK"],
            "segmentation": segmentation,
        },
        raw_json=True,
    )
    found = analytics.get("eventRollupTree") or {}
    if len(keys) != 1:
        return _with_meta(found.get("tree"), None)
    meta: dict[str, Any] = {"segments": list(catalog.segments.get(keys[0], []))}
    if segmentation:
        meta[segmentation] = sorted({shapes.clean_value(value) for value in found.get("segments") or []})
    return _with_meta(found.get("tree"), meta)


# -- /o/analytics/dashboard and /o/analytics/countries -----------------------------------------------------------


def summary_periods(req: CountlyRequest, timezone: str) -> list[tuple[str, Period]]:
    """(output key, period): 30days, 7days and today, or only the `period` asked when it is another one."""
    raw = req.params.get("period")
    if raw is None or raw == "" or raw == "30days":
        return [(name, parse_period(value, timezone)) for name, value in DEFAULT_PERIODS]
    name = raw if isinstance(raw, str) else json.dumps(raw, separators=(",", ":"))
    return [(name, parse_period("hour" if raw == "today" else raw, timezone))]


@dataclass(frozen=True)
class Summary:
    """A period's totals, days and metric values, and (when asked) the totals of the period before it."""

    current: dict[str, Any]
    previous: dict[str, Any]


async def _summaries(
    request: web.Request,
    principal: Principal,
    product_id: str,
    periods: Iterable[Period],
    metrics: list[str],
    with_previous: bool,
) -> list[Summary]:
    current, previous = [], []
    for period in periods:
        current.append({"since": _iso(period.utc(period.start)), "until": _iso(period.utc(period.end))})
        previous.append(
            {"since": _iso(period.utc(period.previous_start)), "until": _iso(period.utc(period.start))}
        )
    analytics = await _analytics(
        request,
        principal,
        "periods",
        {
            "id": product_id,
            "current": current,
            "previous": previous,
            "metrics": metrics,
            "withPrevious": with_previous,
        },
    )
    found = list(analytics.get("current") or [])
    before = list(analytics.get("previous") or [{} for _ in found])
    return [Summary(now, then) for now, then in zip(found, before, strict=True)]


def _values(summary: dict[str, Any], metric: str) -> list[dict[str, Any]]:
    for breakdown in summary.get("metrics") or []:
        if breakdown["metric"] == metric:
            return list(breakdown["values"])
    return []


def _day_label(bucket: str) -> str:
    moment = _local(bucket)
    return f"{moment.day} {moment.strftime('%b')}"


async def dashboard_summary(
    request: web.Request, principal: Principal, product_id: str, timezone: str, req: CountlyRequest
) -> dict[str, Any]:
    """`/o/analytics/dashboard`: session numbers with their change, top metric values and the period label."""
    periods = summary_periods(req, timezone)
    found = await _summaries(
        request,
        principal,
        product_id,
        [p for _, p in periods],
        ["OS", "RESOLUTION", "CARRIER"],
        with_previous=True,
    )
    document: dict[str, Any] = {}
    for (name, period), summary in zip(periods, found, strict=True):
        current, previous = summary.current, summary.previous
        numbers = shapes.dashboard_numbers(
            _totals(current), _totals(previous), bool(current["uniqueUsersEstimated"])
        )
        top = {
            "platforms": shapes.bars((v["value"], v["sessions"]) for v in _values(current, "OS")),
            "resolutions": shapes.bars((v["value"], v["sessions"]) for v in _values(current, "RESOLUTION")),
            "carriers": shapes.bars((v["value"], v["sessions"]) for v in _values(current, "CARRIER")),
            "users": shapes.bars((_day_label(d["bucket"]), d["uniqueUsers"]) for d in current["days"]),
        }
        document[name] = {"dashboard": numbers, "top": top, "period": period.label}
    return document


def _totals(summary: dict[str, Any]) -> shapes.Totals:
    return shapes.Totals.of(
        {
            "t": summary["sessions"],
            "n": summary["newUsers"],
            "u": summary["uniqueUsers"],
            "d": summary["duration"],
            "e": summary["requests"],
        }
    )


async def countries_summary(
    request: web.Request, principal: Principal, product_id: str, timezone: str, req: CountlyRequest
) -> dict[str, Any]:
    """`/o/analytics/countries`: the top 10 countries by sessions, with their sessions, users and new users."""
    periods = summary_periods(req, timezone)
    found = await _summaries(
        request, principal, product_id, [p for _, p in periods], ["COUNTRY"], with_previous=False
    )
    document: dict[str, Any] = {}
    for (name, _period), summary in zip(periods, found, strict=True):
        rows = [
            shapes.CountryRow(v["value"], {"t": v["sessions"], "u": v["uniqueUsers"], "n": v["newUsers"]})
            for v in _values(summary.current, "COUNTRY")
        ]
        document[name] = shapes.country_rows(rows, TOP_COUNTRIES)
    return document
