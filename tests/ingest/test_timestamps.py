"""Timestamp parsing and local-time buckets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gateway.ingest.buckets import BucketCalculator, buckets_of_local
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
