"""The report run worker: carries out people searches (`people_search_v2` runs started through the graph).

Runs are jobs of `gateway.background.jobs` (any process claims them; they survive a restart). A run walks the
product's people in id order, CHUNK at a time, and each chunk is ONE statement that reads the chunk's events
(aggregated per person and requested event) and property values (pivoted per person), applies the criteria and
inserts the matching people's rows into report_run_rows: no per-person round trip, nothing held in Python, and
the progress moves after every chunk. The definition is the normalised one (resolvers/people/search.py);
names and values reach SQL as parameters only.
"""

from __future__ import annotations

from typing import Any

from gateway.background.jobs import JobContext, JobQueue, JobWorker

CHUNK = 10_000
POLL_SECONDS = 2.0
STALE_SECONDS = 30.0
REPORT_RUNS = JobQueue(
    table="report_runs",
    channel="report_runs",
    columns="id, account_id, product_id, definition, starts_at, ends_at",
    failure="The run failed ({})",
)
_TEXT = "#>> ARRAY[]::text[]"
_NUMBER_OPS = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}


class _Params:
    """Positional parameters of the statement being built, after the fixed ones."""

    def __init__(self, first: int) -> None:
        self.values: list[Any] = []
        self.first = first

    def add(self, value: Any, cast: str) -> str:
        self.values.append(value)
        return f"${self.first + len(self.values) - 1}::{cast}"


