"""Time buckets in a product's local time: hour, day, Countly week, month and year.

A Countly week is `w<ceil(dayOfYear/7)>`: week buckets start on day-of-year 1, 8, 15, ... and the last one of
a year is one or two days long. Bucket starts are naive datetimes in the product's local time.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from gateway.input_values import zone

# the grain letters stored in the rollup tables, finest first
GRAINS: tuple[str, ...] = ("h", "d", "w", "m", "y")

Buckets = tuple[datetime, datetime, datetime, datetime, datetime]


def zone_of(name: str | None) -> ZoneInfo:
    """The IANA zone `name`, or UTC when it is unknown or malformed."""
    return zone(name)


def week_start(day: datetime) -> datetime:
    """The start of the Countly week containing the (naive, midnight) `day`."""
    doy = day.timetuple().tm_yday
    return day - timedelta(days=(doy - 1) % 7)


def buckets_of_local(local: datetime) -> Buckets:
    """The hour, day, week, month and year bucket starts of a naive local time."""
    hour = local.replace(minute=0, second=0, microsecond=0)
    day = hour.replace(hour=0)
    return (hour, day, week_start(day), day.replace(day=1), day.replace(month=1, day=1))


class BucketCalculator:
    """Bucket starts of UTC instants in one product's timezone, cached per 15-minute UTC slot.

    Every UTC offset in use is a multiple of 15 minutes, so all instants of one such slot share their buckets.
    """

    def __init__(self, timezone: str | None) -> None:
        self.zone = zone_of(timezone)
        self._cache: dict[int, Buckets] = {}

    def local(self, instant: datetime) -> datetime:
        """`instant` (aware) as a naive local time."""
        return instant.astimezone(self.zone).replace(tzinfo=None)

    def slot(self, instant: datetime) -> int:
        """The 15-minute UTC slot of the aware `instant`."""
        return int(instant.timestamp()) // 900

    def buckets_of_slot(self, slot: int) -> Buckets:
        """The five bucket starts (h, d, w, m, y) of a 15-minute UTC slot."""
        found = self._cache.get(slot)
        if found is None:
            found = buckets_of_local(self.local(datetime.fromtimestamp(slot * 900, UTC)))
            self._cache[slot] = found
        return found

    def buckets(self, instant: datetime) -> Buckets:
        """The five bucket starts (h, d, w, m, y) of the aware `instant`."""
        return self.buckets_of_slot(int(instant.timestamp()) // 900)

    def per_bucket(self, slots: dict[int, list[Any]]) -> list[tuple[str, datetime, list[Any]]]:
        """Sums kept per 15-minute slot (`slots`: slot -> sums), added up per grain and bucket.

        One (grain, bucket, sums) per bucket. Sums are added in the order of `slots`, so float totals are the
        same as when each slot's sums are added to its buckets one by one. The returned lists may be those of
        `slots`: do not mutate them.
        """
        if len(slots) == 1:
            for slot, sums in slots.items():
                return [
                    (grain, bucket, sums)
                    for grain, bucket in zip(GRAINS, self.buckets_of_slot(slot), strict=True)
                ]
        merged: dict[tuple[str, datetime], list[Any]] = {}
        for slot, sums in slots.items():
            for grain, bucket in zip(GRAINS, self.buckets_of_slot(slot), strict=True):
                found = merged.get((grain, bucket))
                if found is None:
                    merged[(grain, bucket)] = list(sums)
                else:
                    for i, amount in enumerate(sums):
                        found[i] += amount
        return [(grain, bucket, sums) for (grain, bucket), sums in merged.items()]
