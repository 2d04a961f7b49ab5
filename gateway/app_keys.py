"""Typed keys of values stored on aiohttp requests."""

from __future__ import annotations

from aiohttp import web

REQUEST_ID = web.RequestKey("request_id", str)
