"""Periods of the stats endpoints (`start`, `end`, GoatCounter's defaults) and its per-day hourly arrays."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from adapters.goatcounter.params import as_time
from gateway.ingest.buckets import zone_of


def period(query: dict[str, Any], timezone: str) -> tuple[datetime, datetime]:
    """[start, end) of a stats request: dates are midnight in the site's time zone; by default from the start of
    the day 7 days ago to now."""
    zone = zone_of(timezone)
    now = datetime.now(UTC)
    if "start" in query:
        start = as_time(query["start"], zone)
    else:
        local = now.astimezone(zone) - timedelta(days=7)
        start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    end = as_time(query["end"], zone) if "end" in query else now
    return start, end


def graph_period(start: datetime, end: datetime) -> dict[str, str]:
    return {"since": start.isoformat(), "until": end.isoformat()}


def days(start: datetime, end: datetime, timezone: str) -> list[date]:
    """The local days of the period, its start's and its end's included (none when it ends before it starts)."""
    zone = zone_of(timezone)
    if end < start:
        return []
    first, last = start.astimezone(zone).date(), end.astimezone(zone).date()
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def day_stats(series: dict[str, Any], period_days: list[date]) -> list[dict[str, Any]]:
    """Per local day, its 24 hourly values and their sum, from an hourly series (`start`, `visitors`): a local
    day is 24 buckets of the series, which counts wall-clock hours."""
    if not period_days:
        return []
    values: list[int] = series["visitors"] if series["size"] else []
    first = period_days[0]
    offset = 0
    if values:
        start = datetime.fromisoformat(series["start"])
        offset = int((datetime(first.year, first.month, first.day) - start).total_seconds() // 3600)
        if offset < 0:  # the series starts after the first day's midnight: zeros before it
            values, offset = [0] * -offset + values, 0
    found = []
    for day in period_days:
        hourly = values[offset : offset + 24]
        if len(hourly) < 24:  # where the series does not reach
            hourly += [0] * (24 - len(hourly))
        found.append({"day": day.isoformat(), "hourly": hourly, "daily": sum(hourly)})
        offset += 24
    return found
