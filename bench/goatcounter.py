"""The GoatCounter workloads of `make bench` (`--only goatcounter`): counting, the stats reads and the export.

- `gc_count`: `POST /api/v0/count`, 500 hits a request (a backend importing its logs), 8 clients; hits/s.
- `gc_pixel` against `gc_ingest_i`, rounds alternated on the ingestion gateway: `GET /count` as count.js sends
  it, from many browsers (a user agent from a list, an address of its own per request through
  `X-Forwarded-For` from a trusted proxy, so that every hit is a new visitor and the per-IP limit of `/count`,
  left at GoatCounter's default, is charged as in production), 64 clients; against Countly `/i` of the same
  run and the same load generator.
- `web_*_{small,large}`: `/api/v0/stats/total`, `/stats/hits`, `/stats/browsers`, `/stats/toprefs` and the
  graph's `Product.webAnalytics` (totals with a daily series, top pages with their series, five breakdowns) over
  the last 30 days of the 1M and 10M pageview sets (`analytics-gateway seed --pageviews`), rounds alternated;
  p95 and the large/small latency ratio.
- `gc_export_small`: `POST /api/v0/export` of the 1M set, polled until finished, then downloaded and
  decompressed by the harness, which counts its rows against the hits stored; rows/s from the request to the
  last byte, and the gateway's peak RSS meanwhile.

The sites are chosen by `Host` as GoatCounter's are: each data set's product gets a host of its own. The API's
per-IP limits (`goatcounter-count`, `-api`, `-export`) are lifted with `GATEWAY_RATE_LIMITS` (the load comes from
one address); the pixel's is not.
"""

from __future__ import annotations

import asyncio
import random
import time
import zlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import aiohttp
import asyncpg
import orjson

from bench.load import Req, median
from gateway.cli.seed_web import USER_AGENTS as SEEDED_AGENTS

HOSTS = {"small": "small.bench-web.test", "large": "large.bench-web.test", "ingest": "ingest.bench-web.test"}
# the API's limits off for the load of one address; the pixel's left at GoatCounter's default
RATE_LIMITS = "goatcounter-count=0/1,goatcounter-api=0/1,goatcounter-export=0/1"
TRUSTED_PROXIES = "127.0.0.1"
HITS_PER_REQUEST = 500

# the seeded sets' browsers, and two more
USER_AGENTS = (
    *SEEDED_AGENTS,
    "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 13; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Mobile Safari/537.36",
)
PATHS = tuple(["/", "/pricing", "/docs", "/blog"] + [f"/blog/post-{i}" for i in range(60)])
REFERRERS = ("", "", "", "https://news.ycombinator.com/", "https://www.google.com/", "https://lobste.rs/")
SCREENS = ("1920,1080,1", "390,844,3", "1366,768,1", "2560,1440,2", "768,1024,2")
LANGUAGES = ("en-US,en;q=0.9", "de-DE,de;q=0.8", "fr-FR", "nl-NL,nl;q=0.9,en;q=0.5")

WEB_QUERY = """
query Web($id: ID!, $period: AnalyticsRange!) {
  node(id: $id) { ... on Product { webAnalytics {
    totals(period: $period, grain: DAY) { pageviews visitors series { start size pageviews visitors } }
    pages(period: $period, limit: 10, grain: DAY) {
      pages { path { path title } pageviews visitors series { visitors } } more
    }
    referrers: breakdown(dimension: REFERRER, period: $period, limit: 10) { stats { value visitors } more }
    browsers: breakdown(dimension: BROWSER, period: $period, limit: 10) { stats { value visitors } more }
    systems: breakdown(dimension: SYSTEM, period: $period, limit: 10) { stats { value visitors } more }
    sizes: breakdown(dimension: SIZE, period: $period) { stats { value visitors } }
    locations: breakdown(dimension: LOCATION, period: $period, limit: 10) { stats { value name visitors } more }
  } } }
}
"""


def _address(n: int) -> str:
    """A client address of its own for request n (16M of them)."""
    n %= 1 << 24
    return f"10.{n >> 16}.{(n >> 8) & 255}.{n & 255}"


def count_builder(base: str, token: str, run: int, hits: int = HITS_PER_REQUEST) -> Callable[[int], Req]:
    """`POST /api/v0/count` requests of `hits` hits each, every hit from an address of its own (a new
    visitor). The hits are joined from pieces encoded once, so the load generator spends little on them."""
    rng = random.Random(run)
    pieces = [
        orjson.dumps(
            {
                "path": rng.choice(PATHS),
                "title": "A page",
                "ref": rng.choice(REFERRERS),
                "user_agent": rng.choice(USER_AGENTS),
                "size": rng.choice(SCREENS),
            }
        )[:-1]
        + b',"ip":"'
        for _ in range(997)
    ]
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/json",
        "Host": HOSTS["ingest"],
    }
    url = f"{base}/api/v0/count"
    offset = run * 1_000_003

    def build(i: int) -> Req:
        first = offset + i * hits
        body = b",".join(
            pieces[(first + k) % len(pieces)] + _address(first + k).encode() + b'"}' for k in range(hits)
        )
        return Req("POST", url, data=b'{"hits":[' + body + b"]}", headers=headers, units=hits)

    return build


