"""GraphiQL in the browser, served entirely by the gateway: no CDN, no internet needed.

The assets (React 18, ReactDOM 18 and GraphiQL 3 UMD production builds, plus GraphiQL's CSS) are vendored in
``gateway/http/static/graphiql/`` (see the README there for versions and how to refresh them), so a machine with
only Python can serve a working page.

Wiring, for the ``/graphql`` GET handler::

    add_graphiql_routes(app)                  # once, when building the app
    ...
    if wants_graphiql(request):               # in the GET /graphql handler
        return graphiql_response()

The page sends what the user types in GraphiQL's Headers pane with every request (and persists it in the
browser's local storage), so a pasted ``Authorization: Bearer ...`` survives reloads. While the header still
holds the placeholder, or when the server answers with something that is not GraphQL JSON (a plain-text 401,
a proxy's HTML error page) or cannot be reached, the response pane shows a readable GraphQL-style error
instead of staying blank.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

from aiohttp import web

STATIC_DIR = Path(__file__).resolve().parent / "static" / "graphiql"
"""Where the vendored assets live."""

GRAPHIQL_VERSION = "3.9.0"
REACT_VERSION = "18.3.1"
ASSET_VERSION = f"{GRAPHIQL_VERSION}-{REACT_VERSION}"
"""Appended as ``?v=`` to asset URLs so browsers drop their cached copy when the vendored files change."""

STYLESHEETS = ("graphiql.min.css",)
SCRIPTS = ("react.production.min.js", "react-dom.production.min.js", "graphiql.min.js")
"""Assets the page loads, in order (scripts must load React, then ReactDOM, then GraphiQL)."""

CACHE_CONTROL = "public, max-age=86400"
TITLE = "Analytics gateway \u2013 GraphiQL"
AUTH_PLACEHOLDER = "<paste the token printed by bootstrap>"
DEFAULT_HEADERS = json.dumps({"Authorization": f"Bearer {AUTH_PLACEHOLDER}"})

_CONTENT_TYPES = {
    ".js": "text/javascript",
    ".css": "text/css",
    ".md": "text/markdown",
}

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
{stylesheets}
<style>
  html, body {{ height: 100%; margin: 0; overflow: hidden; }}
  #graphiql {{ height: 100vh; }}
  #graphiql-boot-error {{ font: 16px/1.5 system-ui, sans-serif; padding: 2em; color: #b00020; }}
</style>
</head>
<body>
<div id="graphiql"><noscript>GraphiQL needs JavaScript.</noscript></div>
{scripts}
<script>
(function () {{
  "use strict";
  var config = {config};
  var root = document.getElementById("graphiql");

  function bootError(message) {{
    root.innerHTML = "";
    var p = document.createElement("p");
    p.id = "graphiql-boot-error";
    p.textContent = message;
    root.appendChild(p);
  }}

  if (typeof window.React === "undefined" || typeof window.ReactDOM === "undefined" ||
      typeof window.GraphiQL === "undefined") {{
    bootError("GraphiQL could not start: its scripts did not load from " + config.staticPrefix + ".");
    return;
  }}

  // Answer as a GraphQL server would, so GraphiQL shows the message in its response pane.
  function graphqlError(message, extensions) {{
    var body = {{ errors: [{{ message: message, extensions: extensions || {{}} }}] }};
    return new Response(JSON.stringify(body), {{
      status: 200,
      headers: {{ "content-type": "application/json" }}
    }});
  }}

  async function gatewayFetch(url, init) {{
    var headers = new Headers((init && init.headers) || {{}});
    var auth = headers.get("authorization") || "";
    if (auth.indexOf(config.placeholder) !== -1 || /<[^>]*>/.test(auth)) {{
      return graphqlError(
        "Not sent: the Authorization header still holds the placeholder. Open the Headers pane below " +
        "the query editor and replace " + config.placeholder + " with the API token printed by " +
        "bootstrap, then run the query again (or reload the page to refetch the schema).",
        {{ code: "PLACEHOLDER_TOKEN" }}
      );
    }}
    var response;
    try {{
      response = await window.fetch(url, init);
    }} catch (err) {{
      return graphqlError("Could not reach " + url + ": " + (err && err.message ? err.message : err),
                          {{ code: "NETWORK_ERROR" }});
    }}
    var type = response.headers.get("content-type") || "";
    if (type.indexOf("json") !== -1 || type.indexOf("multipart/") !== -1) {{
      return response;
    }}
    var text = "";
    try {{ text = await response.text(); }} catch (err) {{ text = ""; }}
    return graphqlError(
      "HTTP " + response.status + " " + response.statusText + " from " + url +
      (text ? ": " + text.slice(0, 500) : ""),
      {{ code: "HTTP_" + response.status }}
    );
  }}

  var fetcher = window.GraphiQL.createFetcher({{ url: config.endpoint, fetch: gatewayFetch }});
  window.ReactDOM.createRoot(root).render(
    window.React.createElement(window.GraphiQL, {{
      fetcher: fetcher,
      defaultHeaders: config.defaultHeaders,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: true,
      defaultEditorToolsVisibility: "headers"
    }})
  );
}})();
</script>
</body>
</html>
"""


