"""Countly's replies: `{"result": message}` messages and data documents, as JSON or JSONP, with its escaping."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from aiohttp import web

from gateway.execution.fast_path import RawJson
from gateway.json_text import compact_json

CONTENT_TYPE = "application/json; charset=utf-8"
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "POST, GET, OPTIONS",
    "Access-Control-Allow-Headers": "countly-token, Content-Type",
}
_CALLBACK = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$.]{0,99}$")
_DATA_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"})
_MESSAGE_ESCAPES = str.maketrans({"<": "&lt;", ">": "&gt;"})


# values that stay as they are; documents are mostly numbers, which then cost no call each
_PLAIN = frozenset({int, float, bool, type(None)})


def escape_data(value: Any) -> Any:
    """Every string value of a data document HTML-escaped (`" ' & < >`); keys are left as they are."""
    if isinstance(value, str):
        return value.translate(_DATA_ESCAPES)
    if isinstance(value, dict):
        return {key: item if type(item) in _PLAIN else escape_data(item) for key, item in value.items()}
    if isinstance(value, list):
        return [item if type(item) in _PLAIN else escape_data(item) for item in value]
    return value


def _escapable(text: str) -> bool:
    """Whether escaping could change a document, from its JSON text: & < > ' as they are, " after a backslash.

    Keys count too, so a key may raise a false alarm, which only costs the escaping pass. Five substring
    searches rather than one regular expression, which walks the text several times slower.
    """
    return "&" in text or "<" in text or ">" in text or "'" in text or '\\"' in text


def _respond(status: int, text: str, callback: str | None) -> web.Response:
    if callback and _CALLBACK.match(callback):
        text = f"{callback}({text})"
    # the headers aiohttp's text= and then ours would give, in that order, set at once
    return web.Response(status=status, body=text.encode("utf-8"), headers=_HEADERS)


_HEADERS = {"Content-Type": CONTENT_TYPE, "Access-Control-Allow-Origin": "*"}


def message(status: int, text: str, callback: str | None = None, **extra: str) -> web.Response:
    """A message reply `{"result": text}` (plus e.g. `info`), `< >` escaped."""
    return _respond(status, _message_text(text, tuple(extra.items())), callback)


@lru_cache(maxsize=256)
def _message_text(text: str, extra: tuple[tuple[str, str], ...]) -> str:
    # every write is answered with one of a few messages: each is written once
    body: dict[str, str] = {"result": text.translate(_MESSAGE_ESCAPES)}
    body.update({key: value.translate(_MESSAGE_ESCAPES) for key, value in extra})
    return compact_json(body)


def data(document: Any, callback: str | None = None, status: int = 200) -> web.Response:
    """A data reply: the document with its string values HTML-escaped (`RawJson`: text already escaped)."""
    if type(document) is RawJson:
        return _respond(status, document.text, callback)
    text = compact_json(document)
    if _escapable(text):  # most documents are numbers and plain names: nothing to escape, no copy
        text = compact_json(escape_data(document))
    return _respond(status, text, callback)


def options() -> web.Response:
    """The answer to a CORS preflight."""
    response = web.Response(status=200, text="")
    response.headers.update(CORS_HEADERS)
    return response


def method_not_allowed() -> web.Response:
    response = message(405, "Method not allowed")
    response.headers["Allow"] = "GET, POST, OPTIONS"
    return response
