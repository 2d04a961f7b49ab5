"""The dashboard's periods (`static/dashboard/time.js`, run by Node): when the chart's buckets lie wholly inside
a period, the overview sums the period's events from them and asks the server only for the previous period's;
months that reach outside a custom range must not be summed."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

TIME_JS = Path(__file__).parents[2] / "gateway" / "http" / "static" / "dashboard" / "time.js"
NOW = "Date.UTC(2026, 11, 7, 12)"  # 7 December 2026


def periods(*params: dict[str, str]) -> list[dict[str, object]]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed")
    script = (
        f"import {{ periodOf }} from {json.dumps(TIME_JS.as_uri())};"
        f"const out = {json.dumps(list(params))}.map((p) => periodOf(p, 'Europe/Berlin', {NOW}));"
        "console.log(JSON.stringify(out.map((r) => ({ grain: r.grain, wholeBuckets: r.wholeBuckets }))));"
    )
    done = subprocess.run(
        [node, "--no-warnings", "--input-type=module", "-e", script],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return list(json.loads(done.stdout))


def test_the_chart_buckets_tile_the_presets_and_aligned_ranges_only() -> None:
    found = periods(
        {"period": "today"},
        {"period": "7d"},
        {"period": "30d"},
        {"period": "12m"},
        {"period": "custom", "from": "2026-12-01", "to": "2026-12-02"},
        {"period": "custom", "from": "2026-03-03", "to": "2026-07-30"},
        {"period": "custom", "from": "2026-05-10", "to": "2026-12-07"},
        {"period": "custom", "from": "2026-05-01", "to": "2026-11-30"},
        {"period": "custom", "from": "2026-05-01", "to": "2026-12-07"},
    )
    assert found == [
        {"grain": "HOUR", "wholeBuckets": True},
        {"grain": "DAY", "wholeBuckets": True},
        {"grain": "DAY", "wholeBuckets": True},
        {"grain": "MONTH", "wholeBuckets": True},
        {"grain": "HOUR", "wholeBuckets": True},
        {"grain": "DAY", "wholeBuckets": True},
        # months: only when the range starts on a 1st and ends on a month's last day
        {"grain": "MONTH", "wholeBuckets": False},
        {"grain": "MONTH", "wholeBuckets": True},
        {"grain": "MONTH", "wholeBuckets": False},
    ]
