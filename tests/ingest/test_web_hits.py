"""Web hits through the ingestion engine: events rows with their details, paths, first visits and rollups."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from gateway.db.pool import Database
from gateway.ingest import IngestEngine, Outcome
from gateway.ingest.web.hits import HitRules, RawHit, prepare
from gateway.ingest.web.sessions import SessionSalts
from tests.ingest.conftest import ProductRow

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"
CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
AT = datetime(2026, 3, 2, 10, 15, tzinfo=UTC)


async def _record(
    db: Database, engine: IngestEngine, product: ProductRow, *raws: RawHit, **rules: bool
) -> list:
    salt = await SessionSalts(db).current()
    prepared = [
        prepare(product.account_id, product.product_id, raw, HitRules(**rules), salt, now=AT) for raw in raws
    ]
    requests = [p.request for p in prepared if p.request is not None]
    assert len(requests) == len(raws), [p.problems for p in prepared]
    return await engine.submit(requests)


async def _rollups(
    db: Database, product: ProductRow, dimension: str, grain: str = "d", path_id: int = 0
) -> dict:
    rows = await db.fetch(
        """SELECT value, detail, sum(pageviews) AS p, sum(visitors) AS v FROM web_rollups
           WHERE account_id = $1 AND product_id = $2 AND dimension = $3 AND grain = $4 AND path_id = $5
           GROUP BY value, detail""",
        product.account_id,
        product.product_id,
        dimension,
        grain,
        path_id,
    )
    return {(r["value"], r["detail"]): (r["p"], r["v"]) for r in rows}


async def test_hits_are_stored_with_details_and_rolled_up(
    db: Database, engine: IngestEngine, product: ProductRow
) -> None:
    hits = [
        RawHit(
            "/docs/", title="Docs", user_agent=FIREFOX, ip="81.2.69.142", screen="1920,1080,1", timestamp=AT
        ),
        RawHit("/docs", user_agent=FIREFOX, ip="81.2.69.142", timestamp=AT, referrer="https://search.test/q"),
        RawHit(
            "/docs", user_agent=CHROME, ip="81.2.69.143", timestamp=AT, location="NL-NB", language="nl-NL"
        ),
        RawHit(
            "signup", event=True, title="Sign up", session="s1", timestamp=AT, query="?utm_campaign=spring"
        ),
        RawHit("/docs", user_agent="curl/8.0", ip="1.2.3.4", timestamp=AT),
    ]
    assert await _record(db, engine, product, *hits, referrer_host_only=True) == [Outcome.STORED] * 5

    events = await db.fetch(
        "SELECT key, path, title, referrer, web FROM events WHERE product_id = $1 ORDER BY id",
        product.product_id,
    )
    assert [(e["key"], e["path"], e["title"]) for e in events] == [
        ("pageview", "/docs", "Docs"),
        ("pageview", "/docs", None),
        ("pageview", "/docs", None),
        ("signup", None, "Sign up"),
        ("pageview", "/docs", None),
    ]
    first, second, third, signup, bot = (e["web"] for e in events)
    assert first["browser"] == "Firefox" and first["browser_version"] == "120" and first["system"] == "Linux"
    assert first["size"] == "desktop" and first["country"] == "GB" and first["first_visit"] is True
    assert second["first_visit"] is False and events[1]["referrer"] == "search.test"
    assert second["referrer_scheme"] == "h"
    assert third["country"] == "NL" and third["region"] == "NL-NB" and third["language"] == "nld"
    assert signup["event"] is True and signup["campaign"] == "spring" and signup["referrer_scheme"] == "c"
    assert bot["bot"] == 1 and bot["first_visit"] is False

    paths = await db.fetch(
        "SELECT id, path, event, title FROM web_paths WHERE product_id = $1 ORDER BY id", product.product_id
    )
    assert [(p["path"], p["event"], p["title"]) for p in paths] == [
        ("/docs", False, "Docs"),
        ("signup", True, "Sign up"),
    ]
    docs = paths[0]["id"]
    # bots are not counted; the first hit of each session on a path is a visitor
    assert await _rollups(db, product, "", "h") == {("", ""): (4, 3)}
    assert await _rollups(db, product, "", "d", docs) == {("", ""): (3, 2)}
    assert await _rollups(db, product, "kind", "h") == {("pageview", ""): (3, 2), ("event", ""): (1, 1)}
    assert await _rollups(db, product, "browser") == {
        ("Firefox", "120"): (2, 1),
        ("Chrome", "120"): (1, 1),
        ("", ""): (1, 1),
    }
    assert await _rollups(db, product, "location") == {
        ("GB", ""): (2, 1),
        ("NL", "NL-NB"): (1, 1),
        ("", ""): (1, 1),
    }
    assert await _rollups(db, product, "campaign") == {("spring", ""): (1, 1)}
    assert await _rollups(db, product, "referrer", "d", docs) == {
        ("", "o"): (2, 2),
        ("search.test", "h"): (1, 0),
    }


async def test_a_session_visits_a_path_once_across_batches(
    db: Database, engine: IngestEngine, product: ProductRow
) -> None:
    again = RawHit("/a", user_agent=FIREFOX, ip="10.0.0.1", timestamp=AT)
    await _record(db, engine, product, again)
    await asyncio.gather(*(_record(db, engine, product, again) for _ in range(3)))
    await _record(db, engine, product, RawHit("/a", session="other", timestamp=AT))
    assert await _rollups(db, product, "", "d") == {("", ""): (5, 2)}


async def test_titles_follow_the_latest_and_paused_products_refuse(
    db: Database, engine: IngestEngine, make_product
) -> None:
    product = await make_product()
    await _record(db, engine, product, RawHit("/t", title="One", session="s", timestamp=AT))
    await _record(db, engine, product, RawHit("/t", title="Two", session="s", timestamp=AT))
    await _record(db, engine, product, RawHit("/t", session="s", timestamp=AT))
    assert await db.fetchval("SELECT title FROM web_paths WHERE product_id = $1", product.product_id) == "Two"
    paused = await make_product(status="paused")
    assert await _record(db, engine, paused, RawHit("/t", session="s", timestamp=AT)) == [
        Outcome.PRODUCT_PAUSED
    ]
