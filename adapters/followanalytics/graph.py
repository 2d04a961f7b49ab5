"""Running the shim's operation documents on the graph, with the caller's principal.

Graph errors become the vendor's: a user error (bad input) is a 400 with the graph's message, a missing object a
404, a missing right a 403; anything else a 500 with the vendor's generic message (details stay in the log).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import web

from adapters.followanalytics.params import MAX_PER_PAGE
from adapters.followanalytics.replies import FORBIDDEN, NOT_FOUND, SERVER_ERROR, UNAUTHENTICATED, Failure
from adapters.operation_files import fragment_appender, operation_loader
from gateway.access.principal import Principal
from gateway.execution.executor import RequestError
from gateway.execution.inprocess import run_operation

operation = operation_loader(Path(__file__).parent / "operations")


# documents with the shared fragments they spread (`operations/fragments.graphql`)
document = fragment_appender(operation)

_STATUS = {
    "NOT_FOUND": 404,
    "FORBIDDEN": 403,
    "UNAUTHENTICATED": 401,
    "BAD_USER_INPUT": 400,
    "RATE_LIMITED": 429,
    "MAIL_NOT_CONFIGURED": 400,
    "NO_MAIL_ADDRESS": 400,
}
_GENERIC = {404: NOT_FOUND, 403: FORBIDDEN, 401: UNAUTHENTICATED}


async def run(
    request: web.Request,
    principal: Principal | None,
    name: str,
    variables: dict[str, Any] | None = None,
    operation_name: str | None = None,
) -> dict[str, Any]:
    """The data of the operation in `operations/<name>.graphql`; graph errors raise `Failure`."""
    try:
        result = await run_operation(
            request, principal, document(name), variables or {}, operation_name, max_page_size=MAX_PER_PAGE
        )
    except RequestError as exc:
        raise Failure(400, str(exc)) from None
    if result.errors:
        code = (result.errors[0].extensions or {}).get("code")
        status = _STATUS.get(str(code), 500)
        if status == 500:
            raise Failure(500, SERVER_ERROR)
        message = result.errors[0].message if status in (400, 429) else _GENERIC[status]
        raise Failure(status, message, str(code))
    return result.data or {}
