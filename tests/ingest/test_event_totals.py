"""Every key's event totals per bucket (`event_totals`, migration 052) stay the sums of the per-key rows.

The ingestion adds them in the statement that adds the per-key rows; reads of "every key" (a product's events
series, the dashboard's period totals) use them instead of summing the keys.
"""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime

from gateway.db.pool import Database
from gateway.ingest import EventInput, IngestEngine, Outcome
from resolvers.analytics import event_series
from resolvers.analytics.queries import event_range_totals
from tests.ingest.conftest import MakeProduct
from tests.ingest.helpers import req, ts

MAX_BIGINT = 2**63 - 1

TOTALS = "SELECT grain, bucket, c, s, dur FROM event_totals WHERE product_id = $1 ORDER BY grain, bucket"
PER_KEY_SUMS = """
SELECT grain, bucket, sum(c)::bigint AS c, sum(s) AS s, sum(dur) AS dur FROM event_rollups
WHERE product_id = $1 AND seg_key = '' GROUP BY grain, bucket ORDER BY grain, bucket"""


async def test_totals_are_the_sums_of_every_keys_rows(
    db: Database, engine: IngestEngine, make_product: MakeProduct
) -> None:
    """Random events of several keys, with segmentation, sums and durations (halves: exact in any order),
    over days and hours of a zone with a DST change, from concurrent batches."""
    p = await make_product("Europe/Berlin")
    rng = random.Random(52)

    async def batch(n: int) -> None:
        requests = []
        for i in range(20):
            events = [
                EventInput(
                    rng.choice(["buy", "view", "share", "a,b"]),
                    count=rng.randint(1, 5),
                    sum=rng.randint(-20, 20) / 2,
                    duration=rng.randint(0, 30) / 2,
                    segmentation={"plan": rng.choice(["free", "pro"])} if rng.random() < 0.5 else None,
                )
                for _ in range(rng.randint(1, 3))
            ]
            day = rng.choice([(2024, 3, 30), (2024, 3, 31), (2024, 4, 1)])
            requests.append(req(p, f"d{n}-{i % 4}", timestamp=ts(*day, rng.randint(0, 23)), events=events))
        await engine.submit(requests)

    await asyncio.gather(*(batch(n) for n in range(6)))
    totals = [tuple(r) for r in await db.fetch(TOTALS, p.product_id)]
    expected = [tuple(r) for r in await db.fetch(PER_KEY_SUMS, p.product_id)]
    assert totals == expected and len(totals) > 20
    assert {r[0] for r in totals} == {"h", "d", "w", "m", "y"}

    # the reads of every key answer the same totals as the per-key rows summed
    since, until = datetime(2024, 3, 30, tzinfo=UTC), datetime(2024, 4, 2, tzinfo=UTC)
    series = await event_series(db, p.account_id, p.product_id, None, since, until, "d", merged=True)
    per_key = await event_series(db, p.account_id, p.product_id, None, since, until, "d")
    by_bucket: dict[datetime, list[float]] = {}
    for point in per_key:
        row = by_bucket.setdefault(point.bucket, [0, 0.0, 0.0])
        row[0] += point.c
        row[1] += point.s
        row[2] += point.dur
    assert {s.bucket: [s.c, s.s, s.dur] for s in series} == by_bucket and len(series) >= 3
    # local days: the last UTC hours of April 1st are April 2nd in Berlin
    [whole] = await event_range_totals(
        db, p.account_id, p.product_id, [(datetime(2024, 3, 30), datetime(2024, 4, 3))]
    )
    assert [whole.c, whole.s, whole.dur] == [sum(v[i] for v in by_bucket.values()) for i in range(3)]


async def test_a_total_saturates_instead_of_failing_the_write(
    db: Database, engine: IngestEngine, make_product: MakeProduct
) -> None:
    p = await make_product()
    await engine.submit([req(p, "a", timestamp=ts(2024, 5, 1, 9), events=[EventInput("buy")])])
    await db.execute(
        "UPDATE event_totals SET c = $2 WHERE product_id = $1 AND grain = 'y'", p.product_id, MAX_BIGINT - 3
    )
    # another key: its own rows are far from the limit, the year's total of every key is not
    outcomes = await engine.submit(
        [req(p, "b", timestamp=ts(2024, 5, 1, 10), events=[EventInput("other", count=1000)])]
    )
    assert outcomes == [Outcome.STORED]
    year = await db.fetchval("SELECT c FROM event_totals WHERE product_id = $1 AND grain = 'y'", p.product_id)
    day = await db.fetchval("SELECT c FROM event_totals WHERE product_id = $1 AND grain = 'd'", p.product_id)
    assert (year, day) == (MAX_BIGINT, 1001)
    stored = await db.fetchval("SELECT count(*) FROM events WHERE product_id = $1", p.product_id)
    assert stored == 2
