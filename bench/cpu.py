"""Where a workload's CPU goes: the server's, PostgreSQL's and the load generator's CPU per request, and how much
of the machine stayed idle, taken around each round of a workload.

The harness runs the server under test, PostgreSQL and the load generator on the same cores, so a ratio
against the bare ceiling follows what each of them costs per request: these figures say which of them a
target depends on (bench/README, "The ratio itself").

CPU time of a process tree is its processes' own time plus what its reaped children had used, so a PostgreSQL
backend or a worker that exits between two snapshots is still counted once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import psutil


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds (user and system) used so far by process `pid`, its live descendants and its reaped children;
    0.0 once the process is gone."""
    try:
        root = psutil.Process(pid)
        times = root.cpu_times()
        total = times.user + times.system + times.children_user + times.children_system
        children = root.children(recursive=True)
    except psutil.Error:
        return 0.0
    for child in children:
        try:
            child_times = child.cpu_times()
        except psutil.Error:  # exited since the listing: its time is in its parent's children_* once reaped
            continue
        total += child_times.user + child_times.system
    return total


def postmaster_pid(data_dir: Path) -> int | None:
    """The PostgreSQL server's pid, from the first line of `postmaster.pid` in its data directory."""
    try:
        return int((data_dir / "postmaster.pid").read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return None


@dataclass(frozen=True)
class CpuSnapshot:
    """Cumulative CPU seconds at one moment: the server's and PostgreSQL's process trees, this process (the
    load generator), and the whole machine's busy and idle time."""

    server: float
    postgres: float
    load: float
    machine_busy: float
    machine_idle: float


@dataclass(frozen=True)
class CpuShare:
    """A round's CPU per request in microseconds, and the machine's idle share (0..1) while it ran."""

    server_us: float
    postgres_us: float
    load_us: float
    idle: float

    def as_dict(self) -> dict[str, float]:
        return {
            "server_us": round(self.server_us, 1),
            "postgres_us": round(self.postgres_us, 1),
            "load_us": round(self.load_us, 1),
            "idle": round(self.idle, 3),
        }


@dataclass(frozen=True)
class CpuMeter:
    """Snapshots of one server under test (`server_pid`) with the PostgreSQL server `postgres_pid` (None: a
    server that does not use it, such as the bare ceiling)."""

    server_pid: int
    postgres_pid: int | None

    def snapshot(self) -> CpuSnapshot:
        machine = psutil.cpu_times()._asdict()
        # Linux counts guest time inside user and nice already
        total = sum(value for name, value in machine.items() if name not in ("guest", "guest_nice"))
        idle = machine["idle"] + machine.get("iowait", 0.0)
        return CpuSnapshot(
            server=tree_cpu_seconds(self.server_pid),
            postgres=0.0 if self.postgres_pid is None else tree_cpu_seconds(self.postgres_pid),
            load=time.process_time(),
            machine_busy=total - idle,
            machine_idle=idle,
        )


def cpu_share(before: CpuSnapshot, after: CpuSnapshot, requests: int) -> CpuShare | None:
    """CPU per request between two snapshots; None without requests or machine time in between."""
    machine = (after.machine_busy - before.machine_busy) + (after.machine_idle - before.machine_idle)
    if requests <= 0 or machine <= 0:
        return None
    per = 1e6 / requests
    return CpuShare(
        server_us=(after.server - before.server) * per,
        postgres_us=(after.postgres - before.postgres) * per,
        load_us=(after.load - before.load) * per,
        idle=(after.machine_idle - before.machine_idle) / machine,
    )
