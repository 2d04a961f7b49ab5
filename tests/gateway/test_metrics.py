"""`GET /metrics` (Prometheus text format 0.0.4) and the JSON access log line of each request."""

from __future__ import annotations

import json
import logging
import re

import aiohttp
import pytest

from gateway.observability.logs import JsonFormatter
from tests.conftest import Server, Tenant, gql

Sample = tuple[str, frozenset[tuple[str, str]]]

LINE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$")
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse(text: str) -> tuple[dict[Sample, float], dict[str, str]]:
    """Samples by (name, labels) and the declared TYPE of each metric; fails on any malformed line."""
    samples: dict[Sample, float] = {}
    types: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            types[name] = kind
            continue
        if line.startswith("#") or not line:
            continue
        match = LINE.match(line)
        assert match, f"not a sample line: {line!r}"
        labels = frozenset(LABEL.findall(match.group(3) or ""))
        samples[(match.group(1), labels)] = float(match.group(4))
    return samples, types


def value(samples: dict[Sample, float], name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def scrape(http: aiohttp.ClientSession, server: Server) -> tuple[dict[Sample, float], dict[str, str]]:
    async with http.get(server.url + "/metrics") as reply:
        assert reply.status == 200
        assert reply.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
        return parse(await reply.text())


async def test_metrics_count_requests_operations_errors_ingestion_and_pool(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant
) -> None:
    before, _ = await scrape(http, server)

    for _ in range(3):
        async with http.get(server.url + "/healthz") as reply:
            assert reply.status == 200
    viewer = await gql(http, server, "query Viewer { viewer { permissions } }", token=tenant.token)
    assert viewer.errors is None, viewer.body
    ids = ", ".join(f'"{tenant.product_id}"' for _ in range(101))
    too_many = await gql(
        http, server, f"query TooMany {{ nodes(ids: [{ids}]) {{ id }} }}", token=tenant.token
    )
    assert too_many.errors[0]["extensions"]["code"] == "BAD_USER_INPUT", too_many.body
    recorded = await gql(
        http,
        server,
        """mutation Record($p: ID!) { recordEvents(productId: $p, deviceId: "m-1", events: [{key: "k"}]) {
             outcome } }""",
        {"p": tenant.product_id},
        tenant.token,
    )
    assert recorded.data == {"recordEvents": {"outcome": "STORED"}}, recorded.body
    async with http.get(server.url + "/no/such/page") as reply:
        assert reply.status == 404
    countly = {"app_key": tenant.app_key, "device_id": "m-2", "begin_session": "1"}
    async with http.get(server.url + "/i", params=countly) as reply:
        assert reply.status == 200

    after, types = await scrape(http, server)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    requests = "gateway_http_requests_total"
    assert types[requests] == "counter"
    assert delta(requests, route="/healthz", method="GET", status="200") == 3
    assert delta(requests, route="/graphql", method="POST", status="200") == 3
    assert delta(requests, route="unmatched", method="GET", status="404") == 1
    assert delta(requests, route="/metrics", method="GET", status="200") == 1  # the first scrape

    latency = "gateway_http_request_duration_seconds"
    assert types[latency] == "histogram"
    for route in ("/healthz", "/graphql"):
        buckets = [
            (dict(lb)["le"], v)
            for (n, lb), v in after.items()
            if n == latency + "_bucket" and ("route", route) in lb
        ]
        assert len(buckets) >= 10 and ("+Inf", value(after, latency + "_count", route=route)) in buckets
        counts = [v for le, v in sorted(buckets, key=lambda b: float(b[0]))]
        assert counts == sorted(counts), "buckets are cumulative"
        assert value(after, latency + "_sum", route=route) > 0

    operations = "gateway_graphql_operation_duration_seconds"
    assert types[operations] == "histogram"
    for operation in ("Viewer", "TooMany", "Record"):
        assert value(after, operations + "_count", operation=operation) >= 1, operation
        assert value(after, operations + "_bucket", operation=operation, le="+Inf") >= 1
        assert value(after, operations + "_bucket", operation=operation, le="0.005") >= 0

    statements = "gateway_sql_statements_total"
    assert types[statements] == "counter"
    # as many as the replies' X-SQL-Statements headers said
    sent = viewer.statements + too_many.statements + recorded.statements
    assert delta(statements, route="/graphql") == sent >= 3
    assert delta(statements, route="/healthz") == 3  # each asks PostgreSQL whether it answers

    assert types["gateway_graphql_errors_total"] == "counter"
    assert delta("gateway_graphql_errors_total", code="BAD_USER_INPUT") == 1

    for counter in ("requests", "batches", "transactions"):
        name = f"gateway_ingest_{counter}_total"
        assert types[name] == "counter"
        assert delta(name) >= 1, name
    assert types["gateway_ingest_retries_total"] == "counter"
    assert types["gateway_ingest_device_waits_total"] == "counter"
    queue, commit = "gateway_ingest_queue_seconds", "gateway_ingest_commit_seconds"
    assert types[queue] == types[commit] == "histogram"
    # two writes (recordEvents, then the /i request): each waited for a batch, each batch committed once
    assert delta(queue + "_count") == 2
    assert delta(commit + "_count") == delta("gateway_ingest_batches_total") >= 1
    assert delta(queue + "_bucket", le="+Inf") == 2 and delta(queue + "_sum") > 0

    for counter in ("items", "calls"):
        name = f"gateway_coalesced_{counter}_total"
        assert types[name] == "counter"
        assert delta(name, coalescer="countly_i") == 1, name

    assert value(after, "gateway_db_pool_max") == server.settings.pool_max
    size, idle, in_use = (value(after, f"gateway_db_pool_{g}") for g in ("size", "idle", "in_use"))
    assert 1 <= size <= server.settings.pool_max
    assert in_use == size - idle and in_use >= 0
    assert types["gateway_db_pool_size"] == "gauge"
    kept = "gateway_db_kept_plan_pool"
    assert value(after, f"{kept}_max") == server.settings.pool_max // 2
    size, idle, in_use = (value(after, f"{kept}_{g}") for g in ("size", "idle", "in_use"))
    assert 0 <= size <= server.settings.pool_max // 2
    assert in_use == size - idle and in_use >= 0
    assert types[f"{kept}_in_use"] == "gauge"


async def test_access_log_line_is_json_with_the_reply_request_id(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="gateway.access")
    reply = await gql(http, server, "query WhoAmI { viewer { permissions } }", token=tenant.token)
    assert reply.status == 200
    request_id = reply.headers["X-Request-Id"]
    assert re.fullmatch("[0-9a-f]{32}", request_id)
    async with http.get(server.url + "/healthz") as again:  # the next one differs
        assert again.headers["X-Request-Id"] not in ("", request_id)
    records = [
        r for r in caplog.records if r.name == "gateway.access" and getattr(r, "request_id", "") == request_id
    ]
    assert len(records) == 1
    line = json.loads(JsonFormatter().format(records[0]))
    assert line["request_id"] == request_id
    assert line["logger"] == "gateway.access"
    assert line["level"] == "info"
    assert line["route"] == "/graphql" and line["status"] == 200 and line["operation"] == "WhoAmI"
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] > 0
    assert line["sql_statements"] == reply.statements >= 1
    assert line["message"] == "request POST /graphql"

    # a caller's own request id is kept, in the reply and in the log
    async with http.get(server.url + "/healthz", headers={"X-Request-Id": "trace-42"}) as health:
        assert health.headers["X-Request-Id"] == "trace-42"
    [record] = [r for r in caplog.records if getattr(r, "request_id", "") == "trace-42"]
    logged = json.loads(JsonFormatter().format(record))
    assert logged["request_id"] == "trace-42" and logged["route"] == "/healthz" and "operation" not in logged


def test_unlabelled_histograms_are_written_before_their_first_observation() -> None:
    from gateway.observability.prometheus import Histogram

    empty = Histogram("waits_seconds", "Waits.", buckets=(0.1, 1))
    assert list(empty.render()) == [
        "# HELP waits_seconds Waits.",
        "# TYPE waits_seconds histogram",
        'waits_seconds_bucket{le="0.1"} 0',
        'waits_seconds_bucket{le="1"} 0',
        'waits_seconds_bucket{le="+Inf"} 0',
        "waits_seconds_sum 0",
        "waits_seconds_count 0",
    ]
    empty.observe((), 0.5)
    assert 'waits_seconds_bucket{le="1"} 1' in list(empty.render()) and empty.count() == 1
    labelled = Histogram("by_route_seconds", "By route.", ("route",))
    assert len(list(labelled.render())) == 2  # no series until a route is seen
