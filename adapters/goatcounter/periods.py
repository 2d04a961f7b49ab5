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
    """Per local day, its 24 hourly values and their sum, from an hourly series (`start`, `visitors`)."""
    start = datetime.fromisoformat(series["start"]) if series["size"] else None
    values: list[int] = series["visitors"]
    found = []
    for day in period_days:
        if start is None:
            hourly = [0] * 24
        else:
            offset = int((datetime(day.year, day.month, day.day) - start).total_seconds() // 3600)
            # the day's slice of the series, padded with zeros where the series does not reach
            hourly = values[max(offset, 0) : max(offset + 24, 0)]
            if offset < 0:
                hourly = [0] * min(-offset, 24) + hourly
            hourly += [0] * (24 - len(hourly))
        found.append({"day": day.isoformat(), "hourly": hourly, "daily": sum(hourly)})
    return found
