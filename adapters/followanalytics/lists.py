"""The JSON lists: apps, events, sessions (of an app, a device, a user), segments and a segment's devices.

Lists are numbered pages (`page`, `per_page`) answered as `{"total_pages", "total_<items>", "<items>": [...]}`,
the shape of the documented customer profiles list. Events are listed oldest first (a page keeps its events
as new ones arrive, so delta syncs page forward); sessions, segments' devices newest first, as the graph lists
them. An app or segment that does not exist or is another account's is a 404.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from adapters.followanalytics import graph, params
from adapters.followanalytics.fields import DEVICES, EVENTS, SESSIONS
from adapters.followanalytics.replies import APP_NOT_FOUND, SEGMENT_NOT_FOUND, Failure, success
from gateway.access.principal import Principal
from gateway.execution.graphql_core import GRAPHQL_MAX_INT


def pages(total: int, per_page: int) -> int:
    return (total + per_page - 1) // per_page


# the largest offset the graph takes (its Int): a deeper page is asked at it, and answered by `page_reply`
MAX_OFFSET = GRAPHQL_MAX_INT


def offset_of(paging: params.Paging) -> int:
    return (paging.page - 1) * paging.per_page


def window(paging: params.Paging) -> dict[str, int]:
    """A numbered page as the graph's `first` and `offset` (at most MAX_OFFSET)."""
    return {"first": paging.per_page, "offset": min(offset_of(paging), MAX_OFFSET)}


def page_reply(items_name: str, items: list[Any], total: int, paging: params.Paging) -> web.Response:
    """`{"total_pages", "total_<items>", "<items>"}`: the shape of every list (that of the documented profiles).

    A page past the end is empty, even one deeper than the graph's offsets reach (`window` asked it at
    MAX_OFFSET); a list too long for such a page to be past its end is told so."""
    if offset_of(paging) > MAX_OFFSET:
        if total > offset_of(paging):
            raise Failure(400, f"This page is too deep: the list's first {MAX_OFFSET} items can be paged")
        items = []
    return success(
        {"total_pages": pages(total, paging.per_page), f"total_{items_name}": total, items_name: items}
    )


def period(query: Any, since: str = "since_date", until: str = "until_date") -> dict[str, str | None] | None:
    start, end = params.iso_time(query, since), params.iso_time(query, until)
    if start is None and end is None:
        return None
    return {
        "since": None if start is None else start.isoformat(),
        "until": None if end is None else end.isoformat(),
    }


def event_filter(query: Any) -> dict[str, list[str]] | None:
    where = {
        "keys": params.values(query, "names"),
        "deviceIds": params.values(query, "device_ids"),
        # a user is a person's current user (its newest alias), the `user_id` its events answer
        "userIds": params.values(query, "user_ids"),
        "sessions": params.values(query, "session_ids"),
        "segments": params.values(query, "segment_ids"),
    }
    found = {name: value for name, value in where.items() if value is not None}
    return found or None


def product_of(data: dict[str, Any]) -> dict[str, Any]:
    node = data.get("node")
    if not node or "eventPage" not in node and "sessions" not in node:
        raise Failure(404, APP_NOT_FOUND)
    return node


async def segment_ids(request: web.Request, principal: Principal, identifiers: list[str]) -> list[str]:
    """The graph ids of segments named by their FollowAnalytics ids (identifiers); unknown ones are left out."""
    found = []
    for identifier in identifiers[:100]:
        segment = await find_segment(request, principal, identifier)
        if segment is not None:
            found.append(segment["id"])
    return found


async def find_segment(request: web.Request, principal: Principal, identifier: str) -> dict[str, Any] | None:
    data = await graph.run(
        request, principal, "segments", {"identifier": identifier}, operation_name="FaSegment"
    )
    nodes = (data.get("segments") or {}).get("nodes") or []
    return nodes[0] if len(nodes) == 1 else None


async def apps(request: web.Request, principal: Principal) -> web.Response:
    unwanted = params.flag(request.rel_url.query, "unwanted")
    data = await graph.run(request, principal, "apps")
    result = []
    for node in data["products"]["nodes"]:
        if (node["status"] == "PAUSED") != unwanted:
            continue
        result.append(
            {
                "identifier": node["id"],
                "localizations": [
                    {
                        "language": None,
                        "original_name": node["name"],
                        "name": node["name"],
                        "description": None,
                    }
                ],
                "store_id": None,
                "package_name": None,
                "platform": None,
                "is_qa": node["environment"] != "production",
                "has_usage_data": node["hasData"],
                "last_sdk_version": None,
                "default_tz": node["timezone"],
                "app_groups": [],
            }
        )
    return success({"apps": result})


