"""The benchmark's bare ceiling (`bench.ceiling`) serves from as many processes as asked, on one port, and takes
them all down when it is stopped: a process left behind would take CPU from every later measurement."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import psutil

from tests.process import free_port, http_request


def _listeners(port: int) -> set[int]:
    return {
        c.pid
        for c in psutil.net_connections("tcp")
        if c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port and c.pid is not None
    }


def test_the_ceiling_serves_from_every_process_and_stops_them_all() -> None:
    port = free_port()
    ceiling = subprocess.Popen(
        [sys.executable, "-m", "bench.ceiling", "--port", str(port), "--processes", "3"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while len(_listeners(port)) < 3:
            assert ceiling.poll() is None, ceiling.stderr.read().decode() if ceiling.stderr else ""
            assert time.monotonic() < deadline, _listeners(port)
            time.sleep(0.1)
        serving = _listeners(port)
        assert ceiling.pid in serving
        # its children (besides multiprocessing's resource tracker)
        assert serving - {ceiling.pid} <= {child.pid for child in psutil.Process(ceiling.pid).children()}
        for _ in range(6):
            status, body, content_type = http_request(f"http://127.0.0.1:{port}/i?app_key=x&device_id=d")
            assert (status, body, content_type) == (200, '{"result":"Success"}', "application/json")
    finally:
        ceiling.send_signal(signal.SIGTERM)
        ceiling.wait(timeout=20)
    assert ceiling.returncode == 0
    for pid in serving - {ceiling.pid}:
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert _listeners(port) == set()
