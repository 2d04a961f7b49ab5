"""GraphQL subscriptions over websockets (graphql-transport-ws); being written."""

from __future__ import annotations

from aiohttp import web


async def serve_websocket(request: web.Request) -> web.StreamResponse:
    raise web.HTTPNotImplemented(text="subscriptions are not available yet")
