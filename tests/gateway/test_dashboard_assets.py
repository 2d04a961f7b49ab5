"""The dashboard's page and assets: served by the gateway with the right types, caching and security headers,
its GraphQL documents valid against the schema (and runnable in trusted-documents mode), nothing fetched from
elsewhere, and its own scripts and styles under the size budget."""

from __future__ import annotations

import json
import re
import secrets
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
import pytest
from graphql import parse, validate

from gateway.db.pool import Database
from gateway.http.dashboard import (
    APP_DIR,
    UPLOT_DIR,
    UPLOT_VERSION,
    content_security_policy,
    dashboard_documents,
    import_map,
)
from resolvers.schema import schema
from tests.conftest import Server, Tenant, gateway_with, gql, new_tenant

BUDGET_BYTES = 300 * 1024
"""The page's own scripts and styles (uncompressed), the vendored library aside."""

URL_IN_CODE = re.compile(rb"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", re.IGNORECASE)


class _Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline: dict[str, str] = {}
        self._type: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        for name in ("src", "href"):
            if tag in ("script", "link") and a.get(name):
                self.urls.append(a[name] or "")
        self._type = a.get("type") if tag == "script" and not a.get("src") else None

    def handle_data(self, data: str) -> None:
        if self._type:
            self.inline[self._type] = data

    def handle_endtag(self, tag: str) -> None:
        self._type = None


def own_files() -> list[Path]:
    return sorted(p for p in APP_DIR.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


def test_own_scripts_and_styles_stay_under_the_budget() -> None:
    sizes = {p.name: p.stat().st_size for p in own_files() if p.suffix in (".js", ".css", ".html")}
    assert "app.js" in sizes and "dashboard.css" in sizes
    assert sum(sizes.values()) < BUDGET_BYTES, sizes


def test_no_own_file_names_another_host() -> None:
    for path in own_files():
        if path.suffix in (".js", ".css", ".html", ".svg"):
            # the SVG namespace is a name, not a request
            found = [m for m in URL_IN_CODE.findall(path.read_bytes()) if m != b"http://www.w3.org"]
            assert not found, f"{path.name} names another host: {found}"


def test_documents_are_valid_against_the_schema() -> None:
    documents = dashboard_documents()
    assert set(documents) == {"session", "overview", "events", "live", "exports", "web"}
    for name, text in documents.items():
        errors = validate(schema._schema, parse(text))
        assert not errors, (name, errors)


def test_vendored_uplot_is_the_documented_version() -> None:
    readme = (UPLOT_DIR / "README.md").read_text()
    assert f"| `uPlot.esm.js` | uplot | {UPLOT_VERSION} |" in readme
    assert (UPLOT_DIR / "LICENSE.uplot").read_text().startswith("The MIT License")
    assert "export { uPlot as default }" in (UPLOT_DIR / "uPlot.esm.js").read_text()


@pytest.mark.parametrize("path", ["/", "/dashboard", "/dashboard/"])
async def test_page_and_every_asset_it_loads(http: aiohttp.ClientSession, server: Server, path: str) -> None:
    async with http.get(server.url + path) as response:
        assert response.status == 200
        assert response.content_type == "text/html"
        assert response.headers["Content-Security-Policy"] == content_security_policy()
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        page = await response.text()
    refs = _Refs()
    refs.feed(page)
    # the documents ride along in the page; the import map points uplot at the vendored build
    assert json.loads(refs.inline["application/json"]) == dashboard_documents()
    assert refs.inline["importmap"] == import_map()
    uplot = json.loads(import_map())["imports"]["uplot"]
    urls = [*refs.urls, uplot]
    assert len(urls) == 5, urls
    for url in urls:
        parts = urlsplit(url)
        assert not parts.scheme and not parts.netloc, f"{url} is not served by the gateway"
        async with http.get(server.url + url) as asset:
            assert asset.status == 200, url
            assert asset.headers["X-Content-Type-Options"] == "nosniff"
            vendored = url.startswith("/dashboard/vendor/")
            assert asset.headers["Cache-Control"] == ("public, max-age=86400" if vendored else "no-cache")
            expected = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}
            assert asset.content_type == expected[Path(parts.path).suffix], url


async def test_every_module_is_served_and_unknown_paths_are_404(
    http: aiohttp.ClientSession, server: Server
) -> None:
    for path in own_files():
        if path.name == "index.html":
            continue
        name = path.relative_to(APP_DIR).as_posix()
        async with http.get(f"{server.url}/dashboard/static/{name}") as response:
            assert response.status == 200, name
            assert await response.read() == path.read_bytes()
    for bad in (
        "/dashboard/static/nope.js",
        "/dashboard/static/index.html",
        "/dashboard/static/..%2F..%2Fdashboard.py",
        "/dashboard/static/%2E%2E/graphiql.py",
        "/dashboard/vendor/uplot/../../dashboard.py",
        "/dashboard/vendor/uplot/nope.js",
    ):
        async with http.get(server.url + bad) as response:
            assert response.status == 404, bad


def test_policy_allows_the_import_map_by_its_hash_only() -> None:
    policy = content_security_policy()
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
    assert "script-src 'self' 'sha256-" in policy
    assert "connect-src 'self'" in policy and "default-src 'none'" in policy


async def test_documents_run_in_trusted_documents_mode(
    http: aiohttp.ClientSession, migrated: str, tmp_path: Path, tenant: Tenant
) -> None:
    async with gateway_with(migrated, tmp_path, trusted_documents=True) as gateway:
        body = {"query": dashboard_documents()["session"], "operationName": "Products", "variables": {}}
        headers = {"Authorization": f"Bearer {tenant.token}"}
        async with http.post(gateway.url + "/graphql", json=body, headers=headers) as response:
            reply = await response.json()
            assert response.status == 200, reply
            assert reply["data"]["products"]["nodes"][0]["id"] == tenant.product_id
        body["query"] += " "
        async with http.post(gateway.url + "/graphql", json=body, headers=headers) as response:
            assert response.status == 403


async def test_the_product_list_pages_through_every_product_with_a_narrowed_token(
    http: aiohttp.ClientSession, server: Server, db: Database
) -> None:
    """An account with more products than one page: the dashboard's `Products` document, followed by its
    `endCursor` as app.js does, names each product once; a token that may only read products and their stats
    (GoatCounter's site-read and stats bits) is enough to use it."""
    tenant = await new_tenant(db)
    for n in range(104):
        await db.execute(
            "INSERT INTO products (account_id, name, app_key) VALUES ($1, $2, $3)",
            tenant.account_pk,
            f"product {n}",
            secrets.token_hex(20),
        )
    narrowed = await gql(
        http,
        server,
        'mutation { createToken(name: "stats", permissions: [READ_PRODUCTS, STATS]) { secret } }',
        token=tenant.token,
    )
    token = narrowed.data["createToken"]["secret"]
    seen: list[str] = []
    after = None
    for _ in range(5):
        body = {
            "query": dashboard_documents()["session"],
            "operationName": "Products",
            "variables": {"after": after},
        }
        async with http.post(
            server.url + "/graphql", json=body, headers={"Authorization": f"Bearer {token}"}
        ) as response:
            reply = await response.json()
        assert response.status == 200 and "errors" not in reply, reply
        page = reply["data"]["products"]
        seen += [node["id"] for node in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == 105
    assert tenant.product_id in seen
