"""Statements marked `KeptPlan` run with a kept generic plan, and the analytics trees' generic plans read
their rollups through the primary key (product, ..., grain, bucket): the only index migration 008 leaves them.
Through the former account indexes a generic plan read a whole account's rows, through the former keys index
every bucket ever stored."""

from __future__ import annotations

import asyncpg
import pytest

from gateway.db.pool import Database, KeptPlan, start_counting
from resolvers.analytics import tree_sql

SETTING = "SELECT current_setting('plan_cache_mode')"


async def test_kept_plan_statements_run_on_sessions_that_keep_generic_plans(db: Database) -> None:
    counter = start_counting()
    assert await db.fetchval(SETTING) == "auto"
    assert await db.fetchval(KeptPlan(SETTING)) == "force_generic_plan"
    assert (await db.fetchrow(KeptPlan(SETTING)))[0] == "force_generic_plan"  # type: ignore[index]
    assert [r[0] for r in await db.fetch(KeptPlan(SETTING))] == ["force_generic_plan"]
    assert await db.execute(KeptPlan("SELECT 1")) == "SELECT 1"
    assert counter.count == 5  # counted like any statement


async def test_a_database_of_one_pool_runs_kept_plans_on_it(migrated: str) -> None:
    pool = await asyncpg.create_pool(migrated, min_size=1, max_size=1)
    assert pool is not None
    try:
        assert await Database(pool).fetchval(KeptPlan(SETTING)) == "auto"
    finally:
        await pool.close()


# one parameter list per statement: types for PREPARE, then values
TREES = {
    "session_rollups": (
        tree_sql.SESSION_ROLLUP_TREE,
        "bigint, bigint[], timestamptz, timestamptz, bpchar[], bpchar[], text[]",
    ),
    "event_rollups": (
        tree_sql.EVENT_ROLLUP_TREE,
        "bigint, bigint[], timestamptz, timestamptz, bpchar[], text[], text",
    ),
}


@pytest.mark.parametrize("table", sorted(TREES))
async def test_generic_tree_plans_read_rollups_through_the_primary_key(migrated: str, table: str) -> None:
    statement, types = TREES[table]
    assert isinstance(statement, KeptPlan)
    conn = await asyncpg.connect(migrated)
    try:
        # the test tables are small enough for a sequential scan to win; the plan of a large one is wanted
        await conn.execute("SET enable_seqscan = off")
        await conn.execute(f"PREPARE tree ({types}) AS {statement.text}")
        await conn.execute("SET plan_cache_mode = force_generic_plan")
        params = ", ".join("NULL" for _ in types.split(","))
        plan = "\n".join(r[0] for r in await conn.fetch(f"EXPLAIN EXECUTE tree ({params})"))
    finally:
        await conn.close()
    # (whether the bucket range is an index condition depends on the join order, which the table sizes decide)
    scans = [line for line in plan.splitlines() if f" on {table} r" in line]
    assert scans, plan
    for line in scans:
        assert f"Index Scan using {table}_pkey on {table}" in line, plan
