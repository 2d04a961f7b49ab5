"""Running a GraphQL operation inside the process, for the REST shims.

A shim authenticates its caller the vendor's way, then runs its operation documents here, on the same schema,
executor, limits and error masking as `/graphql`. The operations of one HTTP request share one context, as the
fields of one GraphQL document do: an `/o` read names its product once to be authorised and again to be read,
and the second operation finds the product in the first one's loaders instead of asking PostgreSQL again.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from aiohttp import web
from graphql import ExecutionResult

from gateway.access.principal import Principal
from gateway.http.request_keys import REQUEST_ID
from gateway.state import state_of
from resolvers.context import Context

SHIM_CONTEXT = web.RequestKey("shim_context", Context)


async def run_operation(
    request: web.Request,
    principal: Principal | None,
    document: str,
    variables: dict[str, Any] | None = None,
    operation_name: str | None = None,
    raw_json: bool = False,
    max_page_size: int | None = None,
) -> ExecutionResult:
    """Execute `document` as `principal`; request errors raise `gateway.execution.executor.RequestError`.

    `raw_json`: values PostgreSQL wrote as JSON may come back as their text (`gateway.execution.fast_path.RawJson`)
    instead of objects, for a shim that writes them into its reply as they are.
    `max_page_size`: a larger page size than `/graphql` allows, for a dialect whose clients page by the vendor's
    documented sizes (FollowAnalytics: up to 10,000 items); every other limit stays as configured.
    """
    state = state_of(request)
    # taken off the request while an operation runs on it: operations run at the same time (none do yet) would
    # share its per-run state, so each of them gets a context of its own
    context = request.pop(SHIM_CONTEXT, None)
    if context is None or context.principal != principal:
        context = Context(
            db=state.db,
            principal=principal,
            limits=state.settings.limits,
            engine=state.engine,
            request_id=request.get(REQUEST_ID, ""),
            mail=state.settings.smtp_url is not None,
        )
    # loaders whose results depend on it are kept apart by it (`resolvers.pagination.Listing._pages`)
    context.raw_json = raw_json
    limits = state.settings.limits
    if max_page_size is not None and max_page_size > limits.max_page_size:
        limits = replace(limits, max_page_size=max_page_size)
    context.limits = limits
    operation = state.executor.prepare(document)
    try:
        return await state.executor.run(operation, context, variables, operation_name)
    finally:
        request[SHIM_CONTEXT] = context
