"""Operations a shim runs in one HTTP request (`gateway.execution.inprocess.run_operation`) share one context."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from gateway.access.tokens import principal_for_token
from gateway.app import create_app
from gateway.config import Settings
from gateway.db.pool import Database, start_counting
from gateway.execution.inprocess import run_operation
from gateway.state import state_of
from tests.conftest import Tenant

PRODUCT = "query ($id: ID!) { node(id: $id) { ... on Product { id timezone } } }"


async def _two_operations(request: web.Request) -> web.Response:
    """Runs the same operation twice, one after the other or (`?together=1`) at the same time."""
    principal = await principal_for_token(state_of(request).db, request.query["token"])
    variables = {"id": request.query["product"]}
    counted = start_counting()
    if request.query.get("together"):
        results = await asyncio.gather(
            run_operation(request, principal, PRODUCT, variables),
            run_operation(request, principal, PRODUCT, variables),
        )
    else:
        results = [await run_operation(request, principal, PRODUCT, variables) for _ in range(2)]
    return web.json_response({"data": [r.data for r in results], "statements": counted.count})


@pytest.fixture
async def url(migrated: str, tmp_path: Path) -> AsyncIterator[str]:
    app = create_app(Settings(data_dir=tmp_path, database_url=migrated), migrated)
    app.router.add_get("/test/two-operations", _two_operations)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}/test/two-operations"
    await runner.cleanup()


async def test_operations_of_one_request_share_loaders_unless_run_together(
    url: str, tenant: Tenant, db: Database, http: aiohttp.ClientSession
) -> None:
    await principal_for_token(db, tenant.token)  # remembered: the handler's lookup sends no statement
    params = {"token": tenant.token, "product": tenant.product_id}
    expected = {"node": {"id": tenant.product_id, "timezone": "UTC"}}
    async with http.get(url, params=params) as reply:
        one_after_the_other = await reply.json()
    assert one_after_the_other == {"data": [expected, expected], "statements": 1}
    async with http.get(url, params={**params, "together": "1"}) as reply:
        together = await reply.json()
    assert together == {"data": [expected, expected], "statements": 2}
