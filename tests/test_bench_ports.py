"""Issue 22, item 16: `make bench` measured whatever listened on its port when its own gateway could not start.

The harness now refuses a port that is taken, and so does `analytics-gateway serve` (whose workers would
otherwise share the port with another SO_REUSEPORT server), with a clear message.
"""

from __future__ import annotations

import socket
import subprocess

import pytest

from bench.run import ensure_ports_free
from gateway.cli.serve import PortInUse, ensure_port_free
from tests.process import GATEWAY


def _listening(reuse_port: bool = False) -> socket.socket:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if reuse_port:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    return listener


@pytest.mark.parametrize("reuse_port", [False, True])
def test_the_bench_refuses_a_taken_port(reuse_port: bool) -> None:
    with _listening(reuse_port) as taken:
        port = taken.getsockname()[1]
        with pytest.raises(SystemExit, match=f"port {port} is in use"):
            ensure_ports_free([port])
    ensure_ports_free([port])  # free again


@pytest.mark.parametrize("reuse_port", [False, True])
def test_serve_refuses_a_taken_port(reuse_port: bool) -> None:
    with _listening(reuse_port) as taken:
        port = taken.getsockname()[1]
        with pytest.raises(PortInUse, match=f"cannot listen on 127.0.0.1:{port}"):
            ensure_port_free("127.0.0.1", port)


def test_the_command_exits_with_the_message() -> None:
    with _listening(reuse_port=True) as taken:
        port = taken.getsockname()[1]
        done = subprocess.run(
            [
                *GATEWAY,
                "serve",
                "--port",
                str(port),
                "--workers",
                "2",
                "--database-url",
                "postgresql://unused/x",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode != 0
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
