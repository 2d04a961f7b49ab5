"""The dashboard web app at `/` and `/dashboard`: a client of the public graph, served entirely by the gateway.

The app is plain ES modules and a stylesheet in ``static/dashboard/`` (no build step) and the uPlot charting
library vendored in ``static/uplot/`` (see the README there for its version and how to refresh it). It reads
and writes only through `/graphql` (HTTP and websocket) and `/exports/{id}/download`, like any other client:
whatever it needs that the graph lacks becomes a graph field, never a private endpoint.

Its GraphQL documents are ``.graphql`` files in ``static/dashboard/operations/``: the page carries them in a
JSON block (no extra request), the trusted-documents mode registers them (so the dashboard works there too),
and `make bench` sends exactly them.

The page has a strict Content-Security-Policy: scripts and styles from the gateway only (the import map is
allowed by its hash), connections to the gateway only.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
from collections.abc import Awaitable, Callable
from functools import cache
from pathlib import Path

from aiohttp import web

STATIC_DIR = Path(__file__).resolve().parent / "static"
APP_DIR = STATIC_DIR / "dashboard"
"""The app's own files: modules, stylesheet, page template, operation documents."""
UPLOT_DIR = STATIC_DIR / "uplot"
"""The vendored uPlot build."""
OPERATIONS_DIR = APP_DIR / "operations"

UPLOT_VERSION = "1.6.32"
APP_PREFIX = "/dashboard/static"
UPLOT_PREFIX = "/dashboard/vendor/uplot"
PAGES = ("/", "/dashboard", "/dashboard/")
"""Where the page is served; the app keeps its state (product, period, view) in the query string."""

VENDOR_CACHE = "public, max-age=86400"
"""The vendored files are versioned by their URL (``?v=``)."""
APP_CACHE = "no-cache"
"""The app's own files are revalidated on every load (an unchanged file is a 304), so an update shows at once."""

_CONTENT_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".graphql": "application/graphql; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
    ".svg": "image/svg+xml",
}


def _script_json(value: object) -> str:
    """JSON that is safe inside a ``<script>`` element (no ``</script>``, ``<!--`` or U+2028 tricks)."""
    text = json.dumps(value, indent=None, separators=(",", ":"))
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escape)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def dashboard_documents() -> dict[str, str]:
    """The app's GraphQL documents by file name (without `.graphql`), each sent as it is written here."""
    return {path.stem: path.read_text("utf-8") for path in sorted(OPERATIONS_DIR.glob("*.graphql"))}


def import_map() -> str:
    """The page's import map: where `import ... from "uplot"` loads the vendored build from."""
    return _script_json({"imports": {"uplot": f"{UPLOT_PREFIX}/uPlot.esm.js?v={UPLOT_VERSION}"}})


def _sha256_source(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def content_security_policy() -> str:
    """Scripts, styles and connections from the gateway only; the inline import map by its hash."""
    return "; ".join(
        (
            "default-src 'none'",
            f"script-src 'self' {_sha256_source(import_map())}",
            "style-src 'self'",
            "img-src 'self' data: blob:",
            "connect-src 'self'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        )
    )


@cache
def dashboard_html() -> str:
    """The page: the template with the import map, the documents and the asset URLs filled in."""
    template = (APP_DIR / "index.html").read_text("utf-8")
    return (
        template.replace("%IMPORT_MAP%", import_map())
        .replace("%DOCUMENTS%", _script_json(dashboard_documents()))
        .replace("%UPLOT_CSS%", html.escape(f"{UPLOT_PREFIX}/uPlot.min.css?v={UPLOT_VERSION}"))
        .replace("%APP%", APP_PREFIX)
    )


async def dashboard_page(_request: web.Request) -> web.Response:
    """The dashboard page (the same at every path of `PAGES`: the app reads its state from the URL)."""
    return web.Response(
        text=dashboard_html(),
        content_type="text/html",
        charset="utf-8",
        headers={
            "Cache-Control": "no-cache",
            "Content-Security-Policy": content_security_policy(),
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        },
    )


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _files(folder: Path) -> dict[str, Path]:
    """Every file under `folder` by its relative path (`operations/overview.graphql`), but the page's template."""
    return {
        p.relative_to(folder).as_posix(): p
        for p in folder.rglob("*")
        if p.is_file() and p.name != "index.html" and "__pycache__" not in p.parts
    }


def _serve(folder: Path, cache_control: str) -> Handler:
    """Serves the files present in `folder` when the app is built; anything else is a 404 (no listing, no
    traversal: a name is looked up, never joined to a path)."""
    files = _files(folder)

    async def serve(request: web.Request) -> web.StreamResponse:
        path = files.get(request.match_info["name"])
        if path is None:
            raise web.HTTPNotFound()
        return web.FileResponse(
            path,
            headers={
                "Content-Type": _CONTENT_TYPES.get(path.suffix, "text/plain; charset=utf-8"),
                "Cache-Control": cache_control,
                "X-Content-Type-Options": "nosniff",
            },
        )

    return serve


def add_dashboard_routes(app: web.Application) -> None:
    """The page at `PAGES`, the app's files under `APP_PREFIX`, uPlot under `UPLOT_PREFIX`."""
    for path in PAGES:
        app.router.add_get(path, dashboard_page)
    app.router.add_get(APP_PREFIX + "/{name:.+}", _serve(APP_DIR, APP_CACHE), name="dashboard-static")
    app.router.add_get(UPLOT_PREFIX + "/{name}", _serve(UPLOT_DIR, VENDOR_CACHE), name="dashboard-uplot")
