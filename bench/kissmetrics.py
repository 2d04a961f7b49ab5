"""The KISSmetrics workloads of `make bench` (issue 24, section 6), run as the `kissmetrics` group.

- **Tracking** (`km_track_e` against `km_countly_i`, rounds alternated): `/e` with `_n` and three properties from
  as many clients as the Countly `/i` workload, each a tracker sending its person's events one at a time (the
  next once the GIF of the previous one has come back), on the ingestion gateway. The GIF comes back whatever
  happened, so after the rounds the events stored are counted against the replies (`stored_events`).
- **People search** (`km_people_search`): a `people_search_v2` report over the `people` data set (100,000 people
  and 2 million events), run as KISSmetrics' scripts do: `POST /query/reports/{id}/run`, status polls until 201,
  then every results page through `next`; seconds from the run to the last page, and the gateway's resident
  memory before and at its peak during the runs (the run is carried out by the gateway's job worker).
- **Core API lists** (`km_core_*`): pages of `/core/accounts`, `/core/products`, `/core/products/{id}/events`,
  `/core/products/{id}/properties`, `/core/events`, `/core/properties` on the large (10M events) data set,
  every page of each list in turn, as found by walking `next`.

`bench/run.py` calls `tracking` while the ingestion gateway runs and `reads` after the analytics group;
`checks` gives the summary's targets (bench/report.py). With `--profile`, `explain_people_search` writes the
search's statements with EXPLAIN (ANALYZE, BUFFERS) to `explain-people-search.txt`, chunk by chunk.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

import aiohttp
import asyncpg

from adapters.kissmetrics.tracking import GIF
from bench.builders import ingest_builder
from bench.cpu import cpu_share
from bench.load import PerClient, Req, median, percentile

if TYPE_CHECKING:
    from bench.run import Bench, Served

GROUP = "kissmetrics"
TARGETS = {
    "km_track_vs_countly": 1.0,
    "km_people_search_s": 3.0,
    # "flat memory": what the gateway's resident set may grow by while searches run and their results are read
    "km_people_search_rss_growth_mb": 20.0,
    "km_core_p95_ms": 10.0,
}
TRACKED_EVENTS = ("viewed product", "added to cart", "purchased")
SEARCH_NAME = "bench people search"
# a property comparison and "did an event at least N times in the period"; two events with their three
# returns and two properties as columns
SEARCH_DEFINITION: dict[str, Any] = {
    "match": "all",
    "criteria": [
        {"property": "lifetime value", "op": "gte", "value": 50},
        {"event": "purchase", "did": True, "at_least": 2},
    ],
    "columns": [
        *({"event": "purchase", "return": r} for r in ("total_times_ever", "total_times", "last")),
        *({"event": "login", "return": r} for r in ("total_times_ever", "total_times", "last")),
        {"property": "plan"},
        {"property": "country"},
    ],
}
SEARCH_DAYS = 30
POLL_SECONDS = 0.05
RESULTS_PAGE = 1000
CORE_LISTS = (
    ("accounts", "/core/accounts"),
    ("products", "/core/products"),
    ("product_events", "/core/products/{product}/events"),
    ("product_properties", "/core/products/{product}/properties"),
    ("events", "/core/events"),
    ("properties", "/core/properties"),
)


# -- hooks of bench/run.py ---------------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--people", type=int, help="people of the people-search set (default 100,000; quick 10,000)"
    )
    parser.add_argument(
        "--people-events", type=int, help="events of the people-search set (default 2M; quick 200,000)"
    )


def set_defaults(args: argparse.Namespace) -> None:
    args.people = args.people or (10_000 if args.quick else 100_000)
    args.people_events = args.people_events or (200_000 if args.quick else 2_000_000)


def people_params(args: argparse.Namespace) -> dict[str, int]:
    """The people-search data set (`analytics-gateway seed`): people with identities and properties, events."""
    return {"devices": args.people, "events": args.people_events, "products": 1, "seed": args.seed}


# -- tracking ----------------------------------------------------------------------------------------------


def track_builder(base: str, key: str, run: str, names: tuple[str, ...]) -> PerClient:
    """`/e` beacons as trackers send them: each client is a browser whose person records `names` one after the
    other (each with three properties, `_t` in seconds with `_d=1`), then the next person does the same."""
    head = f"{base}/e?_k={quote(key, safe='')}&_p=km-{run}-"
    tails = [
        # spaces as %20, as the JavaScript tracker's encodeURI writes them: the load generator's URL parser
        # (yarl) sends the person's %40 as a raw `@`, which tells the gateway that the query string was not
        # written by a form encoder, so a form encoder's `+` would be read as a plus sign
        "&"
        + urlencode(
            {"_n": name, "plan": ("free", "pro", "team")[n % 3], "amount": f"{9.95 + n:.2f}"}, quote_via=quote
        )
        for n, name in enumerate(names)
    ]

    def sequence(client: int) -> Callable[[int], Req]:
        def build(n: int) -> Req:
            person, step = divmod(n, len(names))
            url = (
                f"{head}{client}-{person}%40example.com{tails[step]}&campaign=spring-{client % 8}"
                f"&_d=1&_t={int(time.time())}"
            )
            return Req("GET", url)

        return build

    return PerClient(sequence)


def gif_ok(status: int, body: bytes) -> bool:
    return status == 200 and body == GIF


async def tracking(
    bench: Bench,
    url: str,
    ingestion: Served,
    ingest: dict[str, Any],
    run_id: str,
    countly_ok: Callable[..., bool],
) -> None:
    """`/e` against Countly `/i` on the ingestion gateway, rounds alternated; then the stored events counted."""
    from bench.run import Workload

    args = bench.args
    base, key = ingestion.base, ingest["app_key"]
    # the warm-up (round -1) records other names, so the measured names' events are the rounds' only
    warm = tuple(f"warm up {name}" for name in TRACKED_EVENTS)
    _, track = await bench.interleaved(
        Workload(
            "km_countly_i",
            lambda r: ingest_builder(base, key, f"{run_id}-k{r}", args.events_per_request),
            args.concurrency,
            countly_ok,
            monitor=ingestion.monitor,
            cpu=ingestion.meter,
        ),
        Workload(
            "km_track_e",
            lambda r: track_builder(base, key, f"{run_id}-{r}", TRACKED_EVENTS if r >= 0 else warm),
            args.concurrency,
            gif_ok,
            monitor=ingestion.monitor,
            extra={"properties_per_request": 3, "workers": ingestion.workers},
            cpu=ingestion.meter,
        ),
    )
    conn = await asyncpg.connect(url)
    try:
        stored = await conn.fetchval(
            "SELECT count(*) FROM events e JOIN products p ON p.id = e.product_id "
            "WHERE p.app_key = $1 AND e.key = ANY($2::text[])",
            key,
            list(TRACKED_EVENTS),
        )
    finally:
        await conn.close()
    answered = sum(r["ok"] for r in track["rounds"])
    track["stored_events"] = stored
    track["answered"] = answered
    if stored != answered:
        bench.results["errors"].append(f"km_track_e: {answered} beacons answered, {stored} events stored")
    bench.log(f"  km_track_e: {answered} beacons answered, {stored} events stored")


# -- people search and Core API lists --------------------------------------------------------------------------


async def _call(
    session: aiohttp.ClientSession, method: str, url: str, token: str, body: Any = None
) -> tuple[int, dict[str, str], Any]:
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    async with session.request(method, url, json=body, headers=headers) as resp:
        raw = await resp.read()
        return resp.status, dict(resp.headers), json.loads(raw) if raw else None


async def ensure_report(session: aiohttp.ClientSession, base: str, data: dict[str, Any]) -> str:
    """The UUID of the benchmark's people search on the people set's product (created once)."""
    status, _, reply = await _call(
        session,
        "POST",
        f"{base}/graphql",
        data["token"],
        {"query": "{ reports(first: 100) { nodes { uuid name } } }"},
    )
    for report in reply["data"]["reports"]["nodes"] if status == 200 else []:
        if report["name"] == SEARCH_NAME:
            return str(report["uuid"])
    status, _, reply = await _call(
        session,
        "POST",
        f"{base}/graphql",
        data["token"],
        {
            "query": "mutation($input: CreateReportInput!) { createReport(input: $input) { uuid } }",
            "variables": {
                "input": {
                    "name": SEARCH_NAME,
                    "type": "people_search_v2",
                    "productId": data["product_id"],
                    "definition": SEARCH_DEFINITION,
                }
            },
        },
    )
    if status != 200 or reply.get("errors"):
        raise RuntimeError(f"createReport: {status} {reply}")
    return str(reply["data"]["createReport"]["uuid"])


async def search_once(session: aiohttp.ClientSession, base: str, token: str, report: str) -> dict[str, Any]:
    """One people search as KISSmetrics' script runs it: run, status polls until 201, every results page."""
    until = datetime.now(UTC)
    dates = {
        "start_date": int((until - timedelta(days=SEARCH_DAYS)).timestamp()),
        "end_date": int(until.timestamp()),
    }
    started = time.perf_counter()
    status, headers, body = await _call(
        session, "POST", f"{base}/query/reports/{report}/run", token, {"report": dates}
    )
    if status != 202:
        raise RuntimeError(f"run: {status} {body}")
    polls = 0
    status_url = headers["Location"]
    while True:
        polls += 1
        status, headers, body = await _call(session, "GET", status_url, token)
        if status == 201:
            break
        if status != 200:
            raise RuntimeError(f"status: {status} {body}")
        await asyncio.sleep(POLL_SECONDS)
    done = time.perf_counter()
    url: str | None = f"{headers['Location']}?limit={RESULTS_PAGE}"
    rows = pages = 0
    total = None
    while url:
        status, _, body = await _call(session, "GET", url, token)
        if status != 200:
            raise RuntimeError(f"results: {status} {body}")
        pages += 1
        rows += len(body["rows"])
        total = body["total"]
        url = next((item["href"] for item in body["links"] if item["rel"] == "next"), None)
    finished = time.perf_counter()
    if rows != total:
        raise RuntimeError(f"results: read {rows} rows of {total}")
    return {
        "seconds": round(finished - started, 3),
        "run_seconds": round(done - started, 3),
        "results_seconds": round(finished - done, 3),
        "polls": polls,
        "pages": pages,
        "rows": rows,
    }


