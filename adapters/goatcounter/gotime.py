"""Times as GoatCounter's Go server reads and writes them: RFC 3339 with Go's errors, `2006-01-02` dates."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

RFC3339 = "2006-01-02T15:04:05Z07:00"
# (layout element, its width in digits; 0 for literals and the zone)
_ELEMENTS = [
    ("2006", 4),
    ("-", 0),
    ("01", 2),
    ("-", 0),
    ("02", 2),
    ("T", 0),
    ("15", 2),
    (":", 0),
    ("04", 2),
    (":", 0),
    ("05", 2),
    ("Z07:00", 0),
]
_RANGES = {
    "01": (1, 12, "month"),
    "02": (1, 31, "day"),
    "15": (0, 23, "hour"),
    "04": (0, 59, "minute"),
    "05": (0, 59, "second"),
}


class GoTimeError(ValueError):
    """A time Go's `time.Parse(time.RFC3339, ...)` refuses, with Go's message."""


def parse_rfc3339(text: str) -> datetime:
    """`text` as Go parses RFC 3339 (fractional seconds allowed); raises GoTimeError with Go's words."""
    prefix = f'parsing time "{text}" as "{RFC3339}"'
    rest = text
    numbers: dict[str, int] = {}
    micros = 0
    offset: timezone | None = None
    for element, width in _ELEMENTS:
        if width:
            digits = rest[:width]
            if len(digits) < width or not digits.isdigit():
                raise GoTimeError(f'{prefix}: cannot parse "{rest}" as "{element}"')
            numbers[element] = int(digits)
            rest = rest[width:]
            if element == "05" and rest.startswith((".", ",")):
                end = 1
                while end < len(rest) and rest[end].isdigit():
                    end += 1
                fraction = rest[1:end]
                if not fraction:
                    raise GoTimeError(f'{prefix}: cannot parse "{rest}" as "Z07:00"')
                micros = int((fraction + "000000")[:6])
                rest = rest[end:]
        elif element == "Z07:00":
            if rest.startswith("Z"):
                offset, rest = UTC, rest[1:]
            elif (
                len(rest) >= 6
                and rest[0] in "+-"
                and rest[1:3].isdigit()
                and rest[3] == ":"
                and rest[4:6].isdigit()
            ):
                minutes = int(rest[1:3]) * 60 + int(rest[4:6])
                offset = timezone((-1 if rest[0] == "-" else 1) * timedelta(minutes=minutes))
                rest = rest[6:]
            else:
                raise GoTimeError(f'{prefix}: cannot parse "{rest}" as "Z07:00"')
        else:
            if not rest.startswith(element):
                raise GoTimeError(f'{prefix}: cannot parse "{rest}" as "{element}"')
            rest = rest[len(element) :]
    if rest:
        raise GoTimeError(f'{prefix}: extra text: "{rest}"')
    for element, (low, high, name) in _RANGES.items():
        if not low <= numbers[element] <= high:
            raise GoTimeError(f"{prefix}: {name} out of range")
    try:
        return datetime(
            numbers["2006"],
            numbers["01"],
            numbers["02"],
            numbers["15"],
            numbers["04"],
            numbers["05"],
            micros,
            tzinfo=offset,
        )
    except (ValueError, OverflowError):
        raise GoTimeError(f"{prefix}: day out of range") from None


def parse_date_or_time(text: str) -> datetime | date | None:
    """A query's `start` / `end`: `2006-01-02` (a date) or RFC 3339 (a time); None when neither."""
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        return parse_rfc3339(text)
    except ValueError:
        return None


def rfc3339(moment: datetime | None) -> str | None:
    """A time as GoatCounter writes the times it stores: UTC, to the second."""
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
