"""The ingestion workloads' requests: Countly `/i` writes and `/i/bulk` calls, built for the load generator.

The load generator shares the two cores with the gateway and PostgreSQL, so what it spends building requests is
taken from the servers it measures. Each builder joins its request from pieces quoted once; the plain
formulation (`ingest_params`, `bulk_items`, quoted whole with urlencode) is what it must equal byte for byte
(tests/test_bench_builders.py).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote_plus, urlencode

from bench.load import PerClient, Req


def ingest_builder(base: str, app_key: str, run: str, events_per_request: int) -> PerClient:
    """`/i` requests as SDKs send them: each client is an app that starts a session on a new device (with
    metrics), sends its events and ends the session, one request after the other, then does the same on the next
    device. The query string is `urlencode(ingest_params(...))`, joined from pieces quoted once (as
    `bulk_builder`'s body; quoting every request whole cost the load generator 26 us of CPU per request)."""
    head = f"{base}/i?app_key={quote_plus(app_key)}&device_id={quote_plus(f'load-{run}-')}"
    suffixes = [
        urlencode(
            {
                k: v
                for k, v in ingest_params(app_key, run, 0, n, events_per_request, 0).items()
                if k not in _SHARED
            }
        )
        for n in range(12)  # the steps repeat every 3 requests, the events' keys every 4
    ]

    def sequence(client: int) -> Callable[[int], Req]:
        def build(n: int) -> Req:
            device, step = divmod(n, 3)
            stamp = int(time.time() * 1000)
            url = f"{head}{client}-{device}&timestamp={stamp}&sdk_name=bench&{suffixes[n % 12]}"
            return Req("GET", url, units=events_per_request if step == 1 else 0)

        return build

    return PerClient(sequence)


_SHARED = ("app_key", "device_id", "timestamp", "sdk_name")


def ingest_params(
    app_key: str, run: str, client: int, n: int, events_per_request: int, now: int
) -> dict[str, Any]:
    """The parameters of `client`'s `/i` request `n` at `now` (ms): the begin_session, events or end_session of
    its device n // 3."""
    device, step = divmod(n, 3)
    params: dict[str, Any] = {
        "app_key": app_key,
        "device_id": f"load-{run}-{client}-{device}",
        "timestamp": now,
        "sdk_name": "bench",
    }
    if step == 0:
        params["begin_session"] = 1
        params["metrics"] = json.dumps(
            {"_os": "Android", "_os_version": "14", "_device": "Pixel 8", "_app_version": "1.2.3"}
        )
    elif step == 1:
        keys = ("purchase", "login", "search", "share")
        params["events"] = json.dumps(
            [
                {"key": keys[(n + k) % 4], "count": 1, "sum": 1.5, "segmentation": {"source": "bench"}}
                for k in range(events_per_request)
            ]
        )
    else:
        params["end_session"] = 1
        params["session_duration"] = 30
    return params


def bulk_builder(
    base: str, app_key: str, run: str, per_call: int, events_per_item: int
) -> Callable[[int], Req]:
    """`/i/bulk` calls of `per_call` requests, each carrying `events_per_item` events: the form body
    `urlencode({"app_key": app_key, "requests": json.dumps(items)})` of `bulk_items`.

    The body is joined from pieces quoted once: quoting it whole cost the load generator 4 us per event (a
    Python step per byte of 60 kB), CPU taken from the gateway and PostgreSQL it shares the two cores with.
    quote_plus works character by character, so the quoted whole is the quoted pieces joined, and the numbers
    that change between calls (device, timestamp) are digits, which it leaves as they are.
    """

    def item_piece(text: str) -> bytes:
        return quote_plus(text).encode()

    head = f"app_key={quote_plus(app_key)}&requests=".encode() + item_piece("[")
    device = item_piece('{"device_id": "' + f"bulk-{run}-")
    stamp = item_piece('", "timestamp": ')
    # the events of item k depend on k % 5 only
    tails = [
        item_piece(', "events": ' + json.dumps(item["events"]) + "}")
        for item in bulk_items(run, 0, 5, events_per_item, 0)
    ]
    separator, end = item_piece(", "), item_piece("]")

    def build(i: int) -> Req:
        now = b"%d" % int(time.time() * 1000)
        first = i * per_call
        items = separator.join(
            b"".join((device, b"%d" % ((first + k) % 20000), stamp, now, tails[k % 5]))
            for k in range(per_call)
        )
        return Req(
            "POST",
            f"{base}/i/bulk",
            data=head + items + end,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            units=per_call * events_per_item,
        )

    return build


def bulk_items(run: str, i: int, per_call: int, events_per_item: int, now: int) -> list[dict[str, Any]]:
    """The requests of `/i/bulk` call `i` at `now` (ms): `per_call` devices of 20,000, each sending
    `events_per_item` events of 5 keys."""
    keys = ("purchase", "login", "search", "share", "level_up")
    return [
        {
            "device_id": f"bulk-{run}-{(i * per_call + k) % 20000}",
            "timestamp": now,
            "events": [
                {"key": keys[(k + e) % 5], "count": 1, "segmentation": {"plan": "pro"}}
                for e in range(events_per_item)
            ],
        }
        for k in range(per_call)
    ]
