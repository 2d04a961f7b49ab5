"""The export-only endpoints' `sd` and `ed`: Unix seconds at UTC midnight, and the documented defaults.

Both required (performance figures, user analytics metrics): a missing one is the seed's 400 ("Missing start
date" / "Missing end date"). Each required only with the other (event analysis, event context): without both,
the event analysis covers the last 6 days (today excluded) and the event context the last 6 days of the previous
month, as documented. A value that is not a whole number of seconds at UTC midnight, or an end before the start,
is a 400 naming it. The period runs from `sd` to `ed`, `ed` excluded.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from multidict import MultiMapping

from adapters.followanalytics.replies import MISSING_END_DATE, MISSING_START_DATE, Failure

DAY = timedelta(days=1)
MAX_SECONDS = 253402300799  # 9999-12-31T23:59:59Z


def _midnight(query: MultiMapping[str], name: str, what: str) -> datetime | None:
    text = (query.get(name) or "").strip()
    if not text:
        return None
    if not text.isdigit() or int(text) > MAX_SECONDS or int(text) % 86400:
        raise Failure(400, f"Invalid {what} date: {name} must be a Unix time at midnight UTC")
    return datetime.fromtimestamp(int(text), UTC)


def required_period(query: MultiMapping[str]) -> tuple[datetime, datetime]:
    start = _midnight(query, "sd", "start")
    end = _midnight(query, "ed", "end")
    if start is None:
        raise Failure(400, MISSING_START_DATE)
    if end is None:
        raise Failure(400, MISSING_END_DATE)
    return _ordered(start, end)


def _ordered(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    if end < start:
        raise Failure(400, "Invalid end date: ed must not come before sd")
    return start, end


def optional_period(
    query: MultiMapping[str], default: tuple[datetime, datetime]
) -> tuple[datetime, datetime]:
    start = _midnight(query, "sd", "start")
    end = _midnight(query, "ed", "end")
    if start is None and end is None:
        return default
    if start is None:
        raise Failure(400, MISSING_START_DATE)
    if end is None:
        raise Failure(400, MISSING_END_DATE)
    return _ordered(start, end)


def today() -> datetime:
    return datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def last_six_days() -> tuple[datetime, datetime]:
    end = today()
    return end - 6 * DAY, end


def last_six_days_of_previous_month() -> tuple[datetime, datetime]:
    first_of_month = today().replace(day=1)
    return first_of_month - 6 * DAY, first_of_month
