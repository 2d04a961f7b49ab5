"""The API v0's front: routing, the order of checks, authentication, permissions, the site of a request.

The real server checks, in order: a trailing slash (301), the body's type (415), the client's rate limit (429;
from here on every reply carries `X-Rate-Limit-*`), the route (404, 405; OPTIONS answers CORS), then each
handler authenticates (401, `Www-Authenticate`), checks the token's permissions (403) and reads its parameters.
Handlers run GraphQL documents (`operations/`) as the token's principal; what they reply is GoatCounter's.
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from aiohttp import web
from graphql import ExecutionResult

from adapters.goatcounter import replies
from adapters.goatcounter.operations import operation
from adapters.goatcounter.replies import ApiError
from gateway.access.client_limits import RateRule, client_limits, go_duration
from gateway.access.hosts import host_name, product_for_host
from gateway.access.principal import Permission, Principal
from gateway.access.tokens import principal_for_token
from gateway.execution.executor import RequestError
from gateway.execution.inprocess import SHIM_CONTEXT, run_operation
from gateway.http.client_ip import client_ip
from gateway.http.request_keys import REQUEST_ID
from gateway.state import state_of
from resolvers.node import from_global_id, to_global_id

log = logging.getLogger(__name__)

# GoatCounter's defaults, per client IP (GATEWAY_RATE_LIMITS changes them by name)
COUNT_RULE = RateRule("goatcounter-count", 60, 120.0)
EXPORT_RULE = RateRule("goatcounter-export", 1, 3600.0)
API_RULE = RateRule("goatcounter-api", 4, 1.0)

# GoatCounter's permission names, in the order its messages list them, and what each is here
PERMISSIONS: list[tuple[str, int, Permission]] = [
    ("count", 2, Permission.COUNT),
    ("export", 4, Permission.EXPORT),
    ("site-read", 8, Permission.READ_PRODUCTS),
    ("site-create", 16, Permission.CREATE_PRODUCTS),
    ("site-update", 32, Permission.UPDATE_PRODUCTS),
    ("stats", 64, Permission.STATS),
]


def permission_bits(principal: Principal) -> int:
    """A principal's rights as GoatCounter's permission bits (1: none)."""
    bits = sum(bit for _, bit, permission in PERMISSIONS if principal.can(permission))
    return bits or 1


def numeric_id(global_id: str) -> int:
    """The number GoatCounter shows for one of the graph's ids."""
    return from_global_id(global_id)[1]


@dataclass
class Site:
    """The site (product) a request is about."""

    id: str  # global id
    pk: int
    timezone: str


@dataclass
class ApiCall:
    """One API request being answered: its path parameters, its caller once authenticated."""

    request: web.Request
    params: dict[str, str]
    # the rate limit's and CORS headers, for replies a handler prepares itself (downloads)
    headers: dict[str, str] = field(default_factory=dict)
    principal: Principal | None = None
    _site: Site | None = field(default=None, repr=False)

    async def authorize(self, *names: str) -> Principal:
        """The caller's principal, with the GoatCounter permissions `names`; raises 401 / 403."""
        principal = await _authenticate(self.request)
        self.principal = principal
        missing = [
            name for name, _, permission in PERMISSIONS if name in names and not principal.can(permission)
        ]
        if missing:
            raise ApiError(403, "requires " + ", ".join(f"'{name}'" for name in missing) + " permissions")
        return principal

    async def run(self, name: str, variables: dict[str, Any] | None = None, changes: bool = False) -> Any:
        """The data of operation `name`, run as the caller; graph errors become GoatCounter errors. `changes`:
        the operation changes data, so the next one reads afresh (not from this request's loaders)."""
        try:
            result: ExecutionResult = await run_operation(
                self.request, self.principal, operation(name), variables
            )
        except RequestError as error:
            raise ApiError(400, str(error)) from None
        finally:
            if changes:
                self.request.pop(SHIM_CONTEXT, None)
        if result.errors:
            raise _api_error(result, self.request.get(REQUEST_ID, ""))
        return result.data or {}

    async def site(self) -> Site:
        """The site the request is about: the one its `Host` names (its site code or one of its hosts), else the
        only one the token may use; 400 when neither."""
        if self._site is not None:
            return self._site
        assert self.principal is not None, "authorize first"
        state = state_of(self.request)
        found = await product_for_host(state.db, self.request.headers.get("Host"))
        if found is not None and found.account_id == self.principal.account_id:
            if not self.principal.may_use_product(found.product_id):
                raise ApiError(403, "this token does not have access to this site")
            self._site = Site(to_global_id("Product", found.product_id), found.product_id, found.timezone)
            return self._site
        nodes = (await self.run("site_fallback"))["products"]["nodes"]
        if len(nodes) != 1:
            host = host_name(self.request.headers.get("Host"))
            raise ApiError(400, f'no site at this domain ("{host}")')
        self._site = Site(nodes[0]["id"], numeric_id(nodes[0]["id"]), nodes[0]["timezone"])
        return self._site


