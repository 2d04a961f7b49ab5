"""Erasing people: every row that identifies them, in every table, in one transaction.

A person is a row of `devices`; it identifies them, and so do the rows that point at it: sessions, events
(which carry no foreign key, migration 004), identities, property values, and the rows of people searches'
results (`report_run_rows`, no foreign key either). Deleting the person's `devices` row deletes its sessions,
identities and property values (their foreign keys cascade); events and people-search rows are deleted here.
The page index of event lists (`event_hours`) follows the deleted events through its trigger.

The rollups (`session_rollups`, `event_rollups`: sessions, users, events per bucket and metric value) are
anonymous counts and are left as they are: analytics totals do not change when a person is erased. Event and
property definitions (names and first/last use) stay too.

Export files of the people's products whose rows are people's (events, sessions, devices, a person's data) hold
them too: those written before the erasure expire with it (their chunks deleted, as when they outlive their
time), and those being written start again, after it (their attempt raised: the worker writing them stops at its
next chunk, see `gateway/background/export_chunks.py`). Web hits (GoatCounter's pageviews) and the rollups'
exports identify no one.

tests/adapters/followanalytics/test_gdpr.py finds every table with a person reference in PostgreSQL's catalog, so a table
added later that points at people without being erased here fails it.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.db.pool import Database

MAX_IDENTITIES = 10_000
# the kinds of exports whose rows are people's or carry their keys
PERSON_EXPORT_KINDS = ("events", "sessions", "devices", "person")

# $1 account, $2 the erased people's products, $3 the kinds: the exports of those products (kinds over several
# products name them all in product_ids) that hold people's rows. Those being written are written again from
# the start after the erasure: the raised attempt makes the current worker's next chunk or progress fail
# (`JobLost`). Those written expire now, as the housekeeping expires a file that outlived its time. The chunks
# of both go now. Rows: the number of exports restarted.
_EXPORTS_OF_ERASED = """
WITH held AS MATERIALIZED (
    SELECT x.id, x.status FROM exports x
    WHERE x.account_id = $1 AND x.kind = ANY($3::text[]) AND x.status IN ('running', 'finished')
      AND (x.product_id = ANY($2::bigint[]) OR x.product_ids && $2::bigint[])
    ORDER BY x.id FOR UPDATE
), restarted AS (
    UPDATE exports AS t SET status = 'pending', progress = 0, attempt = t.attempt + 1, heartbeat_at = NULL
    FROM held h WHERE t.id = h.id AND h.status = 'running'
    RETURNING t.id
), expired AS (
    UPDATE exports AS t SET status = 'expired', expires_at = least(t.expires_at, now())
    FROM held h WHERE t.id = h.id AND h.status = 'finished'
    RETURNING t.id
), dropped AS (
    DELETE FROM export_chunks WHERE export_id IN (SELECT id FROM restarted UNION ALL SELECT id FROM expired)
)
SELECT count(*) FROM restarted"""


@dataclass(frozen=True)
class Erased:
    people: int
    events: int
    sessions: int
    # exports being written that start again (a job runner should look for them)
    exports_restarted: int = 0


async def erase_people(
    db: Database, account_id: int, identities: list[str], products: list[int] | None
) -> Erased:
    """Erase the people of the account (of these products, when given) known by any of these names."""
    keys = sorted({name.lower() for name in identities})
    async with db.transaction() as tx:
        people = [
            row["person_id"]
            for row in await tx.fetch(
                """SELECT DISTINCT i.person_id FROM person_identities i
                   WHERE i.account_id = $1 AND i.key = ANY($2::text[])
                     AND ($3::bigint[] IS NULL OR i.product_id = ANY($3::bigint[]))
                   ORDER BY 1""",
                account_id,
                keys,
                products,
            )
        ]
        if not people:
            return Erased(0, 0, 0)
        # lock the people first (in id order), so a concurrent write to them waits for the erasure
        locked = await tx.fetch(
            "SELECT id, product_id FROM devices WHERE account_id = $1 AND id = ANY($2::bigint[]) "
            "ORDER BY id FOR UPDATE",
            account_id,
            people,
        )
        their_products = sorted({row["product_id"] for row in locked})
        events = await tx.fetchval(
            "WITH gone AS (DELETE FROM events WHERE account_id = $1 AND device_id = ANY($2::bigint[]) RETURNING 1) "
            "SELECT count(*) FROM gone",
            account_id,
            people,
        )
        sessions = await tx.fetchval(
            "SELECT count(*) FROM sessions WHERE account_id = $1 AND device_id = ANY($2::bigint[])",
            account_id,
            people,
        )
        await tx.execute(
            "DELETE FROM report_run_rows WHERE account_id = $1 AND person_id = ANY($2::bigint[])",
            account_id,
            people,
        )
        restarted = await tx.fetchval(
            _EXPORTS_OF_ERASED, account_id, their_products, list(PERSON_EXPORT_KINDS)
        )
        # sessions, identities and property values go with their person (foreign keys ON DELETE CASCADE)
        await tx.execute(
            "DELETE FROM devices WHERE account_id = $1 AND id = ANY($2::bigint[])", account_id, people
        )
    return Erased(len(people), int(events or 0), int(sessions or 0), int(restarted or 0))
