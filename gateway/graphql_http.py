"""`/graphql` over HTTP, to the letter of the GraphQL-over-HTTP specification.

POST takes `application/json`; GET takes URL parameters and runs queries only. Replies are
`application/graphql-response+json` when the client accepts it, else `application/json`. Requests that cannot
run (unparseable, invalid, bad variables) get 400 with `errors` and no `data`; a missing or unknown token gets
401; a token without the right gets 403. Browsers asking for HTML get the GraphiQL page.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from graphql import ExecutionResult, GraphQLError, OperationType

from gateway.app_keys import REQUEST_ID
from gateway.auth import bearer_token, principal_for_token
from gateway.db import start_counting
from gateway.executor import Executor, RequestError, anonymous_allowed, needs_permission
from gateway.graphiql import graphiql_response, wants_graphiql
from gateway.state import AppState, state_of
from resolvers.context import Context

log = logging.getLogger(__name__)

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
STATEMENTS_HEADER = "X-SQL-Statements"


@dataclass
class GraphQLRequest:
    query: str
    variables: dict[str, Any] | None
    operation_name: str | None
    extensions: dict[str, Any] | None


class HTTPProblem(Exception):
    """A request that fails before GraphQL runs, with the status code the specification asks for."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.headers = headers or {}


def reply_media_type(request: web.Request) -> str:
    """The media type of the reply, from the client's `Accept` header."""
    accept = request.headers.get("Accept", "")
    if not accept:
        return JSON
    best, best_q = JSON, -1.0
    for part in accept.split(","):
        pieces = [p.strip() for p in part.split(";")]
        media, q = pieces[0].lower(), 1.0
        for param in pieces[1:]:
            if param.startswith("q="):
                try:
                    q = float(param[2:])
                except ValueError:
                    q = 0.0
        if media == GRAPHQL_RESPONSE and q > best_q:
            best, best_q = GRAPHQL_RESPONSE, q
        elif media in (JSON, "application/*", "*/*") and q > best_q:
            best, best_q = JSON, q
    return best


def _parse_params(raw: Any) -> GraphQLRequest:
    if not isinstance(raw, dict):
        raise HTTPProblem(400, "The request body must be a JSON object")
    query = raw.get("query")
    variables = raw.get("variables")
    operation_name = raw.get("operationName")
    extensions = raw.get("extensions")
    if query is not None and not isinstance(query, str):
        raise HTTPProblem(400, "`query` must be a string")
    if variables is not None and not isinstance(variables, dict):
        raise HTTPProblem(400, "`variables` must be an object")
    if operation_name is not None and not isinstance(operation_name, str):
        raise HTTPProblem(400, "`operationName` must be a string")
    if extensions is not None and not isinstance(extensions, dict):
        raise HTTPProblem(400, "`extensions` must be an object")
    if not query:
        raise HTTPProblem(400, "`query` is missing")
    return GraphQLRequest(query, variables, operation_name, extensions)


def _json_param(request: web.Request, name: str) -> Any:
    value = request.query.get(name)
    if value is None or value == "":
        return None
    try:
        return json.loads(value)
    except ValueError:
        raise HTTPProblem(400, f"`{name}` is not valid JSON") from None


async def read_request(request: web.Request, max_body: int) -> GraphQLRequest:
    if request.method == "GET":
        return _parse_params(
            {
                "query": request.query.get("query"),
                "variables": _json_param(request, "variables"),
                "operationName": request.query.get("operationName") or None,
                "extensions": _json_param(request, "extensions"),
            }
        )
    content_type = request.content_type.lower()
    if content_type != JSON:
        raise HTTPProblem(415, "Send the request as Content-Type: application/json")
    if request.content_length is not None and request.content_length > max_body:
        raise HTTPProblem(413, f"The request body is larger than {max_body} bytes")
    body = await request.content.read(max_body + 1)
    if len(body) > max_body:
        raise HTTPProblem(413, f"The request body is larger than {max_body} bytes")
    charset = (request.charset or "utf-8").lower()
    if charset not in ("utf-8", "utf8"):
        raise HTTPProblem(415, "Only UTF-8 is accepted")
    try:
        raw = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise HTTPProblem(400, "The request body is not valid JSON") from None
    return _parse_params(raw)


