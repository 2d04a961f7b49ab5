"""Compact JSON text exactly as `json.dumps(value, separators=(",", ":"), ensure_ascii=False)` writes it, and
JSON text read exactly as `json.loads` reads it.

Replies of the shims and jsonb values are written on hot paths, so orjson writes them, but only where its
text is json's: anything orjson writes differently (floats below 1e-4, NaN and infinities written as null) or
refuses (integers beyond 64 bits, non-str keys, lone surrogates) goes through the json encoder. Subclasses,
datetimes and dataclasses make orjson raise too, so json decides on them (and refuses what it refuses).
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

# the encoder json.dumps(separators=(",", ":"), ensure_ascii=False) would build on every call
_COMPACT = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
# subclasses, datetimes and dataclasses go to orjson's `default` (none: TypeError), so json decides on them
_ORJSON_OPTIONS = (
    orjson.OPT_PASSTHROUGH_SUBCLASS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
)
# orjson reads integers beyond 64 bits as floats where json keeps them exact; such a number has 19+ digits
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_LONG_DIGITS = b"0" * 19
# orjson writes floats below 1e-4 as 0.00001 or 1e-7 (json: 1e-05, 1e-07) and NaN or infinities as null
# a digit followed by e- (a float such as 1e-07, or text like "v2e-mail"): [0-9]e- written to start with its
# literal, which the regular expression engine finds with a fast search (a digit class first made it try every
# byte: 0.4 ms for an 80 kB text holding "e-" in every row, 0.07 now)
_NEGATIVE_EXPONENT = re.compile(rb"e-(?<=[0-9]e-)")


def _orjson_text(value: Any, floats: bool = True, finite: bool = False) -> bytes | None:
    """orjson's UTF-8 text of `value` when it is certainly json's, else None. `floats=False`: the caller vouches
    that `value` holds no float, so the text needs no look for floats written differently (a `null` in it is
    a None); `finite=True`: that its floats are finite (no NaN or infinity), so a `null` is a None."""
    try:
        data = orjson.dumps(value, option=_ORJSON_OPTIONS)
    except TypeError:  # integers beyond 64 bits, non-str keys, lone surrogates, deep nesting
        return None
    if not floats:
        return data
    if (not finite and b"null" in data) or _below_1e_4(data) or _NEGATIVE_EXPONENT.search(data):
        return None  # maybe a float orjson writes differently (or a string that looks so)
    return data


def _below_1e_4(data: bytes) -> bool:
    """Whether the text holds a number written 0.0000...: one that starts so, no digit before it.

    (1930.000000000001 holds 0.0000 too, and is written alike by both.) `find` rather than a regular
    expression: a search with a look-behind walks a 50 kB document in about a millisecond.
    """
    start = data.find(b"0.0000")
    while start != -1:
        if start == 0 or not data[start - 1 : start].isdigit():
            return True
        start = data.find(b"0.0000", start + 6)
    return False


def compact_json(value: Any, *, finite: bool = False) -> str:
    """`json.dumps(value, separators=(",", ":"), ensure_ascii=False)` of a value made of JSON types; ValueError
    for a value nested deeper than the interpreter's stack allows (where json raises RecursionError).
    `finite=True` for values the caller knows hold no NaN or infinity (the graph's results: GraphQL's `Float`
    refuses them and jsonb cannot hold them), whose nulls then never take the json encoder."""
    data = _orjson_text(value, finite=finite)
    return _json_dumps(value) if data is None else data.decode("utf-8")


def compact_json_bytes(value: Any, *, floats: bool = True) -> bytes:
    """`compact_json(value)` encoded as UTF-8. `floats=False` for values the caller knows hold no float (text,
    integers, booleans, nulls), which then never take the json encoder for their nulls."""
    data = _orjson_text(value, floats)
    return _json_dumps(value).encode("utf-8") if data is None else data


def _json_dumps(value: Any) -> str:
    try:
        return _COMPACT.encode(value)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def loads_json(text: str) -> Any:
    """`json.loads(text)`, parsed by orjson where that gives the same value; raises what json.loads raises."""
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates, which orjson refuses
        return _json_loads(text)
    if _LONG_DIGITS not in data.translate(_DIGITS_AS_ZERO):
        try:
            return orjson.loads(data)
        except ValueError:
            pass  # NaN, Infinity, numbers overflowing to infinity, surrogate escapes, deep nesting: json decides
    return _json_loads(text)


def _json_loads(text: str) -> Any:
    try:
        return json.loads(text)
    except RecursionError:  # nested deeper than the interpreter's stack allows: not JSON this gateway reads
        raise ValueError("JSON nested too deeply") from None
