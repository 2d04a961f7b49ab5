"""The peer: PostGraphile 4 (npm `postgraphile@4`, from the project's package.json) on the same database.

It reflects the same tables (products, devices, sessions, events) and serves the same rows; the queries below
have the same shape as the gateway's `NESTED_*` queries in `bench/run.py`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from urllib.parse import parse_qs, urlparse

ROOT = Path(__file__).resolve().parent.parent

# 20 products x 50 newest events, three fields each
PEER_PRODUCTS_EVENTS = """
query($account: BigInt!) {
  allProducts(first: 20, orderBy: ID_ASC, condition: {accountId: $account}) {
    nodes {
      id name
      eventsByProductId(first: 50, orderBy: [OCCURRED_AT_DESC, ID_DESC]) {
        nodes { key occurredAt count }
      }
    }
  }
}
"""

# 3 levels: products -> devices (most recently seen) -> sessions (newest first)
PEER_DEVICES_SESSIONS = """
query($account: BigInt!) {
  allProducts(first: 5, orderBy: ID_ASC, condition: {accountId: $account}) {
    nodes {
      id name
      devicesByProductId(first: 10, orderBy: [LAST_SEEN_DESC, ID_DESC]) {
        nodes {
          deviceKey os
          sessionsByDeviceId(first: 5, orderBy: [STARTED_AT_DESC, ID_DESC]) {
            nodes { startedAt duration }
          }
        }
      }
    }
  }
}
"""


def node_url(database_url: str) -> str:
    """A node-postgres URL for an asyncpg-style one (a unix socket host goes into `?host=`)."""
    parsed = urlparse(database_url)
    host = parse_qs(parsed.query).get("host", [parsed.hostname or "127.0.0.1"])[0]
    user = parsed.username or "postgres"
    db = parsed.path.lstrip("/") or "postgres"
    if host.startswith("/"):
        return f"postgres://{user}@/{db}?host={host}"
    port = f":{parsed.port}" if parsed.port else ""
    password = f":{parsed.password}" if parsed.password else ""
    return f"postgres://{user}{password}@{host}{port}/{db}"


def postgraphile_command() -> list[str] | None:
    """The command that runs PostGraphile 4, or None when it is not installed (npm missing)."""
    local = ROOT / "node_modules" / ".bin" / "postgraphile"
    if local.exists():
        return [str(local)]
    npx = shutil.which("npx")
    return [npx, "--no-install", "postgraphile"] if npx else None


def start_postgraphile(database_url: str, port: int, log_path: Path) -> subprocess.Popen[bytes] | None:
    """Start PostGraphile on 127.0.0.1:`port` (one process); None when it is not available."""
    command = postgraphile_command()
    if command is None:
        return None
    args = [
        *command,
        "--connection",
        node_url(database_url),
        "--schema",
        "public",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--disable-query-log",
        "--disable-graphiql",
        "--no-setof-functions-contain-nulls",
        "--max-pool-size",
        "10",
    ]
    preload = f"--require {Path(__file__).with_name('single_graphql.js')}"
    env = {**os.environ, "NODE_ENV": "production", "NODE_OPTIONS": preload}
    log = log_path.open("wb")
    # started in bench/, where it finds postgraphile.tags.json5 (the relations kept without foreign keys)
    return subprocess.Popen(args, cwd=Path(__file__).parent, stdout=log, stderr=subprocess.STDOUT, env=env)
