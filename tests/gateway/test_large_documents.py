"""Large documents are checked beside the event loop, never on it: graphql-core's validation of overlapping
fields is quadratic in the fields of a selection set that share a name, so 55 kB of `account { id }` took 1.3 s
of the loop, and every other request of the process waited. A stranger's document is not parsed at all unless it
is small."""

from __future__ import annotations

import asyncio
import threading

import aiohttp

from gateway.execution import executor as executor_module
from gateway.execution.executor import LARGE_DOCUMENT
from gateway.observability.loop_monitor import LoopMonitor
from gateway.off_loop import OffLoop
from tests.conftest import Server, Tenant

# 3,000 fields named `account` in one selection set: about a second of validation, which graphql-core then
# gives up ("Validation aborted.")
SLOW = "{ " + "account { id } " * 3000 + "}"
# over LARGE_DOCUMENT, valid
LARGE = "{ " + "account { name } " * 400 + "}"


async def _post(
    http: aiohttp.ClientSession, server: Server, query: str, token: str | None
) -> tuple[int, dict, dict]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with http.post(f"{server.url}/graphql", json={"query": query}, headers=headers) as reply:
        return reply.status, await reply.json(), dict(reply.headers)


async def test_a_slow_document_leaves_the_event_loop_free(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant
) -> None:
    monitor = LoopMonitor(interval=0.005)
    await monitor.start()
    await asyncio.sleep(0.05)  # the monitor has begun measuring
    try:
        status, body, _ = await _post(http, server, SLOW, tenant.token)
    finally:
        await monitor.stop()
    assert status == 200 and body["errors"][0]["message"], body
    # the loop's thread computed for at most a few ms at a time (0.9 s at once when it validated the document)
    assert monitor.longest_busy < 0.1, monitor.longest_busy


async def test_a_strangers_large_document_is_refused_unread(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant
) -> None:
    login = f'mutation {{ login(email: "{tenant.email}", password: "{tenant.password}") {{ token }} }}'
    padded = login + " " * LARGE_DOCUMENT
    status, body, headers = await _post(http, server, padded, None)
    assert status == 401 and headers["WWW-Authenticate"].startswith("Bearer"), body
    status, body, _ = await _post(http, server, login, None)
    assert status == 200 and body["data"]["login"]["token"], body


async def test_too_many_large_documents_at_once_are_told_to_retry(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant
) -> None:
    pool: OffLoop = executor_module._LARGE_DOCUMENTS
    release = threading.Event()
    # the documents' thread and every waiting place taken
    held = [asyncio.ensure_future(pool.run(release.wait)) for _ in range(pool.threads + pool.max_waiting)]
    try:
        await asyncio.sleep(0.05)
        status, body, headers = await _post(http, server, LARGE, tenant.token)
        assert (status, headers.get("Retry-After")) == (503, "1"), body
        assert body["errors"][0]["message"].startswith("Too many large documents"), body
    finally:
        release.set()
        await asyncio.gather(*held)
    status, body, _ = await _post(http, server, LARGE, tenant.token)
    assert status == 200 and body["data"]["account"]["name"], body
