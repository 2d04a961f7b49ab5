"""JSON as GoatCounter's Go server writes and reads it.

Writing: `encoding/json` escapes `<`, `>`, `&`, U+2028 and U+2029 inside strings, writes other characters as
UTF-8, indents by two spaces (`MarshalIndent`) and its encoder ends with a newline; maps have sorted keys.
Reading: Go's decoder matches field names case-insensitively, refuses unknown fields (GoatCounter asks it to),
and words its errors its own way; `decode_error` words Python's errors the same way for the common cases.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

# the characters Go escapes besides JSON's own; in a JSON text they occur only inside strings, so the encoded
# bytes are replaced as a whole
_ESCAPES = (
    (b"<", b"\\u003c"),
    (b">", b"\\u003e"),
    (b"&", b"\\u0026"),
    ("\u2028".encode(), b"\\u2028"),
    ("\u2029".encode(), b"\\u2029"),
)
_OPTIONS = orjson.OPT_NON_STR_KEYS


def _escape(body: bytes) -> bytes:
    for char, escaped in _ESCAPES:
        if char in body:
            body = body.replace(char, escaped)
    return body


def indented(value: Any) -> bytes:
    """`value` as GoatCounter's API writes a reply: indented by two spaces, then a newline."""
    return _escape(orjson.dumps(value, option=_OPTIONS | orjson.OPT_INDENT_2)) + b"\n"


def compact(value: Any) -> bytes:
    """`value` as Go's `json.Marshal` writes it (no spaces, no newline)."""
    return _escape(orjson.dumps(value, option=_OPTIONS))


def decode_error(text: str, error: json.JSONDecodeError) -> str:
    """What Go's decoder says of the syntax error Python found at `error.pos`."""
    pos = error.pos
    if pos >= len(text.rstrip()):
        return "unexpected end of JSON input"
    char = text[pos]
    shown = repr(char)[1:-1] if char in "\n\r\t" else char
    message = error.msg
    if message.startswith("Expecting property name"):
        context = "looking for beginning of object key string"
    elif message.startswith("Expecting ':'"):
        context = "after object key"
    elif message.startswith("Expecting ','"):
        before = text[:pos].rstrip()
        context = "after array element" if _innermost(before) == "[" else "after object key:value pair"
    elif message.startswith("Extra data"):
        context = "after top-level value"
    elif message.startswith("Invalid control character"):
        context = "in string literal"
    elif message.startswith("Invalid \\escape") or message.startswith("Invalid \\u"):
        context = "in string escape code"
    else:
        context = "looking for beginning of value"
    return f"invalid character '{shown}' {context}"


def _innermost(text: str) -> str:
    """The innermost open bracket of a JSON prefix ('' at top level), skipping strings."""
    stack: list[str] = []
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            stack.append(char)
        elif char in "]}" and stack:
            stack.pop()
    return stack[-1] if stack else ""


def json_type(value: Any) -> str:
    """The JSON type of a decoded value, in Go's words."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"
