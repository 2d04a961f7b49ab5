"""The letters each totals rollup row keeps (migration 009) are the text the calendar trees write for summed rows."""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta

from gateway.db.pool import Database
from resolvers.analytics.tree_sql import EVENT_LETTERS, SESSION_LETTERS
from tests.conftest import Tenant

SESSION_COUNTS = [0, 0, 1, 7, 86_400, 2**40, -3]
EVENT_AMOUNTS = [
    0.0,
    0.0,
    -0.0,
    1.0,
    2.5,
    -7.25,
    1e-7,
    0.1 + 0.2,
    2.0**53 - 1,
    2.0**53,
    2.0**60,
    1e300,
    math.inf,
]


async def test_session_rows_keep_the_letters_the_trees_write(db: Database, tenant: Tenant) -> None:
    rng = random.Random(9)
    start = datetime(2026, 3, 1)
    for n in range(400):
        grain = "hw"[n] if n < 2 else rng.choice("hdwmy")  # the first two: nothing to write
        dimension, value = (
            ("", "") if n < 2 else rng.choice([("", ""), ("", ""), ("os", "Android"), ("country", "TR")])
        )
        await db.execute(
            """INSERT INTO session_rollups (account_id, product_id, dimension, grain, bucket, value, t, n, u, d, e)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)""",
            tenant.account_pk,
            tenant.product_pk,
            dimension,
            grain,
            start + timedelta(hours=n),
            value,
            *(rng.choice(SESSION_COUNTS) if n >= 2 else 0 for _ in range(5)),
        )
    # an update (as the ingestion's upserts do) writes them again
    updated = await db.execute(
        "UPDATE session_rollups SET u = u + 1, e = 0 WHERE product_id = $1 AND t = 0 AND n <> 0",
        tenant.product_pk,
    )
    assert int(updated.split()[1]) > 10
    rows = await _stored_and_written(db, "session_rollups", "dimension", SESSION_LETTERS, tenant.product_pk)
    assert [written for _, _, written in rows[:2]] == ["", None]  # an hour of zeros, a week without users
    assert sum(1 for totals, _, _ in rows if totals) > 150


async def test_event_rows_keep_the_letters_the_trees_write(db: Database, tenant: Tenant) -> None:
    rng = random.Random(11)
    start = datetime(2026, 3, 1)
    for n in range(400):
        seg_key, seg_value = ("", "") if n == 0 else rng.choice([("", ""), ("", ""), ("plan", "pro")])
        await db.execute(
            """INSERT INTO event_rollups (account_id, product_id, key, seg_key, grain, bucket, seg_value, c, s, dur)
               VALUES ($1, $2, 'k', $3, $4, $5, $6, $7, $8, $9)""",
            tenant.account_pk,
            tenant.product_pk,
            seg_key,
            rng.choice("hdmy"),
            start + timedelta(hours=n),
            seg_value,
            rng.choice(SESSION_COUNTS) if n else 0,
            rng.choice(EVENT_AMOUNTS) if n else 0.0,
            rng.choice([*EVENT_AMOUNTS, math.nan]) if n else -0.0,
        )
    updated = await db.execute(
        "UPDATE event_rollups SET s = s + 0.5 WHERE product_id = $1 AND c = 7 AND s = 0", tenant.product_pk
    )
    assert int(updated.split()[1]) > 5
    rows = await _stored_and_written(db, "event_rollups", "seg_key", EVENT_LETTERS, tenant.product_pk)
    assert rows[0][2] == ""  # zeros (one of them -0.0)
    assert sum(1 for totals, _, _ in rows if totals) > 150
    assert any("NaN" in (written or "") for _, _, written in rows)


async def _stored_and_written(
    db: Database, table: str, part: str, letters: str, product: int
) -> list[tuple[bool, str | None, str | None]]:
    """(totals row?, letters stored, letters the trees write) per row in bucket order, after checking that
    totals rows store what the trees write and the others (`part` not '') store nothing."""
    rows = [
        (row["part"] == "", row["letters"], row["written"])
        for row in await db.fetch(
            f"SELECT {part} AS part, letters, {letters} AS written FROM {table} WHERE product_id = $1 "
            "ORDER BY bucket",
            product,
        )
    ]
    assert [stored for totals, stored, _ in rows if totals] == [
        written for totals, _, written in rows if totals
    ]
    assert all(stored is None for totals, stored, _ in rows if not totals)
    return rows
