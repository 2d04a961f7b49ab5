"""Client timestamps: 10 digits = seconds, 13 digits = milliseconds, ISO 8601 also accepted.

A timestamp in the future is clamped to now, one before 1970 to 1970 (`gateway.input_values.EARLIEST`);
anything unparseable means now. Results are aware UTC datetimes, which PostgreSQL, Python and every time zone's
calendar hold (`gateway.input_values.instant`).
"""

from __future__ import annotations

from datetime import datetime

from gateway.input_values import instant


def parse_timestamp(value: str | int | float | None, now: datetime | None = None) -> datetime:
    """The UTC time a client's `timestamp` denotes, within [1970, `now`]."""
    return instant(value, now)
