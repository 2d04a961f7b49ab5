"""The command line: bootstrap on the embedded PostgreSQL, serve with several workers, health and shutdown."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.process import GATEWAY, free_port, http_request, wait_healthy


def test_bootstrap_on_embedded_postgres_is_idempotent(tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": ""}
    first = subprocess.run(
        [*GATEWAY, "bootstrap", "--json", "--data-dir", str(tmp_path)],
        capture_output=True,
        env=env,
        timeout=120,
    )
    assert first.returncode == 0, first.stderr.decode()
    credentials = json.loads(first.stdout)
    for key in ("account_id", "product_id", "app_key", "token", "email", "password"):
        assert credentials[key], key
    assert (tmp_path / "pg" / "PG_VERSION").exists()
    second = subprocess.run(
        [*GATEWAY, "bootstrap", "--json", "--data-dir", str(tmp_path)],
        capture_output=True,
        env=env,
        timeout=120,
    )
    assert json.loads(second.stdout) == credentials
    assert oct((tmp_path / "credentials-default.json").stat().st_mode & 0o777) == "0o600"
    # the file the README points newcomers to holds the credentials, not an empty GraphQL address
    saved = json.loads((tmp_path / "credentials-default.json").read_text())
    assert saved == {key: value for key, value in credentials.items() if key != "graphql_url"}


@pytest.fixture
def credentials(migrated: str, tmp_path: Path) -> dict[str, Any]:
    result = subprocess.run(
        [
            *GATEWAY,
            "bootstrap",
            "--json",
            "--account",
            f"cli-{tmp_path.name}",
            "--data-dir",
            str(tmp_path),
            "--database-url",
            migrated,
        ],
        capture_output=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr.decode()
    return dict(json.loads(result.stdout))


def test_the_listening_line_comes_once_the_gateway_answers(migrated: str, tmp_path: Path) -> None:
    """A script may start the gateway and send its first request as soon as the line is printed."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [
        *GATEWAY,
        "serve",
        "--port",
        str(port),
        "--database-url",
        migrated,
        "--data-dir",
        str(tmp_path),
    ]
    with open(tmp_path / "gateway.log", "wb") as log:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log)
    try:
        assert process.stdout is not None
        line = process.stdout.readline().decode().strip()
        assert line == f"analytics-gateway listening on {url}/graphql"
        status, body, _ = http_request(url + "/healthz")  # at once, no retry
        assert status == 200 and json.loads(body)["database"] == "reachable"
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
    assert process.returncode == 0


def test_serve_with_two_workers(migrated: str, tmp_path: Path, credentials: dict[str, Any]) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [
            *GATEWAY,
            "serve",
            "--port",
            str(port),
            "--workers",
            "2",
            "--database-url",
            migrated,
            "--data-dir",
            str(tmp_path),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        wait_healthy(url, process)
        status, body, _ = http_request(url + "/healthz")
        assert json.loads(body) == {"status": "ok", "database": "reachable"}
        children = subprocess.check_output(["pgrep", "-P", str(process.pid), "-a"]).decode().splitlines()
        assert len([line for line in children if "spawn_main" in line]) == 2, children
        for _ in range(10):
            status, body, _ = http_request(
                url + "/graphql",
                {"query": "{ account { name } products { nodes { id } } }"},
                credentials["token"],
            )
            assert status == 200
            data = json.loads(body)["data"]
            assert data["account"]["name"] == credentials["account"]
            assert data["products"]["nodes"] == [{"id": credentials["product_id"]}]
        status, page, content_type = http_request(url + "/graphql", accept="text/html")
        assert status == 200 and content_type.startswith("text/html") and "graphiql" in page.lower()
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    assert process.returncode == 0, process.stderr.read().decode() if process.stderr else ""
    with pytest.raises(OSError):
        http_request(url + "/healthz")
    # one worker announces the port, once it answers
    assert process.stdout is not None
    assert process.stdout.read().decode().splitlines() == [f"analytics-gateway listening on {url}/graphql"]


async def test_make_run_prints_how_to_sign_in_to_the_dashboard(
    credentials: dict[str, Any], tmp_path: Path, server: Any
) -> None:
    """`make run` prints the dashboard's address and an email and password that really sign in."""
    home = tmp_path / "home"
    home.mkdir()
    (home / "credentials-default.json").write_text(json.dumps(credentials))
    env = {**os.environ, "GATEWAY_DATA_DIR": str(home), "GATEWAY_PORT": "8080", "GATEWAY_HOST": "127.0.0.1"}
    welcome = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway.cli.welcome", env=env, stdout=asyncio.subprocess.PIPE
    )
    printed = (await welcome.communicate())[0].decode()
    assert welcome.returncode == 0
    assert "Dashboard:    http://127.0.0.1:8080/ " in printed
    lines = {
        line.split(":", 1)[0].strip(): line.split(":", 1)[1].strip()
        for line in printed.splitlines()
        if ":" in line
    }
    assert lines["Email"] == credentials["email"] and lines["Password"] == credentials["password"]
    status, body, _ = await asyncio.to_thread(
        http_request,
        server.url + "/graphql",
        {
            "query": "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }",
            "variables": {"e": lines["Email"], "p": lines["Password"]},
        },
    )
    assert status == 200 and json.loads(body)["data"]["login"]["token"], body
