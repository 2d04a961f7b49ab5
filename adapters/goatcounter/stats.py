"""The statistics endpoints: `/api/v0/paths`, `/stats/total`, `/stats/hits`, `/stats/hits/{path_id}`,
`/stats/{page}` and `/stats/{page}/{id}`, read through `Product.webAnalytics`.

GoatCounter counts visitors: every `count` here is a number of visitors (first visits of a path by a session).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from adapters.goatcounter import replies
from adapters.goatcounter.api import ApiCall, numeric_id
from adapters.goatcounter.params import path_list, read_query, whole_number
from adapters.goatcounter.periods import day_stats, days, graph_period, period
from adapters.goatcounter.replies import ApiError
from resolvers.node import to_global_id

PAGES = ("browsers", "systems", "locations", "languages", "sizes", "campaigns", "toprefs")
DETAIL_PAGES = ("browsers", "systems", "locations", "sizes", "campaigns", "toprefs")
DIMENSIONS = {
    "browsers": "BROWSER",
    "systems": "SYSTEM",
    "locations": "LOCATION",
    "languages": "LANGUAGE",
    "sizes": "SIZE",
    "campaigns": "CAMPAIGN",
    "toprefs": "REFERRER",
}
UNKNOWN = "(unknown)"


def _limit(query: dict[str, Any], default: int, most: int) -> int:
    return max(1, min(int(query.get("limit", default)), most))


def _paths(
    query: dict[str, Any], include: str = "include_paths", exclude: str | None = None
) -> dict[str, Any] | None:
    """The graph's path filter of `include_paths` / `exclude_paths` (by id, or by name with `path_by_name`)."""
    by_name = bool(query.get("path_by_name"))
    included_ids, included_names = path_list(include, query.get(include), by_name)
    excluded_ids, excluded_names = path_list(exclude, query.get(exclude), by_name) if exclude else ([], [])
    if not (included_ids or included_names or excluded_ids or excluded_names):
        return None
    found: dict[str, Any] = {}
    if included_ids or included_names:
        found["include"] = [to_global_id("WebPath", pk) for pk in included_ids]
        found["includeNames"] = included_names
    if excluded_ids or excluded_names:
        found["exclude"] = [to_global_id("WebPath", pk) for pk in excluded_ids]
        found["excludeNames"] = excluded_names
    return found


def _web(data: dict[str, Any]) -> dict[str, Any]:
    node = data.get("node")
    if not node:
        raise ApiError(404, "not found")
    return node["webAnalytics"]  # type: ignore[no-any-return]


async def paths(call: ApiCall) -> web.StreamResponse:
    """GET /api/v0/paths: the site's paths by id, `limit` (1 to 200) after `after`."""
    await call.authorize("stats")
    query = read_query(call.request, {"limit": "int", "after": "int"})
    site = await call.site()
    after = query.get("after", 0)
    variables = {
        "id": site.id,
        "limit": _limit(query, 20, 200),
        "after": to_global_id("WebPath", after) if after > 0 else None,
    }
    found = _web(await call.run("paths", variables))["paths"]
    listed = [
        {"id": numeric_id(p["id"]), "path": p["path"], "title": p["title"], "event": p["event"]}
        for p in found["paths"]
    ]
    return replies.success(call.request, {"paths": listed, "more": found["more"]})


async def total(call: ApiCall) -> web.StreamResponse:
    """GET /api/v0/stats/total: the site's visitors per hour over the period."""
    await call.authorize("stats")
    query = read_query(
        call.request, {"start": "time", "end": "time", "include_paths": "ints", "path_by_name": "bool"}
    )
    filter_ = _paths(query)
    site = await call.site()
    start, end = period(query, site.timezone)
    variables = {"id": site.id, "period": graph_period(start, end), "paths": filter_}
    totals = _web(await call.run("totals", variables))["totals"]
    visitors = totals["visitors"] if end >= start else 0
    body = {
        "total": visitors,
        "total_events": totals["eventVisitors"] if end >= start else 0,
        "total_utc": visitors,
        "stats": day_stats(totals["series"], days(start, end, site.timezone)),
    }
    return replies.success(call.request, body)


async def hits(call: ApiCall) -> web.StreamResponse:
    """GET /api/v0/stats/hits: the period's most visited paths, each with its visitors per hour and day."""
    await call.authorize("stats")
    query = read_query(
        call.request,
        {
            "start": "time",
            "end": "time",
            "limit": "int",
            "include_paths": "ints",
            "exclude_paths": "ints",
            "path_by_name": "bool",
            "daily": "bool",
        },
    )
    filter_ = _paths(query, "include_paths", "exclude_paths")
    site = await call.site()
    start, end = period(query, site.timezone)
    variables = {
        "id": site.id,
        "period": graph_period(start, end),
        "paths": filter_,
        "limit": _limit(query, 20, 100),
    }
    found = _web(await call.run("pages", variables))["pages"]
    period_days = days(start, end, site.timezone)
    listed = []
    for page in found["pages"]:
        stats = day_stats(page["series"], period_days)
        if query.get("daily"):
            most = max((day["daily"] for day in stats), default=0)
        else:
            most = max((value for day in stats for value in day["hourly"]), default=0)
        path = page["path"]
        listed.append(
            {
                "count": page["visitors"],
                "path_id": numeric_id(path["id"]),
                "path": path["path"],
                "event": path["event"],
                "title": path["title"],
                "max": most,
                "stats": stats,
            }
        )
    body = {"hits": listed, "total": sum(item["count"] for item in listed), "more": found["more"]}
    return replies.success(call.request, body)


