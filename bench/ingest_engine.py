"""Throughput and CPU cost of IngestEngine.submit(), in isolation (no HTTP, no GraphQL).

Three shapes, like the gateway's ingestion workloads:
- `bulk`: submits of 50 requests x 10 random events (20 keys, two segmentation keys) from 16 submitters;
- `countly-bulk`: the harness's `/i/bulk` calls (bench/builders.py `bulk_builder`): 50 requests x 10 events of 5
  keys with one segmentation value, devices cycling over 20,000 new ones per round, 8 submitters;
- `single` (`/i`): submits of one request with 1-3 events from 64 concurrent submitters.

Each round submits fresh requests into the same database; the median of the rounds is reported. Besides wall
time, the CPU time of this process per event / request is reported: PostgreSQL runs in other processes, so it
is the engine's (and asyncpg's) Python cost, much less sensitive to what else runs on the machine. When the
server runs on this machine, the CPU time of its processes per event is reported too (PostgreSQL's cost).

Usage: .venv/bin/python bench/ingest_engine.py [--mode bulk|single] [--rounds 5] [--batches N]
       [--concurrency 16] [--devices 5000] [--cprofile FILE]
Profile with py-spy: .venv/bin/py-spy record -r 200 -f raw -o out.txt -- .venv/bin/python bench/ingest_engine.py
Starts a throw-away embedded PostgreSQL unless DATABASE_URL is set.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import cProfile
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gateway.db.embedded import start_embedded  # noqa: E402
from gateway.db.migrate import migrate  # noqa: E402
from gateway.db.pool import Database  # noqa: E402
from gateway.ingest import EventInput, IngestEngine, TrackRequest  # noqa: E402

# (requests per submit, events per request (min, max), default concurrency, default submits per round)
MODES = {
    "bulk": (50, (10, 10), 16, 200),
    "countly-bulk": (50, (10, 10), 8, 200),
    "single": (1, (1, 3), 64, 4000),
}
COUNTLY_KEYS = ("purchase", "login", "search", "share", "level_up")


def make_countly_batch(account_id: int, product_id: int, run: str, number: int) -> list[TrackRequest]:
    """The requests of the harness's `/i/bulk` call `number` (bench/builders.py `bulk_builder`)."""
    now = str(int(time.time() * 1000))
    return [
        TrackRequest(
            account_id=account_id,
            product_id=product_id,
            device_key=f"bulk-{run}-{(number * 50 + k) % 20000}",
            timestamp=now,
            events=[
                EventInput(key=COUNTLY_KEYS[(k + e) % 5], count=1, segmentation={"plan": "pro"})
                for e in range(10)
            ],
        )
        for k in range(50)
    ]


def make_batch(
    account_id: int, product_id: int, devices: int, rnd: random.Random, mode: str = "bulk"
) -> list[TrackRequest]:
    """One submit's requests: random devices, events of the last minute with segmentation."""
    requests, (low, high), _, _ = MODES[mode]
    now_ms = int(time.time() * 1000)
    batch = []
    for _ in range(requests):
        events = [
            EventInput(
                key=f"event_{rnd.randrange(20)}",
                count=1,
                sum=rnd.random() * 10,
                duration=rnd.random(),
                segmentation={"plan": rnd.choice(["free", "pro", "team"]), "step": str(rnd.randrange(5))},
                timestamp=str(now_ms - rnd.randrange(60_000)),
            )
            for _ in range(rnd.randint(low, high))
        ]
        batch.append(
            TrackRequest(
                account_id=account_id,
                product_id=product_id,
                device_key=f"dev-{rnd.randrange(devices)}",
                timestamp=str(now_ms),
                begin_session=rnd.random() < 0.1,
                session_duration=30,
                metrics={"_os": rnd.choice(["Android", "iOS"]), "_app_version": "1.0"},
                events=events,
            )
        )
    return batch


async def one_round(
    engine: IngestEngine, batches: list[list[TrackRequest]], concurrency: int
) -> tuple[float, float]:
    """Wall and CPU seconds to submit `batches` from `concurrency` submitters."""
    queue = list(batches)

    async def worker() -> None:
        while queue:
            await engine.submit(queue.pop())

    wall, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - wall, time.process_time() - cpu


def _throwaway_server() -> str:
    """A fresh embedded server whose data is removed at exit (each run's data was about 450 MB)."""
    data_dir = Path(tempfile.mkdtemp(prefix="ingest-engine-"))
    # registered before the server's own exit handler, so it runs after the server has stopped
    atexit.register(shutil.rmtree, data_dir, ignore_errors=True)
    return start_embedded(data_dir)


