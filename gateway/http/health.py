"""`/healthz`: whether this process can reach its database, for load balancers and service managers."""

from __future__ import annotations

import asyncio

from aiohttp import web

from gateway.state import state_of


async def healthz(request: web.Request) -> web.Response:
    try:
        await asyncio.wait_for(state_of(request).db.fetchval("SELECT 1"), timeout=2)
    except Exception:  # any failure means "not healthy"; the reason goes to the log, not the reply
        return web.json_response({"status": "unavailable", "database": "unreachable"}, status=503)
    return web.json_response({"status": "ok", "database": "reachable"})
