"""Apollo Federation v2: the graph is a subgraph that real Apollo tooling composes and routes to.

- `_service { sdl }` declares every entity with `@key(fields: "id")` (and the shared `PageInfo` as
  `@shareable`);
- `_entities` resolves representations through the same account-scoped loaders as `node(id:)`: a foreign
  account's id is null;
- `@apollo/composition` composes the SDL read over HTTP, alone and with a second subgraph extending `Product`;
- a real `@apollo/gateway` on loopback (router.mjs) plans queries over the gateway and a tiny "reviews"
  subgraph, forwards the caller's `Authorization`, calls `_entities` on the gateway, and returns exactly the
  data of the equivalent direct queries.

Skipped only when node or the npm packages (`npm install` at the project's root) are missing.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from gateway.db.pool import Database
from tests.conftest import Server, Tenant, gql, new_tenant

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
NODE = shutil.which("node")
PACKAGES = ["@apollo/composition", "@apollo/gateway", "@apollo/server", "@apollo/subgraph", "graphql"]
MISSING = [p for p in PACKAGES if not (ROOT / "node_modules" / p / "package.json").exists()]

pytestmark = pytest.mark.skipif(
    NODE is None or bool(MISSING),
    reason=f"needs node and the npm packages {MISSING or PACKAGES} (run `npm install` at the project root)",
)

ENTITIES = ["Account", "Product", "Device", "Session", "Event", "Report", "Segment", "Export"]

PRODUCTS_QUERY = """query Products { products { nodes { id name
    events(orderBy: OLDEST_FIRST) { totalCount nodes { key device { deviceId } } } } } }"""


@dataclass
class Federated:
    tenant: Tenant
    foreign: Tenant
    router_url: str


async def _record(http: aiohttp.ClientSession, server: Server, tenant: Tenant, device: str) -> None:
    reply = await gql(
        http,
        server,
        """mutation($p: ID!, $d: String!) { recordEvents(productId: $p, deviceId: $d, events: [
             {key: "purchase", count: 2, sum: 9.5}, {key: "pageview", path: "/pricing"}]) { outcome } }""",
        {"p": tenant.product_id, "d": device},
        tenant.token,
    )
    assert reply.data == {"recordEvents": {"outcome": "STORED"}}, reply.body


async def _post(
    http: aiohttp.ClientSession,
    url: str,
    query: str,
    token: str | None,
    variables: dict[str, Any] | None = None,
) -> tuple[int, dict[str, Any]]:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    async with http.post(url, json={"query": query, "variables": variables or {}}, headers=headers) as reply:
        return reply.status, json.loads(await reply.text())


async def _ready_url(proc: asyncio.subprocess.Process) -> str:
    """The URL the router prints as a JSON line once it serves (other lines are Apollo's own notices)."""
    assert proc.stdout is not None and proc.stderr is not None
    while line := await proc.stdout.readline():
        if line.startswith(b"{"):
            return str(json.loads(line)["url"])
    pytest.fail("router did not start: " + (await proc.stderr.read()).decode())


@pytest.fixture(scope="module")
async def federated(db: Database, server: Server) -> AsyncIterator[Federated]:
    tenant, foreign = await new_tenant(db), await new_tenant(db)
    async with aiohttp.ClientSession() as http:
        await _record(http, server, tenant, "phone-1")
        await _record(http, server, tenant, "phone-2")
        await _record(http, server, foreign, "theirs")
    assert NODE is not None
    proc = await asyncio.create_subprocess_exec(
        NODE,
        str(HERE / "router.mjs"),
        server.url + "/graphql",
        tenant.token,
        "--reviews",
        tenant.product_id,
        cwd=ROOT,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        url = await asyncio.wait_for(_ready_url(proc), timeout=30)
        yield Federated(tenant=tenant, foreign=foreign, router_url=url)
    finally:
        if proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), timeout=10)
            except TimeoutError:
                proc.kill()
                await proc.wait()


async def test_service_sdl_declares_entity_keys(
    http: aiohttp.ClientSession, server: Server, federated: Federated
) -> None:
    reply = await gql(http, server, "{ _service { sdl } }", token=federated.tenant.token)
    assert reply.status == 200 and reply.errors is None, reply.body
    sdl = reply.data["_service"]["sdl"]
    assert "specs.apollo.dev/federation/v2.5" in sdl
    for entity in ENTITIES:
        assert f'type {entity} implements Node @key(fields: "id")' in sdl, entity
    assert "type PageInfo @shareable" in sdl


