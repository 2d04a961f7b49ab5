"""jsonb values and timestamps reach PostgreSQL the same way whether sent by asyncpg or inside a JSON text."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest

from gateway.db.pool import Database, _jsonb_encode

VALUES: list[Any] = [
    {"plan": "pro", "n": 3, "price": 9.99, "ok": True, "none": None},
    {"tiny": 1e-7, "big": 1e16, "neg": -0.0, "exp": 2.5e-5, "i": 2**63 - 1},
    {"huge": 2**70, "list": [1, "two", [3.5, {"four": None}]]},
    {"unicode": "é\u2028😀", "quote": '"<&>', "nul-free": "a\tb\nc"},
    [],
    {},
    "plain text",
    42,
]


@pytest.mark.parametrize("value", VALUES)
async def test_values_round_trip_as_json_dumps_writes_them(db: Database, value: Any) -> None:
    stored = await db.fetchval("SELECT $1::jsonb", value)
    expected = await db.fetchval(
        "SELECT $1::text::jsonb", json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    )
    assert stored == expected
    assert json.loads(json.dumps(stored)) == json.loads(json.dumps(value))


@pytest.mark.parametrize("value", [{"x": math.nan}, {"x": math.inf}, [-math.inf]])
async def test_nan_and_infinities_are_refused_as_before(db: Database, value: Any) -> None:
    assert b"NaN" in _jsonb_encode(value) or b"Infinity" in _jsonb_encode(value)
    with pytest.raises(asyncpg.PostgresError):
        await db.fetchval("SELECT $1::jsonb", value)


def test_what_json_cannot_write_is_refused_as_before() -> None:
    with pytest.raises(TypeError):
        _jsonb_encode({"at": datetime(2026, 1, 1, tzinfo=UTC)})
    assert _jsonb_encode({1: "a"}) == b'\x01{"1":"a"}'  # json's way with a non-str key


async def test_sessions_read_timestamps_without_offset_as_utc_like_asyncpg(db: Database) -> None:
    naive = datetime(2026, 1, 1, 12, 0)
    assert await db.fetchval("SHOW TimeZone") == "UTC"
    as_text = await db.fetchval("SELECT $1::text::timestamptz", naive.isoformat())
    assert as_text == await db.fetchval("SELECT $1::timestamptz", naive) == naive.replace(tzinfo=UTC)
