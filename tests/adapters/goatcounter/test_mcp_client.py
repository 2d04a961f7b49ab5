"""The real client `goatcounter-mcp-server` (PyPI): its GoatcounterApiClient reads the gateway as it would read
goatcounter.com, and reads what was counted.

The package's module also builds its MCP server when imported, with arguments no release of `fastmcp` that
installs beside today's pydantic accepts; the client class is taken from the installed module's own source
instead (the class and the imports it uses, unchanged), so the HTTP client under test is the real one.
"""

from __future__ import annotations

import ast
import importlib.util
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from gateway.db.pool import Database
from tests.adapters.goatcounter.helpers import CHROME, FIREFOX, call, client, new_site, token
from tests.conftest import gateway_with


def _client_class() -> Any:
    """GoatcounterApiClient, from the source of the installed `goatcounter_mcp_server/server.py`."""
    spec = importlib.util.find_spec("goatcounter_mcp_server")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("goatcounter-mcp-server is not installed")
    source = (Path(spec.submodule_search_locations[0]) / "server.py").read_text()
    tree = ast.parse(source)
    kept = [
        node
        for node in tree.body
        if (isinstance(node, ast.Import | ast.ImportFrom) and not _is_mcp(node))
        or (
            isinstance(node, ast.ClassDef)
            and node.name in ("GoatcounterApiClient", "GoatcounterApiClientError")
        )
        or (isinstance(node, ast.Assign) and ast.unparse(node).startswith("logger ="))
    ]
    namespace: dict[str, Any] = {}
    exec(
        compile(ast.Module(body=kept, type_ignores=[]), "goatcounter_mcp_server/server.py", "exec"), namespace
    )  # noqa: S102
    return namespace["GoatcounterApiClient"]


def _is_mcp(node: ast.Import | ast.ImportFrom) -> bool:
    names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [alias.name for alias in node.names]
    return any(name.split(".")[0] in ("fastmcp", "dotenv", "pydantic") for name in names)


HITS = [
    {"path": "/", "title": "Home", "user_agent": FIREFOX, "ip": "81.2.69.142", "size": "1920,1080,1"},
    {
        "path": "/",
        "user_agent": CHROME,
        "ip": "81.2.69.160",
        "ref": "https://news.example/item",
        "size": "390",
    },
    {"path": "/docs", "title": "Docs", "user_agent": FIREFOX, "ip": "81.2.69.142", "size": "1920"},
    {"path": "/docs", "user_agent": FIREFOX, "ip": "81.2.69.142"},
    {"path": "signup", "event": True, "session": "v1"},
]


async def test_goatcounter_mcp_client_reads_what_was_counted(
    migrated: str, tmp_path: Path, db: Database
) -> None:
    site = await new_site(db)
    secret = await token(db, site, "count", "stats", "site-read", "export")
    # the client makes its calls back to back: the per-second limit of the API would refuse some
    async with gateway_with(migrated, tmp_path, rate_limits={"goatcounter-api": (0, 1.0)}) as server:
        async with client() as http:
            counted = await call(
                http, server.url + "/api/v0/count", "POST", site.host, secret, {"hits": HITS}
            )
            assert counted.status == 202, counted.text
        api = _client_class()(site.code, secret, base_url_template=server.url)
        try:
            me = await api.get_me()
            assert me["token"]["permissions"] == 2 | 4 | 8 | 64 and me["token"]["sites"] == [-1]
            sites = await api.list_sites()
            assert [s["code"] for s in sites["sites"]] == [site.code] and sites["sites"][0][
                "cname"
            ] == site.host
            paths = await api.list_paths(limit=2)
            assert [p["path"] for p in paths["paths"]] == ["/", "/docs"] and paths["more"] is True
            rest = await api.list_paths(limit=2, after=paths["paths"][-1]["id"])
            assert [(p["path"], p["event"]) for p in rest["paths"]] == [("signup", True)] and rest[
                "more"
            ] is False

            today = datetime.now(UTC).date()
            start, end = (today - timedelta(days=1)).isoformat(), (today + timedelta(days=1)).isoformat()
            total = await api.get_stats_total(start=start, end=end)
            # visitors: the Firefox session on / and /docs, the Chrome one on /, the event
            assert (total["total"], total["total_events"]) == (4, 1)
            assert sum(day["daily"] for day in total["stats"]) == 4 and len(total["stats"]) == 3
            hits = await api.get_stats_hits(start=start, end=end, limit=10)
            assert [(h["path"], h["count"]) for h in hits["hits"]] == [("/", 2), ("signup", 1), ("/docs", 1)]
            assert hits["total"] == 4 and hits["more"] is False
            refs = await api.get_stats_refs()
            assert {(r["name"], r["count"], r["ref_scheme"]) for r in refs["stats"]} == {
                ("", 3, "o"),
                ("https://news.example/item", 1, "o"),
            }
            browsers = await api.get_stats_browsers()
            assert [(b["name"], b["count"]) for b in browsers["stats"]] == [
                ("Firefox", 2),
                ("", 1),
                ("Chrome", 1),
            ]
            systems = await api.get_stats_systems()
            assert [(s["name"], s["count"]) for s in systems["stats"]] == [
                ("Linux", 2),
                ("", 1),
                ("Windows", 1),
            ]
            sizes = await api.get_stats_sizes()
            assert {s["id"]: s["count"] for s in sizes["stats"]} == {
                "phone": 1,
                "tablet": 0,
                "desktop": 2,
                "desktophd": 0,
                "unknown": 1,
            }
            locations = await api.get_stats_locations()
            assert [(loc["id"], loc["count"]) for loc in locations["stats"]] == [("GB", 3), ("(unknown)", 1)]
        finally:
            await api.close()