async def people_search(bench: Bench, reads: Served, data: dict[str, Any]) -> dict[str, Any]:
    """`rounds` searches one after the other, the gateway's memory sampled throughout."""
    base, token = reads.base, data["token"]
    async with aiohttp.ClientSession() as session:
        report = await ensure_report(session, base, data)
        await search_once(session, base, token, report)  # warm-up: plans, caches
        rss_before = round(reads.monitor.sample() / 2**20, 1)
        reads.monitor.start()
        cpu_before = reads.meter.snapshot()
        rounds, errors = [], []
        for _ in range(bench.rounds):
            try:
                rounds.append(await search_once(session, base, token, report))
            except (RuntimeError, aiohttp.ClientError, KeyError, ValueError) as exc:
                errors.append(f"{type(exc).__name__}: {exc}"[:300])
        share = cpu_share(cpu_before, reads.meter.snapshot(), len(rounds))
        peak = await reads.monitor.stop()
        profile = (
            await _profile_searches(bench, reads, session, token, report) if bench.args.profile else None
        )
    seconds = [r["seconds"] for r in rounds]
    out: dict[str, Any] = {
        "name": "km_people_search",
        "concurrency": 1,
        "rounds": rounds,
        "rps": round(len(seconds) / sum(seconds), 3) if seconds else None,
        "units_per_s": round(sum(r["rows"] for r in rounds) / sum(seconds), 1) if seconds else None,
        "p50_ms": round(1000 * (median(seconds) or 0), 1) if seconds else None,
        "p95_ms": round(1000 * (percentile(seconds, 95) or 0), 1) if seconds else None,
        "p99_ms": round(1000 * (percentile(seconds, 99) or 0), 1) if seconds else None,
        "failed": len(errors),
        "requests": len(rounds) + len(errors),
        "errors": errors[:5],
        "peak_rss_mb": peak,
        "rss_before_mb": rss_before,
        "seconds": median(seconds),
        "max_seconds": max(seconds) if seconds else None,
        "people": data["seed_result"]["devices"],
        "events": data["seed_result"]["events"],
        "report": report,
        "definition": SEARCH_DEFINITION,
    }
    if share is not None:
        # per search: the gateway (HTTP, GraphQL, the job worker), PostgreSQL, the client
        out["cpu"] = share.as_dict()
    if profile is not None:
        bench.results.setdefault("profiles", {})["km_people_search"] = profile
    bench.results["workloads"][out["name"]] = out
    bench.log(
        f"  km_people_search: {seconds} s ({rounds[0]['rows'] if rounds else '?'} rows), rss {rss_before} -> "
        f"peak {peak} MB, failed {len(errors)}"
    )
    return out


