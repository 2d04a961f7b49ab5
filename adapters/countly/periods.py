"""Countly's `period` parameter resolved in the product's timezone, with the previous period of equal length.

`30days` (the default), `7days`, `60days` (any `<N>days`), `month` (this year by month), `day` (this month by
day), `yesterday`, `hour` (today) or `[startMs,endMs]`. Times are local wall-clock times of the product.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from gateway.input_values import zone as zone_of
from gateway.json_text import loads_json

DEFAULT_PERIOD = "30days"
_DAYS = re.compile(r"^(\d{1,4})days$")
_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
MAX_RANGE_DAYS = 3660


class BadPeriod(ValueError):
    """A `period` value that is none of the forms Countly knows."""


@dataclass(frozen=True)
class Period:
    """A half-open local time range [start, end), the previous range of equal length, and its label."""

    name: str
    start: datetime
    end: datetime
    previous_start: datetime
    label: str
    timezone: str

    @property
    def previous_end(self) -> datetime:
        return self.start

    def utc(self, local: datetime) -> datetime:
        """A local wall-clock time of the product as an aware UTC datetime."""
        return local.replace(tzinfo=zone(self.timezone)).astimezone(UTC)


def zone(name: str) -> ZoneInfo:
    """The product's zone (UTC when its name is unknown or malformed)."""
    return zone_of(name)


def local_now(timezone: str, now: datetime | None = None) -> datetime:
    """The product's current wall-clock time (naive)."""
    moment = now or datetime.now(UTC)
    return moment.astimezone(zone(timezone)).replace(tzinfo=None)


def _day_month(moment: datetime) -> str:
    return f"{moment.day} {_MONTHS[moment.month - 1]}"


def _span(start_text: str, end_text: str) -> str:
    return start_text if start_text == end_text else f"{start_text} - {end_text}"


def parse_period(raw: object, timezone: str, now: datetime | None = None) -> Period:
    """The period a `period` parameter names (None or empty: 30days); raises BadPeriod."""
    current = local_now(timezone, now)
    today = current.replace(hour=0, minute=0, second=0, microsecond=0)
    text = raw if isinstance(raw, str) else None
    if raw is None or text == "":
        text = DEFAULT_PERIOD
    if isinstance(raw, list) or (text is not None and text.startswith("[")):
        return _range(raw if isinstance(raw, list) else text, timezone)
    if text is None:
        raise BadPeriod(repr(raw)[:100])
    if text == "hour":
        end = today + timedelta(days=1)
        label = _span("00:00", f"{current.hour:02d}:{current.minute:02d}")
        return Period(text, today, end, today - timedelta(days=1), label, timezone)
    if text == "yesterday":
        start = today - timedelta(days=1)
        label = f"{_day_month(start)}, 00:00 - {_day_month(start)}, 23:59"
        return Period(text, start, today, start - timedelta(days=1), label, timezone)
    if text == "day":
        start = today.replace(day=1)
        end = (start + timedelta(days=32)).replace(day=1)
        previous = (start - timedelta(days=1)).replace(day=1)
        return Period(text, start, end, previous, _span(_day_month(start), _day_month(today)), timezone)
    if text == "month":
        start = today.replace(month=1, day=1)
        end = start.replace(year=start.year + 1)
        previous = start.replace(year=start.year - 1)
        label = _span(_MONTHS[0], _MONTHS[today.month - 1])
        return Period(text, start, end, previous, label, timezone)
    match = _DAYS.match(text)
    if match and 0 < int(match.group(1)) <= MAX_RANGE_DAYS:
        days = int(match.group(1))
        start = today - timedelta(days=days - 1)
        end = today + timedelta(days=1)
        label = _span(_day_month(start), _day_month(today))
        return Period(text, start, end, start - timedelta(days=days), label, timezone)
    raise BadPeriod(text)


def _range(raw: object, timezone: str) -> Period:
    values = raw
    if isinstance(raw, str):
        try:
            values = loads_json(raw)
        except ValueError as exc:
            raise BadPeriod(raw) from exc
    if not isinstance(values, list) or len(values) != 2:
        raise BadPeriod(str(raw))
    try:
        start_ms, end_ms = (int(float(v)) for v in values)
        tz = zone(timezone)
        start = datetime.fromtimestamp(start_ms / 1000, tz).replace(tzinfo=None)
        last = datetime.fromtimestamp(end_ms / 1000, tz).replace(tzinfo=None)
    except (TypeError, ValueError, OverflowError, OSError) as exc:
        raise BadPeriod(str(raw)) from exc
    if last < start or (last - start).days > MAX_RANGE_DAYS or not (1971 <= start.year and last.year <= 2200):
        raise BadPeriod(str(raw))
    start = start.replace(hour=0, minute=0, second=0, microsecond=0)
    end = last.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    label = _span(_day_month(start), _day_month(end - timedelta(days=1)))
    name = json.dumps([start_ms, end_ms], separators=(",", ":"))
    return Period(name, start, end, start - (end - start), label, timezone)
