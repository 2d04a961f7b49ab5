"""Reading a Countly request: query string and body (form, multipart or JSON) merged into one parameter map.

Body fields override query-string fields. Values stay as sent (strings from forms, any JSON value from a JSON
body); `json_param` decodes the JSON-in-a-string parameters (`metrics`, `events`, ...) and ignores bad JSON, as
the real server does.

Parsing is on the hot path of every write, so JSON goes through orjson and urlencoded bodies through a C
unescaper, but only where they give exactly what `json.loads` and `urllib.parse.parse_qsl` give: every other
input takes the standard library's path (`tests/adapters/countly/test_parsing_speedups.py` compares the two).
The writing side of the same is `gateway.json_text.compact_json`.
"""

from __future__ import annotations

import binascii
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from urllib.parse import unquote

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from gateway.json_text import loads_json

MAX_JSON_CHARS = 1_000_000


@dataclass
class CountlyRequest:
    """The merged parameters of one request and the raw text the duplicate hash and checksum are taken over."""

    params: dict[str, Any]
    query_string: str = ""
    body_text: str = ""
    method: str = "GET"
    raw_headers: Mapping[str, str] = field(default_factory=dict)

    def text(self, name: str) -> str | None:
        """A parameter as a string (numbers and booleans are printed the JSON way), or None."""
        return as_text(self.params.get(name))

    @cached_property
    def headers(self) -> dict[str, str]:
        """The headers by lower-case name (the last of repeated ones); built when asked, as writes never do."""
        return {name.lower(): value for name, value in self.raw_headers.items()}


def as_text(value: Any) -> str | None:
    """A scalar parameter value as text; None for missing, null and structured values."""
    if isinstance(value, str):
        return value
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return int.__repr__(value)  # what json.dumps writes for any int (it skips subclasses' __repr__ too)
    if isinstance(value, float):
        return float.__repr__(value) if math.isfinite(value) else json.dumps(value)  # json: NaN, Infinity
    return None


def json_param(value: Any) -> Any:
    """A JSON-in-a-string parameter decoded; an already decoded value as is; None for unparseable JSON."""
    if isinstance(value, str):
        if len(value) > MAX_JSON_CHARS:
            return None
        try:
            return loads_json(value)
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
    if value is None:
        return None
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
    if value is None:
        return None
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
    return number if math.isfinite(number) else None


async def read_request(request: web.Request) -> CountlyRequest:
    """The request's parameters: the query string, overridden by a form, multipart or JSON body."""
    params: dict[str, Any] = dict(request.query)  # a MultiDict's item is its first value, as getone
    body_text = ""
    if request.method == "POST" and request.can_read_body:
        content_type = request.content_type
        if content_type.startswith("multipart/"):
            try:
                form = await request.post()
            except (ValueError, HttpProcessingError):  # no boundary, a malformed part, not multipart at all
                raise web.HTTPBadRequest(reason="Invalid request body") from None
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
        raw_headers=request.headers,
    )


def parse_body(text: str, content_type: str) -> dict[str, Any]:
    """Fields of a JSON object or urlencoded body (JSON is also recognised without its content type)."""
    stripped = text.strip()
    if content_type == "application/json" or stripped.startswith("{"):
        try:
            decoded = loads_json(stripped) if stripped else {}
        except ValueError:
            decoded = None
        if isinstance(decoded, dict):
            return {str(k): v for k, v in decoded.items()}
        if content_type == "application/json":
            return {}
    return parse_form(text)


def parse_form(text: str) -> dict[str, str]:
    """An urlencoded text's fields, the first value of each name: `parse_qsl(text, keep_blank_values=True)`."""
    fields: dict[str, str] = {}
    for pair in text.split("&") if text else ():
        if not pair:
            continue
        name, _, value = pair.partition("=")
        name = unquote_plus(name)
        if name not in fields:
            fields[name] = unquote_plus(value)
    return fields


def unquote_plus(text: str) -> str:
    """`urllib.parse.unquote(text.replace("+", " "))`, as parse_qsl decodes names and values."""
    text = text.replace("+", " ")
    if "%" not in text:
        return text
    if text.isascii() and "=" not in text and "\r" not in text and "\n" not in text:
        # unquote goes escape by escape in Python; binascii's quoted-printable decoder turns `=XX` into the
        # same bytes in C. It differs only at a `=` without two hex digits after it (soft line breaks need a
        # CR or LF, excluded here), and each of those shortens the text by less than the 2 characters a
        # decoded escape does: the length tells whether every `%` was an escape. ASCII text is one run for
        # unquote, decoded as a whole.
        decoded = binascii.a2b_qp(text.replace("%", "="))
        if len(decoded) == len(text) - 2 * text.count("%"):
            return decoded.decode("utf-8", "replace")
    return unquote(text)
