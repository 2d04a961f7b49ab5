"""GraphQL over websockets on `/graphql`: the graphql-transport-ws protocol of the `graphql-ws` library.

One socket carries one connection: the client sends `connection_init` (with its token) within
`INIT_TIMEOUT` seconds and gets `connection_ack`; then any number of operations, each `subscribe` with a
client-chosen id, answered by `next` messages and a final `complete` (or one `error`). The client stops an
operation with `complete`; `ping` is answered with `pong` at any time. Breaches of the protocol close the
socket with the protocol's codes:

* 4400 an invalid message (not JSON, unknown type, a field of the wrong type, a binary frame);
* 4401 `subscribe` before the connection was acknowledged;
* 4403 `connection_init` without a valid token (the token comes in the payload as
  `{"Authorization": "Bearer <token>"}`, `{"authorization": ...}` or `{"token": ...}`, or else in the
  `Authorization` header of the upgrade request);
* 4406 the client did not offer the `graphql-transport-ws` subprotocol;
* 4408 no `connection_init` in time; 4409 an operation id already running; 4429 a second `connection_init`;
* 1011 a fault of the gateway's (logged; the close says only "Internal error").

Subscriptions run with graphql-core's `subscribe()`, queries and mutations with the executor, on the same
validated documents and with the same error masking as `/graphql` over HTTP. Every operation meets the limits
of an HTTP request before it runs: its estimated node count (`QUERY_TOO_LARGE`), then the token, looked up
again (a token revoked since `connection_init` closes the socket with 4403), and the token's hourly budget,
charged as over HTTP (`RATE_LIMITED`); a subscription is charged once, when it starts, for one event's
selection.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable
from typing import Any, cast

from aiohttp import WSCloseCode, WSMsgType, web
from graphql import ExecutionResult, GraphQLError, OperationDefinitionNode, OperationType, subscribe

from gateway.access.budget import Budget, authenticate_and_charge
from gateway.access.principal import Principal
from gateway.access.tokens import bearer_token, principal_for_token
from gateway.background.live_feed import LIVE_KEY
from gateway.execution.cost import cost_points, estimate_nodes, too_large_message
from gateway.execution.executor import DocumentsBusy, Operation, RequestError, mask_error
from gateway.execution.graphql_core import is_awaitable
from gateway.http.request_keys import REQUEST_ID
from gateway.input_values import BadInput, loads
from gateway.state import AppState, state_of
from resolvers.live.subscriptions import LiveContext

log = logging.getLogger(__name__)

PROTOCOL = "graphql-transport-ws"
INIT_TIMEOUT = 10.0
MAX_OPERATIONS = 100
HEARTBEAT = 30.0


class Close(Exception):
    """End the socket with a close code of the protocol."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        # a close frame's reason is at most 123 bytes
        self.reason = reason.encode("utf-8")[:123].decode("utf-8", "ignore")


def _dumps(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False, default=str)


def _optional(payload: dict[str, Any], name: str, kind: type) -> Any:
    value = payload.get(name)
    if value is not None and not isinstance(value, kind):
        raise Close(4400, f"Invalid message received: `{name}` must be a {kind.__name__}")
    return value


def _token_of(payload: dict[str, Any] | None, header: str | None) -> str | None:
    """The token of a `connection_init` payload, else of the upgrade request's `Authorization` header."""
    if payload:
        for key, value in payload.items():
            if key.lower() == "authorization" and isinstance(value, str):
                return bearer_token(value)
        token = payload.get("token")
        if isinstance(token, str) and token:
            return token
    return bearer_token(header)


