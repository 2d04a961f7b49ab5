"""Who is calling: `Authorization: Token <auth_token>` (the token `POST /api/login` answers) as a principal.

The token is an API token of the graph, so `Token` and `Bearer` are both accepted, and Rails' `Token token="..."`
form too. A missing, unknown or revoked token gets 401 in the vendor's shape, a token without the rights of the
route 403.
"""

from __future__ import annotations

from aiohttp import web

from adapters.followanalytics.enable import granted
from adapters.followanalytics.replies import FORBIDDEN, UNAUTHENTICATED, Failure
from gateway.access.principal import Principal
from gateway.access.tokens import principal_for_token
from gateway.state import state_of


def token_of(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() not in ("token", "bearer"):
        return None
    value = value.strip()
    if value.startswith("token="):
        value = value.removeprefix("token=").split(",", 1)[0].strip().strip('"')
    return value or None


async def caller(request: web.Request, flag: str) -> Principal:
    """The principal of the request's token, if its rights grant `flag` (`enable.py`: the login reply's flags
    say what the same rights allow); 401 without a token, 403 without the rights. A token limited to some apps
    reaches those only: the graph answers the others as not found."""
    token = token_of(request.headers.get("Authorization"))
    principal = await principal_for_token(state_of(request).db, token) if token else None
    if principal is None:
        raise Failure(401, UNAUTHENTICATED)
    if not granted(principal, flag):
        raise Failure(403, FORBIDDEN)
    return principal