def _script_json(value: object) -> str:
    """JSON that is safe inside an inline ``<script>`` (no ``</script>``, ``<!--`` or U+2028 tricks)."""
    text = json.dumps(value)
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escape)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def asset_urls(static_prefix: str = "/graphiql/static") -> list[str]:
    """The URLs of every asset the page loads (stylesheets first, then scripts in load order)."""
    prefix = static_prefix.rstrip("/")
    return [f"{prefix}/{name}?v={ASSET_VERSION}" for name in (*STYLESHEETS, *SCRIPTS)]


def graphiql_html(
    endpoint: str = "/graphql",
    static_prefix: str = "/graphiql/static",
    *,
    default_headers: str = DEFAULT_HEADERS,
) -> str:
    """The GraphiQL page: assets from ``static_prefix``, queries POSTed as JSON to ``endpoint``.

    ``default_headers`` is the Headers pane's text on a browser that has none persisted yet.
    """
    prefix = static_prefix.rstrip("/")
    urls = asset_urls(prefix)
    n_css = len(STYLESHEETS)
    stylesheets = "\n".join(f'<link rel="stylesheet" href="{html.escape(u)}">' for u in urls[:n_css])
    scripts = "\n".join(f'<script src="{html.escape(u)}"></script>' for u in urls[n_css:])
    config = {
        "endpoint": endpoint,
        "staticPrefix": prefix,
        "placeholder": AUTH_PLACEHOLDER,
        "defaultHeaders": default_headers,
    }
    return _PAGE.format(
        title=html.escape(TITLE),
        stylesheets=stylesheets,
        scripts=scripts,
        config=_script_json(config),
    )


def wants_graphiql(request: web.Request) -> bool:
    """True for a browser opening the endpoint: GET, ``Accept`` has text/html, and no ``query`` parameter."""
    if request.method != "GET" or "query" in request.query:
        return False
    return "text/html" in request.headers.get("Accept", "").lower()


def graphiql_response(endpoint: str = "/graphql", static_prefix: str = "/graphiql/static") -> web.Response:
    """The GraphiQL page as a ``text/html; charset=utf-8`` response."""
    return web.Response(
        text=graphiql_html(endpoint, static_prefix),
        content_type="text/html",
        charset="utf-8",
        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
    )


def add_graphiql_routes(app: web.Application, static_prefix: str = "/graphiql/static") -> None:
    """Serve the vendored assets under ``static_prefix`` with ``Cache-Control: public, max-age=86400``.

    Only the files present in the static folder when this is called are served (no directory listing, no
    path traversal); anything else under the prefix is a 404.
    """
    files = {p.name: p for p in STATIC_DIR.iterdir() if p.is_file()}

    async def serve_asset(request: web.Request) -> web.StreamResponse:
        path = files.get(request.match_info["name"])
        if path is None:
            raise web.HTTPNotFound()
        content_type = _CONTENT_TYPES.get(path.suffix, "text/plain; charset=utf-8")
        if content_type.startswith(("text/javascript", "text/css", "text/markdown")):
            content_type += "; charset=utf-8"
        return web.FileResponse(
            path,
            headers={
                "Content-Type": content_type,
                "Cache-Control": CACHE_CONTROL,
                "X-Content-Type-Options": "nosniff",
            },
        )

    app.router.add_get(static_prefix.rstrip("/") + "/{name}", serve_asset, name="graphiql-static")
