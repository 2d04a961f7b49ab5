"""GraphiQL as the gateway serves it: renders in headless Chromium with no network, and runs a real query."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aiohttp import web

from gateway.app import create_app
from gateway.config import Settings
from gateway.http.graphiql import graphiql_html
from tests.conftest import Tenant
from tests.test_graphiql_browser import CHROMIUM, _chromium_run, _text

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium binary (make test installs Debian's)")

QUERY = "{ account { name products { totalCount } } }"


async def test_graphiql_runs_a_query_on_the_real_graph(migrated: str, tmp_path: Path, tenant: Tenant) -> None:
    app = create_app(Settings(data_dir=tmp_path, database_url=migrated), migrated)

    async def page_with_token(_request: web.Request) -> web.Response:
        # the page a person gets, with the token already in the Headers pane, a query, and a click on "run"
        page = graphiql_html(default_headers=json.dumps({"Authorization": f"Bearer {tenant.token}"}))
        props = 'defaultEditorToolsVisibility: "headers"'
        page = page.replace(props, props + f", defaultQuery: {json.dumps(QUERY)}")
        click = "document.querySelector('.graphiql-execute-button').click()"
        page = page.replace(
            "</body>", f"<script>setTimeout(function () {{ {click}; }}, 1500);</script></body>"
        )
        return web.Response(text=page, content_type="text/html")

    app.router.add_get("/graphiql-with-token", page_with_token)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        plain = await _chromium_run(f"{base}/graphql", "--dump-dom")
        assert "graphiql-container" in plain and "graphiql-editor" in plain, plain[:2000]
        ran = _text(await _chromium_run(f"{base}/graphiql-with-token", "--dump-dom"))
    finally:
        await runner.cleanup()
    account = await _account_name(migrated, tenant)
    assert f'"name": "{account}"' in ran, ran[-3000:]
    assert '"totalCount": 1' in ran


async def _account_name(url: str, tenant: Tenant) -> str:
    from gateway.db.pool import Database

    db = await Database.connect(url, min_size=1, max_size=1)
    try:
        return str(await db.fetchval("SELECT name FROM accounts WHERE id = $1", tenant.account_pk))
    finally:
        await db.close()
