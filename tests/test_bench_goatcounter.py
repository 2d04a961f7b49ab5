"""The GoatCounter workloads' requests (bench/goatcounter.py) are what the API and count.js send."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import orjson

from bench.goatcounter import HOSTS, checks, count_builder, pixel_builder


def test_count_requests_hold_500_hits_each_from_an_address_of_its_own() -> None:
    build = count_builder("http://gw", "tok", run=3)
    first, second = build(0), build(1)
    assert first.method == "POST" and first.url == "http://gw/api/v0/count" and first.units == 500
    assert first.headers == {
        "Authorization": "Bearer tok",
        "Content-Type": "application/json",
        "Host": HOSTS["ingest"],
    }
    hits = orjson.loads(first.data)["hits"] + orjson.loads(second.data)["hits"]
    assert len(hits) == 1000 and len({hit["ip"] for hit in hits}) == 1000
    assert all(
        isinstance(hit["size"], str) and hit["path"].startswith("/") and hit["user_agent"] for hit in hits
    )


def test_pixel_requests_are_count_js_hits_of_many_browsers() -> None:
    build = pixel_builder("http://gw", run=1)
    reqs = [build(i) for i in range(50)]
    assert len({r.headers["X-Forwarded-For"] for r in reqs}) == 50
    query = parse_qs(urlsplit(reqs[0].url).query, keep_blank_values=True)
    assert urlsplit(reqs[0].url).path == "/count" and query["p"][0].startswith("/") and query["b"] == ["0"]
    assert reqs[0].headers["Host"] == HOSTS["ingest"] and reqs[0].headers["User-Agent"]


def test_checks_compare_pixel_with_countly_and_the_large_set_with_the_small() -> None:
    w = {
        "gc_count": {"units_per_s": 60_000.0},
        "gc_pixel": {"rps": 900.0},
        "gc_ingest_i": {"rps": 1000.0},
        "web_gc_total_small": {"rps": 100, "p50_ms": 10.0, "p95_ms": 20.0},
        "web_gc_total_large": {"rps": 90, "p50_ms": 12.0, "p95_ms": 22.0},
        "gc_export_small": {"units_per_s": 150_000.0, "peak_rss_mb": 90.0},
    }
    targets = {
        "gc_count_hits_per_s": 50_000,
        "gc_pixel_vs_i": 1.0,
        "analytics_p95_ms": 25.0,
        "analytics_ratio": 1.3,
        "export_rows_per_s": 100_000,
        "rss_mb": 200.0,
    }
    out, found = checks(w, targets)
    assert out["gc_pixel_vs_i"] == 0.9 and out["web_gc_total_large_vs_small_p50"] == 1.2
    assert [(c["value"], c["goal"]) for c in found] == [
        (60_000.0, 50_000),
        (0.9, 1.0),
        (22.0, 25.0),
        (1.2, 1.3),
        (150_000.0, 100_000),
        (90.0, 200.0),
    ]
