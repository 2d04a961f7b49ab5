"""Erasing people: every row that identifies them, in every table, in one transaction.

A person is a row of `devices`; it identifies them, and so do the rows that point at it: sessions, events
(which carry no foreign key, migration 004), identities, property values, and the rows of people searches'
results (`report_run_rows`, no foreign key either). Deleting the person's `devices` row deletes its sessions,
identities and property values (their foreign keys cascade); events and people-search rows are deleted here.
The page index of event lists (`event_hours`) follows the deleted events through its trigger.

The rollups (`session_rollups`, `event_rollups`: sessions, users, events per bucket and metric value) are
anonymous counts and are left as they are: analytics totals do not change when a person is erased. Event and
property definitions (names and first/last use) stay too. Export files written before the erasure are files
the account downloaded or may download: they are not rewritten.

tests/adapters/followanalytics/test_gdpr.py finds every table with a person reference in PostgreSQL's catalog, so a table
added later that points at people without being erased here fails it.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.db.pool import Database

MAX_IDENTITIES = 10_000


@dataclass(frozen=True)
class Erased:
    people: int
    events: int
    sessions: int


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
        await tx.execute(
            "SELECT id FROM devices WHERE account_id = $1 AND id = ANY($2::bigint[]) ORDER BY id FOR UPDATE",
            account_id,
            people,
        )
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
        # sessions, identities and property values go with their person (foreign keys ON DELETE CASCADE)
        await tx.execute(
            "DELETE FROM devices WHERE account_id = $1 AND id = ANY($2::bigint[])", account_id, people
        )
    return Erased(len(people), int(events or 0), int(sessions or 0))