def chunk_sql(definition: dict[str, Any]) -> tuple[str, list[Any]]:
    """The statement that searches one chunk of people, and its parameters after the fixed eight:
    $1 account, $2 product, $3 the last person id of the previous chunk, $4 CHUNK, $5/$6 the run's dates,
    $7 the run, $8 the first row number of this chunk."""
    criteria = definition.get("criteria", [])
    columns = definition.get("columns", [])
    keys = list(dict.fromkeys([c["event"] for c in criteria + columns if "event" in c]))
    names = list(dict.fromkeys([c["property"] for c in criteria + columns if "property" in c]))
    params = _Params(9)
    in_range = "e.occurred_at >= $5 AND e.occurred_at < $6"
    event_aggregates = []
    for i, key in enumerate(keys):
        k = params.add(key, "text")
        event_aggregates += [
            f"sum(e.count) FILTER (WHERE e.key = {k}) AS ever_{i}",
            f"sum(e.count) FILTER (WHERE e.key = {k} AND {in_range}) AS range_{i}",
            f"max(e.occurred_at) FILTER (WHERE e.key = {k} AND {in_range}) AS last_{i}",
        ]
    property_aggregates = []
    for j, name in enumerate(names):
        n = params.add(name, "text")
        property_aggregates += [
            f"(array_agg(p.value) FILTER (WHERE p.name = {n}))[1] AS value_{j}",
            f"min(p.value {_TEXT}) FILTER (WHERE p.name = {n}) AS text_{j}",
            f"max(p.number) FILTER (WHERE p.name = {n}) AS number_{j}",
        ]

    conditions = []
    for criterion in criteria:
        if "event" in criterion:
            i = keys.index(criterion["event"])
            comparison = ">=" if criterion["did"] else "<"
            conditions.append(
                f"COALESCE(ev.range_{i}, 0) {comparison} {params.add(criterion['at_least'], 'bigint')}"
            )
            continue
        j = names.index(criterion["property"])
        op, value = criterion["op"], criterion.get("value")
        if op == "exists":
            conditions.append(f"pp.value_{j} IS NOT NULL")
        elif op == "not_exists":
            conditions.append(f"pp.value_{j} IS NULL")
        elif op == "equals":
            conditions.append(f"COALESCE(pp.text_{j} = {params.add(value, 'text')}, false)")
        elif op == "not_equals":
            conditions.append(f"pp.text_{j} IS DISTINCT FROM {params.add(value, 'text')}")
        elif op == "contains":
            conditions.append(f"COALESCE(strpos(pp.text_{j}, {params.add(value, 'text')}) > 0, false)")
        elif op == "not_contains":
            conditions.append(f"NOT COALESCE(strpos(pp.text_{j}, {params.add(value, 'text')}) > 0, false)")
        else:
            conditions.append(
                f"COALESCE(pp.number_{j} {_NUMBER_OPS[op]} {params.add(value, 'float8')}, false)"
            )
    joiner = " AND " if definition.get("match", "all") == "all" else " OR "
    where = joiner.join(f"({c})" for c in conditions) if conditions else "true"

    # the cells after KMID and Person (the person's key is read for the people found only)
    cells = []
    for column in columns:
        if "event" in column:
            i = keys.index(column["event"])
            cells.append(
                {
                    "total_times_ever": f"COALESCE(ev.ever_{i}, 0)",
                    "total_times": f"COALESCE(ev.range_{i}, 0)",
                    "last": f"ev.last_{i}",
                }[column["return"]]
            )
        else:
            cells.append(f"pp.value_{names.index(column['property'])}")

    ctes = [
        # the run's dates, typed here: a search without event criteria or columns reads them nowhere else
        "dates AS (SELECT $5::timestamptz AS starts_at, $6::timestamptz AS ends_at)",
        # the chunk's persons: their ids alone, in the order of the product's index of them
        """persons AS MATERIALIZED (
            SELECT d.id FROM devices AS d
            WHERE d.account_id = $1 AND d.product_id = $2 AND d.id > $3 ORDER BY d.id LIMIT $4
        ), bounds AS MATERIALIZED (SELECT min(id) AS lo, max(id) AS hi, count(*) AS n FROM persons)""",
    ]
    joins = ""
    if keys:
        all_keys = params.add(keys, "text[]")
        # each person's events, through the chunk's persons (devices of this account and product): the key
        # and count are in the index of a device's events (migration 028), so this reads that index alone
        ctes.append(
            f"""ev AS (
            SELECT e.device_id, {", ".join(event_aggregates)}
            FROM persons AS s JOIN events AS e ON e.device_id = s.id
            WHERE e.key = ANY({all_keys})
            GROUP BY e.device_id)"""
        )
        joins += " LEFT JOIN ev ON ev.device_id = s.id"
    if names:
        all_names = params.add(names, "text[]")
        ctes.append(
            f"""pp AS (
            SELECT p.person_id, {", ".join(property_aggregates)}
            FROM bounds AS b JOIN person_properties AS p
              ON p.account_id = $1 AND p.person_id BETWEEN b.lo AND b.hi
            WHERE p.source = 'global' AND p.name = ANY({all_names})
            GROUP BY p.person_id)"""
        )
        joins += " LEFT JOIN pp ON pp.person_id = s.id"
    sql = f"""
        WITH {", ".join(ctes)}, found AS (
            SELECT s.id, jsonb_build_array({", ".join(cells)}) AS cells
            FROM persons AS s{joins}
            WHERE {where}
        ), written AS (
            INSERT INTO report_run_rows (account_id, run_id, seq, person_id, person, cells)
            SELECT $1, $7, $8 + row_number() OVER (ORDER BY f.id) - 1, f.id, d.device_key,
                   jsonb_build_array(f.id, d.device_key) || f.cells
            FROM found AS f JOIN devices AS d ON d.id = f.id AND d.account_id = $1
            RETURNING 1
        )
        SELECT b.n AS persons, b.hi AS last_id, (SELECT count(*) FROM written) AS found FROM bounds AS b"""
    return sql, params.values


class ReportRunWorker(JobWorker):
    """Runs pending report runs in the background of a gateway process."""

    queue = REPORT_RUNS
    poll_seconds = POLL_SECONDS
    stale_seconds = STALE_SECONDS

    async def _run(self, job: JobContext) -> None:
        row = job.row
        account, product = row["account_id"], row["product_id"]
        sql, values = chunk_sql(row["definition"])
        people = await self.db.fetchval(
            "SELECT count(*) FROM devices WHERE account_id = $1 AND product_id = $2", account, product
        )
        # a run taken over from a stopped worker starts again from scratch
        await self.db.execute(
            "DELETE FROM report_run_rows WHERE account_id = $1 AND run_id = $2", account, job.id
        )
        last_id, done, found = 0, 0, 0
        while True:
            chunk = await self.db.fetchrow(
                sql,
                account,
                product,
                last_id,
                CHUNK,
                row["starts_at"],
                row["ends_at"],
                job.id,
                found,
                *values,
            )
            assert chunk is not None
            if not chunk["persons"]:
                break
            last_id, done, found = chunk["last_id"], done + chunk["persons"], found + chunk["found"]
            await job.progress(done / people if people else 1.0, total=found)
        await job.finish(total=found)
