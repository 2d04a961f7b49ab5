"""`python -m bench.run` (`make bench`): the whole benchmark suite on loopback.

Starts a dedicated embedded PostgreSQL in `bench/.data`, seeds the data sets (cached between runs), starts the
gateway (one worker), a bare aiohttp ceiling and PostGraphile 4 as subprocesses, runs every workload for several
rounds and writes `bench/results/results.json`, `summary.md` and PNG charts. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import asyncpg
import orjson
import psutil

from bench import followanalytics as fa
from bench import goatcounter, kissmetrics
from bench.builders import bulk_builder, ingest_builder
from bench.cpu import CpuMeter, CpuShare, cpu_share, postmaster_pid
from bench.dashboard import dashboard_requests
from bench.load import Build, LoadResult, Req, median, run_load
from bench.peer import PEER_DEVICES_SESSIONS, PEER_PRODUCTS_EVENTS, start_postgraphile

# `python -m bench.run` runs this file as `__main__`: the workload modules' `from bench.run import ...` (made when
# they run: bench/kissmetrics.py) then find this module rather than load a second copy of it
sys.modules.setdefault("bench.run", sys.modules[__name__])

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable

# -- the gateway's queries (same shapes as the peer's in bench/peer.py) -------------------------------------

NESTED_PRODUCTS_EVENTS = """
query($products: Int!, $events: Int!) {
  products(first: $products) {
    nodes { id name events(first: $events) { nodes { key timestamp count } } }
  }
}
"""

NESTED_DEVICES_SESSIONS = """
query($products: Int!, $devices: Int!, $sessions: Int!) {
  products(first: $products) {
    nodes {
      id name
      devices(first: $devices) {
        nodes { deviceId os sessions(first: $sessions) { nodes { startedAt duration } } }
      }
    }
  }
}
"""

# The GraphQL equivalent of /o?method=sessions + method=events + /o/analytics/dashboard over 30 days:
# session/user totals and daily series, one event key's daily series, and the event keys.
ANALYTICS_QUERY = """
query($id: ID!, $since: DateTime!, $until: DateTime!, $key: String!) {
  node(id: $id) {
    ... on Product {
      analytics {
        sessions(since: $since, until: $until, granularity: DAY) {
          sessions newUsers uniqueUsers duration requests
          series { bucket sessions newUsers uniqueUsers duration requests }
        }
        events(keys: [$key], since: $since, until: $until, granularity: DAY) {
          count sum duration series { bucket count sum duration }
        }
        eventKeys { key }
      }
    }
  }
}
"""


def analytics_variables(product_id: str, days: int = 30) -> dict[str, Any]:
    until = datetime.now(UTC).replace(microsecond=0)
    since = until - timedelta(days=days)
    return {"id": product_id, "since": since.isoformat(), "until": until.isoformat(), "key": "purchase"}


TARGETS = {
    "ingest_vs_ceiling": 0.5,
    "bulk_events_per_s": 50_000,
    "nested_vs_peer": 1.0,
    "analytics_p95_ms": 25.0,
    "analytics_ratio": 1.3,
    "dashboard_p95_ms": 50.0,
    "rss_mb": 200.0,
    "gc_count_hits_per_s": 50_000,
    "gc_pixel_vs_i": 1.0,
    "export_rows_per_s": 100_000,
    "fa_pages_p95_ms": 50.0,
    "fa_export_rows_per_s": 50_000,
    **kissmetrics.TARGETS,
}


# -- processes ----------------------------------------------------------------------------------------------


class RssMonitor:
    """Samples the resident memory of the gateway's processes; the peak per process since `start`."""

    def __init__(self, pid: int) -> None:
        self.proc = psutil.Process(pid)
        self.peak = 0
        self._task: asyncio.Task[None] | None = None

    def sample(self) -> int:
        """The RSS of the largest process (a worker, or the single process when --workers 1)."""
        try:
            procs = [self.proc, *self.proc.children(recursive=True)]
            largest = max(p.memory_info().rss for p in procs)
        except (psutil.Error, ValueError):
            return self.peak
        self.peak = max(self.peak, largest)
        return largest

    async def _run(self) -> None:
        while True:
            self.sample()
            await asyncio.sleep(0.05)

    def start(self) -> None:
        self.peak = 0
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> float:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        self.sample()
        return round(self.peak / 2**20, 1)


def ensure_ports_free(ports: list[int]) -> None:
    """Stop with a clear error when a port the harness serves on is taken: it would measure whatever listens
    there (a run once reported 0 req/s and 22,190 "Invalid token" failures from another server)."""
    for port in ports:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError as error:
                raise SystemExit(
                    f"bench: port {port} is in use ({error.strerror}): stop what listens there, or give another "
                    "first port with BENCH_ARGS=--port N (the harness uses N to N+3)"
                ) from None


async def wait_http(url: str, limit: float = 60.0, proc: subprocess.Popen[bytes] | None = None) -> None:
    """Until `url` answers; with `proc`, it must be that process's server: its exit is an error at any time."""
    deadline = time.monotonic() + limit
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if proc is not None and proc.poll() is not None:
                raise RuntimeError(f"{url}: process exited with {proc.returncode} (see its log)")
            try:
                async with session.get(url, timeout=aiohttp.ClientTimeout(total=2)) as resp:
                    if resp.status < 500:
                        await asyncio.sleep(0.5)  # a server that fails to start exits within moments
                        if proc is not None and proc.poll() is not None:
                            raise RuntimeError(f"{url}: process exited with {proc.returncode} (see its log)")
                        return
            except (aiohttp.ClientError, TimeoutError):
                pass
            await asyncio.sleep(0.25)
    raise RuntimeError(f"{url} did not answer in {limit:.0f}s")


@dataclass(frozen=True)
class Served:
    """A gateway the harness started: where it answers, its process (the parent of its workers, if several),
    how many workers serve, and the resident memory and CPU monitors of its processes."""

    base: str
    pid: int
    workers: int
    monitor: RssMonitor
    meter: CpuMeter

    @classmethod
    def of(cls, base: str, pid: int, workers: int, postgres_pid: int | None) -> Served:
        """The gateway at `base` whose process is `pid`, with monitors of its processes."""
        return cls(base, pid, workers, RssMonitor(pid), CpuMeter(pid, postgres_pid))


