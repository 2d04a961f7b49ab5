"""Small helpers shared by the ingestion tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from gateway.db.pool import Database
from gateway.ingest import TrackRequest


def ts(*args: int) -> str:
    """A 10-digit Unix timestamp for the UTC date and time `args`."""
    return str(int(datetime(*args, tzinfo=UTC).timestamp()))  # type: ignore[misc]


def req(product: Any, device: str, **fields: Any) -> TrackRequest:
    return TrackRequest(
        account_id=product.account_id, product_id=product.product_id, device_key=device, **fields
    )


async def srow(
    db: Database, product: Any, grain: str, bucket: datetime, dimension: str = "", value: str = ""
) -> dict[str, int]:
    row = await db.fetchrow(
        """SELECT t, n, u, d, e FROM session_rollups
           WHERE product_id = $1 AND dimension = $2 AND value = $3 AND grain = $4 AND bucket = $5""",
        product.product_id,
        dimension,
        value,
        grain,
        bucket,
    )
    return dict(row) if row else {"t": 0, "n": 0, "u": 0, "d": 0, "e": 0}


async def erow(
    db: Database, product: Any, key: str, grain: str, bucket: datetime, seg_key: str = "", seg_value: str = ""
) -> dict[str, float]:
    row = await db.fetchrow(
        """SELECT c, s, dur FROM event_rollups
           WHERE product_id = $1 AND key = $2 AND seg_key = $3 AND seg_value = $4 AND grain = $5
             AND bucket = $6""",
        product.product_id,
        key,
        seg_key,
        seg_value,
        grain,
        bucket,
    )
    return dict(row) if row else {"c": 0, "s": 0.0, "dur": 0.0}
