"""Exports: every list's `_export` (`.csv`, `.xls`, XLS by default), the export-only endpoints, and the download URL.

Each export is an Export job of the graph (`startExport`): the list's rows, in the vendor's field names, in the
file format the path's suffix names. With `skip_email=true` the reply is the download URL
(`/api/exports/download_url?export_token=...`: 202 while the file is written, 200 with it, 400 for a token that
is missing, invalid or expired after 7 days); without it the link goes by e-mail to the token's user, through
the SMTP server the operator configured (none: a 400 that says so and points to `skip_email=true`).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from adapters.followanalytics import graph, params
from adapters.followanalytics.fields import DEVICES, EVENTS, SESSIONS, FieldSet
from adapters.followanalytics.lists import (
    device_filter,
    event_filter,
    find_segment,
    period,
    segment_ids,
    session_owners,
)
from adapters.followanalytics.replies import (
    APP_NOT_FOUND,
    EXPORT_FAILED,
    EXPORT_NOT_READY,
    EXPORT_TOKEN_INVALID,
    NO_MAIL_ADDRESS,
    NO_MAIL_SERVER,
    SEGMENT_NOT_FOUND,
    Failure,
    error,
    json_reply,
    success,
)
from gateway.access.principal import Principal
from gateway.http.downloads import export_by_link, stream_export
from gateway.state import state_of


def file_format(request: web.Request) -> str:
    """`.csv` or `.xls` as the path ends; XLS when it names none."""
    return "CSV" if request.match_info.get("ext") == ".csv" else "XLS"


def origin(request: web.Request) -> str:
    configured = state_of(request).settings.public_url
    return configured.rstrip("/") if configured else str(request.url.origin())


async def start(
    request: web.Request,
    principal: Principal,
    product_id: str,
    kind: str,
    columns: list[dict[str, Any]],
    where: dict[str, Any] | None = None,
    time_range: dict[str, Any] | None = None,
    more_products: list[str] | None = None,
) -> web.Response:
    """Start the export job and answer as the vendor does: the callback URL, or the e-mail message."""
    skip_email = params.flag(request.rel_url.query, "skip_email")
    email = None
    if not skip_email:
        viewer = (await graph.run(request, principal, "viewer"))["viewer"]
        email = (viewer.get("user") or {}).get("email")
    variables = {
        "input": {
            "productId": product_id,
            "kind": kind,
            "format": file_format(request),
            "fields": columns,
            "where": where,
            "period": time_range,
            "delivery": {"link": True, "email": not skip_email},
            "moreProducts": more_products or None,
        }
    }
    try:
        data = await graph.run(request, principal, "start_export", variables)
    except Failure as failure:
        if failure.code == "MAIL_NOT_CONFIGURED":
            raise Failure(400, NO_MAIL_SERVER) from None
        if failure.code == "NO_MAIL_ADDRESS":
            raise Failure(400, NO_MAIL_ADDRESS) from None
        if failure.status == 404:
            raise Failure(404, APP_NOT_FOUND) from None
        raise
    if not skip_email:
        return success(
            f"Your report is being generated and will be sent to the email {email} when it is completed"
        )
    token = data["startExport"]["downloadLink"].rsplit("token=", 1)[1]
    return success({"callback": f"{origin(request)}/api/exports/download_url?export_token={token}"})


def _chosen(request: web.Request, fields: FieldSet) -> list[str]:
    return fields.chosen(params.values(request.rel_url.query, "fields"))


async def events_export(request: web.Request, principal: Principal) -> web.Response:
    query = request.rel_url.query
    where: dict[str, Any] = {"eventOrder": "OLDEST_FIRST"}
    events = event_filter(query)
    if events and "segments" in events:
        events["segments"] = await segment_ids(request, principal, events["segments"])
    if events:
        where["events"] = events
    columns = EVENTS.columns(_chosen(request, EVENTS))
    return await start(request, principal, request.match_info["app"], "EVENTS", columns, where, period(query))


async def sessions_export(request: web.Request, principal: Principal) -> web.Response:
    query = request.rel_url.query
    device_ids, user_ids = session_owners(request)
    where = {"deviceIds": device_ids, "userIds": user_ids}
    columns = SESSIONS.columns(_chosen(request, SESSIONS))
    return await start(
        request, principal, request.match_info["app"], "SESSIONS", columns, where, period(query)
    )


async def devices_export(request: web.Request, principal: Principal) -> web.Response:
    query = request.rel_url.query
    segments = params.values(query, "segment_ids")
    if segments is not None:
        segments = await segment_ids(request, principal, segments)
    app = request.match_info["app"]
    columns = DEVICES.columns(_chosen(request, DEVICES), {"application_id": app})
    people = device_filter(query, segments)
    return await start(request, principal, app, "DEVICES", columns, {"people": people} if people else None)


async def segment_devices_export(request: web.Request, principal: Principal) -> web.Response:
    segment = await find_segment(request, principal, request.match_info["segment"])
    if segment is None:
        raise Failure(404, SEGMENT_NOT_FOUND)
    app = segment["product"]["id"]
    columns = DEVICES.columns(_chosen(request, DEVICES), {"application_id": app})
    return await start(request, principal, app, "DEVICES", columns, {"segment": segment["id"]})


async def download_url(request: web.Request) -> web.StreamResponse:
    """The callback of `skip_email=true`: 200 with the file, 202 while it is written, 400 for a bad token."""
    file = await export_by_link(state_of(request).db, request.rel_url.query.get("export_token"))
    if file is None:
        return error(400, EXPORT_TOKEN_INVALID)
    if file.status in ("pending", "running"):
        return json_reply({"success": True, "status": 202, "result": EXPORT_NOT_READY}, 202)
    if file.status != "finished":
        return error(400, EXPORT_FAILED)
    return await stream_export(request, file)
