"""Timestamp parsing and local-time buckets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from gateway.ingest.buckets import GRAINS, BucketCalculator, buckets_of_local
from gateway.ingest.rules import normalize_duration
from gateway.ingest.timestamps import parse_timestamp

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


def test_seconds_milliseconds_iso() -> None:
    assert parse_timestamp("1700000000", NOW) == datetime.fromtimestamp(1700000000, UTC)
    assert parse_timestamp("1700000000123", NOW) == datetime.fromtimestamp(1700000000.123, UTC)
    assert parse_timestamp(1700000000, NOW) == datetime.fromtimestamp(1700000000, UTC)
    assert parse_timestamp("2024-01-02T03:04:05Z", NOW) == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert parse_timestamp("2024-01-02T03:04:05+02:00", NOW) == datetime(2024, 1, 2, 1, 4, 5, tzinfo=UTC)


def test_future_and_garbage_mean_now() -> None:
    future = str(int((NOW + timedelta(days=3)).timestamp()))
    assert parse_timestamp(future, NOW) == NOW
    assert parse_timestamp(future + "000", NOW) == NOW
    for bad in (None, "", "abc", "12345", "123456789012345", "2024-13-45"):
        assert parse_timestamp(bad, NOW) == NOW


def test_countly_weeks_and_local_buckets() -> None:
    hour, day, week, month, year = buckets_of_local(datetime(2024, 1, 15, 10, 30))
    assert (hour, day) == (datetime(2024, 1, 15, 10), datetime(2024, 1, 15))
    assert week == datetime(2024, 1, 15)  # day-of-year 15 starts w3
    assert buckets_of_local(datetime(2024, 1, 14))[2] == datetime(2024, 1, 8)
    assert buckets_of_local(datetime(2024, 12, 31))[2] == datetime(2024, 12, 30)  # doy 366 -> w53 starts 365
    assert (month, year) == (datetime(2024, 1, 1), datetime(2024, 1, 1))
    calc = BucketCalculator("Asia/Kolkata")  # +05:30
    assert calc.buckets(datetime(2024, 1, 1, 18, 40, tzinfo=UTC))[0] == datetime(2024, 1, 2, 0)
    assert calc.buckets(datetime(2024, 1, 1, 18, 20, tzinfo=UTC))[0] == datetime(2024, 1, 1, 23)


def test_duration_rules() -> None:
    assert normalize_duration(30) == 30
    assert normalize_duration(100000) == 86400
    assert normalize_duration(-5) == 30
    assert normalize_duration("x") == 0


def test_plain_digits_parse_as_the_general_path() -> None:
    # plain ASCII digit strings take a fast path; padded, fractional, numeric and non-ASCII ones the general one
    for seconds in ("1700000000", "1000000000", "1717243199"):
        padded = parse_timestamp(f" {seconds} ", NOW)
        assert parse_timestamp(seconds, NOW) == padded == datetime.fromtimestamp(int(seconds), UTC)
        assert parse_timestamp(seconds + "123", NOW) == parse_timestamp(f"{seconds}123.0", NOW)
        assert parse_timestamp(seconds + "999", NOW) == datetime.fromtimestamp(int(seconds) + 0.999, UTC)
    assert parse_timestamp("1700000000.5", NOW) == datetime.fromtimestamp(1700000000.5, UTC)
    assert parse_timestamp(1700000000.5, NOW) == datetime.fromtimestamp(1700000000.5, UTC)
    # Arabic-Indic digits are digits to the general path's regex
    assert parse_timestamp("١٧٠٠٠٠٠٠٠٠", NOW) == datetime.fromtimestamp(1700000000, UTC)
    for other_length in ("170000000", "17000000000", "170000000012", "0" * 14):
        assert parse_timestamp(other_length, NOW) == NOW


DST_ZONES = (
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "America/Santiago",
)
FIXED_ZONES = ("Asia/Kathmandu", "Asia/Kolkata", "UTC")  # +05:45, +05:30, +00:00


def _transitions(zone: ZoneInfo, year: int) -> list[datetime]:
    """The UTC hours of `year` after which the zone's offset changes (DST starts and ends)."""
    hours = [datetime(year, 1, 1, tzinfo=UTC) + timedelta(hours=h) for h in range(366 * 24)]
    return [
        a
        for a, b in zip(hours, hours[1:], strict=False)
        if a.astimezone(zone).utcoffset() != b.astimezone(zone).utcoffset()
    ]


def test_slot_cache_equals_direct_buckets_around_transitions() -> None:
    # buckets are cached per 15-minute UTC slot: every instant of a slot must have the slot's buckets
    for name in DST_ZONES + FIXED_ZONES:
        zone = ZoneInfo(name)
        starts = _transitions(zone, 2024)
        assert len(starts) == (2 if name in DST_ZONES else 0), name
        calc = BucketCalculator(name)
        for start in [*starts, datetime(2024, 12, 31, 12, tzinfo=UTC)]:  # and the local new year
            for step in range(-4 * 3600, 19 * 3600, 97):  # hours on either side, odd seconds
                instant = start + timedelta(seconds=step, microseconds=step % 1000)
                direct = buckets_of_local(instant.astimezone(zone).replace(tzinfo=None))
                assert calc.buckets(instant) == direct, (name, instant)


def test_per_bucket_sums_slots_in_their_order() -> None:
    calc = BucketCalculator("America/New_York")
    first = int(datetime(2024, 11, 3, 5, 0, tzinfo=UTC).timestamp()) // 900  # 01:00 EDT, an hour that repeats
    # floats whose sum depends on the order of additions
    slots = {first + i: [i + 1, 0.1 * (i + 1) ** 7, 1e16 if i % 2 else 1.0] for i in (0, 9, 4, 7, 1)}
    expected: dict[tuple[str, datetime], list[float]] = {}
    for slot, sums in slots.items():  # slot by slot, each added to its five buckets on its own
        for grain, bucket in zip(GRAINS, calc.buckets_of_slot(slot), strict=True):
            found = expected.get((grain, bucket))
            expected[(grain, bucket)] = (
                list(sums) if found is None else [a + b for a, b in zip(found, sums, strict=True)]
            )
    got = calc.per_bucket(slots)
    assert {(grain, bucket): sums for grain, bucket, sums in got} == expected
    # both 01:00 local hours (EDT, then EST) share one hour bucket; then 02:00
    assert len(got) == len(expected) and sum(1 for grain, _, _ in got if grain == "h") == 2
    single = calc.per_bucket({first: [1, 2.0, 3.0]})
    assert [(grain, sums) for grain, _, sums in single] == [(grain, [1, 2.0, 3.0]) for grain in GRAINS]
