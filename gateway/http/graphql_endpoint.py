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
from datetime import UTC, datetime
from typing import Any

import orjson
from aiohttp import web
from graphql import ExecutionResult, GraphQLError, OperationType

from gateway.access.budget import Budget, authenticate_and_charge
from gateway.access.principal import Principal
from gateway.access.tokens import bearer_token, principal_for_token
from gateway.db.outage import RETRY_AFTER_SECONDS
from gateway.db.pool import start_counting
from gateway.execution.cost import cost_points, estimate_nodes, too_large_message
from gateway.execution.executor import (
    LARGE_DOCUMENT,
    DocumentsBusy,
    Executor,
    RequestError,
    anonymous_allowed,
    needs_permission,
)
from gateway.execution.fast_path import RawJson
from gateway.execution.persisted import sha256_hex
from gateway.http.cors import cors_headers, preflight
from gateway.http.error_shapes import ErrorShape
from gateway.http.graphiql import graphiql_response, wants_graphiql
from gateway.http.request_keys import ERROR_CODES, OPERATION, REQUEST_ID, STATEMENTS
from gateway.input_values import BadInput, loads
from gateway.observability.metrics import error_codes
from gateway.state import AppState, state_of
from resolvers.context import Context

log = logging.getLogger(__name__)

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
STATEMENTS_HEADER = "X-SQL-Statements"


@dataclass
class GraphQLRequest:
    query: str | None
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
    if not query and not (extensions and "persistedQuery" in extensions):
        raise HTTPProblem(400, "`query` is missing")
    return GraphQLRequest(query or None, variables, operation_name, extensions)


def _json_param(request: web.Request, name: str) -> Any:
    value = request.query.get(name)
    if value is None or value == "":
        return None
    try:
        return loads(value)
    except BadInput as error:
        raise HTTPProblem(400, f"`{name}` is {error}") from None


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
    charset = (request.charset or "utf-8").lower()
    if charset not in ("utf-8", "utf8"):
        raise HTTPProblem(415, "Only UTF-8 is accepted")
    body = await read_body(request, max_body)
    try:
        raw = loads(body)
    except BadInput as error:
        raise HTTPProblem(400, f"The request body is {error}") from None
    return _parse_params(raw)


async def read_body(request: web.Request, max_body: int) -> bytes:
    """The whole body (however it arrives: one chunk, many, or chunked encoding); 413 beyond `max_body` bytes."""
    too_large = HTTPProblem(413, f"The request body is larger than {max_body} bytes")
    if request.content_length is not None and request.content_length > max_body:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = await request.content.read(65536)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > max_body:
            raise too_large
        chunks.append(chunk)


def error_body(errors: list[GraphQLError]) -> dict[str, Any]:
    return {"errors": [error.formatted for error in errors]}


def _respond(
    body: dict[str, Any], status: int, media_type: str, headers: dict[str, str] | None = None
) -> web.Response:
    return web.Response(
        body=encode_json(body), status=status, content_type=media_type, charset="utf-8", headers=headers
    )


def encode_json(body: Any) -> bytes:
    """UTF-8 JSON; orjson is several times faster than the standard library on large results.

    Values the executor left as JSON text (`RawJson`, see `Context.raw_json`) are written out as they are.
    """
    try:
        return orjson.dumps(body, default=_json_fragment)
    except (orjson.JSONEncodeError, TypeError):  # e.g. integers beyond 64 bits in a JSON scalar
        text = json.dumps(body, separators=(",", ":"), ensure_ascii=False, default=_json_value)
        return text.encode("utf-8")


def _json_fragment(value: Any) -> orjson.Fragment:
    if type(value) is RawJson:
        return orjson.Fragment(value.text)
    raise TypeError(f"Type is not JSON serializable: {type(value).__name__}")


def _json_value(value: Any) -> Any:
    if type(value) is RawJson:
        return json.loads(value.text)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


async def graphql_handler(request: web.Request) -> web.StreamResponse:
    if request.method == "GET" and request.headers.get("Upgrade", "").lower() == "websocket":
        from gateway.http.graphql_ws import serve_websocket

        return await serve_websocket(request)
    if request.method == "GET" and wants_graphiql(request) and state_of(request).settings.graphiql:
        return graphiql_response()
    media_type = reply_media_type(request)
    state = state_of(request)
    counter = request.get(STATEMENTS) or start_counting()
    try:
        body, status, headers = await _serve(request, state, media_type)
    except HTTPProblem as problem:
        body, status, headers = {"errors": [{"message": str(problem)}]}, problem.status, problem.headers
    headers = {
        **headers,
        STATEMENTS_HEADER: str(counter.count),
        **cors_headers(request, state.settings.cors_origins),
    }
    return _respond(body, status, media_type, headers)


