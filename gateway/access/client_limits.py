"""Rate limits per client (an IP address, or anything a dialect names a client by), shared through PostgreSQL.

A rule allows `limit` requests per `seconds`; a client's window starts with its first request. Counting is one
statement for the requests of a rule that arrive together, committed without waiting for the WAL (as the
query-cost budget): every worker process and host sees the same counts, and a crash may forget the last fraction
of a second of them.

Dialects name their rules and defaults in code (`RateRule`); `GATEWAY_RATE_LIMITS` changes them by name, e.g.
`goatcounter-count=600/120,goatcounter-api=0/1` (0: no limit), for a backend that imports logs.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

from aiohttp import web

from gateway.db.pool import Database
from gateway.execution.coalescer import Coalescer


@dataclass(frozen=True)
class RateRule:
    """`limit` requests per `seconds` per client (0: unlimited)."""

    name: str
    limit: int
    seconds: float


@dataclass(frozen=True)
class RateState:
    """A client's count of one rule after this request, and when its window ends."""

    rule: RateRule
    used: int
    reset: float  # seconds until the window ends

    @property
    def remaining(self) -> int:
        return max(0, self.rule.limit - self.used)

    @property
    def exceeded(self) -> bool:
        return self.rule.limit > 0 and self.used > self.rule.limit

    def headers(self) -> dict[str, str]:
        """`X-Rate-Limit-Limit`, `-Remaining` and `-Reset` (whole seconds until the window ends)."""
        return {
            "X-Rate-Limit-Limit": str(self.rule.limit),
            "X-Rate-Limit-Remaining": str(self.remaining),
            "X-Rate-Limit-Reset": str(int(self.reset)),
        }


# $1 rule, $2 clients (distinct), $3 their requests, $4 the rule's seconds
_CHARGE = """
WITH relaxed AS (
    SELECT set_config('synchronous_commit', 'off', true)
)
INSERT INTO client_rate_limits AS l (rule, client, window_start, expires_at, used)
SELECT $1, c.client, now(), now() + make_interval(secs => $4), c.n
FROM relaxed, unnest($2::bytea[], $3::integer[]) WITH ORDINALITY AS c(client, n, o)
ORDER BY c.client
ON CONFLICT (rule, client) DO UPDATE SET
    used = CASE WHEN l.expires_at <= now() THEN EXCLUDED.used ELSE l.used + EXCLUDED.used END,
    window_start = CASE WHEN l.expires_at <= now() THEN now() ELSE l.window_start END,
    expires_at = CASE WHEN l.expires_at <= now() THEN now() + make_interval(secs => $4) ELSE l.expires_at END
RETURNING client, used, extract(epoch FROM expires_at - now())::float8 AS reset
"""

EXPIRE = "DELETE FROM client_rate_limits WHERE expires_at < now()"


def parse_rules(text: str | None) -> dict[str, tuple[int, float]]:
    """`name=limit/seconds,...` as {name: (limit, seconds)}; raises ValueError on a malformed item."""
    rules: dict[str, tuple[int, float]] = {}
    for item in (text or "").split(","):
        item = item.strip()
        if not item:
            continue
        name, _, value = item.partition("=")
        limit, _, seconds = value.partition("/")
        parsed = (int(limit), float(seconds or "1"))
        if not name.strip() or parsed[0] < 0 or not 0 < parsed[1] < 10**7 or not math.isfinite(parsed[1]):
            raise ValueError(f"not a rate limit: {item!r} (name=limit/seconds)")
        rules[name.strip()] = parsed
    return rules


class ClientLimits:
    """Charges requests to the rules' counters of each client. The requests of one rule arriving in one turn of
    the event loop share one statement (`gateway.execution.coalescer`)."""

    def __init__(self, db: Database, overrides: dict[str, tuple[int, float]] | None = None) -> None:
        self.db = db
        self.overrides = overrides or {}
        self._batches: Coalescer[RateRule, bytes, tuple[int, float]] = Coalescer(
            self._charge_many, max_items=500
        )

    def rule(self, default: RateRule) -> RateRule:
        """`default`, or the configured rule of that name."""
        found = self.overrides.get(default.name)
        return default if found is None else RateRule(default.name, found[0], found[1])

    async def charge(self, default: RateRule, client: str) -> RateState:
        """Count one request of `client` against the rule; the state after it."""
        rule = self.rule(default)
        if rule.limit <= 0:
            return RateState(rule, 0, 0.0)
        key = hashlib.sha256(client.encode("utf-8", "surrogatepass")).digest()[:16]
        used, reset = await self._batches.run(rule, key)
        return RateState(rule, used, max(0.0, reset))

    async def _charge_many(self, rule: RateRule, clients: list[bytes]) -> list[tuple[int, float]]:
        """Count the requests `clients` (a client may come more than once): each one's count after it."""
        counts: dict[bytes, int] = {}
        for client in clients:
            counts[client] = counts.get(client, 0) + 1
        rows = await self.db.fetch(_CHARGE, rule.name, list(counts), list(counts.values()), rule.seconds)
        after = {row["client"]: (row["used"], row["reset"]) for row in rows}
        seen: dict[bytes, int] = {}
        results = []
        for client in clients:
            used, reset = after[client]
            nth = seen[client] = seen.get(client, 0) + 1
            results.append((used - counts[client] + nth, reset))
        return results


CLIENT_LIMITS = web.AppKey("client_limits", ClientLimits)


def client_limits(request: web.Request) -> ClientLimits:
    """The app's limits (made when the app starts, with the configured rules)."""
    return request.app[CLIENT_LIMITS]


def go_duration(seconds: float) -> str:
    """A duration as Go prints it (`264.705599ms`, `59m57.980406473s`), for the replies of Go servers."""
    nanos = max(0, round(seconds * 1e9))
    if nanos == 0:
        return "0s"
    if nanos < 1_000:
        return f"{nanos}ns"
    if nanos < 1_000_000:
        return _trim(f"{nanos / 1_000:.3f}") + "µs"
    if nanos < 1_000_000_000:
        return _trim(f"{nanos / 1_000_000:.6f}") + "ms"
    hours, rest = divmod(nanos, 3_600_000_000_000)
    minutes, rest = divmod(rest, 60_000_000_000)
    text = _trim(f"{rest / 1e9:.9f}") + "s"
    if hours:
        return f"{hours}h{minutes}m{text}"
    if minutes:
        return f"{minutes}m{text}"
    return text


def _trim(number: str) -> str:
    return number.rstrip("0").rstrip(".") if "." in number else number
