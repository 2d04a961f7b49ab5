"""Throughput of IngestEngine.submit(): events/s for batches of 50 requests x 10 events.

Usage: .venv/bin/python bench/ingest_engine.py [--batches 200] [--concurrency 16] [--devices 5000]
Starts a throw-away embedded PostgreSQL unless DATABASE_URL is set.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gateway.db import Database  # noqa: E402
from gateway.embedded import start_embedded  # noqa: E402
from gateway.ingest import EventInput, IngestEngine, TrackRequest  # noqa: E402
from gateway.migrate import migrate  # noqa: E402

REQUESTS_PER_BATCH = 50
EVENTS_PER_REQUEST = 10


def make_batch(account_id: int, product_id: int, devices: int, rnd: random.Random) -> list[TrackRequest]:
    now_ms = int(time.time() * 1000)
    batch = []
    for _ in range(REQUESTS_PER_BATCH):
        events = [
            EventInput(
                key=f"event_{rnd.randrange(20)}",
                count=1,
                sum=rnd.random() * 10,
                duration=rnd.random(),
                segmentation={"plan": rnd.choice(["free", "pro", "team"]), "step": str(rnd.randrange(5))},
                timestamp=str(now_ms - rnd.randrange(60_000)),
            )
            for _ in range(EVENTS_PER_REQUEST)
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


async def run(args: argparse.Namespace) -> None:
    url = os.environ.get("DATABASE_URL") or start_embedded(Path(tempfile.mkdtemp()) / "bench")
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
    rnd = random.Random(1)
    batches = [make_batch(account_id, product_id, args.devices, rnd) for _ in range(args.batches)]
    # warm-up
    await engine.submit(make_batch(account_id, product_id, args.devices, rnd))
    queue = list(batches)

    async def worker() -> None:
        while queue:
            await engine.submit(queue.pop())

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(args.concurrency)))
    elapsed = time.perf_counter() - started
    await engine.stop()
    events = args.batches * REQUESTS_PER_BATCH * EVENTS_PER_REQUEST
    stored = await db.fetchval("SELECT count(*) FROM events WHERE product_id = $1", product_id)
    print(
        f"{args.batches} submits x {REQUESTS_PER_BATCH} requests x {EVENTS_PER_REQUEST} events,"
        f" concurrency {args.concurrency}: {elapsed:.2f} s, {events / elapsed:,.0f} events/s,"
        f" {args.batches * REQUESTS_PER_BATCH / elapsed:,.0f} requests/s,"
        f" {engine.stats.transactions} transactions, {stored} event rows stored"
    )
    await db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batches", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--devices", type=int, default=5000)
    parser.add_argument("--window-ms", type=float, default=2.0)
    parser.add_argument("--max-batch", type=int, default=500)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
