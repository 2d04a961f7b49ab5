"""Statements marked `KeptPlan` run with a kept generic plan, and the analytics trees' generic plans read
their rollups through the primary key (product, ..., grain, bucket): the only index migration 008 leaves them.
Through the former account indexes a generic plan read a whole account's rows, through the former keys index
every bucket ever stored."""

from __future__ import annotations

import asyncpg
import pytest

from gateway.db.pool import Database, KeptPlan, start_counting
from resolvers.analytics import tree_sql
from resolvers.web import sql as web_sql

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


async def _generic_plan(migrated: str, statement: str | KeptPlan, types: str) -> str:
    """The generic plan PostgreSQL keeps for a `KeptPlan` statement (prepared with these parameter types)."""
    assert isinstance(statement, KeptPlan)
    conn = await asyncpg.connect(migrated)
    try:
        # the test tables are small enough for a sequential scan to win; the plan of a large one is wanted
        await conn.execute("SET enable_seqscan = off")
        await conn.execute(f"PREPARE kept ({types}) AS {statement.text}")
        await conn.execute("SET plan_cache_mode = force_generic_plan")
        params = ", ".join("NULL" for _ in types.split(","))
        return "\n".join(r[0] for r in await conn.fetch(f"EXPLAIN EXECUTE kept ({params})"))
    finally:
        await conn.close()


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
    plan = await _generic_plan(migrated, *TREES[table])
    # (whether the bucket range is an index condition depends on the join order, which the table sizes decide)
    # (a bitmap scan of the primary key, as the planner picks for a table of a few rows, reads as narrowly)
    lines = plan.splitlines()
    scans = [line for line in lines if f" on {table} r" in line]
    assert scans, plan
    for line in scans:
        assert f"Index Scan using {table}_pkey on {table}" in line or "Bitmap Heap Scan" in line, plan
    bitmaps = [line for line in lines if f"Bitmap Index Scan on {table}" in line]
    assert all(f"Bitmap Index Scan on {table}_pkey" in line for line in bitmaps), plan


WEB_PERIOD = "bigint, bigint[], timestamptz, timestamptz, bigint[], bigint[], text[], text[]"
WEB_STATEMENTS = {
    **{
        f"totals-{paths.value}-{grain}": (web_sql.totals(paths, grain), WEB_PERIOD)
        for paths in web_sql.Paths
        for grain in "hd"
    },
    **{
        f"pages-{paths.value}-{grain}{'-months' * months}": (
            web_sql.pages(paths, grain, months=months),
            f"{WEB_PERIOD}, text, bigint, bigint",
        )
        for paths in web_sql.Paths
        for grain in "hd"
        for months in (False, True)
    },
    **{
        f"values-{paths.value}{'-months' * months}": (
            web_sql.dimension_values(paths, "referrer", months),
            f"{WEB_PERIOD}, bigint, bigint",
        )
        for paths in web_sql.Paths
        for months in (False, True)
    },
    **{
        f"details-{paths.value}{'-months' * months}": (
            web_sql.dimension_details(paths, "browser", months),
            f"{WEB_PERIOD}, bigint, bigint, text",
        )
        for paths in web_sql.Paths
        for months in (False, True)
    },
    **{
        f"referrer-paths{'-months' * months}": (
            web_sql.referrer_paths(months),
            f"{WEB_PERIOD}, bigint, bigint, text",
        )
        for months in (False, True)
    },
}


@pytest.mark.parametrize("name", sorted(WEB_STATEMENTS))
async def test_generic_web_plans_read_rollups_through_an_index(migrated: str, name: str) -> None:
    """The web statements' generic plans read `web_rollups` through an index, within the caller's account (never
    the whole table). Which of the key's columns bound the range depends on the tables' sizes; on the 10M-pageview
    bench set the generic plans were measured as fast as the plans made for their values."""
    plan = await _generic_plan(migrated, *WEB_STATEMENTS[name])
    lines = plan.splitlines()
    reads = [line for line in lines if " on web_rollups r" in line]
    assert reads, plan
    for line in reads:
        assert "Index Scan using web_rollups_" in line or "Bitmap Heap Scan" in line, plan
    for n, line in enumerate(lines):
        if " using web_rollups_" in line or "Bitmap Index Scan on web_rollups_" in line:
            assert "Index Cond: ((account_id = $1)" in lines[n + 1], plan
