"""The export-only endpoints of the seed: figures with no JSON counterpart, delivered as every export is.

- `GET /api/performance_export?apps=...&sd&ed` (also `app_identifiers=`): per app and day, downloads (new
  users), sessions, active users, time in sessions and events. Crashes are not collected by this gateway.
- `GET /api/apps/{app}/analytics/download_metrics?sd&ed`: the same figures for one app.
- `GET /api/events_export?app&sd&ed`: the app's events over the period, most frequent first (default: the
  last 6 days).
- `GET /api/event_details_export?app&event_id&sd&ed`: one event's attributes (segmentation) and their values,
  most frequent first (default: the last 6 days of the previous month). `event_id` is the event's number in
  the graph (its EventDefinition id).
"""

from __future__ import annotations

from datetime import datetime

from aiohttp import web

from adapters.followanalytics import dates, graph, params
from adapters.followanalytics.exports import start
from adapters.followanalytics.replies import APP_NOT_FOUND, Failure
from gateway.access.principal import Principal
from resolvers.node import to_global_id

DAY_COLUMNS = [
    {"field": "productId", "header": "app_identifier"},
    {"field": "productName", "header": "app_name"},
    {"field": "day", "header": "date"},
    {"field": "newUsers", "header": "downloads"},
    {"field": "sessions", "header": "sessions"},
    {"field": "uniqueUsers", "header": "active_users"},
    {"field": "duration", "header": "total_session_duration"},
    {"field": "events", "header": "events"},
]
EVENT_COLUMNS = [
    {"field": "key", "header": "event_name"},
    {"field": "count", "header": "occurrences"},
]
DETAIL_COLUMNS = [
    {"field": "segmentation", "header": "attribute"},
    {"field": "value", "header": "value"},
    {"field": "count", "header": "occurrences"},
]


def _range(period: tuple[datetime, datetime]) -> dict[str, str]:
    return {"since": period[0].isoformat(), "until": period[1].isoformat()}


async def _app(request: web.Request, principal: Principal, identifier: str | None) -> str:
    if not identifier:
        raise Failure(400, "Missing app identifier")
    data = await graph.run(request, principal, "app", {"id": identifier})
    if not (data.get("node") or {}).get("id"):
        raise Failure(404, APP_NOT_FOUND)
    return str(data["node"]["id"])


async def performance_export(request: web.Request, principal: Principal) -> web.Response:
    query = request.rel_url.query
    identifiers = params.values(query, "apps") or params.values(query, "app_identifiers")
    period = dates.required_period(query)
    if not identifiers:
        raise Failure(400, "Missing app identifiers")
    apps = [await _app(request, principal, identifier) for identifier in dict.fromkeys(identifiers)]
    return await start(
        request,
        principal,
        apps[0],
        "PRODUCT_DAYS",
        DAY_COLUMNS,
        time_range=_range(period),
        more_products=apps[1:],
    )


async def download_metrics(request: web.Request, principal: Principal) -> web.Response:
    period = dates.required_period(request.rel_url.query)
    app = await _app(request, principal, request.match_info["app"])
    return await start(request, principal, app, "PRODUCT_DAYS", DAY_COLUMNS, time_range=_range(period))


async def events_export(request: web.Request, principal: Principal) -> web.Response:
    query = request.rel_url.query
    period = dates.optional_period(query, dates.last_six_days())
    app = await _app(request, principal, query.get("app"))
    return await start(request, principal, app, "EVENT_TOTALS", EVENT_COLUMNS, time_range=_range(period))


async def event_details_export(request: web.Request, principal: Principal) -> web.Response:
    query = request.rel_url.query
    period = dates.optional_period(query, dates.last_six_days_of_previous_month())
    app = await _app(request, principal, query.get("app"))
    event_id = (query.get("event_id") or "").strip()
    if not event_id:
        raise Failure(400, "Missing event id")
    event = None
    if event_id.isdigit() and len(event_id) <= 18:
        data = await graph.run(
            request, principal, "event_name", {"id": to_global_id("EventDefinition", int(event_id))}
        )
        event = data.get("node")
    if not event or not event.get("name") or event["product"]["id"] != app:
        raise Failure(404, "Event not found.")
    return await start(
        request,
        principal,
        app,
        "EVENT_SEGMENTS",
        DETAIL_COLUMNS,
        {"eventKey": event["name"]},
        _range(period),
    )
