"""The report run worker's people search: its rows, checked against the same search done in Python over random
people, events and properties, with chunks smaller than the product and other products' and accounts'
persons interleaved with its own (ids, events, properties)."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from gateway.background import report_runs
from gateway.background.report_runs import ReportRunWorker
from gateway.db.pool import Database
from tests.conftest import Tenant, new_tenant

KEYS = ("signed up", "purchase", "login")
NAMES = ("plan", "age", "city")
NOW = datetime(2026, 6, 1, tzinfo=UTC)
START, END = NOW - timedelta(days=10), NOW - timedelta(days=2)


class Person:
    def __init__(self, pk: int, key: str) -> None:
        self.pk, self.key = pk, key
        self.events: list[tuple[str, int, datetime]] = []
        self.properties: dict[str, Any] = {}


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _matches(criterion: dict[str, Any], person: Person) -> bool:
    if "event" in criterion:
        times = sum(c for k, c, at in person.events if k == criterion["event"] and START <= at < END)
        return times >= criterion["at_least"] if criterion["did"] else times < criterion["at_least"]
    value = person.properties.get(criterion["property"])
    text = None if value is None else str(value)
    op, wanted = criterion["op"], criterion.get("value")
    if op == "exists":
        return value is not None
    if op == "not_exists":
        return value is None
    if op == "equals":
        return text == wanted
    if op == "not_equals":
        return text != wanted
    if op == "contains":
        return text is not None and wanted in text
    if op == "not_contains":
        return not (text is not None and wanted in text)
    number = _number(value)
    compare = {"gt": float.__gt__, "gte": float.__ge__, "lt": float.__lt__, "lte": float.__le__}[op]
    return number is not None and compare(number, float(wanted))


def _cell(column: dict[str, Any], person: Person) -> Any:
    if "property" in column:
        return person.properties.get(column["property"])
    mine = [(c, at) for k, c, at in person.events if k == column["event"]]
    within = [(c, at) for c, at in mine if START <= at < END]
    if column["return"] == "total_times_ever":
        return sum(c for c, _ in mine)
    if column["return"] == "total_times":
        return sum(c for c, _ in within)
    return max((at for _, at in within), default=None)


def expected_rows(definition: dict[str, Any], people: list[Person]) -> list[list[Any]]:
    rows = []
    for person in sorted(people, key=lambda p: p.pk):
        found = [_matches(c, person) for c in definition["criteria"]]
        if definition["criteria"] and not (all(found) if definition["match"] == "all" else any(found)):
            continue
        rows.append([person.pk, person.key, *(_cell(c, person) for c in definition["columns"])])
    return rows


async def _people(
    db: Database, rng: random.Random, tenant: Tenant, products: list[int]
) -> dict[int, list[Person]]:
    """Persons of `products`, created alternately (their ids interleave), with events and properties."""
    people: dict[int, list[Person]] = {p: [] for p in products}
    for n in range(60):
        product = products[n % len(products)]
        key = f"person-{product}-{n}"
        pk = await db.fetchval(
            "INSERT INTO devices (account_id, product_id, device_key, first_seen, last_seen) "
            "VALUES ($1, $2, $3, $4, $4) RETURNING id",
            tenant.account_pk,
            product,
            key,
            NOW - timedelta(days=30),
        )
        person = Person(pk, key)
        for _ in range(rng.randrange(8)):
            at = NOW - timedelta(days=rng.uniform(0, 20))
            person.events.append((rng.choice(KEYS), rng.choice((1, 1, 2)), at))
        for name in NAMES:
            if rng.random() < 0.75:
                person.properties[name] = {
                    "plan": rng.choice(("free", "pro", "Pro team")),
                    "age": str(rng.randrange(15, 70)),
                    "city": rng.choice(("Paris", "Berlin", "Istanbul")),
                }[name]
        people[product].append(person)
        await db.executemany(
            "INSERT INTO events (account_id, product_id, device_id, key, count, occurred_at) "
            "VALUES ($1, $2, $3, $4, $5, $6)",
            [(tenant.account_pk, product, pk, k, c, at) for k, c, at in person.events],
        )
        await db.executemany(
            "INSERT INTO person_properties (account_id, product_id, person_id, name, value, number, set_at) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7)",
            [
                (tenant.account_pk, product, pk, name, value, _number(value), NOW)
                for name, value in person.properties.items()
            ],
        )
    return people


async def _run(db: Database, tenant: Tenant, definition: dict[str, Any]) -> list[list[Any]]:
    report = await db.fetchval(
        "INSERT INTO reports (account_id, product_id, name, type, definition) "
        "VALUES ($1, $2, 'search', 'people_search_v2', $3) RETURNING id",
        tenant.account_pk,
        tenant.product_pk,
        definition,
    )
    run = await db.fetchval(
        "INSERT INTO report_runs (account_id, report_id, product_id, definition, starts_at, ends_at) "
        "VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        tenant.account_pk,
        report,
        tenant.product_pk,
        definition,
        START,
        END,
    )
    worker = ReportRunWorker(db)
    # the gateway of other tests may claim it first: either way, it finishes
    for _ in range(400):
        status = await db.fetchval("SELECT status FROM report_runs WHERE id = $1", run)
        if status in ("finished", "failed"):
            break
        if not await worker.run_one():
            await asyncio.sleep(0.05)
    row = await db.fetchrow("SELECT status, error, total FROM report_runs WHERE id = $1", run)
    assert row["status"] == "finished", row
    rows = await db.fetch(
        "SELECT seq, cells FROM report_run_rows WHERE account_id = $1 AND run_id = $2 ORDER BY seq",
        tenant.account_pk,
        run,
    )
    assert [r["seq"] for r in rows] == list(range(len(rows))) and row["total"] == len(rows)
    cells = [list(r["cells"]) for r in rows]
    for cell_row in cells:  # `last` columns come back as JSON text
        for i, value in enumerate(cell_row):
            if isinstance(value, str) and value.startswith("20") and "T" in value:
                cell_row[i] = datetime.fromisoformat(value)
    return cells


DEFINITIONS = [
    {
        "match": "all",
        "criteria": [
            {"property": "age", "op": "gte", "value": 30},
            {"event": "purchase", "did": True, "at_least": 2},
        ],
        "columns": [
            {"event": "purchase", "return": "total_times_ever"},
            {"event": "purchase", "return": "total_times"},
            {"event": "purchase", "return": "last"},
            {"event": "login", "return": "last"},
            {"property": "plan"},
            {"property": "city"},
        ],
    },
    {
        "match": "any",
        "criteria": [
            {"event": "signed up", "did": False, "at_least": 1},
            {"property": "plan", "op": "contains", "value": "Pro"},
            {"property": "city", "op": "not_exists", "value": None},
        ],
        "columns": [{"event": "signed up", "return": "total_times"}, {"property": "age"}],
    },
    {
        "match": "all",
        "criteria": [
            {"property": "plan", "op": "not_equals", "value": "free"},
            {"property": "city", "op": "not_contains", "value": "in"},
            {"property": "age", "op": "lt", "value": 50},
        ],
        "columns": [],
    },
    {"match": "all", "criteria": [], "columns": [{"event": "login", "return": "total_times_ever"}]},
]


@pytest.mark.parametrize("definition", DEFINITIONS)
async def test_runs_find_what_the_search_says(
    db: Database, tenant: Tenant, monkeypatch: pytest.MonkeyPatch, definition: dict[str, Any]
) -> None:
    monkeypatch.setattr(report_runs, "CHUNK", 7)  # several chunks, the last one partial
    rng = random.Random(24)
    other_account = await new_tenant(db)
    second = await db.fetchval(
        "INSERT INTO products (account_id, name, app_key) VALUES ($1, 'second', md5(random()::text)) "
        "RETURNING id",
        tenant.account_pk,
    )
    people = await _people(db, rng, tenant, [tenant.product_pk, second])
    # another account's persons, events and properties in the same id range
    await _people(db, rng, other_account, [other_account.product_pk])
    found = await _run(db, tenant, definition)
    assert found == expected_rows(definition, people[tenant.product_pk])
    assert found  # the data set gives every definition some rows
