"""`analytics-gateway seed --pageviews N`: web hits of sites, reproducible from the seed number.

Each product gets paths (a long tail of pages and a few events, visited with Zipf-like weights), visitors with
their browser, system, screen, country and language, and hits spread over the days: a visitor's session is one
per day (the salt of a day, as `GATEWAY_SESSION_HOURS=24`), and the first hit of a session on a path is a first
visit. Referrers, campaigns and bots come in the proportions of a small real site. The hits are written with
COPY as `events` rows with their `web` details; the paths and campaigns are added, and the rollups are then
summed in SQL from the stored hits by the very statement the ingestion uses (`gateway.ingest.web.sql.rollups_of`),
so reads see what they would after the hits were sent through `/api/v0/count`.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from gateway.db.pool import Database
from gateway.ingest.web.agents import parse_agent
from gateway.ingest.web.cleaning import size_class
from gateway.ingest.web.months import build_months
from gateway.ingest.web.sql import rollups_of

CHUNK = 50_000
PAGES = 300
EVENTS = ("signup", "download", "play-video", "share", "newsletter", "buy")
USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0",
)
BOTS = ("curl/8.0", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)")
WIDTHS = (390, 412, 768, 1024, 1366, 1440, 1920, 2560, 0)
PLACES = (
    ("US", "US-CA"),
    ("US", "US-NY"),
    ("DE", ""),
    ("GB", ""),
    ("FR", "FR-IDF"),
    ("NL", "NL-NH"),
    ("IN", ""),
    ("", ""),
)
LANGUAGES = ("eng", "deu", "fra", "nld", "spa", "")
REFERRERS = ("news.ycombinator.com", "www.google.com", "duckduckgo.com", "lobste.rs", "github.com", "t.co")
CAMPAIGNS = ("spring-sale", "launch", "newsletter-12")

HIT_COLUMNS = ("account_id", "product_id", "key", "count", "occurred_at", "path", "title", "referrer", "web")


def _weights(n: int) -> list[float]:
    """Zipf-like weights: the first items are visited far more often than the tail."""
    return [1.0 / (i + 1) ** 1.1 for i in range(n)]


async def seed_pageviews(
    db: Database,
    account_id: int,
    product_ids: list[int],
    pageviews: int,
    seed_number: int,
    days: int,
    now: datetime,
    copy: Callable[[Database, str, tuple[str, ...], list[tuple[Any, ...]]], Any],
    update: Callable[[int], None] = lambda _n: None,
) -> int:
    """Write `pageviews` hits over the products (and their paths, campaigns and rollups); the hits written."""
    rng = random.Random(seed_number * 7919 + 17)
    per_product = max(0, pageviews // max(1, len(product_ids)))
    origin = now - timedelta(days=days)
    agents = [parse_agent(ua) for ua in USER_AGENTS]
    bots = [parse_agent(ua) for ua in BOTS]
    written = 0
    for product_id in product_ids:
        paths = [("/", "Home")] + [
            (f"/{('docs', 'blog', 'pricing', 'guide')[i % 4]}/page-{i}", f"Page {i}") for i in range(1, PAGES)
        ]
        names = [(path, False, title) for path, title in paths] + [
            (name, True, name.title()) for name in EVENTS
        ]
        await db.execute(
            """INSERT INTO web_paths (account_id, product_id, path, event, title, created_at)
               SELECT $1, $2, p.path, p.event, p.title, $3
               FROM unnest($4::text[], $5::boolean[], $6::text[]) AS p(path, event, title)
               ON CONFLICT DO NOTHING""",
            account_id,
            product_id,
            origin,
            [n[0] for n in names],
            [n[1] for n in names],
            [n[2] for n in names],
        )
        await db.execute(
            """INSERT INTO web_campaigns (account_id, product_id, name) SELECT $1, $2, unnest($3::text[])
               ON CONFLICT DO NOTHING""",
            account_id,
            product_id,
            list(CAMPAIGNS),
        )
        weights = _weights(len(names))
        visitors = max(100, per_product // 15)
        # per visitor: user agent, screen width, place, language
        people = [
            (
                rng.randrange(len(agents)),
                rng.choice(WIDTHS),
                rng.choice(PLACES),
                rng.choice(LANGUAGES),
            )
            for _ in range(visitors)
        ]
        per_day = [per_product // days + (1 if d < per_product % days else 0) for d in range(days)]
        rows: list[tuple[Any, ...]] = []
        for day_index, count in enumerate(per_day):
            day = origin + timedelta(days=day_index)
            seen: set[tuple[int, int]] = set()
            picks = rng.choices(range(len(names)), weights=weights, k=count)
            for pick in picks:
                visitor = int(rng.paretovariate(1.2)) % visitors
                agent_index, width, (country, region), language = people[visitor]
                path, event, title = names[pick]
                bot = 0
                agent = agents[agent_index]
                if rng.random() < 0.02:
                    agent, bot = rng.choice(bots), 1
                first = not bot and (visitor, pick) not in seen
                if first:
                    seen.add((visitor, pick))
                referrer, scheme, campaign = "", "o", ""
                chance = rng.random()
                if chance < 0.03:
                    campaign, scheme = rng.choice(CAMPAIGNS), "c"
                    referrer = rng.choice(REFERRERS)
                elif chance < 0.3:
                    referrer, scheme = rng.choice(REFERRERS), "h"
                session = hashlib.blake2b(
                    f"{product_id}/{visitor}/{day_index}".encode(), digest_size=16
                ).hexdigest()
                web = {
                    "event": event,
                    "referrer_scheme": scheme,
                    "campaign": campaign,
                    "browser": agent.browser,
                    "browser_version": agent.browser_version,
                    "system": agent.system,
                    "system_version": agent.system_version,
                    "screen": f"{width},0,1" if width else "",
                    "width": width,
                    "size": size_class(width),
                    "country": country,
                    "region": region,
                    "language": language,
                    "session": session,
                    "first_visit": first,
                    "bot": bot,
                }
                at = day + timedelta(seconds=rng.random() * 86400)
                rows.append(
                    (
                        account_id,
                        product_id,
                        path if event else "pageview",
                        1,
                        min(at, now),
                        None if event else path,
                        title or None,
                        referrer or None,
                        web,
                    )
                )
                if len(rows) >= CHUNK:
                    await copy(db, "events", HIT_COLUMNS, rows)
                    update(len(rows))
                    written += len(rows)
                    rows = []
        if rows:
            await copy(db, "events", HIT_COLUMNS, rows)
            update(len(rows))
            written += len(rows)
        # the events lists' page index (migration 040), kept by triggers that COPY skipped
        await db.execute(
            """INSERT INTO event_hours AS h (account_id, product_id, key, hour, rows)
               SELECT e.account_id, e.product_id, k.key, date_trunc('hour', e.occurred_at, 'UTC'), count(*)
               FROM events e CROSS JOIN LATERAL (VALUES (''), (e.key)) AS k(key)
               WHERE e.product_id = $1 AND e.web IS NOT NULL
               GROUP BY 1, 2, 3, 4
               ON CONFLICT (account_id, product_id, key, hour) DO UPDATE SET rows = h.rows + EXCLUDED.rows""",
            product_id,
        )
    return written


async def build_web_rollups(db: Database, product_ids: list[int], days: int, now: datetime) -> None:
    """Sum the rollups of the products' stored hits, a week at a time (the same statement as the ingestion), then
    the months that have ended (migration 054), as the gateway's background pass would."""
    # the months summed from the rows about to go stop being read
    await db.execute(
        "UPDATE web_rollup_months SET version = version + 1 WHERE product_id = ANY($1::bigint[])", product_ids
    )
    await db.execute("DELETE FROM web_rollups WHERE product_id = ANY($1::bigint[])", product_ids)
    hits = """
        SELECT e.account_id, e.product_id, w.id AS path_id,
               date_trunc('hour', e.occurred_at AT TIME ZONE p.timezone) AS hour,
               date_trunc('day', e.occurred_at AT TIME ZONE p.timezone) AS day,
               CASE WHEN (e.web->>'event')::boolean THEN 'event' ELSE 'pageview' END AS kind,
               left(coalesce(e.referrer, ''), 512) AS referrer, e.web->>'referrer_scheme' AS scheme,
               e.web->>'browser' AS browser, e.web->>'browser_version' AS browser_version,
               e.web->>'system' AS system, e.web->>'system_version' AS system_version, e.web->>'size' AS size,
               CASE WHEN (e.web->>'width')::integer > 0 THEN e.web->>'width' ELSE '' END AS width,
               e.web->>'country' AS country, e.web->>'region' AS region, e.web->>'language' AS language,
               e.web->>'campaign' AS campaign, (e.web->>'first_visit')::boolean AS first_visit,
               (e.web->>'bot')::integer AS bot
        FROM events e
        JOIN products p ON p.id = e.product_id
        JOIN web_paths w ON w.account_id = e.account_id AND w.product_id = e.product_id
                        AND w.event = (e.web->>'event')::boolean AND md5(w.path) = md5(coalesce(e.path, e.key))
                        AND w.path = coalesce(e.path, e.key)
        WHERE e.product_id = $1 AND e.web IS NOT NULL AND e.occurred_at >= $2 AND e.occurred_at < $3"""
    statement = rollups_of("seed_web_hits")
    start = now - timedelta(days=days + 1)
    for product_id in product_ids:
        week = start
        while week < now + timedelta(days=1):
            async with db.transaction() as tx:
                # a week's hits in a table of their own, analyzed: PostgreSQL then knows how many keys it groups
                # (hashed in memory), where it would guess a few rows of the query and sort them all
                await tx.execute("SET LOCAL work_mem = '256MB'")
                await tx.execute(
                    f"CREATE TEMP TABLE seed_web_hits ON COMMIT DROP AS {hits}",
                    product_id,
                    week,
                    week + timedelta(days=7),
                )
                await tx.execute("ANALYZE seed_web_hits")
                await tx.execute(statement)
            week += timedelta(days=7)
    # every month with day rows has its row, as the ingestion adds them; its version moves again, so that sums a
    # gateway's pass made while the rows were rebuilt are not read
    await db.execute(
        """
        INSERT INTO web_rollup_months AS m (account_id, product_id, month)
        SELECT DISTINCT r.account_id, r.product_id, date_trunc('month', r.bucket)
        FROM web_rollups r
        WHERE r.product_id = ANY($1::bigint[]) AND r.dimension = '' AND r.grain = 'd' AND r.path_id = 0
        ON CONFLICT (account_id, product_id, month) DO UPDATE SET version = m.version + 1
        """,
        product_ids,
    )
    await build_months(db)


def seed_now() -> datetime:
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
