"""`shapes.TimeDocument` (columns) builds exactly what `shapes.time_document` (one object per bucket) builds.

Same nesting, same sums, same order of keys (compared as JSON text, which keeps it), on random buckets with
zero counts, float sums, repeated buckets and values that meet the document's own keys.
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from typing import Any

import pytest

from adapters.countly import shapes

SESSION_LETTERS = ("t", "n", "u", "d", "e")
VALUE_LETTERS = ("t", "n", "u")
EVENT_LETTERS = ("c", "s", "dur")
VALUES = ["DE", "1.0", "1:0", "5", "a.b", "x"]
# values named like a letter or a week: now and then, since they can make both ways fail
CLASHING = ["t", "w1", "u", "c"]


def _start(rng: random.Random, grain: str) -> datetime:
    moment = datetime(2025, 12, 20) + timedelta(days=rng.randint(0, 30), hours=rng.randint(0, 23))
    if grain == "h":
        return moment
    day = moment.replace(hour=0)
    if grain == "d":
        return day
    if grain == "w":
        year_day = day.timetuple().tm_yday
        return day - timedelta(days=(year_day - 1) % 7)
    if grain == "m":
        return day.replace(day=1)
    return day.replace(month=1, day=1)


def _amount(rng: random.Random, floats: bool) -> float | int:
    roll = rng.random()
    if roll < 0.2:
        return 0.0 if floats and roll < 0.1 else 0
    if floats:
        return rng.choice([rng.randint(1, 9) / 10 + rng.randint(0, 99), float(rng.randint(1, 50))])
    return rng.randint(1, 1000)


def _runs(
    rng: random.Random, events: bool, clashing: bool
) -> list[tuple[tuple[str, ...], list[tuple[str, datetime, Any, list]]]]:
    """Runs of buckets as the shim sends them: (letters, [(grain, start, value, amounts)])."""
    runs: list[tuple[tuple[str, ...], list[tuple[str, datetime, Any, list]]]] = []
    for _ in range(rng.randint(1, 4)):
        valued = rng.random() < 0.5
        letters = EVENT_LETTERS if events else (VALUE_LETTERS if valued else SESSION_LETTERS)
        rows = []
        for _ in range(rng.randint(0, 60)):
            grain = rng.choice("hdwmy" if not events else "hdmy")
            value = rng.choice(CLASHING + VALUES if clashing else VALUES) if valued else None
            floats = events and rng.random() < 0.7
            rows.append((grain, _start(rng, grain), value, [_amount(rng, floats) for _ in letters]))
        runs.append((letters, rows))
    return runs


def _former(runs: list[tuple[tuple[str, ...], list]], weeks_keep_u: bool) -> str:
    buckets = []
    for letters, rows in runs:
        for grain, start, value, amounts in rows:
            counts = dict(zip(letters, amounts, strict=True))
            if grain == "w" and weeks_keep_u:
                counts = {"u": counts["u"]}
            buckets.append(shapes.Bucket(grain, start, counts, value))
    return json.dumps(shapes.time_document(buckets))


def _columns(runs: list[tuple[tuple[str, ...], list]], weeks_keep_u: bool) -> str:
    builder = shapes.TimeDocument()
    for letters, rows in runs:
        grains = [row[0] for row in rows]
        starts = [row[1].isoformat() for row in rows]
        values = [row[2] for row in rows]
        columns = [[row[3][i] for row in rows] for i in range(len(letters))]
        builder.add(grains, starts, values, letters, columns, ("u",) if weeks_keep_u else None)
    return json.dumps(builder.document)


@pytest.mark.parametrize("seed", range(300))
def test_same_document_as_per_bucket_objects(seed: int) -> None:
    rng = random.Random(seed)
    events = seed % 3 == 0
    runs = _runs(rng, events, clashing=seed % 10 == 0)
    try:
        expected = _former(runs, weeks_keep_u=not events)
    except TypeError:
        # a letter added where a value of the same name made a node: both ways fail alike
        with pytest.raises(TypeError):
            _columns(runs, weeks_keep_u=not events)
        return
    assert _columns(runs, weeks_keep_u=not events) == expected


def test_one_column_per_letter() -> None:
    with pytest.raises(ValueError):
        shapes.TimeDocument().add(["d"], ["2026-01-01T00:00:00"], [None], ("t", "n"), [[1]])


def test_empty_and_zero_buckets_make_no_keys() -> None:
    builder = shapes.TimeDocument()
    builder.add([], [], [], SESSION_LETTERS, [[], [], [], [], []])
    builder.add(["d", "h"], ["2026-01-01T00:00:00"] * 2, [None, "x"], ("c",), [[0, 0.0]])
    assert builder.document == {}
