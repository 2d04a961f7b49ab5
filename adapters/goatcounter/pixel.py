"""`/count`: the hit a page's count.js (or an `<img>`) sends, answered with GoatCounter's 1x1 GIF.

The site is the one the request's `Host` names. Parameters: `p` path, `t` title, `r` referrer, `e` event, `s`
screen size, `b` the script's bot score, `q` the page's query (campaigns), `ns` no session; others are ignored.
The user agent, IP and language are the request's. Hits of one site arriving together share one
`recordPageviews` operation (`gateway.execution.coalescer`); the GIF is sent once they are committed. Why a hit
was not counted is told in `X-Goatcounter`.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from adapters.goatcounter import replies
from adapters.goatcounter.count import problem_text
from adapters.goatcounter.operations import operation
from gateway.access.client_limits import RateRule, client_limits
from gateway.access.hosts import host_name, product_for_host
from gateway.access.principal import Principal
from gateway.execution.coalescer import Coalescer
from gateway.execution.executor import RequestError
from gateway.execution.inprocess import run_operation
from gateway.http.client_ip import client_ip
from gateway.state import state_of

log = logging.getLogger(__name__)

PIXEL_RULE = RateRule("goatcounter-pixel", 4, 1.0)
MAX_PATH_BYTES = 2048
# hits of one site sharing one operation at most
MAX_SHARED = 200
_TRUE = {"true", "1", "on", "t", "yes"}
_FALSE = {"false", "0", "off", "f", "no", ""}

PixelBatches = Coalescer[Principal, tuple[web.Request, dict[str, Any]], dict[str, Any]]
PIXEL_BATCHES = web.AppKey("goatcounter_pixel_batches", Coalescer)


class PixelError(Exception):
    """A parameter the script would never send."""


def pixel_batches() -> PixelBatches:
    async def record_many(
        principal: Principal, entries: list[tuple[web.Request, dict[str, Any]]]
    ) -> list[dict[str, Any]]:
        variables = {
            "product": None,
            "hits": [hit for _, hit in entries],
            "source": "PAGE",
            "sessions": False,
            "filter": True,
        }
        result = await run_operation(entries[0][0], principal, operation("count"), variables)
        if result.errors or not result.data:
            raise RuntimeError(f"recordPageviews failed: {result.errors}")
        results: list[dict[str, Any]] = result.data["recordPageviews"]
        return results

    return Coalescer(record_many, max_items=MAX_SHARED)


def _flag(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise PixelError(f'error decoding parameters: zdb.Bool: invalid value "{value}"')


def _number(name: str, value: str) -> int:
    try:
        return int(value or "0")
    except ValueError:
        raise PixelError(
            f'error decoding parameters: strconv.ParseInt: parsing "{value}": invalid syntax'
        ) from None


def _screen(value: str) -> str:
    for part in value.split(","):
        try:
            float(part)
        except ValueError:
            raise PixelError(
                f'error decoding parameters: strconv.ParseFloat: parsing "{part}": invalid syntax'
            ) from None
    return value


def _prefetch(request: web.Request) -> bool:
    for header in ("Purpose", "X-Purpose", "Sec-Purpose", "X-Moz"):
        if "prefetch" in request.headers.get(header, "").lower() or "preview" in request.headers.get(
            header, ""
        ):
            return True
    return False


async def count_pixel(request: web.Request) -> web.StreamResponse:
    """GET or POST /count (see the module docstring)."""
    if request.method not in ("GET", "POST"):
        headers = {**replies.NO_STORE, "Content-Type": replies.HTML_TYPE}
        return web.Response(status=405, body=b"", headers=headers)
    user_agent = request.headers.get("User-Agent", "")
    ip = client_ip(request)
    limit = await client_limits(request).charge(PIXEL_RULE, f"{ip}\n{user_agent}")
    limited = limit.headers() if limit.rule.limit > 0 else {}
    if limit.exceeded:
        return replies.pixel(429, "rate limited", {**limited, "Retry-After": str(int(limit.reset))})
    if _prefetch(request):
        return replies.pixel(200, None, limited)
    query = request.query
    # GoatCounter measures the whole request URI
    size = len(request.raw_path.encode("utf-8", "surrogatepass"))
    if size > MAX_PATH_BYTES:
        note = f"ignored because path is longer than {MAX_PATH_BYTES} bytes ({size} bytes)"
        return replies.pixel(414, note, limited)
    try:
        event = _flag("e", query.get("e", ""))
        bot = _number("b", query.get("b", ""))
        screen = _screen(query["s"]) if query.get("s") else None
        no_session = _flag("ns", query["ns"]) if "ns" in query else False
    except PixelError as error:
        return replies.pixel(400, str(error), limited)
    if 0 < bot < 150:
        return replies.pixel(400, f"wrong value: b={bot}", limited)
    site = await product_for_host(state_of(request).db, request.headers.get("Host"))
    if site is None:
        host = host_name(request.headers.get("Host"))
        return replies.pixel(400, f'no site at this domain ("{host}")', limited)
    hit = {
        "path": query.get("p", ""),
        "title": query.get("t"),
        "event": event,
        "referrer": query.get("r"),
        "query": query.get("q"),
        "screen": screen,
        "bot": bot,
        "userAgent": user_agent,
        "ip": ip,
        "language": request.headers.get("Accept-Language"),
        "noSession": no_session,
    }
    batches: PixelBatches = request.app[PIXEL_BATCHES]
    try:
        result = await batches.run(site.principal, (request, hit))
    except (RequestError, RuntimeError):
        log.exception("a /count hit could not be recorded")
        return replies.pixel(500, "unexpected error", limited)
    outcome = result["outcome"]
    if outcome == "IGNORED":
        return replies.pixel(202, f'ignored because "{ip}" is in the IP ignore list', limited)
    if outcome == "REFUSED":
        return replies.pixel(400, "not valid: " + problem_text(result["problems"]), limited)
    if outcome in ("PRODUCT_PAUSED", "UNKNOWN_PRODUCT"):
        return replies.pixel(400, "site does not accept hits", limited)
    return replies.pixel(200, None, limited)
