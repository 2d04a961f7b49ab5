"""Expiry of the calendar trees' kept days (`tree_day_fragments`, migrations 010 and 011).

A kept day is keyed by the set of a read's arguments, so the table holds a day for every set of event keys,
dimensions and grains ever read, and every day of every long period. Nothing but this sweep removes them
(a changed day is rewritten in place by the next read that wants it). A day kept more than the time to live
ago is deleted; a read that still wants it renders it from the rollups and keeps it again.

The sweep is the gateway's own upkeep, not a caller's request, so it is the one statement not scoped to an
account: it deletes expired rows of every account alike.
"""

from __future__ import annotations

from datetime import timedelta

from gateway.db.pool import Database

# Oldest first, a chunk at a time, so that a sweep of a large backlog never holds many row locks at once.
# Rows a read is rewriting at that moment are skipped (the read refreshes their kept_at anyway), and so are
# rows another gateway process is deleting: sweeps running at once in several processes share the work.
_EXPIRE = """
WITH expired AS (
  SELECT product_id, variant, day FROM tree_day_fragments
  WHERE kept_at < now() - $1::interval
  ORDER BY kept_at
  LIMIT $2
  FOR UPDATE SKIP LOCKED
)
DELETE FROM tree_day_fragments f
USING expired e
WHERE f.product_id = e.product_id AND f.variant = e.variant AND f.day = e.day
"""

CHUNK_ROWS = 5000


async def expire_kept_days(db: Database, older_than: timedelta, chunk_rows: int = CHUNK_ROWS) -> int:
    """Delete the days kept more than `older_than` ago, `chunk_rows` per statement; how many were deleted."""
    deleted = 0
    while True:
        status = await db.execute(_EXPIRE, older_than, chunk_rows)
        count = int(status.rsplit(" ", 1)[-1])
        deleted += count
        if count < chunk_rows:
            return deleted
