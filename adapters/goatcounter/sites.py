"""Sites and the caller: `/api/v0/sites` (list, get, create, replace, merge) and `/api/v0/me`, over products.

A GoatCounter site is a product: its `code` the product's site code, its `cname` the product's first host, its
`link_domain` the product's URL, its `public` and `ignore_ips` settings the product's; its parent is the
account's first product. Settings this gateway has no use for (secret, data_retention, collect, ...) are shown
with GoatCounter's defaults and not stored.
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from aiohttp import web

from adapters.goatcounter import replies
from adapters.goatcounter.api import ApiCall, numeric_id, permission_bits
from adapters.goatcounter.gotime import rfc3339
from adapters.goatcounter.params import Obj, read_body, whole_number
from adapters.goatcounter.replies import ApiError
from resolvers.node import to_global_id

SETTINGS = Obj(
    "SiteSettings",
    {
        "public": "any",
        "secret": "string",
        "allow_counter": "bool",
        "allow_bosmang": "bool",
        "data_retention": "int",
        "ignore_ips": "any",
        "collect": "int",
        "collect_regions": "any",
        "allow_embed": "any",
        "campaigns": "any",
    },
)
SITE = Obj(
    "Site",
    {
        "id": "int64",
        "parent": "any",
        "cname": "any",
        "cname_setup_at": "any",
        "code": "string",
        "link_domain": "string",
        "setttings": SETTINGS,
        "user_defaults": "any",
        "received_data": "bool",
        "state": "string",
        "created_at": "any",
        "updated_at": "any",
        "first_hit_at": "any",
    },
)
UPDATE = Obj("apiSiteUpdateRequest", {"settings": SETTINGS, "cname": "any", "link_domain": "string"})

# GoatCounter's defaults for a user's settings, as its API shows them (the time zone is the site's)
USER_DEFAULTS: dict[str, Any] = {
    "twenty_four_hours": False,
    "sunday_starts_week": False,
    "language": "en-GB",
    "date_format": "2 Jan ’06",
    "number_format": 8239,
    "timezone": ".UTC",
    "widgets": [
        {"n": "pages", "s": {"limit_pages": 10, "limit_refs": 10, "style": "line"}},
        {"n": "totalpages", "s": {"align": False, "no-events": False, "style": "line"}},
        {"n": "toprefs", "s": {"key": None, "limit": 6}},
        {"n": "campaigns", "s": {"key": None, "limit": 6}},
        {"n": "browsers", "s": {"key": None, "limit": 6}},
        {"n": "systems", "s": {"key": None, "limit": 6}},
        {"n": "locations", "s": {"key": "", "limit": 6}},
        {"n": "languages", "s": {"limit": 6}},
        {"n": "sizes", "s": {"key": None}},
    ],
    "views": [{"name": "default", "filter": "", "group": 0, "period": "week"}],
    "email_reports": 0,
    "fewer_numbers": False,
    "fewer_numbers_lock_until": "0001-01-01T00:00:00Z",
    "theme": "",
    "datepicker": False,
}


def user_defaults(timezone: str) -> dict[str, Any]:
    found = copy.deepcopy(USER_DEFAULTS)
    found["timezone"] = "." + timezone
    return found


def _time(text: str | None) -> str | None:
    return rfc3339(datetime.fromisoformat(text)) if text else None


def site_json(site: dict[str, Any], parent: int | None) -> dict[str, Any]:
    """A product as GoatCounter's Site."""
    pk = numeric_id(site["id"])
    hosts = site["hosts"]
    cname = hosts[0] if hosts else None
    created, updated = site["createdAt"], site["updatedAt"]
    return {
        "id": pk,
        "parent": None if parent is None or parent == pk else parent,
        "cname": cname,
        "cname_setup_at": _time(created) if cname else None,
        "code": site["siteCode"],
        "link_domain": site["url"] or "",
        "setttings": {
            "public": "public" if site["public"] else "private",
            "secret": "",
            "allow_counter": False,
            "allow_bosmang": False,
            "data_retention": 0,
            "ignore_ips": ", ".join(site["ignoredIps"]),
            "collect": 190,
            "collect_regions": "US,RU,CN",
            "allow_embed": "",
        },
        "user_defaults": user_defaults(site["timezone"]),
        "received_data": site["firstWebHitAt"] is not None,
        "state": "a",
        "created_at": _time(created),
        "updated_at": None if updated == created else _time(updated),
        "first_hit_at": _time(site["firstWebHitAt"] or created),
    }


async def _site(call: ApiCall, pk: int) -> dict[str, Any]:
    data = await call.run("site", {"id": to_global_id("Product", pk)})
    node = data.get("node")
    if not node or "siteCode" not in node:
        raise ApiError(404, "not found")
    first = data["products"]["nodes"]
    return site_json(node, numeric_id(first[0]["id"]) if first else None)


async def site_list(call: ApiCall) -> web.StreamResponse:
    """GET /api/v0/sites."""
    await call.authorize("site-read")
    nodes = (await call.run("sites"))["products"]["nodes"]
    parent = numeric_id(nodes[0]["id"]) if nodes else None
    return replies.success(call.request, {"sites": [site_json(node, parent) for node in nodes]})


