"""Events of every key: `PeriodSummary.events` (totals of each period, one statement for all of them) and
`ProductAnalytics.events` without `keys` (every key stored in the range), on data written through `record`."""

from __future__ import annotations

from typing import Any

import aiohttp

from tests.conftest import Server, Tenant, gql

RECORD = """
mutation($product: ID!, $requests: [RecordInput!]!) {
  record(productId: $product, requests: $requests) { outcome }
}
"""

# two keys on 2 and 3 January (local time: the product is in Europe/Berlin, UTC+1), one on 10 January
EVENTS = [
    ("2026-01-02T09:00:00+01:00", "tap", 2, 1.5, {"plan": "pro"}),
    ("2026-01-02T10:30:00+01:00", "buy", 1, 20.0, {"plan": "free"}),
    ("2026-01-03T23:30:00+01:00", "tap", 3, None, {"plan": "pro"}),
    ("2026-01-03T23:59:00+01:00", "buy", 1, 5.0, {"plan": "pro"}),
    ("2026-01-10T08:00:00+01:00", "tap", 4, None, None),
]

PERIODS = """
query($product: ID!) {
  node(id: $product) {
    ... on Product {
      analytics {
        periods(ranges: [
          {since: "2026-01-02T00:00:00+01:00", until: "2026-01-04T00:00:00+01:00"},
          {since: "2025-12-31T00:00:00+01:00", until: "2026-01-02T00:00:00+01:00"},
          {since: "2026-01-03T00:00:00+01:00", until: "2026-01-11T00:00:00+01:00"}
        ]) {
          since sessions events { count sum duration }
        }
      }
    }
  }
}
"""

EVERY_KEY = """
query($product: ID!, $segmentation: String) {
  node(id: $product) {
    ... on Product {
      analytics {
        events(since: "2026-01-02T00:00:00+01:00", until: "2026-01-04T00:00:00+01:00", granularity: DAY,
               segmentation: $segmentation) {
          count sum
          series { bucket count }
          keys { key count sum segments { value count } }
        }
      }
    }
  }
}
"""


async def _record(http: aiohttp.ClientSession, server: Server, tenant: Tenant) -> None:
    # the product's time zone is Berlin: buckets are local days
    await gql(
        http,
        server,
        'mutation($id: ID!) { updateProduct(id: $id, input: {timezone: "Europe/Berlin"}) { timezone } }',
        {"id": tenant.product_id},
        tenant.token,
    )
    requests: list[dict[str, Any]] = []
    for at, key, count, total, segmentation in EVENTS:
        event: dict[str, Any] = {"key": key, "count": count, "timestamp": at}
        if total is not None:
            event["sum"] = total
        if segmentation is not None:
            event["segmentation"] = segmentation
        requests.append({"deviceId": "d1", "timestamp": at, "events": [event]})
    reply = await gql(
        http, server, RECORD, {"product": tenant.product_id, "requests": requests}, tenant.token
    )
    assert reply.errors is None, reply.errors
    assert [r["outcome"] for r in reply.data["record"]] == ["STORED"] * len(EVENTS)


async def test_period_events_sum_every_key_per_period(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant
) -> None:
    await _record(http, server, tenant)
    reply = await gql(http, server, PERIODS, {"product": tenant.product_id}, tenant.token)
    assert reply.errors is None, reply.errors
    periods = reply.data["node"]["analytics"]["periods"]
    assert [p["events"] for p in periods] == [
        {"count": 7, "sum": 26.5, "duration": 0.0},
        {"count": 0, "sum": 0.0, "duration": 0.0},
        {"count": 8, "sum": 5.0, "duration": 0.0},
    ]
    # the events of the three periods are one statement, beside the two of the session totals and values
    without = await gql(
        http,
        server,
        PERIODS.replace("events { count sum duration }", ""),
        {"product": tenant.product_id},
        tenant.token,
    )
    assert reply.statements == without.statements + 1


async def test_events_without_keys_reads_every_key_in_the_range(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant
) -> None:
    await _record(http, server, tenant)
    reply = await gql(http, server, EVERY_KEY, {"product": tenant.product_id}, tenant.token)
    assert reply.errors is None, reply.errors
    events = reply.data["node"]["analytics"]["events"]
    assert events["count"] == 7 and events["sum"] == 26.5
    assert events["series"] == [
        {"bucket": "2026-01-02T00:00:00+01:00", "count": 3},
        {"bucket": "2026-01-03T00:00:00+01:00", "count": 4},
    ]
    # every key stored in the range, by name; `tap` of 10 January is outside
    assert events["keys"] == [
        {"key": "buy", "count": 2, "sum": 25.0, "segments": []},
        {"key": "tap", "count": 5, "sum": 1.5, "segments": []},
    ]
    reply = await gql(
        http, server, EVERY_KEY, {"product": tenant.product_id, "segmentation": "plan"}, tenant.token
    )
    assert reply.errors is None, reply.errors
    keys = reply.data["node"]["analytics"]["events"]["keys"]
    assert [(k["key"], k["segments"]) for k in keys] == [
        ("buy", [{"value": "free", "count": 1}, {"value": "pro", "count": 1}]),
        ("tap", [{"value": "pro", "count": 5}]),
    ]


async def test_every_key_is_the_callers_own(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant, db: Any
) -> None:
    from tests.conftest import new_tenant

    await _record(http, server, tenant)
    other = await new_tenant(db)
    reply = await gql(http, server, EVERY_KEY, {"product": tenant.product_id}, other.token)
    assert reply.data is None or reply.data["node"] is None
    reply = await gql(http, server, EVERY_KEY, {"product": other.product_id}, other.token)
    assert reply.data["node"]["analytics"]["events"] == {"count": 0, "sum": 0.0, "series": [], "keys": []}


async def test_a_merged_series_alone_is_summed_by_postgresql(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant
) -> None:
    """Without `keys` in the selection the keys are summed in SQL: the same series, totals and statements."""
    await _record(http, server, tenant)
    full = await gql(http, server, EVERY_KEY, {"product": tenant.product_id}, tenant.token)
    merged_only = EVERY_KEY.replace("keys { key count sum segments { value count } }", "")
    fragment = (
        merged_only.replace("count sum\n", "...Totals\n") + "fragment Totals on EventStats { count sum }"
    )
    for text in (merged_only, fragment):
        reply = await gql(http, server, text, {"product": tenant.product_id}, tenant.token)
        assert reply.errors is None, reply.errors
        events = reply.data["node"]["analytics"]["events"]
        expected = full.data["node"]["analytics"]["events"]
        assert events == {k: expected[k] for k in ("count", "sum", "series")}
        assert reply.statements == full.statements
