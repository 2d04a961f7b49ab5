"""The dashboard's own requests, for `make bench`: the documents it sends, with the variables it sends them with.

The overview of a period is two requests sent at once (`Overview`: tiles and chart; `OverviewTables`: the
tables; both in `operations/overview.graphql`); the product list (`Products`) is read once when the dashboard
opens. The variables are those `time.js` computes for a preset
period in the product's time zone: local days from midnight to midnight, the previous period of the same length
just before it, and the chart's grain (hour for today, day for 7 and 30 days, month for 12 months).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from gateway.http.dashboard import dashboard_documents


@dataclass(frozen=True)
class DashboardRequest:
    """One request as the dashboard sends it."""

    query: str
    operation: str
    variables: dict[str, Any]


def _first_of_month(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def period_days(preset: str, today: date) -> tuple[date, date, date, date, str]:
    """(first, last, previous first, previous last, grain) of a preset, as local days (both ends included)."""
    if preset == "12m":
        first = _first_of_month(today, -11)
        last = _first_of_month(today, 1) - timedelta(days=1)
        return first, last, _first_of_month(first, -12), first - timedelta(days=1), "MONTH"
    length = {"today": 1, "7d": 7, "30d": 30}[preset]
    first = today - timedelta(days=length - 1)
    grain = "HOUR" if preset == "today" else "DAY"
    return first, today, first - timedelta(days=length), first - timedelta(days=1), grain


def overview_variables(
    product_id: str, timezone: str, preset: str, now: datetime | None = None, site: bool = False
) -> dict[str, Any]:
    """The `Overview` variables of a preset period, as the dashboard computes them (`site`: the product has
    counted pages, so its web analytics are read)."""
    zone = ZoneInfo(timezone)
    today = (now or datetime.now(zone)).astimezone(zone).date()
    first, last, previous_first, previous_last, grain = period_days(preset, today)

    def midnight(day: date) -> str:
        return datetime.combine(day, time(0), zone).isoformat()

    return {
        "product": product_id,
        "since": midnight(first),
        "until": midnight(last + timedelta(days=1)),
        "previousSince": midnight(previous_first),
        "previousUntil": midnight(previous_last + timedelta(days=1)),
        "grain": grain,
        "webGrain": "HOUR" if grain == "HOUR" else "DAY",
        "web": site,
        # the presets' chart buckets lie wholly inside their periods (time.js: `wholeBuckets`)
        "countEvents": False,
    }


def dashboard_requests(product_id: str, timezone: str, site: bool = False) -> dict[str, DashboardRequest]:
    """The requests of the benchmark's dashboard workloads, by name."""
    documents = dashboard_documents()
    requests = {"products": DashboardRequest(documents["session"], "Products", {})}
    for preset in ("7d", "30d", "12m"):
        variables = overview_variables(product_id, timezone, preset, site=site)
        requests[f"overview_{preset}"] = DashboardRequest(documents["overview"], "Overview", variables)
        tables = {key: variables[key] for key in ("product", "since", "until", "web")}
        requests[f"overview_tables_{preset}"] = DashboardRequest(
            documents["overview"], "OverviewTables", tables
        )
    return requests
