"""The FollowAnalytics URLs on the aiohttp app: `/api/...` (but GoatCounter's `/api/v0/...`) and `/segments/...`.

Every reply is the vendor's JSON envelope, errors included: an unknown path is a 404, a wrong method a 405,
a missing or unknown token a 401, in the vendor's shape; an unexpected failure is logged with the request id
and answered with the vendor's generic message, never with its details.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from adapters.followanalytics import exports, gdpr, lists, login, profiles, reports
from adapters.followanalytics.auth import caller
from adapters.followanalytics.replies import CAMPAIGNS, NOT_FOUND, SERVER_ERROR, TOO_LARGE, Failure, error
from gateway.access.principal import Principal
from gateway.db.outage import RETRY_AFTER_SECONDS, UNAVAILABLE_MESSAGE, is_outage

log = logging.getLogger(__name__)

Handler = Callable[[web.Request, Principal], Awaitable[web.StreamResponse]]
Public = Callable[[web.Request], Awaitable[web.StreamResponse]]
EXT = r"{ext:(\.csv|\.xls)?}"


def _guarded(method: str, run: Public) -> Public:
    async def route(request: web.Request) -> web.StreamResponse:
        allowed = method.split()
        if request.method not in allowed and not ("GET" in allowed and request.method == "HEAD"):
            return error(405, f"Method {request.method} is not allowed here")
        # PostgreSQL text cannot hold NUL: such a value names nothing and is refused before it reaches SQL
        if "\x00" in request.path or any("\x00" in value for value in request.rel_url.query.values()):
            return error(400, "The request holds a NUL character")
        try:
            return await run(request)
        except Failure as failure:
            return failure.reply()
        except web.HTTPException as failure:
            if failure.status < 400:
                raise
            # aiohttp's own errors (a body over the size limit sent in chunks, ...): their status, in the
            # vendor's shape rather than aiohttp's text
            reply = error(failure.status, TOO_LARGE if failure.status == 413 else failure.reason)
            for name in ("Allow", "Retry-After"):
                if name in failure.headers:
                    reply.headers[name] = failure.headers[name]
            return reply
        except Exception as failure:
            if is_outage(failure):  # the database down or restarting: the client should retry later
                reply = error(503, UNAVAILABLE_MESSAGE)
                reply.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
                return reply
            log.exception("FollowAnalytics request failed: %s %s", request.method, request.path)
            return error(500, SERVER_ERROR)

    return route


def authenticated(handler: Handler, flag: str) -> Public:
    """The handler of a route for tokens whose rights grant `flag` (see `auth.caller`)."""

    async def run(request: web.Request) -> web.StreamResponse:
        return await handler(request, await caller(request, flag))

    return run


async def not_found(request: web.Request) -> web.StreamResponse:
    return error(404, NOT_FOUND)


async def campaigns(request: web.Request) -> web.StreamResponse:
    return error(404, CAMPAIGNS)


ROUTES: list[tuple[str, str, Public]] = [
    ("POST", "/api/login", login.login),
    ("GET", "/api/apps", authenticated(lists.apps, "apps")),
    ("GET", "/api/apps/{app}/events", authenticated(lists.events, "segments_view")),
    ("GET", "/api/apps/{app}/events_export" + EXT, authenticated(exports.events_export, "downloads")),
    ("GET", "/api/apps/{app}/devices", authenticated(lists.devices, "segments_view")),
    ("GET", "/api/apps/{app}/devices_export" + EXT, authenticated(exports.devices_export, "downloads")),
    ("GET", "/api/apps/{app}/sessions", authenticated(lists.sessions, "segments_view")),
    ("GET", "/api/apps/{app}/sessions_export" + EXT, authenticated(exports.sessions_export, "downloads")),
    ("GET", "/api/apps/{app}/devices/{device}/sessions", authenticated(lists.sessions, "segments_view")),
    (
        "GET",
        "/api/apps/{app}/devices/{device}/sessions_export" + EXT,
        authenticated(exports.sessions_export, "downloads"),
    ),
    ("GET", "/api/apps/{app}/users/{user}/sessions", authenticated(lists.sessions, "segments_view")),
    (
        "GET",
        "/api/apps/{app}/users/{user}/sessions_export" + EXT,
        authenticated(exports.sessions_export, "downloads"),
    ),
    ("GET", "/api/segments", authenticated(lists.segments, "segments_view")),
    ("GET", "/api/segments/{segment}/devices", authenticated(lists.segment_devices, "segments_view")),
    (
        "GET",
        "/api/segments/{segment}/devices_export" + EXT,
        authenticated(exports.segment_devices_export, "downloads"),
    ),
    (
        "GET",
        "/segments/{segment}/devices_export" + EXT,
        authenticated(exports.segment_devices_export, "downloads"),
    ),
    ("GET", "/api/exports/download_url", exports.download_url),
    ("GET", "/api/customer_profiles", authenticated(profiles.customer_profiles, "segments_view")),
    (
        "GET",
        "/api/customer_profiles/export" + EXT,
        authenticated(profiles.customer_profiles_export, "downloads"),
    ),
    ("GET POST", "/api/attribute_values", profiles.attribute_values_route),
    ("POST", "/api/gdpr/access_user_data", authenticated(gdpr.access_user_data, "gdpr_data_manage")),
    ("POST", "/api/gdpr/delete_user_data", authenticated(gdpr.delete_user_data, "gdpr_data_manage")),
    ("GET", "/api/gdpr_request/export", authenticated(gdpr.request_export, "gdpr_data_manage")),
    ("GET", "/api/gdpr_request/status", authenticated(gdpr.request_status, "gdpr_data_manage")),
    ("GET", "/api/performance_export" + EXT, authenticated(reports.performance_export, "downloads")),
    (
        "GET",
        "/api/apps/{app}/analytics/download_metrics" + EXT,
        authenticated(reports.download_metrics, "downloads"),
    ),
    ("GET", "/api/events_export" + EXT, authenticated(reports.events_export, "downloads")),
    ("GET", "/api/event_details_export" + EXT, authenticated(reports.event_details_export, "downloads")),
]
CAMPAIGN_PATHS = (
    "/api/campaigns",
    "/api/campaigns/{tail:.*}",
    "/api/campaign",
    "/api/campaign/{tail:.*}",
    "/api/transac",
    "/api/transac/{tail:.*}",
)


def add_followanalytics_routes(app: web.Application) -> None:
    """Mount the FollowAnalytics URLs; every other `/api/...` path (but `/api/v0/...`) answers the vendor's 404."""
    for method, path, handler in ROUTES:
        app.router.add_route("*", path, _guarded(method, handler))
    for path in CAMPAIGN_PATHS:
        app.router.add_route("*", path, campaigns)
    app.router.add_route("*", "/api", not_found)
    app.router.add_route("*", r"/api/{tail:(?!v0(/|$)).*}", not_found)
    app.router.add_route("*", "/segments/{tail:.*}", not_found)
