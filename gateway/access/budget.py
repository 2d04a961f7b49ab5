"""The hourly query-cost budget of each token, kept in PostgreSQL so that all worker processes share it.

Looking up the token and charging the query's cost is one statement, so the budget costs no extra round
trip. The reply reports the budget in `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset`
(epoch seconds), like GitHub's GraphQL API.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from gateway.access.principal import Principal
from gateway.access.tokens import hash_token, principal_of_token_row
from gateway.db.pool import Database


@dataclass(frozen=True)
class Budget:
    limit: int
    cost: int
    used: int
    reset_at: datetime

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)

    @property
    def exceeded(self) -> bool:
        return self.used > self.limit

    def exceeded_message(self) -> str:
        """What the caller is told once the budget is used up."""
        return f"Hourly query budget of {self.limit} points used up; it resets at {self.reset_at.isoformat()}"

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(int(self.reset_at.timestamp())),
            "X-RateLimit-Used": str(self.used),
        }


# The charge commits without waiting for its WAL to reach the disk (synchronous_commit off for this statement's
# own transaction only: set_config(..., true) ends with it, so the pooled session keeps its setting). Every
# GraphQL request charges its token, and a durable commit made each read wait for a WAL flush, behind the
# ingestion's; a crash may forget the last fraction of a second of charges, which a budget can afford. Other
# processes see the charge at commit, as before.
_AUTHENTICATE_AND_CHARGE = """
WITH relaxed AS (
    SELECT set_config('synchronous_commit', 'off', true)
), token AS (
    SELECT id, account_id, permissions, product_ids FROM api_tokens WHERE token_hash = $1
), charge AS (
    INSERT INTO rate_limits (token_id, window_start, used)
    SELECT id, date_trunc('hour', now()), $2 FROM token
    ON CONFLICT (token_id, window_start) DO UPDATE SET used = rate_limits.used + excluded.used
    RETURNING used, window_start
)
SELECT token.id, token.account_id, token.permissions, token.product_ids, charge.used, charge.window_start
FROM relaxed, token, charge
"""


async def authenticate_and_charge(
    db: Database, token: str, cost: int, limit: int
) -> tuple[Principal, Budget] | None:
    """The token's principal and its budget after charging `cost`; None for an unknown token."""
    if not token or len(token) > 512:
        return None
    row = await db.fetchrow(_AUTHENTICATE_AND_CHARGE, hash_token(token), cost)
    if row is None:
        return None
    principal = principal_of_token_row(row)
    budget = Budget(
        limit=limit, cost=cost, used=row["used"], reset_at=row["window_start"] + timedelta(hours=1)
    )
    return principal, budget