async def _profile_searches(
    bench: Bench, reads: Served, session: aiohttp.ClientSession, token: str, report: str
) -> dict[str, Any]:
    """py-spy on the gateway while searches run back to back (bench.run's profiles)."""
    from bench.run import start_profile, summarize_profile

    out = Path(bench.args.output) / "profile-km_people_search.txt"
    seconds = max(5.0, bench.duration)
    spy = start_profile(reads.pid, seconds, out)
    if spy is None:
        return {"error": "py-spy not installed"}
    await asyncio.sleep(0.5)
    searches = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        await search_once(session, reads.base, token, report)
        searches += 1
    await asyncio.to_thread(spy.wait, seconds + 30)
    summary = summarize_profile(out)
    summary["rps_while_profiled"] = round(searches / seconds, 2)
    return summary


async def core_pages(base: str, token: str, path: str) -> list[str]:
    """Every page of a Core API list, as a script walking `next` finds them."""
    urls: list[str] = []
    url: str | None = base + path
    async with aiohttp.ClientSession() as session:
        while url and len(urls) < 500:
            status, _, body = await _call(session, "GET", url, token)
            if status != 200:
                raise RuntimeError(f"{url}: {status} {body}")
            urls.append(url)
            url = next((item["href"] for item in body["links"] if item["rel"] == "next"), None)
    return urls