async def events(request: web.Request, principal: Principal) -> web.Response:
    query = request.rel_url.query
    paging = params.paging(query)
    names = EVENTS.chosen(params.values(query, "fields"))
    where = event_filter(query)
    if where and "segments" in where:
        where["segments"] = await segment_ids(request, principal, where["segments"])
    data = await graph.run(
        request,
        principal,
        "events",
        {
            "app": request.match_info["app"],
            "page": paging.page,
            "perPage": paging.per_page,
            "period": period(query),
            "where": where,
        },
    )
    product = product_of(data)
    total = product["eventCount"]
    items = EVENTS.shape_all(product["eventPage"]["nodes"], names)
    return page_reply("events", items, total, paging)


async def sessions(request: web.Request, principal: Principal) -> web.Response:
    query = request.rel_url.query
    paging = params.paging(query)
    names = SESSIONS.chosen(params.values(query, "fields"))
    device_ids, user_ids = session_owners(request)
    data = await graph.run(
        request,
        principal,
        "sessions",
        {
            "app": request.match_info["app"],
            **window(paging),
            "period": period(query),
            "deviceIds": device_ids,
            "userIds": user_ids,
        },
    )
    product = product_of(data)
    listed = product["sessions"]
    items = SESSIONS.shape_all(listed["nodes"], names)
    total = listed["totalCount"]
    return page_reply("sessions", items, total, paging)


def session_owners(request: web.Request) -> tuple[list[str] | None, list[str] | None]:
    """(device ids, user ids) whose sessions a sessions request lists: from the path, else `device_ids` /
    `user_ids`; a user is a person's current user (the `user_id` of its sessions)."""
    query = request.rel_url.query
    if "device" in request.match_info:
        return [request.match_info["device"]], None
    if "user" in request.match_info:
        return None, [request.match_info["user"]]
    return params.values(query, "device_ids"), params.values(query, "user_ids")


def device_filter(query: Any, segments: list[str] | None) -> dict[str, Any] | None:
    """The people filter of a devices request: `device_ids`, `current_user_ids`, `segment_ids`, `updated_since`."""
    since = params.iso_time(query, "updated_since")
    where = {
        "deviceIds": params.values(query, "device_ids"),
        "userIds": params.values(query, "current_user_ids"),
        "segments": segments,
        "updatedSince": None if since is None else since.isoformat(),
    }
    found = {name: value for name, value in where.items() if value is not None}
    return found or None


async def devices(request: web.Request, principal: Principal) -> web.Response:
    query = request.rel_url.query
    paging = params.paging(query)
    names = DEVICES.chosen(params.values(query, "fields"))
    segments = params.values(query, "segment_ids")
    if segments is not None:
        segments = await segment_ids(request, principal, segments)
    data = await graph.run(
        request,
        principal,
        "devices",
        {
            "app": request.match_info["app"],
            **window(paging),
            "where": device_filter(query, segments),
        },
    )
    node = data.get("node") or {}
    if "devices" not in node:
        raise Failure(404, APP_NOT_FOUND)
    listed = node["devices"]
    items = DEVICES.shape_all(listed["nodes"], names, {"application_id": node["id"]})
    total = listed["totalCount"]
    return page_reply("devices", items, total, paging)


def segment_object(node: dict[str, Any]) -> dict[str, Any]:
    return {
        "identifier": node["identifier"],
        "name": node["name"],
        "app_identifier": node["product"]["id"],
        "created_at": node["createdAt"],
        "updated_at": node["updatedAt"],
    }


async def segments(request: web.Request, principal: Principal) -> web.Response:
    paging = params.paging(request.rel_url.query)
    data = await graph.run(
        request,
        principal,
        "segments",
        window(paging),
        operation_name="FaSegments",
    )
    listed = data["segments"]
    total = listed["totalCount"]
    items = [segment_object(node) for node in listed["nodes"]]
    return page_reply("segments", items, total, paging)


async def segment_devices(request: web.Request, principal: Principal) -> web.Response:
    query = request.rel_url.query
    paging = params.paging(query)
    names = DEVICES.chosen(params.values(query, "fields"))
    segment = await find_segment(request, principal, request.match_info["segment"])
    if segment is None:
        raise Failure(404, SEGMENT_NOT_FOUND)
    data = await graph.run(
        request,
        principal,
        "segment_devices",
        {"segment": segment["id"], **window(paging)},
    )
    node = data.get("node") or {}
    listed = node["devices"]
    app = node["product"]["id"]
    items = DEVICES.shape_all(listed["nodes"], names, {"application_id": app})
    total = listed["totalCount"]
    return page_reply("devices", items, total, paging)
