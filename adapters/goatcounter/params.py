"""Reading GoatCounter API requests: query parameters and JSON bodies, as its Go server reads them.

Names match case-insensitively (`Limit=2`, `{"Hits": [...]}`); an unknown one is refused (`unknown parameter:
"x"`); a value of the wrong type is refused with Go's words (`invalid JSON: json: cannot unmarshal array into Go
struct field APICountRequestHit.hits.size of type goatcounter.Floats`, `invalid query parameters: formam: ...`).
A spec names each field's type: "string", "int", "bool", "zbool" (a boolean also sent as "true", "1", "on"...),
"floats" (a string of comma-separated numbers), "time" (RFC 3339), ("list", spec), or an `Obj`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from typing import Any

from aiohttp import web

from adapters.goatcounter import gojson
from adapters.goatcounter.gotime import GoTimeError, parse_date_or_time, parse_rfc3339
from adapters.goatcounter.replies import ApiError

Spec = Any  # str | tuple[str, Spec] | Obj
INT64 = 2**63


@dataclass(frozen=True)
class Obj:
    """A JSON object of known fields (a Go struct: `name` is its type, as Go's errors name it)."""

    name: str
    fields: dict[str, Spec] = field(default_factory=dict)


def bad_request(message: str) -> ApiError:
    return ApiError(400, message)


# -- query parameters ------------------------------------------------------------------------------------------


def _parse_int(text: str) -> int:
    try:
        value = int(text, 10)
    except ValueError:
        raise bad_request(
            f'invalid query parameters: formam: could not parse number: strconv.ParseInt: parsing "{text}": '
            "invalid syntax"
        ) from None
    if not -INT64 <= value < INT64:
        raise bad_request(
            f'invalid query parameters: formam: could not parse number: strconv.ParseInt: parsing "{text}": '
            "value out of range"
        )
    return value


_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
_FALSE = {"0", "f", "F", "FALSE", "false", "False"}


def _parse_bool(text: str) -> bool:
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise bad_request(
        f'invalid query parameters: formam: could not parse bool: strconv.ParseBool: parsing "{text}": '
        "invalid syntax"
    )


def _parse_ints(name: str, values: list[str]) -> list[int]:
    found = []
    for value in values:
        for item in value.split(","):
            try:
                number = int(item, 10)
                if not -INT64 <= number < INT64:
                    raise ValueError
            except ValueError:
                raise bad_request(
                    f'invalid number in {name}: strconv.ParseInt: parsing "{item}": invalid syntax'
                ) from None
            found.append(number)
    return found


def read_query(request: web.Request, spec: dict[str, str]) -> dict[str, Any]:
    """The query parameters of `spec` ("int", "bool", "time", "ints", "strings"), by their spec names."""
    values: dict[str, list[str]] = {}
    for key, value in request.query.items():
        name = key.lower()
        if name not in spec:
            raise bad_request(f'unknown parameter: "{key}"')
        values.setdefault(name, []).append(value)
    found: dict[str, Any] = {}
    for name, given in values.items():
        kind = spec[name]
        if kind == "int":
            found[name] = _parse_int(given[-1])
        elif kind == "bool":
            found[name] = _parse_bool(given[-1])
        elif kind == "time":
            moment = parse_date_or_time(given[-1])
            if moment is None:
                raise bad_request(
                    "invalid query parameters: formam: could not parse field: no suitable time formats"
                )
            found[name] = moment
        elif kind == "ints":
            found[name] = given
        else:
            found[name] = given[-1]
    return found


def path_list(name: str, raw: list[str] | None, by_name: bool) -> tuple[list[int], list[str]]:
    """`include_paths` / `exclude_paths`: (ids, names); names when `path_by_name`."""
    if not raw:
        return [], []
    if by_name:
        return [], [item for value in raw for item in value.split(",") if item]
    return _parse_ints(name, raw), []


def whole_number(name: str, text: str) -> int:
    """A path segment that must be a whole number (ids): refused as GoatCounter's validator does."""
    if text.isascii() and text.isdigit() and len(text) < 19:
        return int(text)
    raise ApiError(400, errors={name: ["must be a whole number"]})


# -- JSON bodies ----------------------------------------------------------------------------------------------


def _go_type(spec: Spec) -> str:
    if isinstance(spec, Obj):
        return spec.name
    if isinstance(spec, tuple):
        return "[]" + _go_type(spec[1])
    return {
        "string": "string",
        "int": "int",
        "int64": "int64",
        "bool": "bool",
        "zbool": "zdb.Bool",
        "floats": "goatcounter.Floats",
        "time": "time.Time",
        "any": "interface {}",
    }[spec]


def _zero(spec: Spec) -> Any:
    if isinstance(spec, Obj):
        return {}
    if isinstance(spec, tuple):
        return []
    return {"string": "", "floats": "", "int": 0, "int64": 0, "bool": False, "zbool": False}.get(spec)


class _Decoder:
    def __init__(self) -> None:
        self.struct = ""
        self.path: list[str] = []

    def mismatch(self, value: Any, spec: Spec) -> ApiError:
        kind = gojson.json_type(value)
        if kind == "number" and spec in ("int", "int64"):
            kind = f"number {json.dumps(value)}"
        where = f"Go struct field {self.struct}.{'.'.join(self.path)}" if self.path else "Go value"
        return bad_request(
            f"invalid JSON: json: cannot unmarshal {kind} into {where} of type {_go_type(spec)}"
        )

    def decode(self, value: Any, spec: Spec) -> Any:
        if value is None:
            return None
        if isinstance(spec, Obj):
            if not isinstance(value, dict):
                raise self.mismatch(value, spec)
            names = {name.lower(): name for name in spec.fields}
            decoded: dict[str, Any] = {}
            outer = self.struct
            for key, item in value.items():
                name = names.get(key.lower())
                if name is None:
                    raise bad_request(f'unknown parameter: "{key}"')
                self.struct = spec.name
                self.path.append(name)
                decoded[name] = self.decode(item, spec.fields[name])
                self.path.pop()
            self.struct = outer
            return decoded
        if isinstance(spec, tuple):
            if not isinstance(value, list):
                raise self.mismatch(value, spec)
            # a null element is the element's zero value, as Go decodes it
            return [_zero(spec[1]) if item is None else self.decode(item, spec[1]) for item in value]
        return self._scalar(value, spec)

    def _scalar(self, value: Any, spec: str) -> Any:
        if spec == "any":
            return value
        if spec == "string":
            if not isinstance(value, str):
                raise self.mismatch(value, spec)
            return value
        if spec in ("int", "int64"):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise self.mismatch(value, spec)
            if isinstance(value, float) and not value.is_integer() or not -INT64 <= value < INT64:
                raise self.mismatch(value, spec)
            return int(value)
        if spec == "bool":
            if not isinstance(value, bool):
                raise self.mismatch(value, spec)
            return value
        if spec == "zbool":
            if isinstance(value, bool):
                return value
            if isinstance(value, str):
                lowered = value.strip().lower()
                if lowered in ("true", "1", "on", "yes"):
                    return True
                if lowered in ("false", "0", "off", "no", ""):
                    return False
                raise bad_request(f'invalid JSON: zdb.Bool: invalid value "{value}"')
            if isinstance(value, int | float):
                return value != 0
            raise self.mismatch(value, spec)
        if spec == "floats":
            if not isinstance(value, str):
                raise self.mismatch(value, spec)
            return value
        if spec == "time":
            if not isinstance(value, str):
                raise bad_request("invalid JSON: Time.UnmarshalJSON: input is not a JSON string")
            try:
                return parse_rfc3339(value)
            except GoTimeError as error:
                raise bad_request(f"invalid JSON: {error}") from None
        raise AssertionError(spec)


def decode_body(raw: bytes, spec: Obj) -> dict[str, Any]:
    """A request body as `spec`; an empty body is an empty object. Invalid UTF-8 is replaced, as Go does."""
    text = raw.decode("utf-8", "replace")
    if not text.strip():
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise bad_request(f"invalid JSON: {gojson.decode_error(text, error)}") from None
    except RecursionError:
        raise bad_request("invalid JSON: exceeded max depth") from None
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise bad_request(
            f"invalid JSON: json: cannot unmarshal {gojson.json_type(value)} into Go value of type handlers.{spec.name}"
        )
    decoded = _Decoder().decode(value, spec)
    assert isinstance(decoded, dict)
    return decoded


async def read_body(request: web.Request, spec: Obj) -> dict[str, Any]:
    """The request's JSON body as `spec`."""
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise ApiError(413, "request body too large") from None
    return decode_body(raw, spec)


def as_time(moment: datetime | date, zone: tzinfo) -> datetime:
    """A `start` / `end` as a time: a date is 00:00 of that day in the site's time zone."""
    if isinstance(moment, datetime):
        return moment
    return datetime(moment.year, moment.month, moment.day, tzinfo=zone)
