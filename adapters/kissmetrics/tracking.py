"""KISSmetrics' tracking API: `/e` (record an event), `/s` (set properties), `/a` (alias), as `record` requests.

Only translation happens here: the beacon's parameters (query string, and the form body of a POST) become a
`RecordInput` of the person `_p` (KISSmetrics' rules for names: `,` and `:` become spaces, at most 255
characters; event names are case-insensitive, so they are kept in lower case). Properties, identities, aliases
and the once-per-second rule for events are the graph's (gateway/ingest/people.py). The reply is the 1x1 GIF,
with 200 once the write has committed (or was refused: bad input, an unknown or paused product, as KISSmetrics
answers), since beacons live in `<img>` tags and clients count only the 200. A write that could not be stored
is never acknowledged: during a database outage the GIF comes with 503 and `Retry-After`, after an internal
failure with 500 (`TRACK_SHAPE`, gateway/http/error_shapes.py).

Beacon query strings come from two kinds of encoders: form encoders (Python's urlencode, browsers' forms) write
a space as `+` and escape `@`; JavaScript's `encodeURI` (the npm client) writes a space as `%20` and leaves `+`
and `@` as they are. A query string with `%20` or an unescaped `@` was not written by a form encoder, so its
`+` is a plus sign; otherwise `+` is a space.
"""

from __future__ import annotations

import base64
import logging
import time
from typing import Any
from urllib.parse import unquote, unquote_plus

from aiohttp import web

from adapters.kissmetrics.operations import operation
from gateway.access.app_keys import product_for_app_key
from gateway.access.principal import Principal
from gateway.execution.coalescer import Coalescer
from gateway.execution.executor import RequestError
from gateway.execution.inprocess import run_operation
from gateway.http.error_shapes import ErrorShape
from gateway.state import state_of

log = logging.getLogger(__name__)

MAX_NAME_CHARS = 255
MAX_VALUE_CHARS = 8192
MAX_BODY_BYTES = 64 * 1024
RESERVED = frozenset({"_k", "_p", "_n", "_t", "_d"})
# the smallest transparent GIF, as trackers' <img> beacons expect
GIF = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
GIF_HEADERS = {
    "Content-Type": "image/gif",
    "Cache-Control": "no-cache, no-store, must-revalidate",
    "Access-Control-Allow-Origin": "*",
}
# tracking calls of one product sharing one `record` operation at most
MAX_SHARED = 100

TrackBatches = Coalescer[Principal, tuple[web.Request, dict[str, Any]], str]
TRACK_BATCHES = web.AppKey("kissmetrics_track_batches", Coalescer)


def gif() -> web.Response:
    return web.Response(status=200, body=GIF, headers=GIF_HEADERS)


def parse_beacon(text: str) -> list[tuple[str, str]]:
    """The name/value pairs of a query string or form body, in order (empty `&&` segments skipped)."""
    plus_is_space = "%20" not in text and "@" not in text
    decode = unquote_plus if plus_is_space else unquote
    pairs = []
    for segment in text.split("&"):
        if not segment:
            continue
        name, _, value = segment.partition("=")
        pairs.append((decode(name), decode(value)))
    return pairs


def clean_name(raw: str) -> str:
    """A KISSmetrics name (person, event, property): `,` and `:` become spaces; at most 255 characters."""
    return raw.replace(",", " ").replace(":", " ").strip()[:MAX_NAME_CHARS]


def _timestamp(params: dict[str, str]) -> str | None:
    """`_t` when `_d=1` (Unix seconds, also as a float, or milliseconds), else None (the time received)."""
    if params.get("_d", "").strip() != "1":
        return None
    try:
        seconds = float(params.get("_t", "").strip())
    except ValueError:
        return None
    if seconds != seconds or seconds in (float("inf"), float("-inf")) or seconds <= 0:
        return None
    if seconds >= 1e11:  # milliseconds
        seconds /= 1000
    return str(int(min(seconds, time.time() + 86400 * 365 * 100)))


