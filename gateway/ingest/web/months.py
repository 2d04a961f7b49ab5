"""Summing the web rollups of an ended month into its own rows (grain 'm', migration 054), for long reads.

A month is summed once it has ended (an hour after its end in local time, so that no batch still open when it
ended can commit after its sum), and again whenever a later write moved its version (a hit dated in the past).
Each month is summed in a REPEATABLE READ transaction: the sums and the version they are recorded at come from
one snapshot, and recording the version fails (a serialization failure) if a batch moved it after that
snapshot; the month is then left to the next pass, and reads keep summing its days meanwhile.

Every dimension but `kind` is summed (the reads of a period's totals per kind go by hour or day), for every path
and the site (path 0). The passes are the gateway's own upkeep, so `MONTHS_TO_BUILD` is not scoped to an
account; every statement that sums a month names its account. One process sums a month at a time (`_CLAIM`).
"""

from __future__ import annotations

from datetime import datetime

import asyncpg

from gateway.db.pool import Database

# the months whose rows are missing or behind their version and which ended more than an hour ago (in their
# product's time zone), the latest first (those the usual periods read)
MONTHS_TO_BUILD = """
SELECT m.account_id, m.product_id, m.month
FROM web_rollup_months m
JOIN products p ON p.id = m.product_id AND p.account_id = m.account_id
WHERE m.built IS DISTINCT FROM m.version
  AND m.month + interval '1 month' + interval '1 hour' <= (now() AT TIME ZONE p.timezone)
ORDER BY m.month DESC, m.account_id, m.product_id
LIMIT $1
"""

# one process sums a month at a time: another one that meets it skips it (a lock for the transaction, keyed by
# a hash of the month; two months of one hash only take turns)
_CLAIM = """
SELECT pg_try_advisory_xact_lock(
    hashtextextended(concat_ws(':', 'web month', $1::bigint, $2::bigint, $3::timestamp), 54)
)
"""

_VERSION = (
    "SELECT version, built FROM web_rollup_months WHERE account_id = $1 AND product_id = $2 AND month = $3"
)

# the month's previous sums ($4: every dimension summed)
_DROP = """
DELETE FROM web_rollups
WHERE account_id = $1 AND product_id = $2 AND dimension = ANY($4::text[]) AND grain = 'm' AND bucket = $3
"""

# the month's day rows summed per key, written in key order; the two sources are the key's two indexes (the
# site's rows, path 0, and every path's), each read over the month's days
_SUM = """
INSERT INTO web_rollups (account_id, product_id, dimension, grain, path_id, bucket, value, detail, pageviews,
                         visitors)
SELECT $1, $2, x.dimension, 'm', x.path_id, $3, x.value, x.detail, sum(x.pageviews), sum(x.visitors)
FROM (
    SELECT r.dimension, r.path_id, r.value, r.detail, r.pageviews, r.visitors
    FROM web_rollups r
    WHERE r.account_id = $1 AND r.product_id = $2 AND r.dimension = ANY($4::text[]) AND r.grain = 'd'
      AND r.path_id = 0 AND r.bucket >= $3 AND r.bucket < $3 + interval '1 month'
    UNION ALL
    SELECT r.dimension, r.path_id, r.value, r.detail, r.pageviews, r.visitors
    FROM web_rollups r
    WHERE r.account_id = $1 AND r.product_id = $2 AND r.dimension = ANY($4::text[]) AND r.grain = 'd'
      AND r.path_id <> 0 AND r.bucket >= $3 AND r.bucket < $3 + interval '1 month'
) AS x
GROUP BY x.dimension, x.path_id, x.value, x.detail
ORDER BY x.dimension, x.path_id, x.value, x.detail
"""

_RECORD = """
UPDATE web_rollup_months SET built = $4
WHERE account_id = $1 AND product_id = $2 AND month = $3 AND version = $4
"""

# the dimensions a month is summed for (resolvers/web/sql.py reads months of these only)
DIMENSIONS = ["", "referrer", "browser", "system", "size", "location", "language", "campaign"]

BATCH = 50


async def build_month(db: Database, account_id: int, product_id: int, month: datetime) -> bool:
    """Sum one month's day rows into its month rows; whether they are now current (False: a write moved the
    month's version meanwhile, another process is summing it, or the month is gone)."""
    try:
        async with db.transaction(isolation="repeatable_read") as tx:
            if not await tx.fetchval(_CLAIM, account_id, product_id, month):
                return False
            found = await tx.fetchrow(_VERSION, account_id, product_id, month)
            if found is None:
                return False
            version = found["version"]
            if found["built"] == version:
                return True  # another process summed it meanwhile
            await tx.execute(_DROP, account_id, product_id, month, DIMENSIONS)
            await tx.execute(_SUM, account_id, product_id, month, DIMENSIONS)
            status = await tx.execute(_RECORD, account_id, product_id, month, version)
            return status.endswith(" 1")
    except asyncpg.exceptions.SerializationError:
        return False


async def build_months(db: Database, batch: int = BATCH) -> int:
    """Sum every ended month that needs it, `batch` at a time; how many were summed."""
    built = 0
    while True:
        months = await db.fetch(MONTHS_TO_BUILD, batch)
        done = 0
        for row in months:
            if await build_month(db, row["account_id"], row["product_id"], row["month"]):
                done += 1
        built += done
        # a month a write keeps moving is left to a later pass rather than tried again at once
        if len(months) < batch or done == 0:
            return built
