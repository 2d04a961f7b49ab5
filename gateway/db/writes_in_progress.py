"""Waiting for the writes in progress to end, so that a read of "what changed since T" misses nothing.

Lists of what changed since a time (`PeopleFilter.updatedSince`, FollowAnalytics' `updated_since` delta syncs)
compare a row's `updated_at` with that time. A row's `updated_at` is written inside a transaction that commits
later: a read that runs in between does not see the row, and when the client's next sync asks for what changed
since this read, a row whose `updated_at` is earlier than that is missed for good. Two rules close that gap:

1. Writers set `updated_at` only once their transaction holds its id (xid) and a lock on the table, to the time
   of the statement that writes it (`statement_timestamp()`, never `now()`, the transaction's start). The
   ingestion engine does: its first statement (`LOCK`) locks rows (products FOR KEY SHARE, persons FOR UPDATE),
   which gives the transaction its xid and a lock on `devices` it holds until it ends; `STORE`, a later
   statement, writes `updated_at = statement_timestamp()` (gateway/ingest/sql.py).
2. Readers call `wait_for_writes(db, tables)` before such a read: it finds the transactions in progress that hold
   a lock on one of `tables` of a mode that writes or locks rows (`pg_locks`: every transaction holds the lock
   of its own xid until it ends, and its table locks as long), and waits until each has ended (its xid's lock
   is gone).

So every row written with an `updated_at` earlier than the wait's start is visible to the read that follows: its
writer had its xid and its table lock before then, so when the wait looked it had either ended (committed, or
rolled back), or was in progress holding the lock, and the wait outlasted it. A row written later has an
`updated_at` no earlier than the wait's start, and the next sync, which asks for what changed since a time no
later than that (the time its client sent this one), finds it. Transactions that hold no lock on `tables` (on
other tables, other applications of a shared server) are not waited for. (`pg_current_snapshot()` would not do:
the transactions at or after its `xmax` are in progress without being listed in its `xip`.)

The wait is bounded (`at_most` seconds): a write still in progress then is reported (`WritesStillInProgress`), never
ignored, since the read would not be complete; a reply of the graph says SERVICE_UNAVAILABLE (retry later).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from gateway.db.pool import Database

DEFAULT_TIMEOUT_SECONDS = 10.0
FIRST_POLL_SECONDS = 0.005
LONGEST_POLL_SECONDS = 0.1

# the transactions in progress, but this session's, that hold a lock on one of the tables $1 of this database of a
# mode that writes or locks rows (any but a plain read's AccessShareLock: a long read, such as a people search
# writing its results elsewhere, is not waited for): their xids, as text (asyncpg has no codec for xid). pg_locks is read once (each scan of the
# view takes every lock partition anew): a transaction holds its own xid's lock (ExclusiveLock) as long as it
# runs, and its backend's pid leads to its table locks (fast-path ones included).
IN_PROGRESS = """
WITH l AS MATERIALIZED (
    SELECT locktype, database, relation, transactionid, pid, mode, granted FROM pg_locks
    WHERE granted AND pid <> pg_backend_pid()
)
SELECT COALESCE(array_agg(DISTINCT own.transactionid::text), '{}') AS xids
FROM l AS own
WHERE own.locktype = 'transactionid' AND own.mode = 'ExclusiveLock'
  AND EXISTS (
    SELECT FROM l AS held
    WHERE held.pid = own.pid AND held.locktype = 'relation' AND held.mode <> 'AccessShareLock'
      AND held.database = (SELECT oid FROM pg_database WHERE datname = current_database())
      AND held.relation = ANY(SELECT to_regclass(name)::oid FROM unnest($1::text[]) AS name)
  )
"""
# of those, the ones still running
STILL_IN_PROGRESS = """
SELECT COALESCE(array_agg(l.transactionid::text), '{}') AS xids
FROM pg_locks AS l
WHERE l.locktype = 'transactionid' AND l.mode = 'ExclusiveLock' AND l.granted
  AND l.transactionid = ANY($1::text[]::xid[])
"""


class WritesStillInProgress(Exception):
    """Writes in progress when a read began did not end within the wait's bound."""


async def wait_for_writes(
    db: Database, tables: Sequence[str], at_most: float = DEFAULT_TIMEOUT_SECONDS
) -> None:
    """Return once every transaction in progress now that holds a lock on one of `tables` has ended."""
    xids: list[str] = await db.fetchval(IN_PROGRESS, list(tables))
    if not xids:
        return
    loop = asyncio.get_running_loop()
    deadline = loop.time() + at_most
    pause = FIRST_POLL_SECONDS
    while True:
        await asyncio.sleep(min(pause, max(0.0, deadline - loop.time())))
        xids = await db.fetchval(STILL_IN_PROGRESS, xids)
        if not xids:
            return
        if loop.time() >= deadline:
            raise WritesStillInProgress(f"{len(xids)} writes in progress did not end within {at_most:g} s")
        pause = min(pause * 2, LONGEST_POLL_SECONDS)
