"""`analytics-gateway seed`: reproducible data sets whose rollups agree with their raw rows."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

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
