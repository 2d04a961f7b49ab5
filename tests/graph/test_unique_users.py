"""Unique users of a day range from stored per-bucket uniques (`resolvers.analytics.queries.unique_users`)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from gateway.ingest.buckets import week_start
from resolvers.analytics.queries import unique_users


def _day_by_day(start: datetime, end: datetime, stored: dict[tuple[str, datetime], int]) -> int:
    """The estimate's bounds from the months and the Countly weeks found day by day (the former code)."""
    months, weeks = set(), set()
    day = start
    while day < end:
        months.add(day.replace(day=1))
        weeks.add(week_start(day))
        day += timedelta(days=1)
    by_month = sum(stored.get(("m", month), 0) for month in months)
    by_week = sum(stored.get(("w", week), 0) for week in weeks)
    return min(by_month, by_week)


def test_months_and_weeks_are_those_of_the_days() -> None:
    rng = random.Random(7)
    first = datetime(2023, 11, 1)
    days = [first + timedelta(days=n) for n in range(800)]
    estimated = 0
    for _ in range(300):
        # the tiles (days, weeks, months, years) never undercut the bounds: the bounds decide
        stored: dict[tuple[str, datetime], int] = {}
        for day in days:
            stored[("d", day)] = 10_000
            stored[("w", week_start(day))] = rng.randint(0, 200)
            stored[("m", day.replace(day=1))] = rng.randint(0, 500)
            stored[("y", day.replace(month=1, day=1))] = 1_000_000
        start = rng.choice(days[:-400])
        end = start + timedelta(days=rng.choice([2, 6, 8, 13, 30, 31, 45, 90, 365, 366, 400]))
        found, exact = unique_users(start, end, stored)
        if exact:  # one stored month or year
            assert found in (stored.get(("m", start)), stored.get(("y", start)))
            continue
        estimated += 1
        assert found == _day_by_day(start, end, stored), (start, end)
    assert estimated > 250


def test_one_stored_bucket_is_exact() -> None:
    stored = {
        ("d", datetime(2024, 1, 16)): 4,
        ("w", datetime(2024, 1, 15)): 9,
        ("m", datetime(2024, 2, 1)): 20,
    }
    assert unique_users(datetime(2024, 1, 16), datetime(2024, 1, 17), stored) == (4, True)
    assert unique_users(datetime(2024, 1, 15), datetime(2024, 1, 22), stored) == (9, True)
    assert unique_users(datetime(2024, 2, 1), datetime(2024, 3, 1), stored) == (20, True)
    # the last week of a year is shorter: 30 and 31 December 2024 (w53: 30 Dec 2024 is day 365)
    stored[("w", datetime(2024, 12, 30))] = 3
    assert unique_users(datetime(2024, 12, 30), datetime(2025, 1, 1), stored) == (3, True)