def core_ok(status: int, body: bytes) -> bool:
    try:
        doc = json.loads(body)
    except ValueError:
        return False
    return status == 200 and isinstance(doc, dict) and isinstance(doc.get("data"), list)


async def core_lists(bench: Bench, reads: Served, data: dict[str, Any]) -> None:
    """Each list's pages in turn from `--read-concurrency` clients, on the large set's account."""
    from bench.run import fixed

    async with aiohttp.ClientSession() as session:
        _, _, reply = await _call(
            session,
            "POST",
            f"{reads.base}/graphql",
            data["token"],
            {
                "query": "query($id: ID!) { node(id: $id) { ... on Product { uuid } } }",
                "variables": {"id": data["product_id"]},
            },
        )
    product = reply["data"]["node"]["uuid"]
    auth = {"Authorization": f"Bearer {data['token']}"}
    for name, template in CORE_LISTS:
        urls = await core_pages(reads.base, data["token"], template.format(product=product))

        def build(i: int, urls: list[str] = urls) -> Req:
            return Req("GET", urls[i % len(urls)], headers=auth)

        await bench.workload(
            f"km_core_{name}",
            fixed(build),
            concurrency=bench.args.read_concurrency,
            check=core_ok,
            monitor=reads.monitor,
            extra={"pages": len(urls), "events": data["events"]},
            cpu=reads.meter,
        )


async def reads(bench: Bench, url: str, datasets: dict[str, dict[str, Any]], reads_gateway: Served) -> None:
    """The people search, then the Core API lists (on the large set, or the small one with --skip-large)."""
    search = await people_search(bench, reads_gateway, datasets["people"])
    if bench.args.profile:
        bench.results["km_people_search_explain"] = await explain_people_search(bench, url, search["report"])
    await core_lists(bench, reads_gateway, datasets.get("large") or datasets["small"])


# -- where the search's time goes ----------------------------------------------------------------------------


