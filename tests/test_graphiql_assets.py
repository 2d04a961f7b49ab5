"""The GraphiQL page's assets are vendored, served with the right types and caching, and free of CDN hosts."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer, make_mocked_request

from gateway.http.graphiql import (
    STATIC_DIR,
    add_graphiql_routes,
    graphiql_html,
    graphiql_response,
    wants_graphiql,
)

CDN_HOSTS = re.compile(rb"unpkg\.com|jsdelivr|cdnjs", re.IGNORECASE)
PREFIX = "/graphiql/static"


class _AssetRefs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[str] = []
        self.stylesheets: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "script" and a.get("src"):
            self.scripts.append(a["src"] or "")
        elif tag == "link" and a.get("rel") == "stylesheet":
            self.stylesheets.append(a.get("href") or "")


def _refs(page: str) -> _AssetRefs:
    parser = _AssetRefs()
    parser.feed(page)
    return parser


@pytest.fixture
async def client() -> AsyncIterator[TestClient[web.Request, web.Application]]:
    app = web.Application()
    add_graphiql_routes(app)
    async with TestClient(TestServer(app)) as c:
        yield c


def test_page_references_the_four_local_assets() -> None:
    page = graphiql_html()
    refs = _refs(page)
    names = [urlsplit(u).path.rsplit("/", 1)[-1] for u in refs.scripts + refs.stylesheets]
    assert names == [
        "react.production.min.js",
        "react-dom.production.min.js",
        "graphiql.min.js",
        "graphiql.min.css",
    ]
    for url in refs.scripts + refs.stylesheets:
        parts = urlsplit(url)
        assert not parts.scheme and not parts.netloc, f"{url} is not served by the gateway"
        assert parts.path.startswith(PREFIX + "/")
    assert "<title>Analytics gateway \u2013 GraphiQL</title>" in page
    assert '"endpoint": "/graphql"' in page
    assert "shouldPersistHeaders: true" in page and "isHeadersEditorEnabled: true" in page
    assert not CDN_HOSTS.search(page.encode())


def test_page_follows_endpoint_and_prefix() -> None:
    page = graphiql_html(endpoint="/api/graphql", static_prefix="/assets/gq/")
    refs = _refs(page)
    assert all(u.startswith("/assets/gq/") for u in refs.scripts + refs.stylesheets)
    assert '"endpoint": "/api/graphql"' in page


def test_page_escapes_config_for_inline_script() -> None:
    page = graphiql_html(endpoint="/x</script><script>alert(1)</script>")
    assert "</script><script>alert(1)" not in page


async def test_every_referenced_asset_is_served(client: TestClient[web.Request, web.Application]) -> None:
    refs = _refs(graphiql_html())
    expected: list[tuple[str, tuple[str, ...]]] = [
        (u, ("application/javascript", "text/javascript")) for u in refs.scripts
    ]
    expected += [(u, ("text/css",)) for u in refs.stylesheets]
    for url, types in expected:
        name = urlsplit(url).path.rsplit("/", 1)[-1]
        assert (STATIC_DIR / name).is_file(), f"{name} is not vendored in {STATIC_DIR}"
        resp = await client.get(url)
        assert resp.status == 200, url
        assert resp.content_type in types, f"{url}: {resp.content_type}"
        assert resp.headers["Cache-Control"] == "public, max-age=86400"
        body = await resp.read()
        assert body == (STATIC_DIR / name).read_bytes()
        assert not CDN_HOSTS.search(body), f"{name} mentions a CDN host"


async def test_no_served_file_mentions_a_cdn(client: TestClient[web.Request, web.Application]) -> None:
    files = sorted(p for p in STATIC_DIR.iterdir() if p.is_file())
    assert len(files) >= 4
    for path in files:
        resp = await client.get(f"{PREFIX}/{path.name}")
        assert resp.status == 200, path.name
        assert not CDN_HOSTS.search(await resp.read()), f"{path.name} mentions a CDN host"


async def test_unknown_and_traversal_paths_are_404(client: TestClient[web.Request, web.Application]) -> None:
    for path in (f"{PREFIX}/nope.js", f"{PREFIX}/..%2Fgraphiql.py", f"{PREFIX}/%2E%2E/__init__.py"):
        resp = await client.get(path)
        assert resp.status == 404, path


def test_no_file_in_gateway_mentions_a_cdn() -> None:
    gateway_dir = STATIC_DIR.parents[1]
    for path in gateway_dir.rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts:
            assert not CDN_HOSTS.search(path.read_bytes()), f"{path} mentions a CDN host"


@pytest.mark.parametrize(
    ("method", "path", "accept", "expected"),
    [
        ("GET", "/graphql", "text/html,application/xhtml+xml,*/*;q=0.8", True),
        ("GET", "/graphql", "application/json", False),
        ("GET", "/graphql", "", False),
        ("GET", "/graphql?query=%7Bhello%7D", "text/html", False),
        ("POST", "/graphql", "text/html", False),
    ],
)
def test_wants_graphiql(method: str, path: str, accept: str, expected: bool) -> None:
    request = make_mocked_request(method, path, headers={"Accept": accept} if accept else {})
    assert wants_graphiql(request) is expected


def test_graphiql_response_is_utf8_html() -> None:
    resp = graphiql_response()
    assert resp.content_type == "text/html"
    assert resp.charset == "utf-8"
    assert resp.text is not None and "graphiql.min.js" in resp.text