def _api_error(result: ExecutionResult, request_id: str) -> ApiError:
    """A graph error as the API's: the graph's message for input problems, 404 for what was not found."""
    error = (result.errors or [])[0]
    code = (error.extensions or {}).get("code")
    if code == "NOT_FOUND":
        return ApiError(404, "not found")
    if code in ("FORBIDDEN", "UNAUTHENTICATED"):
        return ApiError(403, error.message)
    if code in ("BAD_USER_INPUT", "CONFLICT"):
        return ApiError(400, error.message)
    return ApiError(500, _unexpected().format(request_id))


def _unexpected() -> str:
    return "unexpected error code ‘{}’; this has been reported for investigation"


async def _authenticate(request: web.Request) -> Principal:
    header = request.headers.get("Authorization", "")
    if not header:
        raise ApiError(401, "no Authorization header", headers=dict(replies.AUTHENTICATE))
    parts = header.split()
    wrong = ApiError(401, "wrong format for Authorization header", headers=dict(replies.AUTHENTICATE))
    if len(parts) != 2:
        raise wrong
    scheme, value = parts
    if scheme == "Bearer":
        token = value
    elif scheme == "Basic":
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8", "replace")
        except (binascii.Error, ValueError):
            raise wrong from None
        _, colon, token = decoded.partition(":")
        if not colon:
            raise ApiError(401, "unknown token", headers=dict(replies.AUTHENTICATE))
    else:
        raise wrong
    principal = await principal_for_token(state_of(request).db, token)
    if principal is None:
        raise ApiError(401, "unknown token", headers=dict(replies.AUTHENTICATE))
    return principal


# -- routing --------------------------------------------------------------------------------------------------

Handler = Callable[[ApiCall], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Route:
    pattern: tuple[str, ...]  # path segments; "{name}" matches any one
    methods: dict[str, Handler]

    def match(self, segments: list[str]) -> dict[str, str] | None:
        if len(segments) != len(self.pattern):
            return None
        found = {}
        for want, got in zip(self.pattern, segments, strict=True):
            if want.startswith("{"):
                if not got:
                    return None
                found[want[1:-1]] = got
            elif want != got:
                return None
        return found


def route(path: str, **methods: Handler) -> Route:
    return Route(tuple(path.strip("/").split("/")), {m.upper(): h for m, h in methods.items()})


def _rule(path: str) -> RateRule:
    if path == "/api/v0/count":
        return COUNT_RULE
    if path == "/api/v0/export":
        return EXPORT_RULE
    return API_RULE


def _has_body(request: web.Request) -> bool:
    return bool(request.content_length) or request.headers.get("Transfer-Encoding", "").lower() == "chunked"


def make_dispatch(routes: list[Route]) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """The handler of every `/api/v0/...` URL (see the module docstring for the order of checks)."""

    async def dispatch(request: web.Request) -> web.StreamResponse:
        path = request.path
        if path.endswith("/") and path.rstrip("/") != "/api/v0":
            return replies.redirect(path.rstrip("/"))
        if _has_body(request) and request.content_type.lower() != "application/json":
            return replies.empty(415)
        state = await client_limits(request).charge(_rule(path), client_ip(request))
        headers = (
            {**replies.cors(request), **state.headers()} if state.rule.limit > 0 else replies.cors(request)
        )
        if state.exceeded:
            headers["Retry-After"] = str(int(state.reset))
            text = f"rate limited exceeded; try again in {go_duration(state.reset)}"
            wants_json = request.headers.get("Content-Type", "").lower().startswith("application/json")
            body = f'{{"error": "{text}"}}' if wants_json else text + "\n"
            return web.Response(
                status=429,
                text=body,
                headers={**replies.NO_STORE, **headers, "Content-Type": replies.TEXT_TYPE},
            )
        segments = [unquote(segment) for segment in request.raw_path.split("?", 1)[0].strip("/").split("/")]
        for candidate in routes:
            params = candidate.match(segments)
            if params is not None:
                break
        else:
            return _with(replies.error_reply(request, ApiError(404, "not found")), headers)
        if request.method == "OPTIONS":
            return _with(replies.preflight(request), headers)
        handler = candidate.methods.get(request.method)
        if handler is None:
            return _with(replies.error_reply(request, ApiError(405, "method not allowed")), headers)
        try:
            response = await handler(ApiCall(request, params, headers))
        except ApiError as error:
            response = replies.error_reply(request, error)
        except Exception:  # noqa: BLE001 - the client learns an id, the log the details
            request_id = request.get(REQUEST_ID, "")
            log.exception("GoatCounter API request %s failed", request_id)
            message = _unexpected().format(request_id)
            response = replies.error_reply(request, ApiError(500, message))
        return _with(response, headers)

    return dispatch


def _with(response: web.StreamResponse, headers: dict[str, str]) -> web.StreamResponse:
    if not response.prepared:
        response.headers.update(headers)
    return response
