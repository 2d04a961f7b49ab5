"""Input values: where what any dialect sends is checked and normalised before the graph and the engine see it.

Clients reach PostgreSQL through two doors that every dialect shares (Countly, KISSmetrics, GoatCounter,
FollowAnalytics and `/graphql` alike): the graph's inputs (GraphQL variables and literals, the `JSON` and
`DateTime` scalars) and the ingestion engine's model (`gateway.ingest.model.TrackRequest` / `EventInput`). Both
apply the functions below, so a dialect added later gets the same guarantees without code of its own:
PostgreSQL refuses U+0000 in text and jsonb, lone surrogates cannot be encoded as UTF-8, floats summed into a
rollup overflow to infinity, instants beyond its calendar come back as naive `-infinity`/`infinity`, index
entries have a size limit, and deeply nested JSON overflows Python's stack. None of that may reach a client as
a 500, nor poison stored data.

API (pure functions; `BadInput` is the only exception raised, and its message is safe to show to clients):

Text
    text(value, max_chars=None) -> str    U+0000 removed, lone surrogates replaced by U+FFFD, cut to max_chars
    optional_text(value, max_chars=None)  the same, None staying None (non-strings are printed with str())
    is_clean(text) -> bool                whether `text` needs no change (no U+0000, no lone surrogate)
JSON
    loads(data) -> Any                    strict JSON text (no NaN/Infinity, no number beyond the float range,
                                          nested at most MAX_PARSE_DEPTH levels, parsed without recursion in
                                          Python); BadInput otherwise
    json_value(value) -> Any              a decoded JSON value with clean strings and keys and non-finite numbers
                                          as null; BadInput when nested deeper than MAX_JSON_DEPTH
    json_object(value) -> dict | None     `json_value` of a dict (anything else: None)
    clean_strings(value) -> Any           every string of a structure (GraphQL variables) made `text`; the same
                                          object when nothing needs a change
Numbers
    measure(value) -> float | None        a finite number within +-MAX_MEASURE (clamped), for values summed into
                                          rollups (event sums and durations); None when it is not a number
    count(value) -> int                   an occurrence count: 1..MAX_COUNT (anything else counts 1)
    row_id(value) -> int                  a database id, 1..2**63-1; BadInput otherwise
Time
    instant(value, now=None) -> datetime  a client timestamp (10 digits: seconds, 13: milliseconds, or ISO 8601)
                                          as an aware UTC instant within [EARLIEST, now]; unparseable: now
    aware(value) -> datetime              a datetime as an aware UTC instant within [EARLIEST, LATEST] (naive:
                                          UTC); for times read back from storage and cursors
    calendar_instant(value) -> datetime   a datetime as an aware UTC instant within [FIRST_INSTANT,
                                          LAST_INSTANT] (naive: UTC): every instant PostgreSQL stores as a finite
                                          timestamp, so that a caller may still refuse one (before 1970, ...)
    timezone(name) -> str                 the name of an IANA time zone that exists; BadInput otherwise
    zone(name) -> ZoneInfo                the zone of a name, UTC when it is unknown or malformed (never raises)

Limits (module constants): MAX_JSON_DEPTH, MAX_PARSE_DEPTH, MAX_MEASURE, MAX_COUNT, MAX_INDEXED_CHARS (text
that ends up in an index: metric values, segmentation keys and values), EARLIEST, LATEST.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from math import isfinite
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson

# JSON values the graph stores (segmentation, user details, report definitions, ...): levels of nesting
MAX_JSON_DEPTH = 64
# JSON documents parsed from requests (bodies, parameters): orjson's own limit, reached without Python recursion
MAX_PARSE_DEPTH = 1024
# a value summed into a rollup: 2**53, the largest integer a JavaScript client reads exactly. A rollup row would
# need more than 10**292 such values to overflow a double, so sums stay finite however many rows are added.
MAX_MEASURE = float(2**53)
# an event's occurrence count (the events.count column is an integer)
MAX_COUNT = 2**31 - 1
MAX_ROW_ID = 2**63 - 1
# characters of a text kept in an index (btree entries are limited to about 2,700 bytes; 4 bytes per character)
MAX_INDEXED_CHARS = 500
# the instants the gateway stores and compares: before EARLIEST nothing happened that an SDK can report, and
# PostgreSQL's and Python's calendars both hold every instant up to LATEST, in every time zone
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
# the ends of the calendar every time zone can convert to and from, and that PostgreSQL stores as finite instants
# (asyncpg sends year 1's first instant as -infinity, and the last one of 9999 as infinity)
FIRST_INSTANT = datetime(1, 1, 2, tzinfo=UTC)
LAST_INSTANT = datetime(9999, 12, 30, tzinfo=UTC)
_MAX_ZONE_CHARS = 64
_ZONE_NAME = re.compile(r"^[A-Za-z0-9_+\-]+(/[A-Za-z0-9_+\-]+)*$")
_DIGITS = re.compile(r"^\d+(\.\d+)?$")
_CONTAINERS = (dict, list)


class BadInput(ValueError):
    """A value that cannot be normalised; the message says why, in terms a client understands."""


# -- text ---------------------------------------------------------------------------------------------------


def is_clean(value: str) -> bool:
    """Whether `value` holds neither U+0000 nor a lone surrogate (what PostgreSQL's text cannot hold)."""
    if "\x00" in value:
        return False
    if value.isascii():
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def text(value: Any, max_chars: int | None = None) -> str:
    """`value` as text PostgreSQL can store: U+0000 removed, lone surrogates replaced by U+FFFD, at most
    `max_chars` characters. Non-strings are printed with `str`."""
    if type(value) is not str:
        value = str(value)
    if not is_clean(value):
        # through UTF-16: a high and a low half next to each other become their character, a lone one U+FFFD
        value = value.replace("\x00", "").encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    if max_chars is not None and len(value) > max_chars:
        value = value[:max_chars]
    return value


def optional_text(value: Any, max_chars: int | None = None) -> str | None:
    """`text(value, max_chars)`, or None for None."""
    return None if value is None else text(value, max_chars)


# -- JSON ---------------------------------------------------------------------------------------------------


def loads(data: str | bytes) -> Any:
    """A JSON document from a request: strict JSON, nested at most MAX_PARSE_DEPTH levels; BadInput otherwise.

    orjson parses without recursion in Python and refuses NaN, Infinity, numbers beyond the float range and
    lone surrogate escapes, none of which JSON has. Integers beyond 64 bits are read as floats.
    """
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as error:
        reason = str(error)
        if "depth" in reason:
            raise BadInput(f"JSON nested deeper than {MAX_PARSE_DEPTH} levels") from None
        if "surrogate" not in reason:
            raise BadInput("not valid JSON") from None
    # JSON's grammar allows an escaped lone surrogate ("\ud800"), which orjson refuses: the standard library
    # reads it (its strings are then made text by whoever stores them), still without NaN, Infinity or 1e999
    try:
        return json.loads(data, parse_constant=_not_a_number, parse_float=_finite)
    except RecursionError:
        raise BadInput(f"JSON nested deeper than {MAX_PARSE_DEPTH} levels") from None
    except ValueError:
        raise BadInput("not valid JSON") from None


def _not_a_number(name: str) -> float:
    raise ValueError(name)


def _finite(literal: str) -> float:
    number = float(literal)
    if not isfinite(number):
        raise ValueError(literal)
    return number


def json_value(value: Any) -> Any:
    """A decoded JSON value ready to store: strings and keys as `text`, non-finite numbers as null, nested at
    most MAX_JSON_DEPTH levels (BadInput otherwise). Returns `value` itself when nothing needs a change."""
    if type(value) in (str, int, bool) or value is None:
        return text(value) if type(value) is str and not is_clean(value) else value
    try:
        data = orjson.dumps(value)  # in C: fails on lone surrogates, non-str keys, ints beyond 64 bits, depth
    except TypeError:
        return _rebuilt(value)
    # orjson writes NaN and infinities as null, and U+0000 as \u0000: only then is a walk needed (a false alarm,
    # a null or the text "\u0000" of a string, only costs the walk); brackets counted include those in strings
    if b"null" in data or b"\\u0000" in data or data.count(b"[") + data.count(b"{") > MAX_JSON_DEPTH:
        return _rebuilt(value)
    return value


def json_object(value: Any) -> dict[str, Any] | None:
    """`json_value` of a dict; None for anything else."""
    if not isinstance(value, dict):
        return None
    result = json_value(value)
    return result if isinstance(result, dict) else None


def _rebuilt(value: Any) -> Any:
    """`json_value` the long way: an iterative copy (no recursion, whatever the depth)."""
    if not isinstance(value, _CONTAINERS):
        return _leaf(value)
    root: Any = {} if isinstance(value, dict) else []
    stack: list[tuple[Any, Any, int]] = [(value, root, 1)]
    while stack:
        source, target, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise BadInput(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
        items = source.items() if isinstance(source, dict) else enumerate(source)
        for key, item in items:
            if isinstance(item, _CONTAINERS):
                copy: Any = {} if isinstance(item, dict) else []
                stack.append((item, copy, depth + 1))
            else:
                copy = _leaf(item)
            if isinstance(target, dict):
                target[text(key)] = copy
            else:
                target.append(copy)
    return root


def _leaf(value: Any) -> Any:
    if type(value) is str:
        return text(value)
    if isinstance(value, float):
        return value if isfinite(value) else None
    if value is None or isinstance(value, bool | int):
        return value
    return text(value)  # not a JSON type: its text


def clean_strings(value: Any) -> Any:
    """Every string in `value` (dicts, lists, scalars: GraphQL variables as decoded) made `text`, keys included.

    The same object when nothing needs a change, which one orjson pass in C tells for most values.
    """
    try:
        data = orjson.dumps(value)
    except TypeError:  # lone surrogates, integers beyond 64 bits, nesting deeper than orjson writes
        return _cleaned(value)
    if b"\\u0000" in data:
        return _cleaned(value)
    return value


def _cleaned(value: Any) -> Any:
    """`clean_strings` the long way: an iterative copy of the containers (numbers and the rest kept as they are)."""
    if not isinstance(value, _CONTAINERS):
        return text(value) if type(value) is str else value
    root: Any = {} if isinstance(value, dict) else []
    stack: list[tuple[Any, Any]] = [(value, root)]
    while stack:
        source, target = stack.pop()
        items = source.items() if isinstance(source, dict) else enumerate(source)
        for key, item in items:
            if isinstance(item, _CONTAINERS):
                copy: Any = {} if isinstance(item, dict) else []
                stack.append((item, copy))
            else:
                copy = text(item) if type(item) is str else item
            if isinstance(target, dict):
                target[text(key) if type(key) is str else key] = copy
            else:
                target.append(copy)
    return root


# -- numbers ------------------------------------------------------------------------------------------------


def measure(value: Any) -> float | None:
    """A number summed into rollups (an event's sum or duration): finite, clamped to +-MAX_MEASURE; None when
    `value` is not a finite number (numeric text is read)."""
    if type(value) is float:
        number = value
    elif value is None or isinstance(value, bool):
        return None
    elif isinstance(value, int):
        number = float(max(-MAX_MEASURE, min(MAX_MEASURE, value)))
    else:
        try:
            number = float(value)
        except (TypeError, ValueError, OverflowError):
            return None
    if not -MAX_MEASURE <= number <= MAX_MEASURE:  # NaN fails both comparisons
        if number != number or not isfinite(number):
            return None
        return MAX_MEASURE if number > 0 else -MAX_MEASURE
    return number


def count(value: Any) -> int:
    """An occurrence count: a whole number 1..MAX_COUNT; anything else (absent, zero, negative, not a number)
    counts once, and larger ones are clamped."""
    if type(value) is int:
        number = value
    else:
        try:
            number = int(value)
        except (TypeError, ValueError, OverflowError):
            return 1
    if number <= 0:
        return 1
    return min(number, MAX_COUNT)


def row_id(value: Any) -> int:
    """A database id (1..2**63-1, PostgreSQL's bigint); BadInput otherwise."""
    if type(value) is int and 0 < value <= MAX_ROW_ID:
        return value
    raise BadInput("Not a valid id")


# -- time ---------------------------------------------------------------------------------------------------


def instant(value: Any, now: datetime | None = None) -> datetime:
    """The aware UTC instant a client's timestamp denotes, within [EARLIEST, now].

    10 digits are Unix seconds, 13 digits milliseconds (a fraction may follow); ISO 8601 with or without an
    offset (none: UTC). A time in the future is clamped to now, as Countly does; one before EARLIEST to EARLIEST;
    anything unparseable, or outside the calendar, means now.
    """
    now = now or datetime.now(UTC)
    parsed = _parse_instant(value)
    if parsed is None or parsed > now:
        return now
    return parsed if parsed >= EARLIEST else EARLIEST


def _parse_instant(value: Any) -> datetime | None:
    if type(value) is str and value.isascii() and value.isdigit():
        # what SDKs send: the general path below gives the same for plain ASCII digits, only slower
        return _epoch(value, len(value))
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, datetime):
        return aware(value)
    text_value = str(value).strip()
    if not text_value or len(text_value) > 64:
        return None
    if _DIGITS.match(text_value):
        return _epoch(text_value, len(text_value.split(".", 1)[0]))
    try:
        parsed = datetime.fromisoformat(
            text_value[:-1] + "+00:00" if text_value.endswith("Z") else text_value
        )
    except ValueError:
        return None
    return aware(parsed)


def _epoch(digits_text: str, digits: int) -> datetime | None:
    """`digits_text` (digits, maybe a fraction) as Unix seconds (10 whole digits) or milliseconds (13)."""
    try:
        number = float(digits_text)
        if digits == 10:
            return datetime.fromtimestamp(number, UTC)
        if digits == 13:
            return datetime.fromtimestamp(number / 1000.0, UTC)
    except (OverflowError, ValueError, OSError):
        return None
    return None


def aware(value: datetime, earliest: datetime = EARLIEST, latest: datetime = LATEST) -> datetime:
    """`value` as an aware UTC instant within [earliest, latest]; a naive value is taken as UTC.

    Offsets near the ends of the calendar (year 1 at +14:00, year 9999 at -12:00) cannot be converted to UTC
    in Python; such instants are clamped like every other out of range.
    """
    if value.tzinfo is None or value.utcoffset() is None:
        value = value.replace(tzinfo=UTC)
    else:
        offset = value.utcoffset() or timedelta(0)
        if value.year <= 1 or value.year >= 9999:  # the UTC time could fall outside datetime's range
            return earliest if value.year <= 1 else latest
        value = (value.replace(tzinfo=None) - offset).replace(tzinfo=UTC)
    if value < earliest:
        return earliest
    if value > latest:
        return latest
    return value


def calendar_instant(value: datetime) -> datetime:
    """`value` as an aware UTC instant within [FIRST_INSTANT, LAST_INSTANT] (naive: UTC): for instants given as
    arguments, which their reader may still check (a site's hit before 1970 is refused, not moved)."""
    return aware(value, FIRST_INSTANT, LAST_INSTANT)


def timezone(name: Any) -> str:
    """`name` when it names an IANA time zone that exists (e.g. Europe/Istanbul); BadInput otherwise."""
    if type(name) is not str or not name or len(name) > _MAX_ZONE_CHARS or not _ZONE_NAME.match(name):
        raise BadInput("Unknown time zone: use an IANA name such as Europe/Istanbul")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise BadInput(f"Unknown time zone {name!r}: use an IANA name such as Europe/Istanbul") from None
    return name


def zone(name: Any) -> ZoneInfo:
    """The zone `name` names; UTC when it is missing, unknown or malformed. Never raises."""
    try:
        return ZoneInfo(timezone(name))
    except BadInput:
        return ZoneInfo("UTC")