async def run(args: argparse.Namespace) -> None:
    url = os.environ.get("DATABASE_URL") or _throwaway_server()
    await migrate(url)
    db = await Database.connect(url, min_size=2, max_size=10)
    tag = uuid.uuid4().hex
    account_id = await db.fetchval("INSERT INTO accounts (name) VALUES ($1) RETURNING id", f"bench-{tag}")
    product_id = await db.fetchval(
        "INSERT INTO products (account_id, name, timezone, app_key) VALUES ($1, 'bench', 'Europe/Istanbul', $2)"
        " RETURNING id",
        account_id,
        f"bench-{tag}",
    )
    engine = IngestEngine(db, window_ms=args.window_ms, max_batch=args.max_batch)
    await engine.start()
    concurrency = args.concurrency or MODES[args.mode][2]
    submits = args.batches or MODES[args.mode][3]
    rnd = random.Random(1)
    await engine.submit(make_batch(account_id, product_id, args.devices, rnd, args.mode))  # warm-up
    profiler = cProfile.Profile() if args.cprofile else None
    rates: list[tuple[float, float, float, float]] = []
    server = _server_processes(url)
    for number in range(1, args.rounds + 1):
        if args.mode == "countly-bulk":
            batches = [
                make_countly_batch(account_id, product_id, f"{tag}-{number}", i) for i in range(submits)
            ]
            batches.reverse()  # workers pop from the end: calls go out in the harness's order
        else:
            batches = [
                make_batch(account_id, product_id, args.devices, rnd, args.mode) for _ in range(submits)
            ]
        events = sum(len(r.events) for batch in batches for r in batch)
        requests = sum(len(batch) for batch in batches)
        transactions = engine.stats.transactions
        if profiler:
            profiler.enable()
        server_cpu = _cpu_seconds(server)
        wall, cpu = await one_round(engine, batches, concurrency)
        server_cpu = _cpu_seconds(server) - server_cpu
        if profiler:
            profiler.disable()
        rates.append((events / wall, cpu * 1e6 / events, cpu * 1e6 / requests, server_cpu * 1e6 / events))
        print(
            f"round {number}: {submits} submits ({args.mode}), {requests} requests, {events} events,"
            f" concurrency {concurrency}: {wall:.2f} s, {events / wall:,.0f} events/s,"
            f" {requests / wall:,.0f} requests/s, CPU {rates[-1][1]:.1f} us/event {rates[-1][2]:.1f} us/request,"
            f" server CPU {rates[-1][3]:.1f} us/event, {engine.stats.transactions - transactions} transactions"
        )
    await engine.stop()
    print(f"engine: {engine.stats}")
    stored = await db.fetchval("SELECT count(*) FROM events WHERE product_id = $1", product_id)
    print(
        f"median of {args.rounds}: {statistics.median(r[0] for r in rates):,.0f} events/s,"
        f" CPU {statistics.median(r[1] for r in rates):.1f} us/event,"
        f" {statistics.median(r[2] for r in rates):.1f} us/request,"
        f" server CPU {statistics.median(r[3] for r in rates):.1f} us/event; {stored} event rows stored"
    )
    if profiler:
        profiler.dump_stats(args.cprofile)
    await db.close()


def _server_processes(url: str) -> list[psutil.Process]:
    """The processes of a PostgreSQL server on this machine listening on the socket directory of `url`."""
    host = parse_qs(urlparse(url).query).get("host", [""])[0]
    pid_file = Path(host) / "postmaster.pid"
    if not host or not pid_file.exists():
        return []
    try:
        postmaster = psutil.Process(int(pid_file.read_text().split()[0]))
        return [postmaster]
    except (psutil.Error, ValueError):
        return []


def _cpu_seconds(server: list[psutil.Process]) -> float:
    """User + system CPU seconds of the server's processes (backends come and go: children read each time)."""
    total = 0.0
    for root in server:
        for process in (root, *root.children()):
            try:
                times = process.cpu_times()
            except psutil.Error:
                continue
            total += times.user + times.system
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mode", choices=sorted(MODES), default="bulk")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--batches", type=int, default=0, help="submits per round (default: 200 bulk, 4000 single)"
    )
    parser.add_argument(
        "--concurrency", type=int, default=0, help="submitters (default: 16 bulk, 8 countly-bulk, 64 single)"
    )
    parser.add_argument("--devices", type=int, default=5000)
    parser.add_argument("--window-ms", type=float, default=2.0)
    parser.add_argument("--max-batch", type=int, default=500)
    parser.add_argument("--cprofile", metavar="FILE", help="write cProfile stats of the timed rounds to FILE")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