async def explain_people_search(bench: Bench, url: str, report: str) -> dict[str, Any]:
    """EXPLAIN (ANALYZE, BUFFERS) of every chunk statement of the benchmark search's last run, as the report run
    worker runs them, in a transaction rolled back; the plans in `explain-people-search.txt`."""
    from gateway.background.report_runs import CHUNK, chunk_sql

    out = Path(bench.args.output) / "explain-people-search.txt"
    chunks: list[dict[str, Any]] = []
    texts: list[str] = []
    conn = await asyncpg.connect(url)
    try:
        run = await conn.fetchrow(
            "SELECT r.id, r.account_id, r.product_id, r.definition::text, r.starts_at, r.ends_at "
            "FROM report_runs r JOIN reports p ON p.id = r.report_id WHERE p.uuid = $1::uuid "
            "ORDER BY r.id DESC LIMIT 1",
            report,
        )
        if run is None:
            return {"error": "no run of the benchmark's search"}
        sql, values = chunk_sql(json.loads(run["definition"]))
        account, product, run_id = run["account_id"], run["product_id"], run["id"]
        transaction = conn.transaction()
        await transaction.start()
        try:
            # the run's rows are written again, chunk by chunk, as the worker writes them
            await conn.execute(
                "DELETE FROM report_run_rows WHERE account_id = $1 AND run_id = $2", account, run_id
            )
            last_id, found = 0, 0
            while True:
                params = [account, product, last_id, CHUNK, run["starts_at"], run["ends_at"], run_id, found]
                lines = [
                    r[0] for r in await conn.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", *params, *values)
                ]
                texts.append(f"-- chunk after person {last_id}\n" + "\n".join(lines))
                chunks.append(
                    {
                        "ms": _milliseconds(lines, "Execution Time"),
                        "planning_ms": _milliseconds(lines, "Planning Time"),
                    }
                )
                step = await conn.fetchrow(
                    "SELECT max(id) AS last_id, count(*) AS n FROM (SELECT id FROM devices WHERE account_id = $1 "
                    "AND product_id = $2 AND id > $3 ORDER BY id LIMIT $4) AS s",
                    account,
                    product,
                    last_id,
                    CHUNK,
                )
                if step is None or not step["n"]:
                    chunks.pop()  # the empty chunk that ends a run
                    break
                last_id = step["last_id"]
                found = await conn.fetchval(
                    "SELECT count(*) FROM report_run_rows WHERE account_id = $1 AND run_id = $2",
                    account,
                    run_id,
                )
        finally:
            await transaction.rollback()
    finally:
        await conn.close()
    out.write_text("\n\n".join(texts))
    total = round(sum(c["ms"] or 0 for c in chunks), 1)
    bench.log(f"  km_people_search EXPLAIN: {len(chunks)} chunks, {total} ms in all; plans in {out}")
    return {"chunks": chunks, "execution_ms": total, "plans": str(out)}


def _milliseconds(lines: list[str], label: str) -> float | None:
    """The figure of EXPLAIN ANALYZE's `Execution Time: 12.3 ms` line (or Planning Time)."""
    for line in lines:
        if line.strip().startswith(label + ":"):
            return float(line.split(":")[1].split()[0])
    return None


# -- the summary's targets -----------------------------------------------------------------------------------


def checks(workloads: dict[str, Any], targets: dict[str, Any]) -> list[dict[str, Any]]:
    """The KISSmetrics rows of the summary's target table (bench/report.py)."""
    out: list[dict[str, Any]] = []
    track, countly = workloads.get("km_track_e"), workloads.get("km_countly_i")
    if track and countly:
        ratio = round(track["rps"] / countly["rps"], 3) if track.get("rps") and countly.get("rps") else None
        out.append(
            {
                "target": f"KISSmetrics /e req/s >= Countly /i req/s ({track.get('rps')} / {countly.get('rps')})",
                "value": ratio,
                "goal": targets.get("km_track_vs_countly"),
            }
        )
    search = workloads.get("km_people_search")
    if search:
        out.append(
            {
                "target": f"people search over {search.get('people'):,} people and {search.get('events'):,} "
                "events <= 3 s (run, polls, every results page; slowest round)",
                "value": search.get("max_seconds"),
                "goal": targets.get("km_people_search_s"),
                "lower_is_better": True,
            }
        )
        growth = None
        if search.get("peak_rss_mb") is not None and search.get("rss_before_mb") is not None:
            growth = round(search["peak_rss_mb"] - search["rss_before_mb"], 1)
        out.append(
            {
                "target": f"people search: gateway RSS growth (MB; {search.get('rss_before_mb')} before, "
                f"{search.get('peak_rss_mb')} peak)",
                "value": growth,
                "goal": targets.get("km_people_search_rss_growth_mb"),
                "lower_is_better": True,
            }
        )
    for name, _ in CORE_LISTS:
        core = workloads.get(f"km_core_{name}")
        if core:
            out.append(
                {
                    "target": f"Core API {name} list p95 at {core.get('events', 0):,} events <= 10 ms",
                    "value": core.get("p95_ms") if core.get("rps") else None,
                    "goal": targets.get("km_core_p95_ms"),
                    "lower_is_better": True,
                }
            )
    return out
