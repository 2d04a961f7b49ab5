"""Running the real `analytics-gateway` command as a child process in tests."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

GATEWAY = [sys.executable, "-m", "gateway.cli.main"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_request(
    url: str, body: dict[str, Any] | None = None, token: str | None = None, accept: str = ""
) -> tuple[int, str, str]:
    """(status, body text, content type) of a blocking request."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if accept:
        headers["Accept"] = accept
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode(), response.headers.get("Content-Type", "")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), error.headers.get("Content-Type", "")


def wait_healthy(url: str, process: subprocess.Popen[bytes], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, "the gateway exited during start-up"
        try:
            if http_request(url + "/healthz")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError("the gateway did not become healthy")


def start_gateway(
    database_url: str, data_dir: str, *extra: str, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """A serving gateway process and its base URL, once healthy.

    Its log goes to `gateway.log` in `data_dir`: a pipe nobody reads fills up (one access log line per
    request) and then blocks the gateway.
    """
    port = free_port()
    command = [*GATEWAY, "serve", "--port", str(port), "--database-url", database_url, "--data-dir", data_dir]
    Path(data_dir).mkdir(parents=True, exist_ok=True)
    with open(Path(data_dir) / "gateway.log", "ab") as log:
        process = subprocess.Popen([*command, *extra], stdout=subprocess.DEVNULL, stderr=log, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, process)
    except AssertionError:
        process.kill()
        process.wait()
        raise
    return process, url