async def test_entities_are_resolved_through_the_account_scoped_loaders(
    http: aiohttp.ClientSession, server: Server, federated: Federated
) -> None:
    own, foreign = federated.tenant, federated.foreign
    reply = await gql(
        http,
        server,
        """query($r: [_Any!]!) { _entities(representations: $r) {
             __typename ... on Product { id name events { totalCount } } } }""",
        {
            "r": [
                {"__typename": "Product", "id": own.product_id},
                {"__typename": "Product", "id": foreign.product_id},
                {"__typename": "Product", "id": "not-an-id"},
                {"__typename": "Account", "id": own.account_id},
                {"__typename": "Account", "id": foreign.account_id},
            ]
        },
        own.token,
    )
    assert reply.status == 200 and reply.errors is None, reply.body
    own_product, foreign_product, garbage, own_account, foreign_account = reply.data["_entities"]
    assert own_product["__typename"] == "Product"
    assert own_product["id"] == own.product_id
    assert own_product["events"] == {"totalCount": 4}
    assert foreign_product is None and garbage is None
    assert own_account == {"__typename": "Account"}
    assert foreign_account is None
    # the foreign account sees its own product and not ours: the same loaders, the other way round
    theirs = await gql(
        http,
        server,
        "query($r: [_Any!]!) { _entities(representations: $r) { ... on Product { id } } }",
        {
            "r": [
                {"__typename": "Product", "id": foreign.product_id},
                {"__typename": "Product", "id": own.product_id},
            ]
        },
        foreign.token,
    )
    assert theirs.data == {"_entities": [{"id": foreign.product_id}, None]}, theirs.body


async def test_composition_with_apollo_composition(server: Server, federated: Federated) -> None:
    assert NODE is not None
    proc = await asyncio.create_subprocess_exec(
        NODE,
        str(HERE / "compose.mjs"),
        server.url,
        federated.tenant.token,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=30)
    assert proc.returncode == 0, err.decode()
    summary = json.loads(out)
    assert summary["ok"] is True
    assert summary["combinedHasReviewCount"] is True
    assert '@join__type(graph: ANALYTICS, key: "id")' in summary["combinedProductJoins"]
    assert '@join__type(graph: REVIEWS, key: "id")' in summary["combinedProductJoins"]


async def test_router_returns_the_data_of_direct_queries(
    http: aiohttp.ClientSession, server: Server, federated: Federated
) -> None:
    token = federated.tenant.token
    direct = await gql(http, server, PRODUCTS_QUERY, token=token)
    assert direct.errors is None, direct.body
    nodes = direct.data["products"]["nodes"]
    assert len(nodes) == 1 and nodes[0]["events"]["totalCount"] == 4
    assert {e["device"]["deviceId"] for e in nodes[0]["events"]["nodes"]} == {"phone-1", "phone-2"}

    status, routed = await _post(http, federated.router_url, PRODUCTS_QUERY, token)
    assert status == 200 and "errors" not in routed, routed
    assert routed["data"] == direct.data
    calls = routed["extensions"]["subgraphCalls"]
    assert [c["subgraph"] for c in calls] == ["analytics"]


async def test_router_calls_entities_on_the_gateway(
    http: aiohttp.ClientSession, server: Server, federated: Federated
) -> None:
    tenant = federated.tenant
    # starts in the reviews subgraph, which only knows product ids: the router fetches the rest of each
    # Product from the gateway with `_entities`, forwarding the caller's token
    query = """{ topReviewedProducts { id reviewCount name status
                 events(orderBy: OLDEST_FIRST) { totalCount nodes { key device { deviceId } } } } }"""
    status, routed = await _post(http, federated.router_url, query, tenant.token)
    assert status == 200 and "errors" not in routed, routed
    calls = routed["extensions"]["subgraphCalls"]
    assert [c["subgraph"] for c in calls] == ["reviews", "analytics"]
    assert "_entities(representations:" in calls[1]["query"]

    direct = await gql(
        http,
        server,
        """query($p: ID!) { node(id: $p) { ... on Product { id name status
             events(orderBy: OLDEST_FIRST) { totalCount nodes { key device { deviceId } } } } } }""",
        {"p": tenant.product_id},
        tenant.token,
    )
    assert direct.errors is None, direct.body
    assert routed["data"] == {"topReviewedProducts": [{**direct.data["node"], "reviewCount": 2}]}

    # and the other direction: the gateway's products, extended with the reviews subgraph's fields
    status, both = await _post(
        http,
        federated.router_url,
        "{ products { nodes { id name reviewCount reviews { pageInfo { hasNextPage } } } } }",
        tenant.token,
    )
    assert status == 200 and "errors" not in both, both
    assert [c["subgraph"] for c in both["extensions"]["subgraphCalls"]] == ["analytics", "reviews"]
    assert both["data"]["products"]["nodes"] == [
        {
            "id": tenant.product_id,
            "name": direct.data["node"]["name"],
            "reviewCount": 2,
            "reviews": {"pageInfo": {"hasNextPage": False}},
        }
    ]


async def test_router_forwards_authorization(http: aiohttp.ClientSession, federated: Federated) -> None:
    # without a token the gateway answers 401 to the router, which reports an error and no products
    status, anonymous = await _post(http, federated.router_url, "{ products { nodes { id } } }", None)
    assert anonymous.get("errors"), anonymous
    assert not (anonymous.get("data") or {}).get("products")
    # the foreign account's token sees only the foreign product through the router
    status, theirs = await _post(
        http, federated.router_url, "{ products { nodes { id } } }", federated.foreign.token
    )
    assert status == 200 and "errors" not in theirs, theirs
    assert theirs["data"] == {"products": {"nodes": [{"id": federated.foreign.product_id}]}}
