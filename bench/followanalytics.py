"""FollowAnalytics workloads of `make bench` (group `followanalytics`).

- Numbered event pages at the large data set (10M events): `GET /api/apps/{app}/events?per_page=1000` at page 1
  and at page 1,000 (the millionth event), their rounds alternated; p95 <= 50 ms each.
- Exports of a million events (the small data set), as CSV and as XLS: `events_export` with `skip_email=true`,
  the download URL polled until the file is there (202, then 200), then downloaded; rows per second from the
  request to the finished file (>= 50,000), and the gateway's peak RSS while the file is written (<= 200 MB;
  the export worker runs in the gateway process).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import aiohttp

from bench.load import Req

PAGE_SIZE = 1000
DEEP_PAGE = 1000


def deep_page(data: dict[str, Any]) -> int:
    """Page 1,000, or the last full page of a smaller data set."""
    return max(1, min(DEEP_PAGE, data["events"] // PAGE_SIZE))


def page_builder(base: str, data: dict[str, Any], page: int) -> Callable[[int], Req]:
    url = f"{base}/api/apps/{data['product_id']}/events?per_page={PAGE_SIZE}&page={page}"
    headers = {"Authorization": f"Token {data['token']}", "Accept": "application/json"}

    def build(_i: int) -> Req:
        return Req("GET", url, headers=headers)

    return build


def page_ok(status: int, body: bytes) -> bool:
    return (
        status == 200
        and body.startswith(b'{"success":true,"result":{"total_pages":')
        and b'"events":[{' in body
    )


async def export_once(base: str, data: dict[str, Any], suffix: str, monitor: Any) -> dict[str, Any]:
    """One export of every event of the data set; its rows/s and the gateway's peak RSS meanwhile."""
    headers = {"Authorization": f"Token {data['token']}", "Accept": "application/json"}
    url = f"{base}/api/apps/{data['product_id']}/events_export{suffix}?skip_email=true&fields=name,date_utc,device_id,session_id"
    timeout = aiohttp.ClientTimeout(total=3600)
    monitor.start()
    started = time.monotonic()
    async with aiohttp.ClientSession(timeout=timeout) as http:
        async with http.get(url, headers=headers) as response:
            callback = (await response.json())["result"]["callback"]
        while True:
            async with http.get(callback) as response:
                if response.status == 202:
                    await asyncio.sleep(0.5)
                    continue
                written = time.monotonic() - started
                size = 0
                async for chunk in response.content.iter_chunked(1 << 20):
                    size += len(chunk)
                status = response.status
                break
    peak = await monitor.stop()
    rows = data["events"]
    return {
        "format": suffix.lstrip(".") or "xls",
        "status": status,
        "rows": rows,
        "seconds": round(written, 1),
        "rows_per_s": round(rows / written) if written else None,
        "bytes": size,
        "peak_rss_mb": peak or None,
    }
