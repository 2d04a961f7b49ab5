"""Telling a database outage from other failures: the server is down, restarting, refusing connections.

Such a failure is nobody's fault and passes: clients are told 503 with `Retry-After` (in their dialect's shape,
`gateway.http.error_shapes`), never a 500, and the pool reconnects on its own once the server is back. Anything
else that goes wrong stays an internal error.
"""

from __future__ import annotations

import socket

import asyncpg

RETRY_AFTER_SECONDS = 5
UNAVAILABLE_MESSAGE = "The service is unavailable for a moment; retry later"

# asyncpg's errors of a lost or refused connection (SQLSTATE classes 08 and 57P, too many connections)
_OUTAGES: tuple[type[BaseException], ...] = (
    ConnectionError,  # refused, reset, aborted: the server is not there (or went away)
    TimeoutError,  # no answer in time (asyncpg's connect and command timeouts)
    socket.gaierror,  # its host name does not resolve
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.TooManyConnectionsError,
)


class DatabaseUnavailable(Exception):
    """The database cannot be reached now; raised where an outage reaches code that answers a client."""

    def __init__(self, message: str = UNAVAILABLE_MESSAGE) -> None:
        super().__init__(message)


def is_outage(error: BaseException | None) -> bool:
    """Whether `error` (or what caused it) is the database being unreachable, restarting or shutting down."""
    seen = 0
    while error is not None and seen < 10:
        if isinstance(error, (DatabaseUnavailable, *_OUTAGES)):
            return True
        if isinstance(error, asyncpg.InterfaceError) and "connection" in str(error).lower():
            return True  # "connection is closed", "the pool is closing"
        if isinstance(error, asyncpg.exceptions.InternalClientError) and "another operation" in str(error):
            # a pooled connection the server dropped in the middle of a statement, taken again before asyncpg
            # noticed (the pool's reset is a no-op, gateway/db/pool.py): it is closed a moment later
            return True
        error = error.__cause__ or error.__context__
        seen += 1
    return False
