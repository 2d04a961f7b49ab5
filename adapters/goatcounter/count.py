"""Counting: `POST /api/v0/count` (a backend's batches) through the `recordPageviews` mutation.

Every valid hit of a batch is stored; the others are answered by index with GoatCounter's words (field names and
messages as its validator writes them), in a 400 that is sent after the valid hits were committed.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from adapters.goatcounter import gojson, replies
from adapters.goatcounter.api import ApiCall
from adapters.goatcounter.params import Obj, read_body
from adapters.goatcounter.replies import ApiError

MAX_HITS = 500
HIT = Obj(
    "APICountRequestHit",
    {
        "path": "string",
        "title": "string",
        "event": "zbool",
        "ref": "string",
        "size": "floats",
        "query": "string",
        "bot": "int",
        "user_agent": "string",
        "location": "string",
        "ip": "string",
        "created_at": "time",
        "session": "string",
    },
)
BODY = Obj("APICountRequest", {"no_sessions": "bool", "filter": ("list", "string"), "hits": ("list", HIT)})
# the graph's field of a problem -> GoatCounter's name of it
FIELDS = {"referrer": "ref", "userAgent": "user_agent_header", "timestamp": "created_at"}
NO_SESSION = "session or browser/IP not set; use no_sessions if you don't want to track unique visits"


def hit_input(hit: dict[str, Any]) -> dict[str, Any]:
    """A hit of the API as the graph's PageviewInput."""
    created = hit.get("created_at")
    return {
        "path": hit.get("path") or "",
        "title": hit.get("title"),
        "event": bool(hit.get("event")),
        "referrer": hit.get("ref"),
        "query": hit.get("query"),
        "screen": hit.get("size"),
        "bot": hit.get("bot"),
        "userAgent": hit.get("user_agent"),
        "ip": hit.get("ip"),
        "location": hit.get("location"),
        "timestamp": created.isoformat() if created is not None else None,
        "session": hit.get("session"),
    }


def problem_text(problems: list[dict[str, str]]) -> str:
    """A refused hit's problems as GoatCounter's validator words them: `field: msg, msg.` per field, sorted by
    field; one line per field (each ending in a newline) when there are several."""
    if any(p["field"] == "session" for p in problems):
        return NO_SESSION
    by_field: dict[str, list[str]] = {}
    for problem in problems:
        by_field.setdefault(FIELDS.get(problem["field"], problem["field"]), []).append(problem["message"])
    lines = [f"{name}: {', '.join(messages)}." for name, messages in sorted(by_field.items())]
    return lines[0] if len(lines) == 1 else "".join(line + "\n" for line in lines)


async def count(call: ApiCall) -> web.StreamResponse:
    """POST /api/v0/count."""
    await call.authorize("count")
    body = await read_body(call.request, BODY)
    hits = body.get("hits") or []
    if not hits:
        raise ApiError(400, "no hits", written=True)
    if len(hits) > MAX_HITS:
        raise ApiError(400, f"maximum amount of pageviews in one batch is {MAX_HITS}", written=True)
    filters = body.get("filter")
    filters = ["ip"] if filters is None else list(filters)
    filter_ip = "ip" in filters
    unknown = [name for name in filters if name != "ip"]
    if unknown:
        return replies.success(call.request, {"error": f"unknown value in Filter: [{' '.join(unknown)}]"})
    site = await call.site()
    variables = {
        "product": site.id,
        "hits": [hit_input(hit or {}) for hit in hits],
        "source": "SERVER",
        "sessions": not body.get("no_sessions"),
        "filter": filter_ip,
    }
    results = (await call.run("count", variables))["recordPageviews"]
    errors: dict[str, str] = {}
    filtered: list[int] = []
    for index, result in enumerate(results):
        outcome = result["outcome"]
        if outcome == "IGNORED":
            filtered.append(index)
        elif outcome == "REFUSED":
            errors[str(index)] = problem_text(result["problems"])
        elif outcome in ("PRODUCT_PAUSED", "UNKNOWN_PRODUCT"):
            errors[str(index)] = "site does not accept hits"
    headers = {"X-Goatcounter-Filter": ", ".join(str(i) for i in filtered)} if filtered else {}
    if errors:
        raise ApiError(400, errors=dict(sorted(errors.items())), headers=headers, written=True)
    response = replies.plain(gojson.compact({"status": "ok"}), 202)
    response.headers.update(headers)
    return response
