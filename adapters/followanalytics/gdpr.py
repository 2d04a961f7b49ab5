"""GDPR: access to users' data and its deletion, on the graph's person requests (resolvers/people/requests.py).

- `POST /api/gdpr/access_user_data` `{"users":[...],"skip_email":false}` → `result.callback_url`
  (`/api/gdpr_request/export?request_id=...`); that URL answers `{"status":"received","download_urls":{user:
  null},"requested_at":...,"skip_email":...}` until every file is written, then `"processed"` with each user's
  download URL (valid one week). A user no product knows gets a file with no people in it.
- `POST /api/gdpr/delete_user_data` `{"users":[...]}` (*design*): erases at once everything that identifies
  those users and answers `result.request_id` and `result.callback_url` (`/api/gdpr_request/status?...`),
  which tells `{"status":"processed","requested_at","processed_at","users_requested","users_deleted"}`.
- Bad input: 400 `{"status":"400","success":false,"error_message":"Please provide a valid list of user ids"}`
  (with `message` too).
- Without `"skip_email":true`, each user's download URL is also e-mailed to the requester (the token's user)
  once the file is written, through the SMTP server the operator configured, as exports' links are; without
  one the request gets a 400 in the same shape that says so and points to `skip_email`, as exports do. The
  files are at their download URLs either way.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from aiohttp import web

from adapters.followanalytics import graph
from adapters.followanalytics.exports import origin
from adapters.followanalytics.replies import (
    GDPR_NO_MAIL_ADDRESS,
    GDPR_NO_MAIL_SERVER,
    INVALID_USER_IDS,
    Failure,
    gdpr_error,
    json_reply,
    success,
)
from gateway.access.principal import Principal
from gateway.json_text import loads_json

MAX_BODY = 1024 * 1024
MAX_USERS = 10_000


async def _users(request: web.Request) -> tuple[list[str], bool] | None:
    if request.content_length is not None and request.content_length > MAX_BODY:
        return None
    try:
        body = loads_json(await request.text() or "null")
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    users = body.get("users")
    if not isinstance(users, list) or not users or len(users) > MAX_USERS:
        return None
    if not all(isinstance(u, str | int) and not isinstance(u, bool) and str(u).strip() for u in users):
        return None
    names = [str(u).strip() for u in users]
    if any(len(name) > 1000 or "\x00" in name for name in names):
        return None
    return names, body.get("skip_email") is True


def _time(value: str | None) -> str | None:
    """The graph's time as the vendor writes it: milliseconds and `Z` (`2018-07-02T09:18:53.434Z`)."""
    if value is None:
        return None
    from datetime import datetime

    moment = datetime.fromisoformat(value)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


async def access_user_data(request: web.Request, principal: Principal) -> web.Response:
    found = await _users(request)
    if found is None:
        return gdpr_error(INVALID_USER_IDS)
    users, skip_email = found
    try:
        data = await graph.run(
            request, principal, "gdpr", {"users": users, "notify": not skip_email}, "FaGdprAccess"
        )
    except Failure as failure:
        if failure.code == "MAIL_NOT_CONFIGURED":
            return gdpr_error(GDPR_NO_MAIL_SERVER)
        if failure.code == "NO_MAIL_ADDRESS":
            return gdpr_error(GDPR_NO_MAIL_ADDRESS)
        raise
    uuid = data["requestPersonData"]["uuid"]
    return success({"callback_url": f"{origin(request)}/api/gdpr_request/export?request_id={uuid}"})


async def delete_user_data(request: web.Request, principal: Principal) -> web.Response:
    found = await _users(request)
    if found is None:
        return gdpr_error(INVALID_USER_IDS)
    users, _ = found
    data = await graph.run(request, principal, "gdpr", {"users": users}, "FaGdprErase")
    uuid = data["erasePeople"]["uuid"]
    return success(
        {"request_id": uuid, "callback_url": f"{origin(request)}/api/gdpr_request/status?request_id={uuid}"}
    )


async def _request(request: web.Request, principal: Principal) -> dict[str, Any]:
    text = (request.rel_url.query.get("request_id") or "").strip()
    try:
        uuid = str(UUID(text))
    except ValueError:
        raise Failure(404, "GDPR request not found.") from None
    found = (await graph.run(request, principal, "gdpr", {"uuid": uuid}, "FaGdprRequest")).get(
        "personRequest"
    )
    if found is None:
        raise Failure(404, "GDPR request not found.")
    return dict(found)


async def request_export(request: web.Request, principal: Principal) -> web.Response:
    """The state of an access request and, once processed, each user's download URL."""
    found = await _request(request, principal)
    if found["kind"] != "ACCESS":
        raise Failure(404, "GDPR request not found.")
    base = origin(request)
    urls = {
        f["identity"]: (
            None
            if not found["processed"] or f["downloadLink"] is None
            else base + "/api/exports/download_url?export_token=" + f["downloadLink"].rsplit("token=", 1)[1]
        )
        for f in found["files"]
    }
    return json_reply(
        {
            "status": "processed" if found["processed"] else "received",
            "download_urls": urls,
            "requested_at": _time(found["requestedAt"]),
            "skip_email": not found["notify"],
        }
    )


async def request_status(request: web.Request, principal: Principal) -> web.Response:
    """The state of any GDPR request (deletions are processed when they are answered)."""
    found = await _request(request, principal)
    return json_reply(
        {
            "status": "processed" if found["processed"] else "received",
            "kind": "access" if found["kind"] == "ACCESS" else "deletion",
            "requested_at": _time(found["requestedAt"]),
            "processed_at": _time(found["processedAt"]),
            "users_requested": found["asked"],
            "users_deleted": found["erased"] if found["kind"] == "ERASE" else None,
        }
    )
