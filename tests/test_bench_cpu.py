"""The harness's CPU accounting (`bench.cpu`) and what the summary makes of it (`bench.report`).

A process tree's CPU must include processes that exited during a round (a PostgreSQL backend, a worker):
real processes burn known amounts of CPU here, one of them exiting before the snapshot.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from bench.cpu import CpuMeter, CpuSnapshot, cpu_share, postmaster_pid, tree_cpu_seconds
from bench.report import markdown, postgres_only_bound

# burns `seconds` of its own CPU, then prints a line and waits for stdin to close
BURN = """
import sys, time
def burn(seconds):
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass
"""

# a tree: a child that burns 0.3 s and exits (and is reaped), then the parent's 0.2 s, then a live child's 0.2 s
TREE = (
    BURN
    + """
import subprocess
subprocess.run([sys.executable, "-c", {burn!r} + "burn(0.3)"], check=True)
burn(0.2)
live = subprocess.Popen([sys.executable, "-c", {burn!r} + "burn(0.2); print('ready', flush=True); sys.stdin.read()"],
                        stdin=subprocess.PIPE, stdout=subprocess.PIPE)
live.stdout.readline()
print("ready", flush=True)
sys.stdin.read()
live.stdin.close()
live.wait()
""".replace("{burn!r}", repr(BURN))
)


def test_a_tree_counts_its_exited_children_its_own_time_and_its_live_children() -> None:
    tree = subprocess.Popen(
        [sys.executable, "-c", TREE], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert tree.stdout is not None and tree.stdout.readline().strip() == "ready"
        seconds = tree_cpu_seconds(tree.pid)
        # 0.7 s burned in all; start-up of three interpreters adds a little
        assert 0.69 <= seconds < 3.0, seconds
    finally:
        assert tree.stdin is not None
        tree.stdin.close()
        tree.wait(timeout=30)
    assert tree_cpu_seconds(tree.pid) == 0.0  # gone


def test_a_meter_takes_this_process_as_the_load_generator_and_no_postgres_when_none() -> None:
    sleeper = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    try:
        meter = CpuMeter(sleeper.pid, None)
        before = meter.snapshot()
        end = time.process_time() + 0.2
        while time.process_time() < end:
            pass
        after = meter.snapshot()
    finally:
        assert sleeper.stdin is not None
        sleeper.stdin.close()
        sleeper.wait(timeout=30)
    assert after.load - before.load >= 0.2
    assert after.postgres == before.postgres == 0.0
    assert after.server - before.server < 0.1  # the sleeper waits on stdin
    assert after.machine_busy - before.machine_busy >= 0.19


def test_a_share_is_cpu_per_request_and_the_idle_part_of_the_machine() -> None:
    before = CpuSnapshot(server=10.0, postgres=20.0, load=1.0, machine_busy=100.0, machine_idle=50.0)
    after = CpuSnapshot(server=10.5, postgres=20.25, load=1.1, machine_busy=101.5, machine_idle=50.5)
    share = cpu_share(before, after, 2500)
    assert share is not None
    assert share.as_dict() == {"server_us": 200.0, "postgres_us": 100.0, "load_us": 40.0, "idle": 0.25}
    assert cpu_share(before, after, 0) is None
    assert cpu_share(before, before, 10) is None


def test_postmaster_pid_reads_the_first_line(tmp_path: Path) -> None:
    (tmp_path / "postmaster.pid").write_text("4242\n/data\n1700000000\n5432\n")
    assert postmaster_pid(tmp_path) == 4242
    assert postmaster_pid(tmp_path / "missing") is None


def _results(ceiling_cpu: dict[str, float] | None, ingest_cpu: dict[str, float]) -> dict[str, object]:
    def workload(rps: float, units: float, cpu: dict[str, float] | None) -> dict[str, object]:
        return {
            "concurrency": 64,
            "rps": rps,
            "units_per_s": units,
            "p50_ms": 1.0,
            "p95_ms": 2.0,
            "p99_ms": 3.0,
            "failed": 0,
            "requests": 100,
            **({"cpu": cpu} if cpu else {}),
        }

    workloads = {
        "ceiling": workload(10_000, 10_000, ceiling_cpu),
        "ingest_i": workload(3_000, 3_003, ingest_cpu),  # about an event a request: no figure per unit
        "ingest_bulk": workload(100, 50_000, {**ingest_cpu, "server_us": 9000.0}),
    }
    bound = postgres_only_bound(workloads["ceiling"], workloads["ingest_i"])  # type: ignore[arg-type]
    return {
        "workloads": workloads,
        "meta": {"args": {"workers": 1, "ingest_workers": 2}},
        "derived": {"checks": [], "ingest_vs_ceiling_postgres_only": bound},
        "sql_statements": [],
        "datasets": {},
    }


def test_the_summary_shows_cpu_per_request_and_the_bound_postgres_leaves() -> None:
    ceiling = {"server_us": 70.0, "postgres_us": 0.0, "load_us": 100.0, "idle": 0.15}
    ingest = {"server_us": 250.0, "postgres_us": 170.0, "load_us": 140.0, "idle": 0.23}
    results = _results(ceiling, ingest)
    # (70 + 100) / (70 + 100 + 170)
    assert results["derived"]["ingest_vs_ceiling_postgres_only"] == 0.5  # type: ignore[index]
    text = markdown(results)
    assert "| ceiling | 70.0 | 0.0 | 100.0 | 170.0 | 0.15 |" in text
    assert "| ingest_i | 250.0 | 170.0 | 140.0 | 560.0 | 0.23 |" in text
    # a bulk call of 500 events: the three processes' CPU per event too
    assert "| ingest_bulk | 9000.0 | 170.0 | 140.0 | 9310.0 (18.6 per unit) | 0.23 |" in text
    assert "PostgreSQL's CPU per write added to the ceiling's): 0.5x" in text
    assert "a gateway with 2 worker(s) and the ceiling with as many processes" in text


def test_without_the_ceilings_cpu_there_is_no_bound() -> None:
    ingest = {"server_us": 250.0, "postgres_us": 170.0, "load_us": 140.0, "idle": 0.23}
    results = _results(None, ingest)
    assert results["derived"]["ingest_vs_ceiling_postgres_only"] is None  # type: ignore[index]
    assert "added to the ceiling's" not in markdown(results)


def test_the_summary_names_the_ingestion_workers_only_when_ingestion_ran() -> None:
    ingest = {"server_us": 250.0, "postgres_us": 170.0, "load_us": 140.0, "idle": 0.23}
    results = _results(None, ingest)
    assert "a gateway with 2 worker(s)" in markdown(results)
    results["workloads"] = {"ceiling": results["workloads"]["ceiling"]}  # type: ignore[index]
    assert "worker(s)" not in markdown(results)
