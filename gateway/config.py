"""Gateway settings: one dataclass filled from command-line options, environment variables and defaults.

Every option has an environment variable (listed in the README) so that a service manager can configure the
gateway without a command line.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from gateway.access.client_limits import parse_rules


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _env_int(name: str, default: int) -> int:
    value = _env(name)
    return int(value) if value is not None else default


def _env_float(name: str, default: float) -> float:
    value = _env(name)
    return float(value) if value is not None else default


def _env_bool(name: str, default: bool) -> bool:
    value = _env(name)
    if value is None:
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


@dataclass
class Limits:
    """Bounds that protect the graph from abusive queries."""

    max_page_size: int = field(default_factory=lambda: _env_int("GATEWAY_MAX_PAGE_SIZE", 100))
    max_depth: int = field(default_factory=lambda: _env_int("GATEWAY_MAX_DEPTH", 15))
    max_aliases: int = field(default_factory=lambda: _env_int("GATEWAY_MAX_ALIASES", 30))
    max_tokens: int = field(default_factory=lambda: _env_int("GATEWAY_MAX_TOKENS", 15000))
    max_body_bytes: int = field(default_factory=lambda: _env_int("GATEWAY_MAX_BODY_BYTES", 2 * 1024 * 1024))
    # the request line's URL, and each header: aiohttp's defaults (8 KB) refused a KISSmetrics beacon holding
    # one of the 8 KB values its trackers may send, and sites' cookie headers can pass 8 KB
    max_url_bytes: int = field(default_factory=lambda: _env_int("GATEWAY_MAX_URL_BYTES", 64 * 1024))
    max_header_bytes: int = field(default_factory=lambda: _env_int("GATEWAY_MAX_HEADER_BYTES", 16 * 1024))
    max_nodes: int = field(default_factory=lambda: _env_int("GATEWAY_MAX_NODES", 500_000))
    request_timeout: float = field(default_factory=lambda: _env_float("GATEWAY_REQUEST_TIMEOUT", 30.0))
    cost_budget_per_hour: int = field(default_factory=lambda: _env_int("GATEWAY_COST_BUDGET", 5000))


@dataclass
class Settings:
    """Everything the gateway process needs to know to start."""

    host: str = field(default_factory=lambda: _env("GATEWAY_HOST", "127.0.0.1") or "127.0.0.1")
    port: int = field(default_factory=lambda: _env_int("GATEWAY_PORT", 8080))
    workers: int = field(default_factory=lambda: _env_int("GATEWAY_WORKERS", 1))
    data_dir: Path = field(default_factory=lambda: Path(_env("GATEWAY_DATA_DIR", "./.data") or "./.data"))
    database_url: str | None = field(default_factory=lambda: _env("DATABASE_URL"))
    # connections kept open even when idle: none by default, so that an idle gateway holds no session and
    # PostgreSQL can shut down politely (a smart shutdown waits for every session to end)
    pool_min: int = field(default_factory=lambda: _env_int("GATEWAY_POOL_MIN", 0))
    pool_max: int = field(default_factory=lambda: _env_int("GATEWAY_POOL_MAX", 10))
    # seconds an unused connection stays open before it is closed (above pool_min)
    pool_idle_seconds: float = field(default_factory=lambda: _env_float("GATEWAY_POOL_IDLE_SECONDS", 30.0))
    introspection: bool = field(default_factory=lambda: _env_bool("GATEWAY_INTROSPECTION", True))
    graphiql: bool = field(default_factory=lambda: _env_bool("GATEWAY_GRAPHIQL", True))
    # origins allowed to call /graphql from a browser ("*": any; tokens travel in headers, not cookies)
    cors_origins: tuple[str, ...] = field(
        default_factory=lambda: tuple(
            o.strip() for o in (_env("GATEWAY_CORS_ORIGINS", "*") or "*").split(",") if o.strip()
        )
    )
    # only registered documents may run (the shims' own are always registered)
    trusted_documents: bool = field(default_factory=lambda: _env_bool("GATEWAY_TRUSTED_DOCUMENTS", False))
    # automatic persisted queries remembered per account (the least recently used forgotten beyond), and the days
    # one is kept unused (gateway/execution/persisted.py)
    persisted_per_account: int = field(
        default_factory=lambda: _env_int("GATEWAY_PERSISTED_PER_ACCOUNT", 1000)
    )
    persisted_unused_days: float = field(
        default_factory=lambda: _env_float("GATEWAY_PERSISTED_UNUSED_DAYS", 30.0)
    )
    log_level: str = field(default_factory=lambda: _env("GATEWAY_LOG_LEVEL", "INFO") or "INFO")
    # group commit: how long the ingestion engine waits for more requests before it commits a batch
    ingest_window_ms: float = field(default_factory=lambda: _env_float("GATEWAY_INGEST_WINDOW_MS", 2.0))
    ingest_max_batch: int = field(default_factory=lambda: _env_int("GATEWAY_INGEST_MAX_BATCH", 200))
    # group commit: web hits that close a batch at once (counted apart from the device requests)
    ingest_max_hits: int = field(default_factory=lambda: _env_int("GATEWAY_INGEST_MAX_HITS", 2000))
    # group commit: batches in flight at once (one is planned in Python while the others run in PostgreSQL)
    ingest_parallel: int = field(default_factory=lambda: _env_int("GATEWAY_INGEST_PARALLEL", 4))
    # days a calendar tree's kept day is used before it is rendered again (0: kept for good); 62 covers a 30-day
    # document's period and the one before it, so each day of such documents is rendered once
    kept_days_ttl_days: float = field(default_factory=lambda: _env_float("GATEWAY_KEPT_DAYS_TTL", 62.0))
    # seconds between two sweeps of what expires (gateway/background/housekeeping.py)
    housekeeping_seconds: float = field(
        default_factory=lambda: _env_float("GATEWAY_HOUSEKEEPING_SECONDS", 3600.0)
    )
    # seconds between two passes that sum ended months of web rollups (gateway/background/web_months.py)
    web_months_seconds: float = field(default_factory=lambda: _env_float("GATEWAY_WEB_MONTHS_SECONDS", 600.0))
    # rate limits per client by rule name (gateway/access/client_limits.py): "name=limit/seconds,..."
    rate_limits: dict[str, tuple[int, float]] = field(
        default_factory=lambda: parse_rules(_env("GATEWAY_RATE_LIMITS"))
    )
    # web sessions without cookies: hours a session salt lasts (gateway/ingest/web/sessions.py)
    session_hours: float = field(default_factory=lambda: _env_float("GATEWAY_SESSION_HOURS", 24.0))
    # hours an export's file is kept after it finished
    export_ttl_hours: float = field(default_factory=lambda: _env_float("GATEWAY_EXPORT_TTL_HOURS", 24.0))
    # peers whose X-Forwarded-For names the client (comma-separated addresses or networks)
    trusted_proxies: tuple[str, ...] = field(
        default_factory=lambda: tuple(
            p.strip() for p in (_env("GATEWAY_TRUSTED_PROXIES", "") or "").split(",") if p.strip()
        )
    )
    # e-mail delivery of exports (gateway/background/mail.py): the SMTP server, the sender, and the address people
    # reach this gateway at, for the links in those e-mails (default: http://<host>:<port>)
    smtp_url: str | None = field(default_factory=lambda: _env("GATEWAY_SMTP_URL"))
    smtp_from: str | None = field(default_factory=lambda: _env("GATEWAY_SMTP_FROM"))
    public_url: str | None = field(default_factory=lambda: _env("GATEWAY_PUBLIC_URL"))
    limits: Limits = field(default_factory=Limits)

    @property
    def base_url(self) -> str:
        """Where people reach this gateway (links in e-mails): GATEWAY_PUBLIC_URL, else its own address."""
        if self.public_url:
            return self.public_url.rstrip("/")
        return f"http://{self.host}:{self.port}"

    def with_overrides(self, **overrides: Any) -> Settings:
        """A copy with the given non-None values replaced (command-line options win over the environment)."""
        known = {f.name for f in fields(self)}
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        for key, value in overrides.items():
            if key in known and value is not None:
                values[key] = Path(value) if key == "data_dir" else value
        return Settings(**values)
