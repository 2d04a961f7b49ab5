"""An asyncio + aiohttp load generator with a fixed concurrency.

`run_load` keeps `concurrency` requests in flight until `duration` seconds have passed or `max_requests`
have been sent, records the latency of every request and counts statuses and failures. A request is built
by a callable from its sequence number, so workloads can cycle through request kinds; a `PerClient` workload
gives each client its own sequence instead, sent one request at a time, as an SDK sends its device's queue.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp


@dataclass
class Req:
    """One HTTP request: method, URL, optional body (bytes or JSON) and headers; `units` counts e.g. events."""

    method: str
    url: str
    data: bytes | None = None
    json: Any = None
    headers: dict[str, str] | None = None
    units: int = 1


Check = Callable[[int, bytes], bool]


@dataclass(frozen=True)
class PerClient:
    """Requests that belong to a client: client c sends `sequence(c)(0)`, `sequence(c)(1)`, ... in order, each
    once the previous one has been answered.

    Countly's SDKs hold a device's requests in a queue and send the next only after the previous reply
    (`readyToProcess` in countly-sdk-nodejs' heartBeat), so a device's begin_session, events and end_session
    never race each other.
    """

    sequence: Callable[[int], Callable[[int], Req]]


Build = Callable[[int], Req] | PerClient


def _requests_of(build: Build, client: int) -> Callable[[int, int], Req]:
    """`client`'s next request, given how many the run and the client have sent so far."""
    if isinstance(build, PerClient):
        sequence = build.sequence(client)
        return lambda _run_sent, client_sent: sequence(client_sent)
    shared = build
    return lambda run_sent, _client_sent: shared(run_sent)


@dataclass
class LoadResult:
    """What one load round measured."""

    requests: int
    ok: int
    failed: int
    seconds: float
    units: int
    latencies_ms: list[float] = field(repr=False, default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    headers: dict[str, list[str]] = field(default_factory=dict)

    @property
    def rps(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    @property
    def units_per_s(self) -> float:
        return self.units / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float | None:
        return percentile(self.latencies_ms, p)

    def summary(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "ok": self.ok,
            "failed": self.failed,
            "seconds": round(self.seconds, 3),
            "rps": round(self.rps, 1),
            "units_per_s": round(self.units_per_s, 1),
            "p50_ms": _round(self.percentile(50)),
            "p95_ms": _round(self.percentile(95)),
            "p99_ms": _round(self.percentile(99)),
            "statuses": self.statuses,
            "errors": self.errors[:5],
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def percentile(values: list[float], p: float) -> float | None:
    """The p-th percentile (nearest rank) of `values`, None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, int(round(p / 100 * len(ordered) + 0.5)) - 1))
    return ordered[rank]


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


async def run_load(
    build: Build,
    *,
    concurrency: int,
    duration: float | None = None,
    max_requests: int | None = None,
    check: Check | None = None,
    keep_headers: tuple[str, ...] = (),
    request_timeout: float = 60.0,
) -> LoadResult:
    """Send requests from `build` with `concurrency` in flight; bounded by `duration` and/or `max_requests`.

    A plain `build(i)` gets the run's i-th request, whichever client sends it; a `PerClient` build gets each
    client's own sequence.
    """
    assert duration is not None or max_requests is not None
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    errors: list[str] = []
    headers: dict[str, list[str]] = {name: [] for name in keep_headers}
    counter = 0
    ok = failed = units = 0
    deadline = time.perf_counter() + duration if duration is not None else float("inf")
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    client_timeout = aiohttp.ClientTimeout(total=request_timeout)

    async with aiohttp.ClientSession(connector=connector, timeout=client_timeout) as session:

        async def worker(client: int) -> None:
            nonlocal counter, ok, failed, units
            next_request = _requests_of(build, client)
            sent = 0
            while True:
                if time.perf_counter() >= deadline or (max_requests is not None and counter >= max_requests):
                    return
                req = next_request(counter, sent)
                counter += 1
                sent += 1
                t0 = time.perf_counter()
                try:
                    async with session.request(
                        req.method, req.url, data=req.data, json=req.json, headers=req.headers
                    ) as resp:
                        body = await resp.read()
                        status = resp.status
                        for name in keep_headers:
                            value = resp.headers.get(name)
                            if value is not None:
                                headers[name].append(value)
                except Exception as exc:  # noqa: BLE001 - every failure is counted, not raised
                    failed += 1
                    statuses["error"] += 1
                    if len(errors) < 20:
                        errors.append(f"{type(exc).__name__}: {exc}")
                    continue
                latencies.append((time.perf_counter() - t0) * 1000)
                statuses[str(status)] += 1
                if 200 <= status < 300 and (check is None or check(status, body)):
                    ok += 1
                    units += req.units
                else:
                    failed += 1
                    if len(errors) < 20:
                        errors.append(f"{status}: {body[:200].decode('utf-8', 'replace')}")

        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for client in range(concurrency)))
        seconds = time.perf_counter() - started
    return LoadResult(
        requests=counter,
        ok=ok,
        failed=failed,
        seconds=seconds,
        units=units,
        latencies_ms=latencies,
        statuses=dict(statuses),
        errors=errors,
        headers=headers,
    )
