"""Helpers of the KISSmetrics shim tests: raw tracking calls, and reading people back through the graph."""

from __future__ import annotations

from typing import Any

import aiohttp
from yarl import URL

from adapters.kissmetrics.tracking import GIF
from tests.conftest import Server, Tenant, gql

PERSON = """
query ($product: ID!, $identity: String!) {
  node(id: $product) {
    ... on Product {
      person(identity: $identity) {
        id deviceId properties identities { identity kind }
        events(first: 100) { nodes { key occurredAt: timestamp } }
        sessions(first: 100) { nodes { id } }
      }
    }
  }
}
"""


async def beacon(http: aiohttp.ClientSession, server: Server, path_and_query: str, **kwargs: Any) -> None:
    """A tracking call; asserts the reply every tracking call gets: 200 and the GIF."""
    method = kwargs.pop("method", "GET")
    # sent as written: the tests choose their encodings (`+`, `@`, `%20`, broken escapes)
    async with http.request(method, URL(server.url + path_and_query, encoded=True), **kwargs) as response:
        body = await response.read()
        assert (response.status, response.content_type, body) == (200, "image/gif", GIF), path_and_query


async def person(http: aiohttp.ClientSession, server: Server, tenant: Tenant, identity: str) -> Any:
    reply = await gql(
        http, server, PERSON, {"product": tenant.product_id, "identity": identity}, tenant.token
    )
    assert reply.errors is None, reply.body
    return reply.data["node"]["person"]
