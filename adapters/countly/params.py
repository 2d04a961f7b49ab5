"""Reading a Countly request: query string and body (form, multipart or JSON) merged into one parameter map.

Body fields override query-string fields. Values stay as sent (strings from forms, any JSON value from a JSON
body); `json_param` decodes the JSON-in-a-string parameters (`metrics`, `events`, ...) and ignores bad JSON, as
the real server does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

MAX_JSON_CHARS = 1_000_000


@dataclass
class CountlyRequest:
    """The merged parameters of one request and the raw text the duplicate hash and checksum are taken over."""

    params: dict[str, Any]
    query_string: str = ""
    body_text: str = ""
    method: str = "GET"
    headers: dict[str, str] = field(default_factory=dict)

    def text(self, name: str) -> str | None:
        """A parameter as a string (numbers and booleans are printed the JSON way), or None."""
        return as_text(self.params.get(name))


def as_text(value: Any) -> str | None:
    """A scalar parameter value as text; None for missing, null and structured values."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    if isinstance(value, str):
        return value
    return None


def json_param(value: Any) -> Any:
    """A JSON-in-a-string parameter decoded; an already decoded value as is; None for unparseable JSON."""
    if isinstance(value, str):
        if len(value) > MAX_JSON_CHARS:
            return None
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


def truthy(value: Any) -> bool:
    """Whether a flag parameter (`begin_session=1`, `"end_session": true`) is set."""
    if value is None or value is False:
        return False
    if isinstance(value, int | float):
        return value != 0
    if isinstance(value, str):
        return value.strip().lower() not in ("", "0", "false", "null", "undefined")
    return bool(value)


def as_int(value: Any) -> int | None:
    """A whole number as JavaScript's parseInt would read it (leading digits), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value == value and abs(value) != float("inf") else None
    if isinstance(value, str):
        text = value.strip()
        sign = ""
        if text[:1] in "+-" and text[:1]:
            sign, text = text[0], text[1:]
        digits = ""
        for char in text:
            if not char.isdigit() or not char.isascii():
                break
            digits += char
        if not digits or len(digits) > 30:
            return None
        return int(sign + digits)
    return None


def as_float(value: Any) -> float | None:
    """A finite number, from a number or numeric text; None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    if number != number or number in (float("inf"), float("-inf")):
        return None
    return number


async def read_request(request: web.Request) -> CountlyRequest:
    """The request's parameters: the query string, overridden by a form, multipart or JSON body."""
    params: dict[str, Any] = {key: request.query.getone(key) for key in request.query.keys()}
    body_text = ""
    if request.method == "POST" and request.can_read_body:
        content_type = request.content_type
        if content_type.startswith("multipart/"):
            form = await request.post()
            for key in form.keys():
                value = form.getone(key)
                if isinstance(value, str):
                    params[key] = value
            body_text = "&".join(f"{k}={v}" for k, v in form.items() if isinstance(v, str))
        else:
            raw = await request.read()
            body_text = raw.decode("utf-8", errors="replace")
            params.update(parse_body(body_text, content_type))
    return CountlyRequest(
        params=params,
        query_string=request.query_string,
        body_text=body_text,
        method=request.method,
        headers={k.lower(): v for k, v in request.headers.items()},
    )


def parse_body(text: str, content_type: str) -> dict[str, Any]:
    """Fields of a JSON object or urlencoded body (JSON is also recognised without its content type)."""
    from urllib.parse import parse_qsl

    stripped = text.strip()
    if content_type == "application/json" or stripped.startswith("{"):
        try:
            decoded = json.loads(stripped) if stripped else {}
        except ValueError:
            decoded = None
        if isinstance(decoded, dict):
            return {str(k): v for k, v in decoded.items()}
        if content_type == "application/json":
            return {}
    fields: dict[str, Any] = {}
    for key, value in parse_qsl(text, keep_blank_values=True):
        fields.setdefault(key, value)
    return fields
