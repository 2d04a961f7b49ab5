"""The write API: a Countly `/i` request (or one `/i/bulk` item) as a `RecordInput` of the `record` mutation.

Only translation happens here: parameter names, JSON-in-string decoding, dropping what Countly would ignore
(unparseable JSON, events without a key, non-scalar metric values) and the request's duplicate hash and signed
text, which Countly defines over the raw request. Sessions, caps, uniques and checksums are the engine's.
Those texts must never change between versions (a retried request would be stored twice), so the faster ways
they are built here are tested against the standard library ones in `test_parsing_speedups.py`.
"""

from __future__ import annotations

import hashlib
import re
import time
from typing import Any
from urllib.parse import quote

from adapters.countly.params import (
    CountlyRequest,
    as_float,
    as_int,
    as_text,
    json_param,
    truthy,
)
from gateway.input_values import BadInput, json_object
from gateway.json_text import compact_json

INT32_MAX = 2**31 - 1
MAX_EVENTS = 1000
MAX_KEY_CHARS = 500
_DYNAMIC = re.compile(r"[?&]?((?:rr|checksum|checksum256)=[^&\n]+)")
_SCALARS = (str, int, float, bool)
# what quote(text, safe="") leaves as it is; every other byte of the UTF-8 text becomes %XX (upper case)
_UNRESERVED = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~"
_BYTES = [bytes([byte]) for byte in range(256)]
_ESCAPED = [b"%%%02X" % byte for byte in range(256)]
_PUNCTUATION = b'"{}[]:,'
_MAX_REPLACED = 32  # distinct bytes to escape beyond which one pass per byte is slower than quote's one pass


def _clamp(value: int | None) -> int | None:
    if value is None or -INT32_MAX <= value <= INT32_MAX:
        return value
    return INT32_MAX if value > 0 else -INT32_MAX


def dedupe_hash(payload: str, timestamp: str | None, now_ms: int | None = None) -> str:
    """Countly's request hash: sha1 of the payload without `rr`/checksums, then the timestamp (or now, ms)."""
    # the pattern only matches at an `rr=` or `checksum`: skip scanning the (long) payloads without them
    cleaned = _DYNAMIC.sub("", payload) if "rr=" in payload or "checksum" in payload else payload
    suffix = timestamp if timestamp else str(now_ms if now_ms is not None else int(time.time() * 1000))
    return hashlib.sha1(cleaned.encode("utf-8")).hexdigest() + suffix


def request_payload(req: CountlyRequest) -> str:
    """The text a request's duplicate hash is taken over: its query string, then `&` and the POST body."""
    payload = req.query_string
    if req.method == "POST":
        payload += "&" + req.body_text
    return payload


def _strip_checksums(text: str, params: dict[str, Any]) -> str:
    for name in ("checksum", "checksum256"):
        value = as_text(params.get(name))
        if value:
            text = text.replace(f"&{name}={value}", "", 1).replace(f"{name}={value}", "", 1)
    return text


def signed_payload(req: CountlyRequest) -> str:
    """What the client signed: the POST body when it carries the checksum, else the query string."""
    in_body = any(f"{name}=" in req.body_text for name in ("checksum", "checksum256"))
    text = req.body_text if req.method == "POST" and (in_body or not req.query_string) else req.query_string
    return _strip_checksums(text, req.params)


def _segmentation(value: Any) -> dict[str, Any] | None:
    decoded = value if type(value) is dict else json_param(value)
    if not isinstance(decoded, dict):
        return None
    kept: dict[str, Any] = {}
    for key, item in decoded.items():
        kind = type(item)
        if (kind is str or kind is int) and type(key) is str and key:  # most items: kept as they are
            kept[key] = item
            continue
        if isinstance(item, _SCALARS) and (name := str(key)):
            kept[name] = as_float(item) if isinstance(item, float) else item  # NaN and infinities: None
    return kept or None


def event_input(raw: Any) -> dict[str, Any] | None:
    """One `events[]` item as an EventOccurrenceInput, or None when Countly would ignore it (no usable key)."""
    if not isinstance(raw, dict):
        return None
    get = raw.get
    key = get("key")
    if type(key) is not str and (key := as_text(key)) is None:
        return None
    stripped = key.strip()
    if not stripped or len(stripped) > MAX_KEY_CHARS:
        return None
    count = get("count")
    if type(count) is not int:  # a JSON integer is taken as it is, but for the clamp
        count = as_int(count)
    event: dict[str, Any] = {"key": key, "count": 1 if count is None else _clamp(count)}
    # absent fields are the common case: looked up once, converted only when present
    if (total := get("sum")) is not None and (total := as_float(total)) is not None:
        event["sum"] = total
    if (duration := get("dur")) is not None and (duration := as_float(duration)) is not None:
        event["duration"] = duration
    if (segmentation := get("segmentation")) is not None and (segmentation := _segmentation(segmentation)):
        event["segmentation"] = segmentation
    timestamp = get("timestamp")
    if timestamp is not None and (timestamp := as_text(timestamp)):
        event["timestamp"] = timestamp
    return event


def _events(value: Any) -> list[dict[str, Any]]:
    decoded = json_param(value)
    if isinstance(decoded, dict):
        decoded = [decoded]
    if not isinstance(decoded, list):
        return []
    events = [event for event in map(event_input, decoded) if event is not None]
    return events[:MAX_EVENTS]


