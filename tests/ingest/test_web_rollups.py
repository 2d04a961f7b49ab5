"""A batch's web rollups are summed in memory (`gateway/ingest/web/rollups.py`) and each key written once: the
rows equal those of the same hits written one by one, and those PostgreSQL sums from the stored hits with the
seeding's statement (`sql.rollups_of`)."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta

import pytest

from gateway.cli.seed_web import build_web_rollups
from gateway.db.pool import Database
from gateway.ingest import IngestEngine, Outcome
from gateway.ingest.web.hits import HitRules, RawHit, prepare
from gateway.ingest.web.months import build_months
from gateway.ingest.web.rollups import RollupDeltas
from gateway.ingest.web.sessions import SessionSalts
from tests.ingest.conftest import MakeProduct, ProductRow

AGENTS = (
    "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
    "curl/8.0",
    "",
)
NOW = datetime(2026, 3, 30, 12, 0, tzinfo=UTC)

# the stored rollups with path ids replaced by their paths (two products number their paths apart)
ROLLUPS = """
SELECT r.dimension, r.grain, coalesce(w.path || CASE WHEN w.event THEN ' (event)' ELSE '' END, '') AS path,
       r.bucket, r.value, r.detail, r.pageviews, r.visitors
FROM web_rollups r LEFT JOIN web_paths w ON w.account_id = r.account_id AND w.id = r.path_id
WHERE r.account_id = $1 AND r.product_id = $2
ORDER BY 1, 2, 3, 4, 5, 6
"""


def _hits(seed: int, count: int) -> list[RawHit]:
    """Hits over a few paths, sessions, referrers, campaigns, places and days (DST changes in Europe on March
    29), with bots, events, repeated visits and hits without a session."""
    rng = random.Random(seed)
    hits = []
    for _ in range(count):
        event = rng.random() < 0.15
        hits.append(
            RawHit(
                path=rng.choice(("signup", "play"))
                if event
                else rng.choice(("/", "/a", "/b/", "/c?utm_x=1")),
                title=rng.choice(("", "A title", "Another")),
                event=event,
                referrer=rng.choice(("", "", "https://news.test/x", "https://search.test/?q=1")),
                query=rng.choice(("", "", "?utm_campaign=spring", "?utm_source=mail&utm_campaign=fall")),
                screen=rng.choice(("", "1920,1080,1", "390,844,3", "2560")),
                bot=rng.choice((0, 0, 0, 0, 150)),
                user_agent=rng.choice(AGENTS),
                ip=rng.choice(("81.2.69.142", "81.2.69.143", "2001:db8::1", "")),
                location=rng.choice(("", "", "NL-NB", "US", "XX")),
                language=rng.choice(("", "nl-NL", "en")),
                timestamp=NOW - timedelta(minutes=rng.randrange(0, 4 * 24 * 60)),
                session=rng.choice(("", "", "", "s1", "s2")),
                no_session=rng.random() < 0.1,
            )
        )
    return hits


async def _submit(
    db: Database, engine: IngestEngine, product: ProductRow, hits: list[RawHit]
) -> list[Outcome]:
    salt = await SessionSalts(db).current()
    rules = HitRules(require_session=False)
    prepared = [prepare(product.account_id, product.product_id, hit, rules, salt, now=NOW) for hit in hits]
    return await engine.submit([p.request for p in prepared if p.request is not None])


async def _rollups(db: Database, product: ProductRow) -> list[tuple[object, ...]]:
    return [tuple(r) for r in await db.fetch(ROLLUPS, product.account_id, product.product_id)]


@pytest.mark.parametrize("timezone", ["UTC", "Europe/Amsterdam", "Asia/Kathmandu"])
async def test_a_batch_writes_the_rollups_of_its_hits_one_by_one(
    db: Database, engine: IngestEngine, make_product: MakeProduct, timezone: str
) -> None:
    hits = _hits(sum(map(ord, timezone)), 300)
    batched, one_by_one = await make_product(timezone), await make_product(timezone)

    outcomes = await _submit(db, engine, batched, hits)
    assert len(outcomes) == len(hits) and set(outcomes) == {Outcome.STORED}
    for hit in hits:
        assert await _submit(db, engine, one_by_one, [hit]) == [Outcome.STORED]

    rows = await _rollups(db, batched)
    assert rows and rows == await _rollups(db, one_by_one)
    # and PostgreSQL, summing the stored hits with the seeding's statement, finds the same rows; the seeding
    # also sums the ended months (migration 054), as the gateway's pass does those of the ingested hits
    await build_web_rollups(db, [batched.product_id], 5, NOW)
    await build_months(db)
    summed = await _rollups(db, batched)
    assert [row for row in summed if row[1] != "m"] == rows
    assert any(row[1] == "m" for row in summed) and summed == await _rollups(db, one_by_one)


def test_each_key_is_sent_once_paths_first_then_the_sites_by_key() -> None:
    deltas = RollupDeltas()
    hour, day = datetime(2026, 3, 2, 10), datetime(2026, 3, 2)
    chrome = (("browser", "Chrome", "120"), ("size", "desktop", "1920"))
    deltas.add(1, 7, False, hour, day, True, chrome)
    deltas.add(1, 5, False, hour, day, False, chrome)
    deltas.add(1, 7, False, hour, day, False, (("browser", "Chrome", "120"),))
    deltas.add(1, 9, True, hour, day, True, ())
    paths, sites = deltas.rows({1: 40})
    assert paths == sorted(paths) and sites == sorted(sites)
    assert ("browser", "d", 7, day, "Chrome", "120", 2, 1) in [row[1:9] for row in paths]
    by_key = {row[1:7]: row[7:] for row in sites}
    assert all(row[3] == 0 and row[9] == 40 for row in sites)
    assert by_key[("browser", "d", 0, day, "Chrome", "120")] == (3, 1, 40)
    assert by_key[("", "h", 0, hour, "", "")] == (4, 2, 40)
    assert by_key[("kind", "d", 0, day, "pageview", "")] == (3, 1, 40)
    assert by_key[("kind", "h", 0, hour, "event", "")] == (1, 1, 40)
    assert ("size", "d", 0, day, "desktop", "1920") in by_key


async def test_hits_of_several_accounts_in_one_batch_write_only_their_own_rows(
    db: Database, make_product: MakeProduct
) -> None:
    """Submitters of two accounts share a transaction; a request naming one account's product with the other
    account's id stores nothing (whichever comes last in the batch), and each product's rows carry its account."""
    first, second = await make_product(), await make_product()
    salt = await SessionSalts(db).current()
    rules = HitRules(require_session=False)
    hits = _hits(7, 40)

    def requests(account_id: int, product: ProductRow) -> list[object]:
        prepared = [prepare(account_id, product.product_id, hit, rules, salt, now=NOW) for hit in hits]
        return [p.request for p in prepared if p.request is not None]

    engine = IngestEngine(db, window_ms=200.0, max_batch=500)
    await engine.start()
    try:
        results = await asyncio.gather(
            engine.submit(requests(first.account_id, first)),  # type: ignore[arg-type]
            engine.submit(requests(second.account_id, second)),  # type: ignore[arg-type]
            engine.submit(requests(second.account_id, first)),  # type: ignore[arg-type]
        )
    finally:
        await engine.stop()
    assert set(results[0]) == set(results[1]) == {Outcome.STORED}
    assert set(results[2]) == {Outcome.UNKNOWN_PRODUCT}
    assert engine.stats.batches == 1
    owners = await db.fetch(
        "SELECT DISTINCT account_id, product_id FROM web_rollups WHERE product_id = ANY($1::bigint[]) ORDER BY 2",
        [first.product_id, second.product_id],
    )
    assert [tuple(r) for r in owners] == [
        (first.account_id, first.product_id),
        (second.account_id, second.product_id),
    ]
    # and the first product counted its hits once: as the same hits counted by a product of their own
    alone = await make_product()
    await _submit_with(db, alone, hits)
    assert await _rollups(db, first) == await _rollups(db, alone)


async def _submit_with(db: Database, product: ProductRow, hits: list[RawHit]) -> None:
    engine = IngestEngine(db, window_ms=2.0, max_batch=500)
    await engine.start()
    try:
        assert set(await _submit(db, engine, product, hits)) == {Outcome.STORED}
    finally:
        await engine.stop()


async def test_deleting_a_product_or_its_account_deletes_its_rollups(
    db: Database, engine: IngestEngine, make_product: MakeProduct
) -> None:
    kept, deleted, closed = await make_product(), await make_product(), await make_product()
    hits = _hits(11, 30)
    for product in (kept, deleted, closed):
        assert set(await _submit(db, engine, product, hits)) == {Outcome.STORED}

    count = "SELECT count(*) FROM web_rollups WHERE account_id = $1 AND product_id = $2"
    await db.execute("DELETE FROM products WHERE id = $1", deleted.product_id)
    await db.execute("DELETE FROM accounts WHERE id = $1", closed.account_id)
    assert await db.fetchval(count, deleted.account_id, deleted.product_id) == 0
    assert await db.fetchval(count, closed.account_id, closed.product_id) == 0
    assert await db.fetchval(count, kept.account_id, kept.product_id) > 0


@pytest.mark.parametrize(("max_hits", "batches"), [(2000, 1), (600, 2)])
async def test_web_hits_close_a_batch_by_their_own_count(
    db: Database, make_product: MakeProduct, max_hits: int, batches: int
) -> None:
    """Three calls of 300 hits share a transaction up to `max_hits`, whatever `max_batch` (device requests)."""
    product = await make_product()
    hits = _hits(3, 300)
    engine = IngestEngine(db, window_ms=300.0, max_batch=10, max_hits=max_hits)
    await engine.start()
    try:
        results = await asyncio.gather(*(_submit(db, engine, product, hits) for _ in range(3)))
    finally:
        await engine.stop()
    assert all(set(outcomes) == {Outcome.STORED} for outcomes in results)
    assert engine.stats.batches == batches