def error_body(errors: list[GraphQLError]) -> dict[str, Any]:
    return {"errors": [error.formatted for error in errors]}


def _respond(
    body: dict[str, Any], status: int, media_type: str, headers: dict[str, str] | None = None
) -> web.Response:
    return web.Response(
        body=json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8"),
        status=status,
        content_type=media_type,
        charset="utf-8",
        headers=headers,
    )


async def graphql_handler(request: web.Request) -> web.StreamResponse:
    if request.method == "GET" and request.headers.get("Upgrade", "").lower() == "websocket":
        from gateway.subscriptions import serve_websocket

        return await serve_websocket(request)
    if request.method == "GET" and wants_graphiql(request) and state_of(request).settings.graphiql:
        return graphiql_response()
    media_type = reply_media_type(request)
    state = state_of(request)
    counter = start_counting()
    try:
        body, status, headers = await _serve(request, state, media_type)
    except HTTPProblem as problem:
        body, status, headers = {"errors": [{"message": str(problem)}]}, problem.status, problem.headers
    headers = {**headers, STATEMENTS_HEADER: str(counter.count)}
    return _respond(body, status, media_type, headers)


async def _serve(
    request: web.Request, state: AppState, media_type: str
) -> tuple[dict[str, Any], int, dict[str, str]]:
    params = await read_request(request, state.settings.limits.max_body_bytes)
    executor: Executor = state.executor
    try:
        operation = executor.prepare(params.query)
    except RequestError as error:
        return error_body(error.errors), 400 if media_type == GRAPHQL_RESPONSE else 200, {}
    kind = operation.kind(params.operation_name)
    if kind is None:
        message = (
            "Unknown operation name"
            if params.operation_name
            else "Give `operationName`: the document has several"
        )
        return {"errors": [{"message": message}]}, 400 if media_type == GRAPHQL_RESPONSE else 200, {}
    if request.method == "GET" and kind is not OperationType.QUERY:
        raise HTTPProblem(405, f"A {kind.value} must be sent with POST", {"Allow": "POST"})

    token = bearer_token(request.headers.get("Authorization"))
    principal = await principal_for_token(state.db, token) if token else None
    if principal is None and (token is not None or not anonymous_allowed(operation, params.operation_name)):
        raise HTTPProblem(
            401,
            "Invalid token" if token else "Authentication required: send Authorization: Bearer <token>",
            {"WWW-Authenticate": 'Bearer realm="graphql"'},
        )
    context = Context(
        db=state.db,
        principal=principal,
        limits=state.settings.limits,
        engine=state.engine,
        request_id=request.get(REQUEST_ID, ""),
    )
    try:
        result = await asyncio.wait_for(
            executor.run(operation, context, params.variables, params.operation_name),
            timeout=state.settings.limits.request_timeout,
        )
    except RequestError as error:
        return error_body(error.errors), 400 if media_type == GRAPHQL_RESPONSE else 200, {}
    except TimeoutError:
        return (
            {"errors": [{"message": "The request took too long", "extensions": {"code": "TIMEOUT"}}]},
            504,
            {},
        )
    return _result_body(result)


def _result_body(result: ExecutionResult) -> tuple[dict[str, Any], int, dict[str, str]]:
    body: dict[str, Any] = {}
    if result.errors:
        body["errors"] = [error.formatted for error in result.errors]
    body["data"] = result.data
    status = 200
    if result.errors and (result.data is None or all(v is None for v in result.data.values())):
        status = needs_permission(result.errors) or 200
    return body, status, {}
