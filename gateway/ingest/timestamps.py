"""Client timestamps: 10 digits = seconds, 13 digits = milliseconds, ISO 8601 also accepted.

A timestamp in the future is clamped to now; anything unparseable means now. Results are aware UTC datetimes.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

_DIGITS = re.compile(r"^\d+(\.\d+)?$")


def parse_timestamp(value: str | int | float | None, now: datetime | None = None) -> datetime:
    """The UTC time a client's `timestamp` denotes, never later than `now`."""
    now = now or datetime.now(UTC)
    parsed = _parse(value)
    if parsed is None or parsed > now:
        return now
    return parsed


def _parse(value: str | int | float | None) -> datetime | None:
    if type(value) is str and value.isascii() and value.isdigit():
        # what SDKs send: the general path below gives the same for plain ASCII digits, only slower
        return _epoch(value, len(value))
    if value is None or isinstance(value, bool):
        return None
    text = str(value).strip()
    if not text:
        return None
    if _DIGITS.match(text):
        return _epoch(text, len(text.split(".", 1)[0]))
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _epoch(text: str, digits: int) -> datetime | None:
    """`text` (digits, maybe a fraction) as Unix seconds (10 whole digits) or milliseconds (13)."""
    try:
        number = float(text)
        if digits == 10:
            return datetime.fromtimestamp(number, UTC)
        if digits == 13:
            return datetime.fromtimestamp(number / 1000.0, UTC)
    except (OverflowError, ValueError, OSError):
        return None
    return None
