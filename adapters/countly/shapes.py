"""Countly's reply shapes built from graph results: bars, dashboard numbers, labels, document keys.

The nested time documents themselves come from the graph ready-made (`rollupTree`, `eventRollupTree`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

Number = int | float


def clean_value(value: str) -> str:
    """A segment value as a document key: dots become `:` (Countly keeps dots out of its keys)."""
    return value.replace(".", ":")


def number(value: Number) -> Number:
    """Whole floats printed as integers, the way JavaScript prints them."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def short_number(value: float) -> str:
    """countlyCommon.getShortNumber of an already rounded number (`-24.6`, `1.2K`, `3M`)."""
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e4, "K")):
        if abs(value) >= limit:
            return f"{value / limit:.1f}".replace(".0", "", 1) + suffix
    return f"{value:.1f}".replace(".0", "", 1)


def percent_change(previous: float, current: float) -> tuple[str, str]:
    """(change, trend) the way the dashboard shows them: `NA`/`u` without a previous value, `∞`/`d` to zero."""
    if previous == 0:
        return "NA", "u"
    if current == 0:
        return "∞", "d"
    change = round((current - previous) / previous * 100, 1)
    return short_number(change) + "%", "d" if change < 0 else "u"


def time_string(minutes: float) -> str:
    """A duration in minutes as the dashboard prints it: `12.5 min`, `1.5 hours`, `2.0 days`, `1.1 years`."""
    if minutes >= 142560:
        return f"{minutes / 525600:.1f} years"
    if minutes >= 1440:
        return f"{minutes / 1440:.1f} days"
    if minutes >= 60:
        return f"{minutes / 60:.1f} hours"
    return f"{minutes:.1f} min"


def bars(items: Iterable[tuple[str, float]], max_items: int = 3) -> list[dict[str, Any]]:
    """The top items as `{name, percent}` (floored percents; the last takes the remainder up to 100)."""
    ranked = sorted((item for item in items if item[1] > 0), key=lambda item: -item[1])[:max_items]
    total = sum(amount for _, amount in ranked)
    result: list[dict[str, Any]] = []
    given = 0
    for index, (name, amount) in enumerate(ranked):
        percent = math.floor(amount / total * 100)
        given += percent
        if index == len(ranked) - 1:
            percent += 100 - given
        result.append({"name": name, "percent": percent})
    return result


@dataclass
class Totals:
    """Session numbers of one period: sessions, new users, unique users, duration (s), requests."""

    t: float = 0
    n: float = 0
    u: float = 0
    d: float = 0
    e: float = 0

    @classmethod
    def of(cls, counts: Mapping[str, Any] | None) -> Totals:
        counts = counts or {}
        return cls(*(float(counts.get(letter) or 0) for letter in "tnude"))


def _stat(current: float, previous: float, total: Any) -> dict[str, Any]:
    change, trend = percent_change(previous, current)
    return {"total": total, "change": change, "trend": trend}


def dashboard_numbers(current: Totals, previous: Totals, users_estimated: bool) -> dict[str, Any]:
    """The `dashboard` object of `/o/analytics/dashboard` for one period."""
    per_session = current.d / current.t if current.t else 0.0
    previous_per_session = previous.d / previous.t if previous.t else 0.0
    per_user = current.e / current.u if current.u else 0.0
    previous_per_user = previous.e / previous.u if previous.u else 0.0
    users = _stat(current.u, previous.u, number(current.u))
    users["is_estimate"] = users_estimated
    return {
        "total_sessions": _stat(current.t, previous.t, number(current.t)),
        "total_users": users,
        "new_users": _stat(current.n, previous.n, number(current.n)),
        "total_time": _stat(current.d, previous.d, time_string(current.d / 60)),
        "avg_time": _stat(per_session, previous_per_session, time_string(per_session / 60)),
        "avg_requests": _stat(per_user, previous_per_user, f"{per_user:.1f}"),
    }


@dataclass
class CountryRow:
    code: str
    counts: dict[str, float] = field(default_factory=dict)


def country_rows(rows: Iterable[CountryRow], limit: int = 10) -> list[dict[str, Any]]:
    """The `/o/analytics/countries` list of one period: the top countries by sessions."""
    from adapters.countly.countries import country_name

    ranked = sorted(rows, key=lambda row: (-row.counts.get("t", 0), row.code))[:limit]
    return [
        {
            "country": country_name(row.code),
            "code": row.code.lower(),
            "t": number(row.counts.get("t", 0)),
            "u": number(row.counts.get("u", 0)),
            "n": number(row.counts.get("n", 0)),
        }
        for row in ranked
        if row.counts.get("t", 0) or row.counts.get("u", 0) or row.counts.get("n", 0)
    ]