def pixel_builder(base: str, run: int) -> Callable[[int], Req]:
    """`GET /count` as count.js sends it, each request from a browser at an address of its own."""
    rng = random.Random(run + 7)
    queries = [
        urlencode(
            {
                "p": rng.choice(PATHS),
                "t": "A page",
                "r": rng.choice(REFERRERS),
                "s": rng.choice(SCREENS),
                "b": "0",
                "q": "?utm_campaign=launch" if rng.random() < 0.05 else "",
            }
        )
        for _ in range(997)
    ]
    offset = (run + 1) * 3_000_017

    def build(i: int) -> Req:
        n = offset + i
        headers = {
            "Host": HOSTS["ingest"],
            "User-Agent": USER_AGENTS[n % len(USER_AGENTS)],
            "Accept-Language": LANGUAGES[n % len(LANGUAGES)],
            "X-Forwarded-For": _address(n),
        }
        return Req("GET", f"{base}/count?{queries[n % len(queries)]}&rnd={n}", headers=headers)

    return build


def pixel_ok(status: int, body: bytes) -> bool:
    return status == 200 and body.startswith(b"GIF89a")


def count_ok(status: int, body: bytes) -> bool:
    return status == 202


def read_builders(base: str, data: dict[str, Any], host: str) -> dict[str, Callable[[int], Req]]:
    """The stats reads of the last 30 days of a data set: four API endpoints and the graph's webAnalytics."""
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    start = end - timedelta(days=30)
    period = {"start": start.strftime("%Y-%m-%dT%H:%M:%SZ"), "end": end.strftime("%Y-%m-%dT%H:%M:%SZ")}
    headers = {"Authorization": f"Bearer {data['token']}", "Host": host}

    def get(path: str, params: dict[str, str]) -> Callable[[int], Req]:
        url = f"{base}/api/v0/{path}?{urlencode({**period, **params})}"
        return lambda _i: Req("GET", url, headers=headers)

    graph_body = orjson.dumps(
        {
            "query": WEB_QUERY,
            "variables": {
                "id": data["product_id"],
                "period": {"since": start.isoformat(), "until": end.isoformat()},
            },
        }
    )
    graph_headers = {"Authorization": f"Bearer {data['token']}", "Content-Type": "application/json"}
    return {
        "gc_total": get("stats/total", {}),
        "gc_hits": get("stats/hits", {"limit": "10"}),
        "gc_browsers": get("stats/browsers", {"limit": "10"}),
        "gc_toprefs": get("stats/toprefs", {"limit": "10"}),
        "graphql": lambda _i: Req("POST", f"{base}/graphql", data=graph_body, headers=graph_headers),
    }


async def set_host(url: str, account_pk: int, host: str) -> int:
    """Give the account's first product `host` (taken from any other product); the product's id."""
    conn = await asyncpg.connect(url)
    try:
        product = await conn.fetchval(
            "SELECT id FROM products WHERE account_id = $1 ORDER BY id LIMIT 1", account_pk
        )
        await conn.execute(
            """INSERT INTO product_hosts (host, account_id, product_id) VALUES ($1, $2, $3)
               ON CONFLICT (host) DO UPDATE SET account_id = EXCLUDED.account_id, product_id = EXCLUDED.product_id""",
            host,
            account_pk,
            product,
        )
        return int(product)
    finally:
        await conn.close()


async def stored_hits(url: str, product: int) -> int:
    conn = await asyncpg.connect(url)
    try:
        return int(
            await conn.fetchval(
                "SELECT count(*) FROM events WHERE product_id = $1 AND web IS NOT NULL", product
            )
        )
    finally:
        await conn.close()


async def export_once(base: str, token: str, host: str) -> dict[str, Any]:
    """One export of the site: started, polled, downloaded; its rows (counted in the download), bytes and
    seconds from the request to the last byte."""
    headers = {"Authorization": f"Bearer {token}", "Host": host}
    started = time.monotonic()
    timeout = aiohttp.ClientTimeout(total=1800)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        async with session.post(f"{base}/api/v0/export", json={}, headers=headers) as resp:
            body = await resp.read()
            if resp.status != 202:
                raise RuntimeError(f"export start: {resp.status} {body[:200]!r}")
            export_id = orjson.loads(body)["id"]
        while True:
            async with session.get(f"{base}/api/v0/export/{export_id}", headers=headers) as resp:
                state = orjson.loads(await resp.read())
            if state.get("error"):
                raise RuntimeError(f"export failed: {state['error']}")
            if state.get("finished_at"):
                break
            await asyncio.sleep(0.1)
        finished = time.monotonic()
        inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
        lines = size = 0
        header = b""
        async with session.get(f"{base}/api/v0/export/{export_id}/download", headers=headers) as resp:
            if resp.status != 200:
                raise RuntimeError(f"export download: {resp.status}")
            async for chunk in resp.content.iter_chunked(1 << 16):
                size += len(chunk)
                data = inflate.decompress(chunk)
                if not header:
                    header = data[: data.find(b"\n") + 1]
                lines += data.count(b"\n")
            lines += inflate.flush().count(b"\n")
    seconds = time.monotonic() - started
    return {
        "rows": lines - 1,
        "reported_rows": state.get("num_rows"),
        "bytes": size,
        "seconds": round(seconds, 2),
        "generate_seconds": round(finished - started, 2),
        "rows_per_s": round((lines - 1) / seconds, 1),
        "header_ok": header.startswith(b"2Path,"),
    }