def record_input(kind: str, pairs: list[tuple[str, str]]) -> dict[str, Any] | None:
    """The RecordInput of one tracking call (`kind`: e, s or a), or None when it names no person."""
    params: dict[str, str] = {}
    properties: dict[str, str] = {}
    for name, value in pairs:
        if name in RESERVED:
            params.setdefault(name, value)
            continue
        cleaned = clean_name(name)
        if cleaned:
            properties[cleaned] = value[:MAX_VALUE_CHARS]
    person = clean_name(params.get("_p", ""))
    if not person:
        return None
    item: dict[str, Any] = {"deviceId": person}
    timestamp = _timestamp(params)
    if timestamp is not None:
        item["timestamp"] = timestamp
    other = clean_name(params.get("_n", ""))
    if kind == "a":
        if not other:
            return None
        item["alias"] = other
        return item
    if kind == "e" and other:
        item["events"] = [{"key": other.lower()}]
        item["eventsOncePerSecond"] = True
    if properties:
        item["properties"] = properties
    return item


class Refused(Exception):
    """The graph refused a tracking call's input: answered with the GIF as any other, nothing stored."""


async def _record(request: web.Request, principal: Principal, items: list[dict[str, Any]]) -> list[str]:
    result = await run_operation(request, principal, operation("track"), {"requests": items})
    if result.errors:
        codes = {(error.extensions or {}).get("code") for error in result.errors}
        if codes <= {"BAD_USER_INPUT"}:
            raise Refused(result.errors[0].message)
        # not the input's fault: never acknowledged as stored (a 500 with the GIF, see TRACK_SHAPE)
        raise RuntimeError(f"record failed: {', '.join(sorted(str(c) for c in codes))}")
    rows = (result.data or {}).get("record") or []
    if len(rows) != len(items):
        raise RuntimeError(f"record gave {len(rows)} outcomes for {len(items)} calls")
    return [str(row["outcome"]) for row in rows]


def track_batches() -> TrackBatches:
    """Tracking calls of one product arriving together share one `record` operation."""

    async def record_many(
        principal: Principal, entries: list[tuple[web.Request, dict[str, Any]]]
    ) -> list[str]:
        return await _record(entries[0][0], principal, [item for _, item in entries])

    return Coalescer(record_many, max_items=MAX_SHARED)


async def _pairs(request: web.Request) -> list[tuple[str, str]]:
    pairs = parse_beacon(request.rel_url.raw_query_string)
    if request.method == "POST" and request.can_read_body:
        if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
            return pairs
        body = await request.content.read(MAX_BODY_BYTES + 1)
        if len(body) <= MAX_BODY_BYTES:
            pairs += parse_beacon(body.decode("utf-8", errors="replace"))
    return pairs


async def track(request: web.Request) -> web.StreamResponse:
    """`/e`, `/s`, `/a` (GET; POST with a form body for `/e` and `/s`): the GIF, once committed."""
    kind = request.path.strip("/")
    if request.method not in ("GET", "POST", "HEAD") or (request.method == "POST" and kind == "a"):
        return gif()
    try:
        pairs = await _pairs(request)
        key = next((value for name, value in pairs if name == "_k"), "").strip()
        item = record_input(kind, pairs)
    except (ValueError, UnicodeError) as error:
        log.warning("a KISSmetrics tracking call could not be read: %s", error)
        return gif()
    if not key or item is None:
        return gif()
    # a database outage here or below is not answered with the 200: TRACK_SHAPE's 503 says to retry
    found = await product_for_app_key(state_of(request).db, key)
    if found is None or found.status != "active":
        return gif()
    batches: TrackBatches = request.app[TRACK_BATCHES]
    try:
        await batches.run(found.principal, (request, item))
    except (RequestError, Refused) as error:
        # refused input: the client learns nothing but the 200, as from KISSmetrics; the log keeps why
        log.warning("a KISSmetrics tracking call was not stored: %s", error)
    return gif()


def _gif_error(_request: web.Request, status: int, _message: str) -> web.StreamResponse:
    """A failure the tracking call cannot be acknowledged through: its status (503 with `Retry-After` during a
    database outage, 500 otherwise), and still the GIF, so that an `<img>` beacon shows nothing broken and the
    official clients see a status other than 200."""
    return web.Response(status=status, body=GIF, headers=GIF_HEADERS)


TRACK_SHAPE = ErrorShape("kissmetrics-tracking", _gif_error)