def _metrics(value: Any) -> dict[str, Any] | None:
    decoded = json_param(value)
    if not isinstance(decoded, dict):
        return None
    kept = {str(k): v for k, v in decoded.items() if isinstance(v, _SCALARS) and not isinstance(v, bool)}
    return {k: v for k, v in kept.items() if not isinstance(v, float) or as_float(v) is not None} or None


def _object(value: Any) -> dict[str, Any] | None:
    decoded = json_param(value)
    if not isinstance(decoded, dict) or not decoded:
        return None
    try:
        return json_object(decoded)  # nested beyond the limit: ignored, like unparseable JSON
    except BadInput:
        return None


# RecordInput fields taken as text when given: (GraphQL field, Countly parameter)
_OPTIONAL_TEXTS = (
    ("oldDeviceId", "old_device_id"),
    ("country", "country_code"),
    ("city", "city"),
    ("location", "location"),
    ("checksum", "checksum"),
    ("checksum256", "checksum256"),
)


# the `hc` object of an SDK health check: (HealthCheckInput field, key)
_HEALTH_COUNTS = (
    ("errorLogs", "el"),
    ("warningLogs", "wl"),
    ("statusCode", "sc"),
    ("backoffs", "bom"),
    ("consecutiveBackoffs", "cbom"),
)


def health_check(params: dict[str, Any]) -> dict[str, Any] | None:
    """The HealthCheckInput of a request carrying `hc` (countly-sdk-web sends one at every start, with
    `hc={"el","wl","sc","em","bom","cbom"}` and often `device_id=undefined`), else None."""
    if params.get("hc") is None:
        return None
    check: dict[str, Any] = {
        "sdkName": as_text(params.get("sdk_name")) or "",
        "sdkVersion": as_text(params.get("sdk_version")) or "",
    }
    reported = _object(params.get("hc")) or {}
    for field, name in _HEALTH_COUNTS:
        value = as_int(reported.get(name))
        if value is not None:
            check[field] = _clamp(value)
    message = as_text(reported.get("em"))
    if message:
        decoded = json_param(message)  # the SDK sends a non-empty message JSON-encoded once more
        check["errorMessage"] = decoded if isinstance(decoded, str) else message
    return check


def record_input(
    params: dict[str, Any],
    device_id: str,
    dedupe: str | None,
    checksum_payload: str | None,
) -> dict[str, Any]:
    """The RecordInput variables of one write request (of an SDK health check: that check alone)."""
    item: dict[str, Any] = {"deviceId": device_id, "dedupeHash": dedupe}
    check = health_check(params)
    if check is not None:
        item["healthCheck"] = check
        for field, name in (("checksum", "checksum"), ("checksum256", "checksum256")):
            if (value := as_text(params.get(name))) is not None:
                item[field] = value
        if checksum_payload is not None:
            item["checksumPayload"] = checksum_payload
        return item
    timestamp = as_text(params.get("timestamp"))
    if timestamp:
        item["timestamp"] = timestamp
    if truthy(params.get("begin_session")):
        item["beginSession"] = True
    if truthy(params.get("end_session")):
        item["endSession"] = True
    duration = as_int(params.get("session_duration"))
    if duration is not None:
        item["sessionDuration"] = _clamp(duration)
    metrics = _metrics(params.get("metrics"))
    if metrics:
        item["metrics"] = metrics
    events = _events(params.get("events"))
    if events:
        item["events"] = events
    details = _object(params.get("user_details"))
    if details:
        item["userDetails"] = details
    for field, name in _OPTIONAL_TEXTS:
        value = params.get(name)
        if value is not None and (value := as_text(value)) is not None:
            item[field] = value
    if checksum_payload is not None:
        item["checksumPayload"] = checksum_payload
    return item


def bulk_item_payload(item: dict[str, Any]) -> str:
    """The text standing for one `/i/bulk` item in its duplicate hash and checksum: the item as a query string."""
    parts = []
    for key, value in item.items():
        text = as_text(value)
        if text is None:
            text = compact_json(value)
        parts.append(f"{quote_component(str(key))}={quote_component(text)}")
    return "&".join(parts)


def quote_component(text: str) -> str:
    """`urllib.parse.quote(text, safe="")`, with one C pass per distinct byte to escape instead of one
    Python step per byte."""
    data = text.encode("utf-8")
    rest = data.translate(None, _UNRESERVED)
    if not rest:
        return text
    # JSON's punctuation (most of what an item's events escape) is looked for byte by byte, and only the rest
    # goes into the set: a set of every byte to escape took longer than the escaping itself
    escaped = {byte for byte in _PUNCTUATION if byte in rest}
    others = rest.translate(None, _PUNCTUATION)
    if others:
        escaped.update(others)
    if len(escaped) > _MAX_REPLACED:
        return quote(text, safe="")
    if 0x25 in escaped:  # `%` first: the escapes written for the other bytes start with one
        data = data.replace(b"%", b"%25")
        escaped.discard(0x25)
    for byte in escaped:
        data = data.replace(_BYTES[byte], _ESCAPED[byte])
    return data.decode("ascii")