class Connection:
    """One websocket speaking graphql-transport-ws."""

    def __init__(self, request: web.Request, ws: web.WebSocketResponse, state: AppState) -> None:
        self.request = request
        self.ws = ws
        self.state = state
        self.feed = request.app.get(LIVE_KEY)
        self.request_id = str(request.get(REQUEST_ID, ""))
        self.init_received = False
        self.principal: Principal | None = None
        self.token: str | None = None
        self.operations: dict[str, asyncio.Task[None]] = {}
        self._send_lock = asyncio.Lock()

    async def send(self, message: dict[str, Any]) -> None:
        if self.ws.closed:
            return
        async with self._send_lock:
            with contextlib.suppress(ConnectionError):
                await self.ws.send_str(_dumps(message))

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + INIT_TIMEOUT
        try:
            if self.ws.ws_protocol != PROTOCOL:
                raise Close(4406, "Subprotocol not acceptable")
            while not self.ws.closed:
                timeout = None if self.init_received else max(0.0, deadline - loop.time())
                try:
                    message = await self.ws.receive(timeout=timeout)
                except TimeoutError:
                    raise Close(4408, "Connection initialisation timeout") from None
                if message.type is WSMsgType.TEXT:
                    await self.handle(message.data)
                elif message.type is WSMsgType.BINARY:
                    raise Close(4400, "Invalid message received: binary frames are not used")
                else:  # CLOSE, CLOSING, CLOSED, ERROR
                    break
        except Close as close:
            await self.ws.close(code=close.code, message=close.reason.encode("utf-8"))
        except Exception:
            # a fault of the gateway's own: logged, and the socket closed as websockets close on one (1011),
            # never left to the HTTP error handling, which would write a reply into the upgraded connection
            log.exception("websocket connection failed")
            await self.ws.close(code=WSCloseCode.INTERNAL_ERROR, message=b"Internal error")
        finally:
            await self._stop_all()

    async def _stop_all(self) -> None:
        tasks = list(self.operations.values())
        self.operations.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def handle(self, data: str) -> None:
        try:
            message = loads(data)
        except BadInput:
            raise Close(4400, "Invalid message received: not JSON") from None
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            raise Close(4400, "Invalid message received: `type` is missing")
        kind = message["type"]
        if kind == "connection_init":
            await self._init(_optional(message, "payload", dict))
        elif kind in ("ping", "pong"):
            payload = _optional(message, "payload", dict)
            if kind == "ping":
                await self.send({"type": "pong"} if payload is None else {"type": "pong", "payload": payload})
        elif kind == "subscribe":
            self._subscribe(message)
        elif kind == "complete":
            task = self.operations.pop(self._id_of(message), None)
            if task is not None:
                task.cancel()
        else:
            raise Close(4400, f"Invalid message received: unexpected type {kind[:40]!r}")

    async def _init(self, payload: dict[str, Any] | None) -> None:
        if self.init_received:
            raise Close(4429, "Too many initialisation requests")
        self.init_received = True
        token = _token_of(payload, self.request.headers.get("Authorization"))
        principal = await principal_for_token(self.state.db, token) if token else None
        if principal is None:
            raise Close(4403, "Forbidden: send a valid token in the connection_init payload")
        self.principal = principal
        self.token = token
        await self.send({"type": "connection_ack"})

    @staticmethod
    def _id_of(message: dict[str, Any]) -> str:
        operation_id = message.get("id")
        if not isinstance(operation_id, str) or not operation_id:
            raise Close(4400, "Invalid message received: `id` must be a non-empty string")
        return operation_id

    def _subscribe(self, message: dict[str, Any]) -> None:
        if self.principal is None:
            raise Close(4401, "Unauthorized")
        operation_id = self._id_of(message)
        payload = message.get("payload")
        if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
            raise Close(4400, "Invalid message received: `payload.query` must be a string")
        params = (
            payload["query"],
            _optional(payload, "variables", dict),
            _optional(payload, "operationName", str),
        )
        _optional(payload, "extensions", dict)
        if operation_id in self.operations:
            raise Close(4409, f"Subscriber for {operation_id} already exists")
        task = asyncio.create_task(self._operation(operation_id, *params))
        self.operations[operation_id] = task

    async def _operation(
        self, operation_id: str, query: str, variables: dict[str, Any] | None, operation_name: str | None
    ) -> None:
        try:
            if len(self.operations) > MAX_OPERATIONS:
                message = f"At most {MAX_OPERATIONS} operations may run on one socket"
                await self._error(operation_id, [GraphQLError(message, extensions={"code": "TOO_MANY"})])
                return
            await self._execute(operation_id, query, variables, operation_name)
        except asyncio.CancelledError:
            raise  # the client completed the operation, or the socket closed: nothing more to send
        except Exception as error:
            internal = GraphQLError("Internal server error", original_error=error)
            await self._error(operation_id, [mask_error(internal, self.request_id)])
        finally:
            if self.operations.get(operation_id) is asyncio.current_task():
                del self.operations[operation_id]

    async def _execute(
        self, operation_id: str, query: str, variables: dict[str, Any] | None, operation_name: str | None
    ) -> None:
        state = self.state
        try:
            operation = await state.executor.prepare_async(query)
        except RequestError as error:
            await self._error(operation_id, error.errors)
            return
        except DocumentsBusy as busy:
            await self._error(
                operation_id, [GraphQLError(str(busy), extensions={"code": "SERVICE_UNAVAILABLE"})]
            )
            return
        definition = operation.definition(operation_name)
        if definition is None:
            text = (
                "Unknown operation name"
                if operation_name
                else "Give `operationName`: the document has several"
            )
            await self._error(operation_id, [GraphQLError(text)])
            return
        charged = await self._charge(operation_id, operation, definition, variables)
        if charged is None:
            return
        principal, budget = charged
        request_id = f"{self.request_id}:{operation_id}"[:100]
        context = LiveContext(
            db=state.db,
            principal=principal,
            limits=state.settings.limits,
            engine=state.engine,
            request_id=request_id,
            budget=budget,
            feed=self.feed,
            mail=state.settings.smtp_url is not None,
        )
        if definition.operation is not OperationType.SUBSCRIPTION:
            try:
                result = await asyncio.wait_for(
                    state.executor.run(operation, context, variables, operation_name),
                    timeout=state.settings.limits.request_timeout,
                )
            except RequestError as error:
                await self._error(operation_id, error.errors)
                return
            except TimeoutError:
                timeout = GraphQLError("The request took too long", extensions={"code": "TIMEOUT"})
                await self._error(operation_id, [timeout])
                return
            await self._next(operation_id, result, request_id)
            await self.send({"type": "complete", "id": operation_id})
            return

        started = subscribe(
            state.executor.schema,
            operation.document,
            context_value=context,
            variable_values=variables,
            operation_name=operation_name,
        )
        if is_awaitable(started):
            started = await cast("Awaitable[AsyncIterator[ExecutionResult] | ExecutionResult]", started)
        if isinstance(started, ExecutionResult):
            # the stream could not start: bad variables, no permission, a foreign or unknown product
            errors = [mask_error(error, request_id) for error in started.errors or []]
            await self._error(operation_id, errors or [GraphQLError("The subscription could not start")])
            return
        stream = cast("AsyncIterator[ExecutionResult]", started)
        try:
            async for result in stream:
                await self._next(operation_id, result, request_id)
        finally:
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:
                with contextlib.suppress(Exception):
                    await aclose()
        await self.send({"type": "complete", "id": operation_id})

    async def _charge(
        self,
        operation_id: str,
        operation: Operation,
        definition: OperationDefinitionNode,
        variables: dict[str, Any] | None,
    ) -> tuple[Principal, Budget] | None:
        """The limits an HTTP request meets (size, token, budget); the caller and its budget, or None once the
        operation was refused (an `error` message sent, or the socket closed)."""
        state, limits = self.state, self.state.settings.limits
        nodes = estimate_nodes(
            state.executor.schema, definition, operation.fragments, variables, limits.max_page_size
        )
        if nodes > limits.max_nodes:
            refusal = GraphQLError(
                too_large_message(nodes, limits.max_nodes), extensions={"code": "QUERY_TOO_LARGE"}
            )
            await self._error(operation_id, [refusal])
            return None
        charged = None
        if self.token is not None:
            charged = await authenticate_and_charge(
                state.db, self.token, cost_points(nodes), limits.cost_budget_per_hour
            )
        if charged is None:
            await self.ws.close(code=4403, message=b"Forbidden: the token is no longer valid")
            return None
        if charged[1].exceeded:
            refusal = GraphQLError(charged[1].exceeded_message(), extensions={"code": "RATE_LIMITED"})
            await self._error(operation_id, [refusal])
            return None
        return charged

    async def _next(self, operation_id: str, result: ExecutionResult, request_id: str) -> None:
        payload: dict[str, Any] = {}
        if result.errors:
            payload["errors"] = [mask_error(error, request_id).formatted for error in result.errors]
        payload["data"] = result.data
        await self.send({"type": "next", "id": operation_id, "payload": payload})

    async def _error(self, operation_id: str, errors: list[GraphQLError]) -> None:
        await self.send({"type": "error", "id": operation_id, "payload": [e.formatted for e in errors]})


async def serve_websocket(request: web.Request) -> web.StreamResponse:
    """Upgrade a `/graphql` request to a websocket and serve graphql-transport-ws on it."""
    state = state_of(request)
    ws = web.WebSocketResponse(
        protocols=(PROTOCOL,), heartbeat=HEARTBEAT, max_msg_size=state.settings.limits.max_body_bytes
    )
    await ws.prepare(request)
    await Connection(request, ws, state).run()
    return ws
