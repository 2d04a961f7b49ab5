"""Typed keys of values stored on aiohttp requests."""

from __future__ import annotations

from aiohttp import web

from gateway.db.pool import StatementCounter

REQUEST_ID = web.RequestKey("request_id", str)
OPERATION = web.RequestKey("graphql_operation", str)
"""The GraphQL operation of a `/graphql` request (its name or `anonymous`), for the metrics middleware."""
ERROR_CODES = web.RequestKey("graphql_error_codes", list[str])
"""`extensions.code` of each error of an executed operation, for the metrics middleware."""
STATEMENTS = web.RequestKey("sql_statements", StatementCounter)
"""The SQL statements of the request so far (`gateway.db.pool.start_counting`), started by the metrics middleware."""