async def graphql_preflight(request: web.Request) -> web.Response:
    """`OPTIONS /graphql`: what a browser asks before a cross-origin POST with a token."""
    return preflight(request, state_of(request).settings.cors_origins)


async def _serve(
    request: web.Request, state: AppState, media_type: str
) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Run one request. The token is checked before anything a stranger could make costly: without one, the
    document is only parsed (if it is at most LARGE_DOCUMENT characters) until it is known to be a `login`."""
    request_error = 400 if media_type == GRAPHQL_RESPONSE else 200
    params = await read_request(request, state.settings.limits.max_body_bytes)
    token = bearer_token(request.headers.get("Authorization"))
    sender = await principal_for_token(state.db, token) if token is not None else None
    if token is not None and sender is None:
        raise _unauthenticated(token)
    account_id = sender.account_id if sender is not None else None
    query = await _resolve_document(state, params, account_id)
    if query is None:
        return _problem("PersistedQueryNotFound", "PERSISTED_QUERY_NOT_FOUND"), 200, {}
    executor: Executor = state.executor
    try:
        # a stranger's document is parsed on the event loop only while it is small (a `login` is)
        if token is None and (
            len(query) > LARGE_DOCUMENT or not anonymous_allowed(executor.parse(query), params.operation_name)
        ):
            raise _unauthenticated(token)
        operation = await executor.prepare_async(query)
    except RequestError as error:
        return error_body(error.errors), request_error, {}
    except DocumentsBusy as busy:
        raise HTTPProblem(503, str(busy), {"Retry-After": "1"}) from None
    definition = operation.definition(params.operation_name)
    if definition is None:
        message = (
            "Unknown operation name"
            if params.operation_name
            else "Give `operationName`: the document has several"
        )
        return {"errors": [{"message": message}]}, request_error, {}
    request[OPERATION] = definition.name.value if definition.name else "anonymous"
    kind = definition.operation
    if kind is OperationType.SUBSCRIPTION:
        message = "Subscriptions run over a websocket on /graphql (subprotocol graphql-transport-ws)"
        return _problem(message, "SUBSCRIPTION_NEEDS_WEBSOCKET"), request_error, {}
    if request.method == "GET" and kind is not OperationType.QUERY:
        raise HTTPProblem(405, f"A {kind.value} must be sent with POST", {"Allow": "POST"})
    if account_id is not None and params.query is not None and params.extensions:
        # an automatic persisted query is remembered once its sender is known and the document valid
        await _remember_persisted(state, params, account_id)

    limits = state.settings.limits
    nodes = estimate_nodes(
        executor.schema, definition, operation.fragments, params.variables, limits.max_page_size
    )
    if nodes > limits.max_nodes:
        return _problem(too_large_message(nodes, limits.max_nodes), "QUERY_TOO_LARGE"), request_error, {}

    principal: Principal | None = None
    budget: Budget | None = None
    if token is not None:
        charged = await authenticate_and_charge(
            state.db, token, cost_points(nodes), limits.cost_budget_per_hour
        )
        if charged is None:  # revoked since it was remembered
            raise _unauthenticated(token)
        principal, budget = charged
    budget_headers = budget.headers() if budget else {}
    if budget is not None and budget.exceeded:
        message = budget.exceeded_message()
        retry = {"Retry-After": str(max(1, int((budget.reset_at - datetime.now(UTC)).total_seconds())))}
        return _problem(message, "RATE_LIMITED"), 429, {**budget_headers, **retry}
    context = Context(
        db=state.db,
        principal=principal,
        limits=limits,
        engine=state.engine,
        request_id=request.get(REQUEST_ID, ""),
        budget=budget,
        raw_json=True,  # the reply is written by encode_json
        mail=state.settings.smtp_url is not None,
    )
    try:
        result = await asyncio.wait_for(
            executor.run(operation, context, params.variables, params.operation_name),
            timeout=limits.request_timeout,
        )
    except RequestError as error:
        return error_body(error.errors), request_error, budget_headers
    except TimeoutError:
        return _problem("The request took too long", "TIMEOUT"), 504, budget_headers
    request[ERROR_CODES] = error_codes(result.errors)
    body, status, headers = _result_body(result)
    return body, status, {**headers, **budget_headers}


def _unauthenticated(token: str | None) -> HTTPProblem:
    return HTTPProblem(
        401,
        "Invalid token" if token else "Authentication required: send Authorization: Bearer <token>",
        {"WWW-Authenticate": 'Bearer realm="graphql"'},
    )


def _problem(message: str, code: str) -> dict[str, Any]:
    return {"errors": [{"message": message, "extensions": {"code": code}}]}


async def _resolve_document(state: AppState, params: GraphQLRequest, account_id: int | None) -> str | None:
    """The document to run: the query itself, or the persisted one its hash names, registered or remembered for
    the sender's account (None: not found).

    Only looks documents up: a new automatic persisted query is remembered later (`_remember_persisted`), once
    its sender is authenticated and the document is valid, so that strangers cannot fill the table.
    """
    persisted = (params.extensions or {}).get("persistedQuery")
    if persisted is None:
        if state.settings.trusted_documents:
            found = await state.persisted.lookup(sha256_hex(params.query or ""))
            if found is None or not found[1]:
                raise HTTPProblem(403, "Only registered (trusted) documents may run on this gateway")
        return params.query
    sha256 = _persisted_hash(persisted)
    if params.query is None:
        found = await state.persisted.lookup(sha256, account_id)
        if found is None:
            return None
        if state.settings.trusted_documents and not found[1]:
            raise HTTPProblem(403, "Only registered (trusted) documents may run on this gateway")
        return found[0]
    if sha256_hex(params.query) != sha256:
        raise HTTPProblem(400, "provided sha does not match query")
    if state.settings.trusted_documents:
        found = await state.persisted.lookup(sha256)
        if found is None or not found[1]:
            raise HTTPProblem(403, "Only registered (trusted) documents may run on this gateway")
    return params.query


def _persisted_hash(persisted: Any) -> str:
    if not isinstance(persisted, dict) or persisted.get("version") != 1:
        raise HTTPProblem(400, "Unsupported persistedQuery version: use 1")
    sha256 = persisted.get("sha256Hash")
    if not isinstance(sha256, str) or len(sha256) != 64:
        raise HTTPProblem(400, "persistedQuery.sha256Hash must be a SHA-256 hex digest")
    return sha256.lower()


async def _remember_persisted(state: AppState, params: GraphQLRequest, account_id: int) -> None:
    """Remember an automatic persisted query sent with its text, for the sender's account (in trusted mode only
    registered ones run)."""
    persisted = (params.extensions or {}).get("persistedQuery")
    if persisted is None or state.settings.trusted_documents or params.query is None:
        return
    await state.persisted.remember(_persisted_hash(persisted), params.query, account_id)


def _result_body(result: ExecutionResult) -> tuple[dict[str, Any], int, dict[str, str]]:
    body: dict[str, Any] = {}
    if result.errors:
        body["errors"] = [error.formatted for error in result.errors]
    body["data"] = result.data
    status = 200
    if result.errors and (result.data is None or all(v is None for v in result.data.values())):
        status = needs_permission(result.errors) or 200
    return body, status, {"Retry-After": str(RETRY_AFTER_SECONDS)} if status == 503 else {}


def _graphql_error(request: web.Request, status: int, message: str) -> web.StreamResponse:
    """An error of `/graphql` that no handler answered (an outage, an internal error), in GraphQL's shape."""
    codes = {503: "SERVICE_UNAVAILABLE", 500: "INTERNAL_SERVER_ERROR", 413: "PAYLOAD_TOO_LARGE"}
    extensions: dict[str, Any] = {"code": codes.get(status, "BAD_REQUEST")}
    if status == 500:
        extensions["errorId"] = request.get(REQUEST_ID, "")
    body = {"errors": [{"message": message, "extensions": extensions}]}
    return _respond(
        body,
        status,
        reply_media_type(request),
        cors_headers(request, state_of(request).settings.cors_origins),
    )


GRAPHQL_SHAPE = ErrorShape("graphql", _graphql_error)