_PAGE_QUERY = {
    "start": "time",
    "end": "time",
    "limit": "int",
    "offset": "int",
    "include_paths": "ints",
    "path_by_name": "bool",
}


async def _breakdown(
    call: ApiCall, dimension: str, query: dict[str, Any], filter_: dict[str, Any] | None
) -> dict[str, Any]:
    site = await call.site()
    start, end = period(query, site.timezone)
    variables = {
        "id": site.id,
        "dimension": dimension,
        "period": graph_period(start, end),
        "paths": filter_,
        "limit": _limit(query, 20, 100),
        "offset": max(0, int(query.get("offset", 0))),
    }
    return _web(await call.run("breakdown", variables))["breakdown"]  # type: ignore[no-any-return]


async def refs(call: ApiCall) -> web.StreamResponse:
    """GET /api/v0/stats/hits/{path_id}: the referrers that brought visitors to one path."""
    await call.authorize("stats")
    path_id = whole_number("path_id", call.params["path_id"])
    query = read_query(call.request, {"start": "time", "end": "time", "limit": "int", "offset": "int"})
    found = await _breakdown(call, "REFERRER", query, {"include": [to_global_id("WebPath", path_id)]})
    listed = [
        {"name": s["value"], "count": s["visitors"], "ref_scheme": s["referrerScheme"]}
        for s in found["stats"]
    ]
    return replies.success(call.request, {"refs": listed, "more": found["more"]})


def _page(call: ApiCall, allowed: tuple[str, ...]) -> str:
    page = call.params["page"]
    if page not in allowed:
        raise ApiError(400, errors={"page": [f"must be one of ‘{', '.join(allowed)}’"]})
    return page


def _entry(page: str, stat: dict[str, Any]) -> dict[str, Any]:
    """One value of a stats page as GoatCounter lists it: an id (most pages), a name, the visitors."""
    value, name = stat["value"], stat["name"]
    if page in ("locations", "languages") and not value:
        value = name = UNKNOWN
    if page == "sizes":
        entry: dict[str, Any] = {"id": value, "name": ""}
    elif page == "campaigns":
        entry = {"id": str(numeric_id(stat["id"])) if stat["id"] else value, "name": value}
    elif page == "toprefs":
        entry = {"id": value, "name": value} if value else {"name": value}
    else:
        entry = {"id": value, "name": name} if value else {"name": name}
    entry["count"] = stat["visitors"]
    if page == "toprefs":
        entry["ref_scheme"] = stat["referrerScheme"]
    return entry


async def stats(call: ApiCall) -> web.StreamResponse:
    """GET /api/v0/stats/{page}: the period's browsers, systems, locations, languages, sizes, campaigns or
    referrers, most visitors first."""
    page = _page(call, PAGES)
    await call.authorize("stats")
    query = read_query(call.request, _PAGE_QUERY)
    found = await _breakdown(call, DIMENSIONS[page], query, _paths(query))
    listed = [_entry(page, stat) for stat in found["stats"]]
    return replies.success(call.request, {"stats": listed, "more": found["more"]})


async def detail(call: ApiCall) -> web.StreamResponse:
    """GET /api/v0/stats/{page}/{id}: one value's details (a browser's versions, a country's regions, ...)."""
    page = _page(call, DETAIL_PAGES)
    await call.authorize("stats")
    query = read_query(call.request, _PAGE_QUERY)
    filter_ = _paths(query)
    site = await call.site()
    start, end = period(query, site.timezone)
    value: str | None = call.params["id"]
    campaign = None
    if page == "campaigns":
        campaign = to_global_id("WebCampaign", whole_number("id", call.params["id"]))
        value = None
    variables = {
        "id": site.id,
        "dimension": DIMENSIONS[page],
        "period": graph_period(start, end),
        "value": value,
        "campaign": campaign,
        "paths": filter_,
        "limit": _limit(query, 20, 100),
        "offset": max(0, int(query.get("offset", 0))),
    }
    found = _web(await call.run("details", variables))["breakdownDetails"]
    listed = [{"name": stat["name"], "count": stat["visitors"]} for stat in found["stats"]]
    return replies.success(call.request, {"stats": listed, "more": found["more"]})