async def export_workload(
    bench: Any, base: str, data: dict[str, Any], host: str, url: str, monitor: Any
) -> None:
    """`bench.rounds` exports of the small set, one at a time; the median rows/s and the peak RSS."""
    expected = await stored_hits(url, data["product_pk"])
    bench.log(f"gc_export_small: {bench.rounds} exports of {expected:,} hits")
    monitor.start()
    rounds: list[dict[str, Any]] = []
    errors: list[str] = []
    for _ in range(bench.rounds):
        try:
            rounds.append(await export_once(base, data["token"], host))
        except (RuntimeError, aiohttp.ClientError, TimeoutError, ValueError, KeyError) as exc:
            errors.append(str(exc))
    peak = await monitor.stop()
    good = [r for r in rounds if r["rows"] == expected and r["header_ok"]]
    bad = [r for r in rounds if r not in good]
    errors += [f"{r['rows']} rows downloaded, {expected} stored" for r in bad]
    seconds = [r["seconds"] for r in good]
    out = {
        "name": "gc_export_small",
        "concurrency": 1,
        "rounds": rounds,
        "rps": None,
        "units_per_s": median([r["rows_per_s"] for r in good]) if good else None,
        "p50_ms": round(1000 * (median(seconds) or 0), 1) if good else None,
        "p95_ms": None,
        "p99_ms": None,
        "failed": len(errors),
        "requests": len(rounds) + len(errors) - len(bad),
        "errors": errors[:5],
        "peak_rss_mb": peak,
        "rows": expected,
    }
    bench.results["workloads"]["gc_export_small"] = out
    bench.log(
        f"  gc_export_small: {out['units_per_s']} rows/s, {out['p50_ms']} ms, rss {peak} MB, errors {errors[:2]}"
    )


READS = ("gc_total", "gc_hits", "gc_browsers", "gc_toprefs", "graphql")


def checks(w: dict[str, Any], t: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The GoatCounter targets of one run (see bench/report.py `derived`)."""
    out: dict[str, Any] = {}
    found: list[dict[str, Any]] = []

    def get(name: str, key: str) -> float | None:
        value = w.get(name, {}).get(key)
        return float(value) if value is not None else None

    if "gc_count" in w:
        found.append(
            {
                "target": "/api/v0/count hits/s >= 50,000",
                "value": get("gc_count", "units_per_s"),
                "goal": t.get("gc_count_hits_per_s"),
            }
        )
    pixel, countly = get("gc_pixel", "rps"), get("gc_ingest_i", "rps")
    if pixel is not None or countly is not None:
        ratio = round(pixel / countly, 3) if pixel and countly else None
        out["gc_pixel_vs_i"] = ratio
        found.append(
            {
                "target": "/count req/s >= /i req/s of the same run",
                "value": ratio,
                "goal": t.get("gc_pixel_vs_i"),
            }
        )
    for name in READS:
        large, small = w.get(f"web_{name}_large"), w.get(f"web_{name}_small")
        if large:
            found.append(
                {
                    "target": f"web {name} p95 at the large set (10M pageviews) <= 25 ms",
                    "value": large.get("p95_ms") if large.get("rps") else None,
                    "goal": t.get("analytics_p95_ms"),
                    "lower_is_better": True,
                }
            )
        if large and small and large.get("rps") and small.get("rps"):
            r50 = round(large["p50_ms"] / small["p50_ms"], 3) if small.get("p50_ms") else None
            r95 = round(large["p95_ms"] / small["p95_ms"], 3) if small.get("p95_ms") else None
            out[f"web_{name}_large_vs_small_p50"] = r50
            found.append(
                {
                    "target": f"web {name} large/small p50 latency ratio <= 1.3 (p95 ratio {r95})",
                    "value": r50,
                    "goal": t.get("analytics_ratio"),
                    "lower_is_better": True,
                }
            )
    export = w.get("gc_export_small")
    if export:
        found.append(
            {
                "target": "export rows/s >= 100,000",
                "value": export.get("units_per_s"),
                "goal": t.get("export_rows_per_s"),
            }
        )
        found.append(
            {
                "target": "gateway RSS during the export <= 200 MB",
                "value": export.get("peak_rss_mb"),
                "goal": t.get("rss_mb"),
                "lower_is_better": True,
            }
        )
    return out, found
