"""GraphiQL really renders in a headless Chromium with every asset served by the gateway, no CDN.

A tiny aiohttp app uses the gateway's GraphiQL routes and answers POST /graphql with a real Strawberry schema,
so GraphiQL's introspection works. Chromium resolves every host but 127.0.0.1 to "not found", so the page
can only render if nothing it needs comes from the internet. Skipped only when no Chromium binary exists
(Debian: ``apt-get install -y chromium``).
"""

from __future__ import annotations

import asyncio
import re
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import strawberry
from aiohttp import web

from gateway.http.graphiql import add_graphiql_routes, graphiql_html, graphiql_response, wants_graphiql
from tests.chromium import CHROMIUM, FLAGS

TOKEN = "test-token-123"


pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no chromium binary (install it: apt-get install -y chromium)"
)


@strawberry.type
class Query:
    @strawberry.field
    def hello(self) -> str:
        return "world"


SCHEMA = strawberry.Schema(query=Query)


@dataclass
class Server:
    base: str
    posts: list[dict[str, Any]] = field(default_factory=list)


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    posts: list[dict[str, Any]] = []

    async def graphql_get(request: web.Request) -> web.StreamResponse:
        if wants_graphiql(request):
            return graphiql_response()
        raise web.HTTPBadRequest(text="GET without text/html is not part of this test")

    async def graphql_post(request: web.Request) -> web.Response:
        body = await request.json()
        posts.append({"authorization": request.headers.get("Authorization"), **body})
        result = await SCHEMA.execute(
            body["query"],
            variable_values=body.get("variables"),
            operation_name=body.get("operationName"),
        )
        payload: dict[str, Any] = {"data": result.data}
        if result.errors:
            payload["errors"] = [e.formatted for e in result.errors]
        return web.json_response(payload)

    async def with_token(request: web.Request) -> web.Response:
        # The page with a real token, a `{ hello }` query, and a click on GraphiQL's run button once loaded.
        page = graphiql_html(default_headers=f'{{"Authorization": "Bearer {TOKEN}"}}')
        props = 'defaultEditorToolsVisibility: "headers"'
        assert props in page
        page = page.replace(props, props + ', defaultQuery: "{ hello }"')
        click = "document.querySelector('.graphiql-execute-button').click()"
        page = page.replace(
            "</body>", f"<script>setTimeout(function () {{ {click}; }}, 1500);</script></body>"
        )
        return web.Response(text=page, content_type="text/html")

    app = web.Application()
    add_graphiql_routes(app)
    app.router.add_get("/graphql", graphql_get)
    app.router.add_post("/graphql", graphql_post)
    app.router.add_get("/with-token", with_token)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield Server(base=f"http://127.0.0.1:{port}", posts=posts)
    finally:
        await runner.cleanup()


async def _chromium_run(url: str, *extra: str) -> str:
    """Run headless Chromium on ``url``; returns its stdout (the DOM with ``--dump-dom``)."""
    assert CHROMIUM is not None
    with tempfile.TemporaryDirectory(prefix="graphiql-chromium-") as profile:
        proc = await asyncio.create_subprocess_exec(
            CHROMIUM,
            *FLAGS,
            f"--user-data-dir={profile}",
            "--virtual-time-budget=15000",
            *extra,
            url,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            stdout, stderr = await asyncio.wait_for(proc.communicate(), timeout=40)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            pytest.fail(f"chromium did not finish within 40 s on {url}")
    assert proc.returncode == 0, stderr.decode(errors="replace")[-2000:]
    return stdout.decode(errors="replace")


def _text(dom: str) -> str:
    """The DOM's rendered text (no scripts or styles, no tags, < > & unescaped) to match editor content."""
    text = re.sub(r"<(script|style)\b.*?</\1>", "", dom, flags=re.DOTALL | re.IGNORECASE)
    text = re.sub(r"<[^>]+>", "", text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").replace("\xa0", " ")


async def test_graphiql_renders_and_explains_the_placeholder_token(server: Server) -> None:
    dom = await _chromium_run(f"{server.base}/graphql", "--dump-dom", "--blink-settings=imagesEnabled=false")
    assert "graphiql-container" in dom, dom[:2000]
    assert "graphiql-editor" in dom and "CodeMirror" in dom, "GraphiQL's editors did not render"
    assert 'id="graphiql-boot-error"' not in dom
    text = _text(dom)
    assert "Analytics gateway \u2013 GraphiQL" in text
    # The Headers pane shows the placeholder, and the response pane explains it instead of staying blank.
    assert "<paste the token printed by bootstrap>" in text
    assert "still holds the placeholder" in text, "no readable error for the placeholder token"
    # The placeholder is never sent to the server.
    assert server.posts == []


async def test_graphiql_introspects_and_runs_queries_with_the_headers_pane(server: Server) -> None:
    dom = await _chromium_run(f"{server.base}/with-token", "--dump-dom")
    assert "graphiql-container" in dom and "graphiql-editor" in dom, dom[:2000]
    introspections = [p for p in server.posts if p.get("operationName") == "IntrospectionQuery"]
    assert introspections, f"GraphiQL never introspected the schema; posts: {server.posts}"
    assert introspections[0]["authorization"] == f"Bearer {TOKEN}"
    queries = [p for p in server.posts if p.get("operationName") != "IntrospectionQuery"]
    assert [(q["query"].strip(), q["authorization"]) for q in queries] == [("{ hello }", f"Bearer {TOKEN}")]
    text = _text(dom)
    assert '"hello": "world"' in text, "the query's result is not in the response pane"
    assert "still holds the placeholder" not in text