async def site_get(call: ApiCall) -> web.StreamResponse:
    """GET /api/v0/sites/{id}."""
    await call.authorize("site-read")
    pk = whole_number("id", call.params["id"])
    return replies.success(call.request, await _site(call, pk))


def _cname_errors(cname: Any) -> list[str]:
    if not isinstance(cname, str) or not cname.strip():
        return ["must be set"]
    problems = []
    if len(cname) < 4:
        problems.append("must be longer than 4 characters")
    labels = cname.strip(".").split(".")
    if len(cname) < 4:
        problems.append("must be a valid domain: too short")
    elif len(labels) < 2 or any(not label for label in labels):
        problems.append("must be a valid domain: must have at least one dot")
    return problems


def _settings_input(settings: dict[str, Any] | None) -> dict[str, Any]:
    """The product changes of a site's settings (those the gateway keeps: public, ignore_ips)."""
    if settings is None:
        return {}
    changes: dict[str, Any] = {}
    if "public" in settings:
        changes["public"] = settings["public"] in ("public", True)
    if "ignore_ips" in settings:
        raw = settings["ignore_ips"]
        items = raw if isinstance(raw, list) else str(raw or "").split(",")
        changes["ignoredIps"] = [str(item).strip() for item in items if str(item).strip()]
    return changes


def _conflict(error: ApiError) -> ApiError:
    """The graph's refusal of a host or an IP as GoatCounter's field errors."""
    if error.error and "already used" in error.error:
        return ApiError(400, errors={"cname": ["already exists"]})
    if error.error and "is not an IP address" in error.error:
        return ApiError(400, errors={"settings.ignore_ips": [error.error]})
    if error.error and "host name" in error.error:
        return ApiError(400, errors={"cname": ["must be a valid domain: " + error.error]})
    return error


async def site_create(call: ApiCall) -> web.StreamResponse:
    """PUT /api/v0/sites: a new site named by its `cname`."""
    await call.authorize("site-create")
    body = await read_body(call.request, SITE)
    cname = body.get("cname")
    problems = _cname_errors(cname)
    if problems:
        raise ApiError(400, errors={"cname": problems})
    assert isinstance(cname, str)
    product_input = {"name": cname, "hosts": [cname], "url": body.get("link_domain") or None}
    product_input.update(_settings_input(body.get("setttings")))
    try:
        created = await call.run("site_create", {"input": product_input}, changes=True)
    except ApiError as error:
        raise _conflict(error) from None
    return replies.success(call.request, await _site(call, numeric_id(created["createProduct"]["id"])))


async def site_update(call: ApiCall) -> web.StreamResponse:
    """POST (replace: what is not sent is blanked) or PATCH (merge) /api/v0/sites/{id}."""
    await call.authorize("site-update")
    pk = whole_number("id", call.params["id"])
    await _site(call, pk)  # 404 for a site the token may not see
    body = await read_body(call.request, UPDATE)
    replace = call.request.method == "POST"
    changes: dict[str, Any] = {}
    if "cname" in body or replace:
        cname = body.get("cname")
        if cname is not None and _cname_errors(cname):
            raise ApiError(400, errors={"cname": _cname_errors(cname)})
        changes["hosts"] = [cname] if cname else []
    if "link_domain" in body or replace:
        changes["url"] = body.get("link_domain") or None
    settings = body.get("settings")
    if replace and settings is None:
        settings = {"public": "private", "ignore_ips": ""}
    elif replace:
        settings = {"public": "private", "ignore_ips": "", **(settings or {})}
    changes.update(_settings_input(settings))
    if changes:
        try:
            await call.run("site_update", {"id": to_global_id("Product", pk), "input": changes}, changes=True)
        except ApiError as error:
            raise _conflict(error) from None
    return replies.success(call.request, await _site(call, pk))


async def me(call: ApiCall) -> web.StreamResponse:
    """GET /api/v0/me: the token's user and the token (any token may ask)."""
    principal = await call.authorize()
    data = await call.run("me")
    token = data["viewer"]["token"] or {}
    user = token.get("user") or {}
    first = data["products"]["nodes"]
    created = _time(user.get("createdAt") or token.get("createdAt"))
    product_ids = token.get("productIds")
    body = {
        "user": {
            "id": numeric_id(user["id"]) if user else 0,
            "site": numeric_id(first[0]["id"]) if first else 0,
            "email": user.get("email", ""),
            "email_verified": True,
            "totp_enabled": False,
            "access": {"all": "*"},
            "login_at": None,
            "open_at": None,
            "reset_at": None,
            "settings": user_defaults(first[0]["timezone"] if first else "UTC"),
            "last_report_at": created,
            "created_at": created,
            "updated_at": None,
        },
        "token": {
            "name": token.get("name", ""),
            "permissions": permission_bits(principal),
            "sites": [-1] if product_ids is None else [numeric_id(p) for p in product_ids],
        },
    }
    return replies.success(call.request, body)
