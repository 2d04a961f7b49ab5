"""The KISSmetrics benchmark's beacons (bench/kissmetrics.py) read back as the gateway reads them, after the load
generator's URL parser has seen them; and its summary rows say met or not as the figures do."""

from __future__ import annotations

from yarl import URL

from adapters.kissmetrics.tracking import parse_beacon, record_input
from bench.kissmetrics import TARGETS, TRACKED_EVENTS, checks, track_builder
from bench.report import derived


def test_a_tracker_records_its_persons_events_one_after_the_other() -> None:
    build = track_builder("http://127.0.0.1:1", "k/+ é&=9", "run-3", TRACKED_EVENTS).sequence(5)
    seen = []
    for number in range(7):
        request = build(number)
        # aiohttp sends what yarl makes of the URL: a form encoder's `+` would arrive as %2B (a plus sign)
        query = URL(request.url).raw_query_string
        pairs = parse_beacon(query)
        item = record_input("e", pairs)
        assert item is not None
        assert dict(pairs)["_k"] == "k/+ é&=9" and dict(pairs)["_d"] == "1" and dict(pairs)["_t"].isdigit()
        assert set(item["properties"]) == {"plan", "amount", "campaign"}
        seen.append((item["deviceId"], item["events"][0]["key"]))
    person = "km-run-3-5-{}@example.com"
    assert seen == [
        (person.format(0), "viewed product"),
        (person.format(0), "added to cart"),
        (person.format(0), "purchased"),
        (person.format(1), "viewed product"),
        (person.format(1), "added to cart"),
        (person.format(1), "purchased"),
        (person.format(2), "viewed product"),
    ]


def test_summary_rows() -> None:
    workloads = {
        "km_countly_i": {"rps": 2000.0},
        "km_track_e": {"rps": 1900.0},
        "km_people_search": {
            "people": 100_000,
            "events": 2_000_000,
            "max_seconds": 1.5,
            "rss_before_mb": 60.1,
            "peak_rss_mb": 60.6,
        },
        "km_core_accounts": {"rps": 900.0, "p95_ms": 9.5, "events": 10_000_000},
        "km_core_events": {"rps": 0.0, "p95_ms": 3.0, "events": 10_000_000},  # every request failed
    }
    rows = checks(workloads, TARGETS)
    assert [(row["value"], row["goal"]) for row in rows] == [
        (0.95, 1.0),
        (1.5, 3.0),
        (0.5, 20.0),
        (9.5, 10.0),
        (None, 10.0),
    ]
    met = {
        row["target"].split(" (")[0]: row["met"]
        for row in derived({"workloads": workloads, "meta": {"targets": TARGETS}})["checks"]
    }
    assert met["KISSmetrics /e req/s >= Countly /i req/s"] is False
    assert met["Core API accounts list p95 at 10,000,000 events <= 10 ms"] is True
    assert met["Core API events list p95 at 10,000,000 events <= 10 ms"] is None
