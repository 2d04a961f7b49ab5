"""The Core API's reply shapes (`reference/kissmetrics.md`): envelopes, links, the `Link` header, errors.

Every href is absolute, built from the scheme and host of the request that is answered; list links spell out
`limit` and `offset`. JSON is compact, keys in the order the real service sends them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from gateway.execution.graphql_core import GRAPHQL_MAX_INT
from gateway.json_text import compact_json, compact_json_bytes

JSON_TYPE = "application/json; charset=utf-8"
CACHED = "max-age=0, private, must-revalidate"
MESSAGES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "request_too_large",
    500: "internal_error",
    503: "service_unavailable",
}


def base_url(request: web.Request) -> str:
    """The scheme and host the client called (a proxy's `X-Forwarded-Proto` is not trusted)."""
    return f"{request.scheme}://{request.host}"


def link(name: str, rel: str, href: str, templated: bool = False) -> dict[str, Any]:
    return {"name": name, "rel": rel, "href": href, "templated": templated}


def iso(value: str | None, zulu: bool = False) -> str | None:
    """A graph timestamp as the Core API writes it: whole seconds, `+00:00` (accounts: `Z`)."""
    if value is None:
        return None
    if len(value) >= 25 and value.endswith("+00:00") and value[19] in ".+":
        # the graph writes UTC times as `YYYY-MM-DDTHH:MM:SS[.ffffff]+00:00`: only the fraction goes
        return value[:19] + ("Z" if zulu else "+00:00")
    moment = datetime.fromisoformat(value).astimezone(UTC).replace(microsecond=0)
    text = moment.isoformat()
    return text.replace("+00:00", "Z") if zulu else text


@dataclass(frozen=True)
class Page:
    """A list request's paging: `limit` (default 20) and `offset` (default 0)."""

    limit: int
    offset: int


class BadRequest(Exception):
    """A malformed request: answered 400 in the Core API's shape."""


def page_of(request: web.Request, max_limit: int) -> Page:
    def number(name: str, default: int, low: int, high: int) -> int:
        raw = request.query.get(name)
        if raw is None or raw == "":
            return default
        text = raw.strip()
        # ASCII digits only (`str.isdigit` also admits `²`, which `int` refuses), and no more of them than the
        # bound has: `int` refuses numbers of thousands of digits
        if not (text.isascii() and text.isdigit()) or len(text.lstrip("0")) > len(str(high)):
            raise BadRequest(name)
        value = int(text)
        if not low <= value <= high:
            raise BadRequest(name)
        return value

    return Page(limit=number("limit", 20, 1, max_limit), offset=number("offset", 0, 0, GRAPHQL_MAX_INT))


def paging_links(
    url: str, page: Page, total: int, extra: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """self, first, last, and next / prev when they apply."""

    def at(offset: int) -> str:
        return f"{url}?{urlencode({**(extra or {}), 'limit': page.limit, 'offset': offset})}"

    last = max(0, (total - 1) // page.limit * page.limit) if total else 0
    links = [
        link("Self", "self", at(page.offset)),
        link("First", "first", at(0)),
        link("Last", "last", at(last)),
    ]
    if page.offset + page.limit < total:
        links.append(link("Next", "next", at(page.offset + page.limit)))
    if page.offset > 0:
        links.append(link("Previous", "prev", at(max(0, page.offset - page.limit))))
    return links


def _link_header(links: list[dict[str, Any]]) -> str:
    return ",".join(
        f'<{item["href"]}>; rel="{item["rel"]}"; templated="{str(item["templated"]).lower()}"'
        for item in links
    )


def ok(body: dict[str, Any], status: int = 200) -> web.Response:
    """A 200 reply: the body, its top-level links repeated in `Link`, an ETag."""
    # the Core API's objects hold text, integers, booleans and nulls, never a float
    text = compact_json_bytes(body, floats=False)
    headers = {
        "Content-Type": JSON_TYPE,
        "Cache-Control": CACHED,
        "ETag": '"' + hashlib.md5(text, usedforsecurity=False).hexdigest() + '"',
    }
    links = body.get("links")
    if links:
        headers["Link"] = _link_header(links)
    return web.Response(status=status, body=text, headers=headers)


def listing(data: list[dict[str, Any]], page: Page, total: int, links: list[dict[str, Any]]) -> web.Response:
    return ok(
        {
            "meta": {"status": 200},
            "data": data,
            "pagination": {"limit": page.limit, "offset": page.offset, "total": total},
            "links": links,
        }
    )


def single(data: dict[str, Any], self_href: str) -> web.Response:
    return ok({"meta": {"status": 200}, "data": data, "links": [link("Self", "self", self_href)]})


def error(status: int) -> web.Response:
    """An error in the Core API's `meta` shape (401, 403, 404, 400; 503 during a database outage, 500)."""
    message = MESSAGES.get(status, "error")
    body = {"meta": {"status": status, "message": message.replace("_", " "), "errors": [message]}}
    return web.Response(
        status=status,
        body=compact_json(body).encode("utf-8"),
        headers={"Content-Type": JSON_TYPE, "Cache-Control": "no-cache"},
    )