def gateway_command(port: int, url: str, workers: int) -> list[str]:
    return [
        PY,
        "-m",
        "gateway.cli.main",
        "serve",
        "--port",
        str(port),
        "--database-url",
        url,
        "--workers",
        str(workers),
    ]


def spawn(command: list[str], log_path: Path, env: dict[str, str] | None) -> subprocess.Popen[bytes]:
    """A subprocess in the project root, its output in `log_path`."""
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log_path.open("wb"), stderr=subprocess.STDOUT)


def stop(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


# -- data sets ----------------------------------------------------------------------------------------------


def read_markers(path: Path) -> dict[str, Any]:
    """What each benchmark account was seeded with (so later runs reuse the data)."""
    return json.loads(path.read_text()) if path.exists() else {}


def write_markers(path: Path, markers: dict[str, Any]) -> None:
    path.write_text(json.dumps(markers, indent=1))


async def ensure_dataset(
    url: str,
    data_dir: Path,
    account: str,
    params: dict[str, int],
    log: Callable[[str], None],
    *,
    reseed: bool = False,
) -> dict[str, Any]:
    """Seed `account` with `params` unless the marker says it already holds exactly that (`reseed`: in any case,
    which first deletes what the account's products hold); its credentials."""
    from gateway.cli.bootstrap import bootstrap
    from gateway.cli.seed import SEED_VERSION, run_seed
    from gateway.db.pool import Database

    marker_path = data_dir / "seeded.json"
    markers = read_markers(marker_path)
    info: dict[str, Any] = {"account": account, **params}
    # data seeded by an earlier version of the seeder is seeded again
    if (
        reseed
        or markers.get(account, {}).get("params") != params
        or markers[account].get("version") != SEED_VERSION
    ):
        log(f"seeding {account}: {params}")
        result = await run_seed(
            url,
            data_dir,
            account=account,
            devices=params["devices"],
            events=params["events"],
            products=params["products"],
            seed_number=params["seed"],
            pageviews=params.get("pageviews", 0),
        )
        markers[account] = {"params": params, "version": SEED_VERSION, "seed_result": asdict(result)}
        write_markers(marker_path, markers)
    info["seed_result"] = markers[account]["seed_result"]
    db = await Database.connect(url, min_size=1, max_size=2)
    try:
        credentials = await bootstrap(db, data_dir, account)
        info["account_pk"] = await db.fetchval("SELECT id FROM accounts WHERE name = $1", account)
    finally:
        await db.close()
    info["token"] = credentials.token
    info["product_id"] = credentials.product_id
    info["app_key"] = credentials.app_key
    return info


async def settle_writes(bench: Bench, url: str, group: str) -> None:
    """Write out what earlier work left dirty before `group` measures: PostgreSQL's buffers (CHECKPOINT), then
    the OS page cache (sync), so that no workload measures while the kernel works off a backlog.

    Reseeding `bench-ingest` deletes and vacuums a run's worth of rows: 1.6 GB of page cache was still dirty
    when `s29-ingest` began measuring, and was written out during its first rounds. Each workload group also
    leaves its writes to the next.
    """
    started = time.monotonic()
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("CHECKPOINT")
    finally:
        await conn.close()
    await asyncio.to_thread(os.sync)
    seconds = round(time.monotonic() - started, 1)
    bench.results.setdefault("settle_seconds", {})[group] = seconds
    bench.log(f"{group}: wrote out dirty pages (CHECKPOINT, sync) in {seconds}s")


# -- workloads ----------------------------------------------------------------------------------------------

# The checks parse every reply with orjson: the load generator shares the two cores with the gateway and
# PostgreSQL, and parsing the 86 KB sessions document costs it 1.0 ms with `json.loads`, 0.55 ms with orjson
# (a tenth, then a twentieth, of what the gateway and PostgreSQL spend on it). orjson.JSONDecodeError is a
# ValueError.


def countly_ok(_status: int, body: bytes) -> bool:
    try:
        return bool(orjson.loads(body).get("result"))
    except (ValueError, AttributeError):
        return False


def graphql_ok(_status: int, body: bytes) -> bool:
    try:
        doc = orjson.loads(body)
    except ValueError:
        return False
    return isinstance(doc, dict) and not doc.get("errors") and doc.get("data") is not None


def json_ok(_status: int, body: bytes) -> bool:
    try:
        return isinstance(orjson.loads(body), dict)
    except ValueError:
        return False


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.rounds: int = args.rounds
        self.duration: float = args.duration
        self.results: dict[str, Any] = {"workloads": {}, "errors": []}
        # CPU meters of the servers under test besides the gateways (`Served.meter`): "ceiling" and, when it runs,
        # "postgraphile"
        self.meters: dict[str, CpuMeter] = {}

    def log(self, message: str) -> None:
        print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

    async def workload(
        self,
        name: str,
        build_for_round: Callable[[int], Build],
        *,
        concurrency: int,
        check: Callable[[int, bytes], bool] | None = None,
        keep_headers: tuple[str, ...] = (),
        monitor: RssMonitor | None = None,
        extra: dict[str, Any] | None = None,
        engine_base: str | None = None,
        cpu: CpuMeter | None = None,
    ) -> dict[str, Any]:
        """Run `rounds` rounds of one workload; the median of each figure, plus the per-round figures."""
        spec = Workload(
            name, build_for_round, concurrency, check, keep_headers, monitor, extra, engine_base, cpu
        )
        return (await self.interleaved(spec))[0]

    async def interleaved(self, *specs: Workload) -> list[dict[str, Any]]:
        """Run the workloads' rounds alternately (round 1 of each, then round 2 of each, ...).

        Workloads compared by a ratio (the gateway vs the ceiling or PostGraphile) then share the minutes in
        which they run: the VM's speed drifts over minutes, which biased ratios of workloads run one after
        the other.
        """
        for spec in specs:
            self.log(f"{spec.name}: {self.rounds} x {self.duration:.0f}s at concurrency {spec.concurrency}")
            # warm-up: a few requests (connections, caches, prepared statements)
            await run_load(
                spec.build_for_round(-1),
                concurrency=min(spec.concurrency, 4),
                max_requests=20,
                check=spec.check,
            )
        rounds: list[list[LoadResult]] = [[] for _ in specs]
        engine_rounds: list[list[dict[str, float | None]]] = [[] for _ in specs]
        cpu_rounds: list[list[CpuShare]] = [[] for _ in specs]
        monitors = {spec.monitor for spec in specs if spec.monitor is not None}
        for monitor in monitors:
            monitor.start()
        for r in range(self.rounds):
            for spec, done, engine, cpu in zip(specs, rounds, engine_rounds, cpu_rounds, strict=True):
                before = await engine_counters(spec.engine_base) if spec.engine_base else None
                cpu_before = spec.cpu.snapshot() if spec.cpu else None
                result = await run_load(
                    spec.build_for_round(r),
                    concurrency=spec.concurrency,
                    duration=self.duration,
                    check=spec.check,
                    keep_headers=spec.keep_headers,
                )
                if spec.cpu and cpu_before is not None:
                    share = cpu_share(cpu_before, spec.cpu.snapshot(), result.ok)
                    if share is not None:
                        cpu.append(share)
                done.append(result)
                if spec.engine_base and before is not None:
                    engine.append(engine_figures(before, await engine_counters(spec.engine_base)))
        peaks = {monitor: await monitor.stop() for monitor in monitors}
        return [
            self._record(spec, done, peaks.get(spec.monitor) if spec.monitor else None, engine, cpu)
            for spec, done, engine, cpu in zip(specs, rounds, engine_rounds, cpu_rounds, strict=True)
        ]

    def _record(
        self,
        spec: Workload,
        rounds: list[LoadResult],
        peak: float | None,
        engine: list[dict[str, float | None]] | None = None,
        cpu: list[CpuShare] | None = None,
    ) -> dict[str, Any]:
        summaries = [r.summary() for r in rounds]

        def med(key: str) -> float | None:
            values = [s[key] for s in summaries if s[key] is not None]
            return None if not values else round(float(median(values) or 0), 2)

        out: dict[str, Any] = {
            "name": spec.name,
            "concurrency": spec.concurrency,
            "rounds": summaries,
            "rps": med("rps"),
            "units_per_s": med("units_per_s"),
            "p50_ms": med("p50_ms"),
            "p95_ms": med("p95_ms"),
            "p99_ms": med("p99_ms"),
            "failed": sum(s["failed"] for s in summaries),
            "requests": sum(s["requests"] for s in summaries),
            "errors": [e for s in summaries for e in s["errors"]][:5],
            "peak_rss_mb": peak,
        }
        for header in spec.keep_headers:
            values = [int(v) for r in rounds for v in r.headers.get(header, []) if v.isdigit()]
            if values:
                out["sql_statements"] = {"min": min(values), "max": max(values)}
        if spec.extra:
            out.update(spec.extra)
        if engine:
            figures: dict[str, float | None] = {}
            for key in engine[0]:
                measured = [value for e in engine if (value := e[key]) is not None]
                middle = median(measured)
                figures[key] = None if middle is None else round(middle, 2)
            out["engine"] = {**figures, "rounds": engine}
            self.log(f"  {spec.name} engine: {figures}")
        if cpu:
            per_round = [share.as_dict() for share in cpu]
            middles = {key: round(float(median([r[key] for r in per_round]) or 0), 3) for key in per_round[0]}
            out["cpu"] = {**middles, "rounds": per_round}
            self.log(f"  {spec.name} cpu per request: {middles}")
        self.results["workloads"][spec.name] = out
        self.log(
            f"  {spec.name}: {out['rps']} req/s, {out['units_per_s']} units/s, p50 {out['p50_ms']} "
            f"p95 {out['p95_ms']} p99 {out['p99_ms']} ms, failed {out['failed']}, rss {peak} MB"
        )
        return out


@dataclass(frozen=True)
class Workload:
    """One load to run for `Bench.rounds` rounds: requests of round r come from `build_for_round(r)`."""

    name: str
    build_for_round: Callable[[int], Build]
    concurrency: int
    check: Callable[[int, bytes], bool] | None = None
    keep_headers: tuple[str, ...] = ()
    monitor: RssMonitor | None = None
    extra: dict[str, Any] | None = None
    # a gateway whose ingestion engine figures (`engine_figures`) are taken around each round
    engine_base: str | None = None
    # the server under test (and its PostgreSQL), whose CPU per request is taken around each round
    cpu: CpuMeter | None = None


def graphql_builder(
    url: str, query: str, variables: dict[str, Any], token: str | None, operation: str | None = None
) -> Callable[[int], Req]:
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    payload: dict[str, Any] = {"query": query, "variables": variables}
    if operation is not None:
        payload["operationName"] = operation
    body = json.dumps(payload).encode()

    def build(_i: int) -> Req:
        return Req("POST", url, data=body, headers=headers)

    return build


def fixed(build: Callable[[int], Req]) -> Callable[[int], Callable[[int], Req]]:
    """The same request builder for every round."""
    return lambda _round: build


def get_builder(url: str) -> Callable[[int], Req]:
    def build(_i: int) -> Req:
        return Req("GET", url)

    return build


async def one_request(req: Req) -> tuple[int, dict[str, str], bytes]:
    async with (
        aiohttp.ClientSession() as session,
        session.request(req.method, req.url, data=req.data, headers=req.headers) as resp,
    ):
        return resp.status, dict(resp.headers), await resp.read()


async def metric_samples(base: str) -> dict[str, float]:
    """The samples of the gateway at `base` (`GET /metrics`), by their name and labels as written."""
    _, _, body = await one_request(Req("GET", base + "/metrics"))
    samples: dict[str, float] = {}
    for line in body.decode().splitlines():
        if line and not line.startswith("#"):
            sample, _, value = line.rpartition(" ")
            samples[sample] = float(value)
    return samples


async def route_statements(base: str, route: str) -> tuple[float, float]:
    """(SQL statements, requests) the gateway at `base` has counted for `route` so far (`GET /metrics`)."""
    label = f'route="{route}"'
    statements = requests = 0.0
    for sample, value in (await metric_samples(base)).items():
        if label not in sample:
            continue
        if sample.startswith("gateway_sql_statements_total{"):
            statements += value
        elif sample.startswith("gateway_http_requests_total{"):
            requests += value
    return statements, requests


ENGINE_SERIES = (
    "gateway_ingest_requests_total",
    "gateway_ingest_batches_total",
    "gateway_ingest_device_waits_total",
    "gateway_ingest_queue_seconds_sum",
    "gateway_ingest_queue_seconds_count",
    "gateway_ingest_commit_seconds_sum",
    "gateway_ingest_commit_seconds_count",
)


async def engine_counters(base: str) -> dict[str, float]:
    """The ingestion engine's counters and latency sums of the gateway at `base`, from `GET /metrics`."""
    samples = await metric_samples(base)
    return {name: samples[name] for name in ENGINE_SERIES if name in samples}


def engine_figures(before: dict[str, float], after: dict[str, float]) -> dict[str, float | None]:
    """What the engine did between two scrapes: requests per batch, mean wait before a batch started (window,
    slot and device waits) per write handed to it, mean transaction time per batch, and the share of batches
    that waited for a batch in flight naming one of their devices."""

    def delta(name: str) -> float:
        return after.get(name, 0.0) - before.get(name, 0.0)

    def per(numerator: float, denominator: float, scale: float = 1.0) -> float | None:
        return round(scale * numerator / denominator, 3) if denominator > 0 else None

    batches = delta("gateway_ingest_batches_total")
    return {
        "requests_per_batch": per(delta("gateway_ingest_requests_total"), batches),
        "queue_ms": per(
            delta("gateway_ingest_queue_seconds_sum"), delta("gateway_ingest_queue_seconds_count"), 1000
        ),
        "commit_ms": per(
            delta("gateway_ingest_commit_seconds_sum"), delta("gateway_ingest_commit_seconds_count"), 1000
        ),
        "device_wait_share": per(delta("gateway_ingest_device_waits_total"), batches),
    }


async def statements_per_request(base: str, route: str, req: Req, times: int = 5) -> float:
    """SQL statements per request of `req` (a REST read, which has no X-SQL-Statements header), warm."""
    await one_request(req)
    statements, requests = await route_statements(base, route)
    for _ in range(times):
        await one_request(req)
    after_statements, after_requests = await route_statements(base, route)
    return (after_statements - statements) / (after_requests - requests)


# -- profiling ----------------------------------------------------------------------------------------------


def start_profile(pid: int, seconds: float, out: Path) -> subprocess.Popen[bytes] | None:
    """py-spy (sampling, no restart) on the gateway for `seconds`; raw collapsed stacks in `out`."""
    spy = Path(PY).parent / "py-spy"
    if not spy.exists():
        return None
    return subprocess.Popen(
        [
            str(spy),
            "record",
            "-p",
            str(pid),
            "--subprocesses",  # the workers of a gateway serving with several
            "-d",
            str(int(seconds)),
            "-r",
            "200",
            "-f",
            "raw",
            "-o",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def summarize_profile(path: Path, top: int = 15) -> dict[str, Any]:
    """Self and inclusive shares of the hottest functions in py-spy's collapsed stacks."""
    if not path.exists():
        return {"error": "no profile"}
    self_counts: dict[str, int] = {}
    incl_counts: dict[str, int] = {}
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = stack.split(";")
        if frames:
            self_counts[frames[-1]] = self_counts.get(frames[-1], 0) + count
        for frame in set(frames):
            incl_counts[frame] = incl_counts.get(frame, 0) + count
    if not total:
        return {"error": "empty profile"}

    def share(counts: dict[str, int], only_project: bool) -> list[tuple[str, float]]:
        items = sorted(counts.items(), key=lambda kv: -kv[1])
        if only_project:
            items = [
                kv for kv in items if any(f"{p}/" in kv[0] for p in ("gateway", "resolvers", "adapters"))
            ]
        return [(name, round(100 * c / total, 1)) for name, c in items[:top]]

    return {
        "samples": total,
        "self": share(self_counts, False),
        "inclusive_project": share(incl_counts, True),
    }


# -- main ---------------------------------------------------------------------------------------------------


def wants(args: argparse.Namespace, group: str) -> bool:
    """Whether this run measures the workloads of `group` (all of them without `--only`)."""
    return not args.only or group in args.only.split(",")


async def run(args: argparse.Namespace) -> dict[str, Any]:
    from gateway.db.embedded import start_embedded

    ensure_ports_free([args.port + i for i in range(4)])  # before minutes of seeding
    bench = Bench(args)
    log = bench.log
    data_dir = ROOT / "bench" / ".data"
    out_dir = Path(args.output)
    url = start_embedded(data_dir)
    log(f"database {url}")
    # data sets seeded by an earlier run are reused: their database needs the migrations added since
    from gateway.db.migrate import migrate

    await migrate(url)

    small, large = (args.events_small, args.events_large)
    # quick runs keep their own (small) accounts, so they do not replace the full-size data sets
    prefix = "bench-quick" if args.quick else "bench"
    seed_start = time.monotonic()
    datasets: dict[str, dict[str, Any]] = {}
    # the Countly event sets serve every group but GoatCounter's (its sets are the web ones, below): a run of
    # `--only goatcounter` seeds none of them
    if not args.only or set(args.only.split(",")) - {"goatcounter"}:
        datasets["nested"] = await ensure_dataset(
            url,
            data_dir,
            f"{prefix}-nested",
            {"devices": 2000, "events": args.events_nested, "products": 20, "seed": args.seed},
            log,
        )
        datasets["small"] = await ensure_dataset(
            url,
            data_dir,
            f"{prefix}-small",
            {"devices": max(1000, small // 20), "events": small, "products": 1, "seed": args.seed},
            log,
        )
        if wants(args, kissmetrics.GROUP):
            datasets["people"] = await ensure_dataset(
                url, data_dir, f"{prefix}-people", kissmetrics.people_params(args), log
            )
        if not args.skip_large:
            datasets["large"] = await ensure_dataset(
                url,
                data_dir,
                f"{prefix}-large",
                {"devices": max(1000, large // 20), "events": large, "products": 1, "seed": args.seed},
                log,
            )
    # the ingestion workloads add a million events or more to this account per run: it starts each run that
    # ingests from its seed again, so that every run ingests into the same tables (and the read workloads,
    # PostGraphile's plans included, do not drift with the number of runs before)
    ingest = await ensure_dataset(
        url,
        data_dir,
        "bench-ingest",
        {"devices": 10, "events": 100, "products": 1, "seed": args.seed},
        log,
        reseed=wants(args, "ingest") or wants(args, kissmetrics.GROUP),
    )
    web: dict[str, dict[str, Any]] = {}
    # the dashboard shows web analytics too: its overview is measured on these sets as well
    if wants(args, "goatcounter") or wants(args, "dashboard"):
        # the web analytics sets (pageviews with their rollups), and an account whose site the counting
        # workloads write to, started from its seed again in each run that counts (as bench-ingest)
        sizes = {"small": args.pageviews_small, "ingest": 0}
        if not args.skip_large:
            sizes["large"] = args.pageviews_large
        for scale, pageviews in sizes.items():
            web[scale] = await ensure_dataset(
                url,
                data_dir,
                f"{prefix}-web-{scale}" if scale != "ingest" else "bench-web-ingest",
                {"devices": 10, "events": 100, "products": 1, "seed": args.seed, "pageviews": pageviews},
                log,
                reseed=scale == "ingest",
            )
            web[scale]["product_pk"] = await goatcounter.set_host(
                url, web[scale]["account_pk"], goatcounter.HOSTS[scale]
            )
        datasets.update({f"web-{scale}": data for scale, data in web.items() if scale != "ingest"})
    bench.results["seeding_seconds_this_run"] = round(time.monotonic() - seed_start, 1)
    bench.results["datasets"] = {
        k: {kk: vv for kk, vv in v.items() if kk not in ("token", "app_key")} for k, v in datasets.items()
    }

    gw_port, ceil_port, peer_port, ingest_port = args.port, args.port + 1, args.port + 2, args.port + 3
    ensure_ports_free([gw_port, ceil_port, peer_port, ingest_port])  # again: seeding took a while
    gw_base = f"http://127.0.0.1:{gw_port}"
    env = {
        **os.environ,
        "GATEWAY_COST_BUDGET": "100000000",
        "GATEWAY_MAX_NODES": "10000000",
        "GATEWAY_LOG_LEVEL": "WARNING",
        "GATEWAY_DATA_DIR": str(data_dir),
        "GATEWAY_RATE_LIMITS": goatcounter.RATE_LIMITS,
        "GATEWAY_TRUSTED_PROXIES": goatcounter.TRUSTED_PROXIES,
    }
    logs = out_dir / "logs"
    gateway = spawn(gateway_command(gw_port, url, args.workers), logs / "gateway.log", env)
    # the ingestion workloads run on a gateway of their own when they use another number of workers
    writes = wants(args, "ingest") or wants(args, "goatcounter") or wants(args, kissmetrics.GROUP)
    separate = writes and args.ingest_workers != args.workers
    ingest_gateway = (
        spawn(gateway_command(ingest_port, url, args.ingest_workers), logs / "gateway-ingest.log", env)
        if separate
        else None
    )
    ceiling = spawn(
        [PY, "-m", "bench.ceiling", "--port", str(ceil_port), "--processes", str(args.ingest_workers)],
        logs / "ceiling.log",
        None,
    )
    peer = None if args.no_peer else start_postgraphile(url, peer_port, logs / "postgraphile.log")
    try:
        await wait_http(f"{gw_base}/healthz", proc=gateway)
        if ingest_gateway is not None:
            await wait_http(f"http://127.0.0.1:{ingest_port}/healthz", proc=ingest_gateway)
        await wait_http(f"http://127.0.0.1:{ceil_port}/i", proc=ceiling)
        peer_ok = False
        if peer is not None:
            try:
                await wait_http(f"http://127.0.0.1:{peer_port}/graphql", proc=peer, limit=90)
                peer_ok = True
            except RuntimeError as exc:
                bench.results["errors"].append(f"PostGraphile did not start: {exc}")
        pg_pid = postmaster_pid(data_dir / "pg")
        reads = Served.of(gw_base, gateway.pid, args.workers, pg_pid)
        ingestion = reads
        if ingest_gateway is not None:
            ingestion = Served.of(
                f"http://127.0.0.1:{ingest_port}", ingest_gateway.pid, args.ingest_workers, pg_pid
            )
        bench.meters = {"ceiling": CpuMeter(ceiling.pid, None)}
        if peer_ok and peer is not None:
            bench.meters["postgraphile"] = CpuMeter(peer.pid, pg_pid)
        bench.results["gateway_idle_rss_mb"] = round(reads.monitor.sample() / 2**20, 1)
        await workloads(
            bench,
            url,
            datasets,
            ingest,
            reads,
            ingestion,
            ceil_port,
            peer_port if peer_ok else None,
            ingest_gateway,
            web,
        )
    finally:
        stop(gateway)
        stop(ingest_gateway)
        stop(ceiling)
        stop(peer)
    bench.results["meta"] = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {
            "cpus": os.cpu_count(),
            "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "args": vars(args),
        "targets": TARGETS,
    }
    return bench.results


async def workloads(
    bench: Bench,
    url: str,
    datasets: dict[str, dict[str, Any]],
    ingest: dict[str, Any],
    reads: Served,
    ingestion: Served,
    ceil_port: int,
    peer_port: int | None,
    ingest_process: subprocess.Popen[bytes] | None,
    web: dict[str, dict[str, Any]],
) -> None:
    """Every workload group asked for. `ingestion` is the gateway of the ingestion workloads (`reads` unless it
    runs another number of workers: `ingest_process`, stopped once they are done)."""
    args = bench.args
    gw_base, gw_pid, monitor = reads.base, reads.pid, reads.monitor
    results = bench.results
    meters = bench.meters
    run_id = f"{int(time.time())}-{random.randrange(1_000_000)}"
    conc = args.concurrency
    profiles: dict[str, Any] = {}
    nested = datasets.get("nested", {})
    gql = f"{gw_base}/graphql"

    def want(group: str) -> bool:
        return wants(args, group)

    if want("ingest"):
        await settle_writes(bench, url, "ingest")
        # 1. ceiling: the same /i requests against a bare aiohttp app
        # 2. ingestion, its rounds alternating with the ceiling's
        ceil_base = f"http://127.0.0.1:{ceil_port}"
        key = ingest["app_key"]
        in_base = ingestion.base
        # each worker counts its own engine's figures and `/metrics` answers from one of them: taken with one only
        engine_base = in_base if ingestion.workers == 1 else None
        await bench.interleaved(
            Workload(
                "ceiling",
                lambda r: ingest_builder(ceil_base, "x", f"{run_id}-c{r}", args.events_per_request),
                conc,
                countly_ok,
                cpu=meters.get("ceiling"),
            ),
            countly_i(args, "ingest_i", ingestion, key, f"{run_id}-i", engine_base),
        )
        if args.profile:
            profiles["ingest_i"] = await profile_round(
                bench,
                ingestion.pid,
                "ingest_i",
                ingest_builder(in_base, key, f"{run_id}-ip", args.events_per_request),
                conc,
            )
        await bench.workload(
            "ingest_bulk",
            lambda r: bulk_builder(in_base, key, f"{run_id}-b{r}", 50, args.bulk_events),
            concurrency=args.bulk_concurrency or max(2, conc // 8),
            check=countly_ok,
            monitor=ingestion.monitor,
            extra={
                "requests_per_call": 50,
                "events_per_item": args.bulk_events,
                "workers": ingestion.workers,
            },
            engine_base=engine_base,
            cpu=ingestion.meter,
        )
        if args.profile:
            profiles["ingest_bulk"] = await profile_round(
                bench,
                ingestion.pid,
                "ingest_bulk",
                bulk_builder(in_base, key, f"{run_id}-bp", 50, args.bulk_events),
                8,
            )

    if want("goatcounter"):
        await settle_writes(bench, url, "goatcounter")
        in_base = ingestion.base
        engine_base = in_base if ingestion.workers == 1 else None
        # GoatCounter's API from a backend: 500 hits a call
        await bench.workload(
            "gc_count",
            lambda r: goatcounter.count_builder(in_base, web["ingest"]["token"], r),
            concurrency=8,
            check=goatcounter.count_ok,
            monitor=ingestion.monitor,
            extra={"hits_per_request": goatcounter.HITS_PER_REQUEST, "workers": ingestion.workers},
            engine_base=engine_base,
            cpu=ingestion.meter,
        )
        if args.profile:
            profiles["gc_count"] = await profile_round(
                bench,
                ingestion.pid,
                "gc_count",
                goatcounter.count_builder(in_base, web["ingest"]["token"], 1_000),
                8,
            )
        # the pixel from many browsers, its rounds alternating with Countly's /i
        key = ingest["app_key"]
        await bench.interleaved(
            Workload(
                "gc_pixel",
                lambda r: goatcounter.pixel_builder(in_base, r),
                conc,
                goatcounter.pixel_ok,
                monitor=ingestion.monitor,
                extra={"workers": ingestion.workers},
                engine_base=engine_base,
                cpu=ingestion.meter,
            ),
            countly_i(args, "gc_ingest_i", ingestion, key, f"{run_id}-g", engine_base),
        )
        if args.profile:
            profiles["gc_pixel"] = await profile_round(
                bench, ingestion.pid, "gc_pixel", goatcounter.pixel_builder(in_base, 1_000), conc
            )

    if want(kissmetrics.GROUP):
        await settle_writes(bench, url, kissmetrics.GROUP)
        await kissmetrics.tracking(bench, url, ingestion, ingest, run_id, countly_ok)

    # its workers would only wait while the reads run
    stop(ingest_process)

    if want("goatcounter"):
        # web analytics at scale: each read on both sets, rounds alternated (the 10M/1M ratio)
        await alternate_scales(
            bench,
            "web",
            {
                scale: (
                    goatcounter.read_builders(gw_base, data, goatcounter.HOSTS[scale]),
                    {"pageviews": data["pageviews"]},
                )
                for scale, data in web.items()
                if scale in ("small", "large")
            },
            reads,
        )
        await goatcounter.export_workload(
            bench, gw_base, web["small"], goatcounter.HOSTS["small"], url, monitor
        )

    if want("nested"):
        await settle_writes(bench, url, "nested")
        # 3. nested reads vs PostGraphile
        shapes = {
            "products_events": (
                NESTED_PRODUCTS_EVENTS,
                {"products": 20, "events": 50},
                PEER_PRODUCTS_EVENTS,
            ),
            "devices_sessions": (
                NESTED_DEVICES_SESSIONS,
                {"products": 5, "devices": 10, "sessions": 5},
                PEER_DEVICES_SESSIONS,
            ),
        }
        for shape, (query, variables, peer_query) in shapes.items():
            # the gateway's rounds alternate with PostGraphile's
            specs = [
                Workload(
                    f"nested_{shape}_gateway",
                    fixed(graphql_builder(gql, query, variables, nested["token"])),
                    args.read_concurrency_nested,
                    graphql_ok,
                    keep_headers=("X-SQL-Statements",),
                    monitor=monitor,
                    cpu=reads.meter,
                )
            ]
            if peer_port is not None:
                peer_url = f"http://127.0.0.1:{peer_port}/graphql"
                peer_variables = {"account": str(nested["account_pk"])}
                specs.append(
                    Workload(
                        f"nested_{shape}_postgraphile",
                        fixed(graphql_builder(peer_url, peer_query, peer_variables, None)),
                        args.read_concurrency_nested,
                        graphql_ok,
                        cpu=meters.get("postgraphile"),
                    )
                )
            await bench.interleaved(*specs)
        if args.profile:
            profiles["nested_products_events"] = await profile_round(
                bench,
                gw_pid,
                "nested_products_events",
                graphql_builder(gql, NESTED_PRODUCTS_EVENTS, {"products": 20, "events": 50}, nested["token"]),
                args.read_concurrency_nested,
            )

    if want("analytics"):
        await settle_writes(bench, url, "analytics")
        # 4. analytics at scale: each read on both data sets, their rounds alternated (the 10M/1M ratio)
        scales: dict[str, tuple[dict[str, Callable[[int], Req]], dict[str, Any]]] = {}
        for scale in ("small", "large"):
            data = datasets.get(scale)
            if data is None:
                continue
            auth = {"api_key": data["token"], "app_id": data["product_id"]}
            queries = {
                "o_sessions": get_builder(
                    f"{gw_base}/o?{urlencode({**auth, 'method': 'sessions', 'period': '30days'})}"
                ),
                "o_events": get_builder(f"{gw_base}/o?{urlencode({**auth, 'method': 'events'})}"),
                "o_dashboard": get_builder(f"{gw_base}/o/analytics/dashboard?{urlencode(auth)}"),
                "graphql": graphql_builder(
                    gql, ANALYTICS_QUERY, analytics_variables(data["product_id"]), data["token"]
                ),
            }
            scales[scale] = (queries, {"events": data["events"]})
        await alternate_scales(bench, "analytics", scales, reads)

    if want("dashboard"):
        await settle_writes(bench, url, "dashboard")
        # 5. the dashboard's own requests, as it sends them: the product list, and the two requests of the overview
        # of a period (tiles with the previous period and the chart's series; the tables) for three presets, on
        # the events sets and, when seeded, the web sets
        scales = {}
        for scale, data in datasets.items():
            if scale not in ("small", "large", "web-small", "web-large"):
                continue
            products = dashboard_requests(data["product_id"], "UTC")["products"]
            status, _, body = await one_request(
                graphql_builder(gql, products.query, {}, data["token"], products.operation)(0)
            )
            nodes = orjson.loads(body)["data"]["products"]["nodes"] if status == 200 else []
            product = next((p for p in nodes if p["id"] == data["product_id"]), None)
            timezone = product["timezone"] if product else "UTC"
            site = bool(product and product["webAnalytics"]["paths"]["paths"])
            builders = {
                name: graphql_builder(gql, request.query, request.variables, data["token"], request.operation)
                for name, request in dashboard_requests(data["product_id"], timezone, site).items()
            }
            scales[scale] = (builders, {"events": data["events"], "pageviews": data.get("pageviews", 0)})
        await alternate_scales(bench, "dashboard", scales, reads, check=graphql_ok)

    if want("followanalytics"):
        await settle_writes(bench, url, "followanalytics")
        # 6. FollowAnalytics: numbered event pages at the large set, page 1 and page 1,000 alternated
        data = datasets.get("large") or datasets["small"]
        scale = "large" if "large" in datasets else "small"
        pages = [
            Workload(
                f"fa_events_page{'1' if page == 1 else 'deep'}_{scale}",
                fixed(fa.page_builder(gw_base, data, page)),
                args.read_concurrency,
                fa.page_ok,
                ("X-SQL-Statements",),
                monitor,
                {"events": data["events"]},
                cpu=reads.meter,
            )
            for page in (1, fa.deep_page(data))
        ]
        await bench.interleaved(*pages)
        # and exports of the small set's million events, as CSV and as XLS
        exports = []
        for suffix in (".csv", ".xls"):
            bench.log(f"fa export {suffix}: {datasets['small']['events']:,} events")
            exports.append(await fa.export_once(gw_base, datasets["small"], suffix, RssMonitor(gw_pid)))
            bench.log(f"fa export {suffix}: {exports[-1]}")
        results["fa_exports"] = exports

    if want(kissmetrics.GROUP):
        await settle_writes(bench, url, f"{kissmetrics.GROUP} reads")
        await kissmetrics.reads(bench, url, datasets, reads)

    if want("statements"):
        await settle_writes(bench, url, "statements")
        # 7. SQL round trips: statements per request as list sizes grow
        sweeps: list[dict[str, Any]] = []
        for products, events in ((1, 5), (5, 20), (20, 50), (20, 100)):
            status, headers, body = await one_request(
                graphql_builder(
                    gql, NESTED_PRODUCTS_EVENTS, {"products": products, "events": events}, nested["token"]
                )(0)
            )
            sweeps.append(
                {
                    "query": "products_events",
                    "sizes": f"{products}x{events}",
                    "status": status,
                    "statements": headers.get("X-SQL-Statements"),
                    "ok": graphql_ok(status, body),
                }
            )
        for products, devices, sessions in ((1, 2, 2), (5, 10, 5), (20, 50, 10)):
            variables = {"products": products, "devices": devices, "sessions": sessions}
            status, headers, body = await one_request(
                graphql_builder(gql, NESTED_DEVICES_SESSIONS, variables, nested["token"])(0)
            )
            sweeps.append(
                {
                    "query": "devices_sessions",
                    "sizes": f"{products}x{devices}x{sessions}",
                    "status": status,
                    "statements": headers.get("X-SQL-Statements"),
                    "ok": graphql_ok(status, body),
                }
            )
        # the REST reads of the analytics workloads, on both data sets: the same count at 1M and 10M events
        for scale in ("small", "large"):
            data = datasets.get(scale)
            if data is None:
                continue
            auth = {"api_key": data["token"], "app_id": data["product_id"]}
            for query, route, params in (
                ("o_sessions", "/o", {"method": "sessions", "period": "30days"}),
                ("o_events", "/o", {"method": "events"}),
                ("o_dashboard", "/o/analytics/dashboard", {}),
            ):
                req = Req("GET", f"{gw_base}{route}?{urlencode({**auth, **params})}")
                status, _, body = await one_request(req)
                sweeps.append(
                    {
                        "query": query,
                        "sizes": f"{data['events']:,} events",
                        "status": status,
                        "statements": f"{await statements_per_request(gw_base, route, req):g}",
                        "ok": json_ok(status, body),
                    }
                )
        results["sql_statements"] = sweeps
    if profiles:
        results["profiles"] = profiles


def countly_i(
    args: argparse.Namespace, name: str, ingestion: Served, app_key: str, run: str, engine_base: str | None
) -> Workload:
    """Countly `/i` as SDKs send it (`bench.builders.ingest_builder`) to the ingestion gateway; round r's devices
    are named after `run` and r."""
    return Workload(
        name,
        lambda r: ingest_builder(ingestion.base, app_key, f"{run}{r}", args.events_per_request),
        args.concurrency,
        countly_ok,
        monitor=ingestion.monitor,
        extra={"events_per_request": args.events_per_request, "workers": ingestion.workers},
        engine_base=engine_base,
        cpu=ingestion.meter,
    )


async def alternate_scales(
    bench: Bench,
    prefix: str,
    scales: dict[str, tuple[dict[str, Callable[[int], Req]], dict[str, Any]]],
    reads: Served,
    check: Callable[[int, bytes], bool] | None = None,
) -> None:
    """Each read (by name) on every data set (`scales`: its reads and what the results note of it), the rounds of
    a read's data sets alternated, so that their latency ratio is measured in the same minutes. Workloads are named
    `{prefix}_{read}_{scale}`; replies are checked by `check`, else a read named `graphql` as GraphQL and the
    others as JSON objects."""
    pairs: dict[str, list[Workload]] = {}
    for scale, (builders, extra) in scales.items():
        for name, builder in builders.items():
            pairs.setdefault(name, []).append(
                Workload(
                    f"{prefix}_{name}_{scale}",
                    fixed(builder),
                    bench.args.read_concurrency,
                    check or (graphql_ok if name == "graphql" else json_ok),
                    ("X-SQL-Statements",),
                    reads.monitor,
                    extra,
                    cpu=reads.meter,
                )
            )
    for specs in pairs.values():
        await bench.interleaved(*specs)


async def profile_round(bench: Bench, pid: int, name: str, build: Build, concurrency: int) -> dict[str, Any]:
    out = Path(bench.args.output) / f"profile-{name}.txt"
    seconds = max(5.0, bench.duration)
    spy = start_profile(pid, seconds, out)
    if spy is None:
        return {"error": "py-spy not installed"}
    await asyncio.sleep(0.5)
    result = await run_load(build, concurrency=concurrency, duration=seconds)
    try:
        _, err = spy.communicate(timeout=seconds + 30)
    except subprocess.TimeoutExpired:
        spy.kill()
        return {"error": "py-spy timed out"}
    summary = summarize_profile(out)
    summary["rps_while_profiled"] = round(result.rps, 1)
    if spy.returncode:
        summary["error"] = err.decode("utf-8", "replace")[-500:]
    bench.log(f"  profile {name}: {summary.get('self', [])[:5]}")
    return summary


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small data sets, 2 short rounds")
    parser.add_argument("--rounds", type=int, help="rounds per workload (default 3; quick 2)")
    parser.add_argument("--duration", type=float, help="seconds per round (default 10; quick 3)")
    parser.add_argument("--events-small", type=int, help="events of the smaller analytics set (default 1M)")
    parser.add_argument("--events-large", type=int, help="events of the larger analytics set (default 10M)")
    parser.add_argument("--events-nested", type=int, help="events over the 20 products of the nested set")
    parser.add_argument("--skip-large", action="store_true", help="do not seed or read the large set")
    parser.add_argument("--seed", type=int, default=1, help="seed of the generated data sets")
    parser.add_argument("--concurrency", type=int, default=64, help="clients of the ingestion workloads")
    parser.add_argument("--read-concurrency", type=int, default=4, help="clients of the analytics reads")
    parser.add_argument("--read-concurrency-nested", type=int, default=16, help="clients of the nested reads")
    parser.add_argument("--events-per-request", type=int, default=3, help="events of each /i events request")
    parser.add_argument("--bulk-events", type=int, default=10, help="events of each request inside /i/bulk")
    parser.add_argument(
        "--bulk-concurrency", type=int, help="clients of /i/bulk (default: --concurrency / 8, at least 2)"
    )
    parser.add_argument(
        "--port",
        type=int,
        default=18080,
        help="gateway port (+1 ceiling, +2 PostGraphile, +3 the ingestion gateway)",
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="gateway worker processes of the read workloads (default 1)"
    )
    parser.add_argument(
        "--ingest-workers",
        type=int,
        help="gateway worker processes of the ingestion workloads, and processes of the ceiling (default: one "
        "per CPU)",
    )
    parser.add_argument("--pageviews-small", type=int, help="pageviews of the smaller web set (default 1M)")
    parser.add_argument("--pageviews-large", type=int, help="pageviews of the larger web set (default 10M)")
    parser.add_argument(
        "--only",
        help="comma-separated workload groups: ingest,nested,analytics,dashboard,followanalytics,statements,"
        "goatcounter,kissmetrics",
    )
    parser.add_argument("--no-peer", action="store_true", help="do not start PostGraphile")
    parser.add_argument("--profile", action="store_true", help="py-spy the gateway in extra rounds")
    parser.add_argument("--output", default=str(ROOT / "bench" / "results"), help="where results go")
    kissmetrics.add_arguments(parser)
    args = parser.parse_args(argv)
    quick = args.quick
    args.ingest_workers = max(1, args.ingest_workers or os.cpu_count() or 1)
    args.rounds = args.rounds or (2 if quick else 3)
    args.duration = args.duration or (3.0 if quick else 10.0)
    args.events_small = args.events_small or (20_000 if quick else 1_000_000)
    args.events_large = args.events_large or (200_000 if quick else 10_000_000)
    args.events_nested = args.events_nested or (40_000 if quick else 200_000)
    args.pageviews_small = args.pageviews_small or (20_000 if quick else 1_000_000)
    args.pageviews_large = args.pageviews_large or (200_000 if quick else 10_000_000)
    kissmetrics.set_defaults(args)
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    (Path(args.output) / "logs").mkdir(parents=True, exist_ok=True)
    results = asyncio.run(run(args))
    from bench.report import write_report

    paths = write_report(results, Path(args.output))
    for path in paths:
        print(path)


if __name__ == "__main__":
    main()
