"""`analytics-gateway seed`: reproducible data sets whose rollups agree with their raw rows."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from gateway.db.pool import Database
from tests.process import GATEWAY


def _seed(migrated: str, data_dir: Path, account: str) -> dict[str, object]:
    done = subprocess.run(
        [
            *GATEWAY,
            "seed",
            "--devices",
            "40",
            "--events",
            "600",
            "--products",
            "2",
            "--seed",
            "7",
            "--account",
            account,
            "--database-url",
            migrated,
            "--data-dir",
            str(data_dir),
        ],
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr.decode()
    assert b"%" in done.stderr  # the progress bar
    return dict(json.loads(done.stdout))


async def _shape(db: Database, account_id: int) -> list[tuple[object, ...]]:
    rows = await db.fetch(
        """SELECT d.device_key, e.key, e.count, e.sum, e.segmentation::text
           FROM events e JOIN devices d ON d.id = e.device_id
           WHERE e.account_id = $1 ORDER BY 1, 2, 3, 4, 5""",
        account_id,
    )
    return [tuple(row) for row in rows]


async def test_seed_is_reproducible_and_consistent(migrated: str, db: Database, tmp_path: Path) -> None:
    first = _seed(migrated, tmp_path, "seed-a")
    second = _seed(migrated, tmp_path, "seed-b")
    assert first["devices"] == 40 and first["events"] == 600 and len(first["product_ids"]) == 2  # type: ignore[arg-type]
    assert await _shape(db, first["account_id"]) == await _shape(db, second["account_id"])  # type: ignore[arg-type]

    account_id = first["account_id"]
    raw = await db.fetchrow(
        """SELECT (SELECT sum(count) FROM events WHERE account_id = $1) AS events,
                  (SELECT count(*) FROM sessions WHERE account_id = $1) AS sessions,
                  (SELECT sum(duration) FROM sessions WHERE account_id = $1) AS duration""",
        account_id,
    )
    rolled = await db.fetchrow(
        """SELECT (SELECT sum(c) FROM event_rollups WHERE account_id = $1 AND grain = 'y' AND seg_key = '') AS events,
                  (SELECT sum(t) FROM session_rollups WHERE account_id = $1 AND grain = 'y' AND dimension = '') AS sessions,
                  (SELECT sum(d) FROM session_rollups WHERE account_id = $1 AND grain = 'y' AND dimension = '') AS duration""",
        account_id,
    )
    rows = await db.fetchval("SELECT count(*) FROM events WHERE account_id = $1", account_id)
    assert rows == 600 and raw["sessions"] > 0
    assert dict(rolled) == dict(raw)
    for grain in ("h", "d", "w", "m"):
        per_grain = await db.fetchval(
            "SELECT sum(c) FROM event_rollups WHERE account_id = $1 AND grain = $2 AND seg_key = ''",
            account_id,
            grain,
        )
        assert per_grain == raw["events"], grain
    # every key's totals per bucket (migration 052) are the per-key rows summed
    totals = await db.fetch(
        "SELECT product_id, grain, bucket, c, s, dur FROM event_totals WHERE account_id = $1 ORDER BY 1, 2, 3",
        account_id,
    )
    summed = await db.fetch(
        """SELECT product_id, grain, bucket, sum(c)::bigint AS c, sum(s) AS s, sum(dur) AS dur FROM event_rollups
           WHERE account_id = $1 AND seg_key = '' GROUP BY 1, 2, 3 ORDER BY 1, 2, 3""",
        account_id,
    )
    assert len(totals) > 10 and [r[:4] for r in totals] == [r[:4] for r in summed]
    for total, expected in zip(totals, summed, strict=True):
        assert total["s"] == pytest.approx(expected["s"]) and total["dur"] == pytest.approx(expected["dur"])


async def test_seed_people_identities_properties_and_definitions(
    migrated: str, db: Database, tmp_path: Path
) -> None:
    """People get identities (aliases included) and properties by COPY; the definitions describe what was
    written: every event key and person property name, with totals and types that agree with the rows."""
    first = _seed(migrated, tmp_path, "seed-people-a")
    second = _seed(migrated, tmp_path, "seed-people-b")
    account_id = first["account_id"]
    assert first["identities"] == second["identities"] and first["properties"] == second["properties"]

    async def people(account: object) -> list[tuple[object, ...]]:
        rows = await db.fetch(
            """SELECT d.device_key, p.name, p.value::text, p.number, p.set_at
               FROM person_properties p JOIN devices d ON d.id = p.person_id
               WHERE p.account_id = $1 ORDER BY 1, 2""",
            account,
        )
        return [tuple(row) for row in rows]

    assert await people(account_id) == await people(second["account_id"])  # reproducible
    counts = await db.fetchrow(
        """SELECT (SELECT count(*) FROM devices WHERE account_id = $1) AS devices,
                  (SELECT count(*) FROM person_identities WHERE account_id = $1 AND kind = 'primary') AS primaries,
                  (SELECT count(*) FROM person_identities WHERE account_id = $1 AND kind = 'alias') AS aliases,
                  (SELECT count(*) FROM person_properties WHERE account_id = $1) AS properties""",
        account_id,
    )
    assert counts["primaries"] == counts["devices"] == 40
    assert 0 < counts["aliases"] < 40
    assert first["identities"] == counts["primaries"] + counts["aliases"]
    assert first["properties"] == counts["properties"]
    # every person has the common properties; an aliased one its email too, named by the alias
    common = await db.fetch(
        "SELECT name, count(*) AS n FROM person_properties WHERE account_id = $1 "
        "AND name IN ('plan', 'lifetime value', 'country') GROUP BY name",
        account_id,
    )
    assert {row["name"]: row["n"] for row in common} == {"plan": 40, "lifetime value": 40, "country": 40}
    mismatched = await db.fetchval(
        """SELECT count(*) FROM person_identities i
           LEFT JOIN person_properties p ON p.person_id = i.person_id AND p.name = 'email'
           WHERE i.account_id = $1 AND i.kind = 'alias' AND p.value #>> '{}' IS DISTINCT FROM i.identity""",
        account_id,
    )
    assert mismatched == 0

    # property definitions of people: one per name written, `number` exactly when every value reads as one
    definitions = await db.fetch(
        "SELECT product_id, name, data_type, first_seen, last_seen FROM property_definitions "
        "WHERE account_id = $1 AND scope = 'device'",
        account_id,
    )
    stored = await db.fetch(
        """SELECT product_id, name,
                  CASE WHEN bool_and(number IS NOT NULL) THEN 'number' ELSE 'string' END AS data_type,
                  min(set_at) AS first_seen, max(set_at) AS last_seen
           FROM person_properties WHERE account_id = $1 GROUP BY product_id, name""",
        account_id,
    )
    assert sorted(map(tuple, definitions)) == sorted(map(tuple, stored))
    types = {row["name"]: row["data_type"] for row in definitions}
    assert types["lifetime value"] == "number" and types["plan"] == "string"
    # event definitions: the common keys and rarer ones, each total the sum of its events' counts
    totals = await db.fetch(
        """SELECT d.name, d.total, (SELECT sum(e.count) FROM events e
                                     WHERE e.product_id = d.product_id AND e.key = d.name) AS summed
           FROM event_definitions d WHERE d.account_id = $1""",
        account_id,
    )
    assert totals and all(row["total"] == row["summed"] for row in totals)
    assert len({row["name"] for row in totals}) == await db.fetchval(
        "SELECT count(DISTINCT key) FROM events WHERE account_id = $1", account_id
    )
