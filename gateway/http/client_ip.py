"""The client's IP address: the peer's, or, behind a trusted proxy (GATEWAY_TRUSTED_PROXIES), the last address
of `X-Forwarded-For` that is not a trusted proxy's."""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from aiohttp import web

from gateway.state import state_of

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=16)
def _networks(trusted: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(item, strict=False) for item in trusted)


def _trusted(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_ip(request: web.Request) -> str:
    """The address of the client that sent `request` ('' when unknown)."""
    peer = request.remote or ""
    trusted = state_of(request).settings.trusted_proxies
    if not trusted:
        return peer
    networks = _networks(trusted)
    if not _trusted(peer, networks):
        return peer
    hops = [hop.strip() for hop in request.headers.get("X-Forwarded-For", "").split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, networks):
            return hop
    return hops[0] if hops else peer
