"""`/o` time documents, nested by PostgreSQL (`rollupTree`, `eventRollupTree`), hold what the per-bucket rows hold.

The shim used to read `rollups` / `eventRollups` (one object per bucket) and nest the rows in Python; the
reference below is that former code path, kept here, with one rule changed on purpose: a metric value named
like a time key of the same node (`"5"` beside the hour `"5"`, `"1"` beside the month `"1"`) gives way to the
time key (the former code summed the value's letters into the hour, or failed). Random stored rollups (every
grain, zero counts, float sums, values with dots and colons, values named like letters, hours and weeks) in
several time zones are read both ways and compared as JSON values: key order is free in JSON, and float sums
may differ in their last bit when PostgreSQL adds them in another order.
"""

from __future__ import annotations

import json
import math
import random
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import aiohttp
import pytest

from adapters.countly import documents, replies, shapes
from adapters.countly.params import CountlyRequest
from adapters.countly.periods import local_now
from gateway.access.tokens import principal_for_token
from gateway.db.pool import Database
from gateway.ingest.buckets import week_start
from gateway.state import STATE_KEY
from resolvers.context import Context
from tests.adapters.countly.helpers import get
from tests.conftest import Server, Tenant, new_tenant

GRAIN_LETTERS = {"YEAR": "y", "MONTH": "m", "WEEK": "w", "DAY": "d", "HOUR": "h"}


@dataclass(frozen=True)
class Bucket:
    """One rollup row: grain (`h d w m y`), local bucket start, segment value (None = totals) and counts."""

    grain: str
    start: datetime
    counts: Mapping[str, float]
    value: str | None = None


def _path(bucket: Bucket) -> list[str]:
    start = bucket.start
    year = str(start.year)
    week = f"w{math.ceil(start.timetuple().tm_yday / 7)}"
    return {
        "y": [year],
        "w": [year, week],
        "m": [year, str(start.month)],
        "d": [year, str(start.month), str(start.day)],
        "h": [year, str(start.month), str(start.day), str(start.hour)],
    }[bucket.grain]


def time_document(buckets: Iterable[Bucket]) -> dict[str, Any]:
    """The nested document of the buckets: zero counts left out, buckets reaching the same key summed; in a
    node, a value named like a letter replaces the letter, a time key replaces a value named like it."""
    document: dict[Any, Any] = {}
    for bucket in buckets:
        counts = {letter: amount for letter, amount in bucket.counts.items() if amount}
        if not counts:
            continue
        node = document
        for key in _path(bucket):
            node = node.setdefault(key, {})
        if bucket.value is not None:
            node = node.setdefault(("value", shapes.clean_value(bucket.value)), {})
        for letter, amount in counts.items():
            node[letter] = node.get(letter, 0) + amount
    return _settled(document)


def _settled(node: dict[Any, Any]) -> dict[str, Any]:
    letters = {key: shapes.number(v) for key, v in node.items() if not isinstance(v, dict)}
    values = {key[1]: _settled(v) for key, v in node.items() if isinstance(key, tuple)}
    times = {key: _settled(v) for key, v in node.items() if isinstance(key, str) and isinstance(v, dict)}
    return {**letters, **values, **times}


def same_json(found: Any, expected: Any, where: str = "") -> None:
    """Equal JSON values; floats equal to 1e-9 relative."""
    if isinstance(expected, dict):
        assert isinstance(found, dict) and found.keys() == expected.keys(), where
        for key, value in expected.items():
            same_json(found[key], value, f"{where}/{key}")
    elif isinstance(expected, float) or isinstance(found, float):
        assert math.isclose(found, expected, rel_tol=1e-9), (where, found, expected)
    else:
        assert found == expected, (where, found, expected)


# the operations the shim ran before the columnar fields
OLD_ROLLUPS = """
query CountlyRollups($id: ID!, $since: DateTime!, $until: DateTime!, $grains: [Granularity!],
                     $valueGrains: [Granularity!], $metrics: [Metric!], $totals: Boolean!) {
  node(id: $id) { ... on Product { analytics {
    totals: rollups(since: $since, until: $until, grains: $grains, metrics: [], totals: $totals) { ...Bucket }
    values: rollups(since: $since, until: $until, grains: $valueGrains, metrics: $metrics, totals: false) {
      ...Bucket
    }
  } } }
}
fragment Bucket on RollupBucket {
  grain bucket metric value sessions newUsers uniqueUsers duration requests
}
"""
OLD_EVENT_ROLLUPS = """
query CountlyEventRollups($id: ID!, $keys: [String!]!, $since: DateTime!, $until: DateTime!,
                          $grains: [Granularity!], $segmentation: String) {
  node(id: $id) { ... on Product { analytics {
    eventRollups(keys: $keys, since: $since, until: $until, grains: $grains, segmentation: $segmentation) {
      key grain bucket segment count sum duration
    }
  } } }
}
"""
OLD_CATALOG = """
query CountlyEventKeys($id: ID!) {
  node(id: $id) { ... on Product {
    eventDefinitions(first: 100) { nodes { name visible } }
    analytics { eventKeys { key segmentations { key values } } }
  } }
}
"""

ZONES = ["UTC", "America/New_York", "Asia/Kathmandu", "Pacific/Kiritimati"]
PERIODS: list[dict[str, Any]] = [
    {"period": "30days"},
    {"period": "7days"},
    {"period": "60days"},
    {"period": "month"},
    {"period": "day"},
    {"period": "yesterday"},
    {"period": "hour"},
    {"action": "refresh"},
    {},
]
SESSION_METHODS = ["sessions", "users", "locations", "devices", "carriers", "device_details", "app_versions"]
# values that collide after `:` replaces dots, or with the keys of the document (letters, hours, weeks)
VALUES = ["DE", "US", "1.0", "1:0", "t", "5", "w1", "a.b.c", "<b>&'\""]
DIMENSIONS = ["", "country", "device", "carrier", "os", "os_version", "resolution", "app_version"]
EVENT_KEYS = ["[CLY]_view", "purchase", "lo.gin"]


def _starts(rng: random.Random, grain: str, today: datetime, count: int) -> set[datetime]:
    """Random bucket starts of a grain within about two years before today (and a little after)."""
    found: set[datetime] = set()
    for _ in range(count):
        moment = today - timedelta(days=rng.randint(-2, 760), hours=rng.randint(0, 23))
        if grain == "h":
            found.add(moment.replace(minute=0))
        elif grain == "d":
            found.add(moment.replace(hour=0, minute=0))
        elif grain == "w":
            found.add(week_start(moment.replace(hour=0, minute=0)))
        elif grain == "m":
            found.add(moment.replace(day=1, hour=0, minute=0))
        else:
            found.add(moment.replace(month=1, day=1, hour=0, minute=0))
    return found


def _amount(rng: random.Random) -> int:
    return 0 if rng.random() < 0.15 else rng.randint(1, 5000)


async def _seed(db: Database, tenant: Tenant, timezone: str, seed: int) -> None:
    rng = random.Random(seed)
    today = local_now(timezone).replace(hour=0, minute=0, second=0, microsecond=0)
    counts = {"h": 900, "d": 300, "w": 60, "m": 20, "y": 4}
    session_rows = []
    for dimension in DIMENSIONS:
        for grain, count in counts.items():
            for start in _starts(rng, grain, today, count if dimension == "" else count // 3):
                values = [""] if dimension == "" else rng.sample(VALUES, rng.randint(1, 4))
                for value in values:
                    amounts = [_amount(rng) for _ in range(5)]
                    if dimension:
                        amounts[3:] = [0, 0]
                    session_rows.append((dimension, value, grain, start, *amounts))
    await db.execute(
        "INSERT INTO session_rollups (account_id, product_id, dimension, value, grain, bucket, t, n, u, d, e) "
        "SELECT $1, $2, d.* FROM unnest($3::text[], $4::text[], $5::text[], $6::timestamp[], $7::bigint[], "
        "$8::bigint[], $9::bigint[], $10::bigint[], $11::bigint[]) AS d",
        tenant.account_pk,
        tenant.product_pk,
        *(list(column) for column in zip(*session_rows, strict=True)),
    )
    event_rows = []
    for key in EVENT_KEYS:
        for seg_key, seg_values in (
            ("", [""]),
            ("plan", ["free", "pro.1", "pro:1", "t"]),
            ("level", ["1", "2"]),
        ):
            for grain, count in counts.items():
                for start in _starts(rng, grain, today, count // 2):
                    for seg_value in rng.sample(seg_values, rng.randint(1, len(seg_values))):
                        c = _amount(rng)
                        total = sum(rng.randint(0, 999) / 100 for _ in range(rng.randint(0, 4)))
                        duration = 0.0 if rng.random() < 0.3 else rng.random() * 1000
                        event_rows.append((key, seg_key, seg_value, grain, start, c, total, duration))
    await db.execute(
        "INSERT INTO event_rollups (account_id, product_id, key, seg_key, seg_value, grain, bucket, c, s, dur) "
        "SELECT $1, $2, d.* FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::timestamp[], "
        "$8::bigint[], $9::float8[], $10::float8[]) AS d",
        tenant.account_pk,
        tenant.product_pk,
        *(list(column) for column in zip(*event_rows, strict=True)),
    )
    for index, key in enumerate(EVENT_KEYS):
        await db.execute(
            "INSERT INTO event_definitions (account_id, product_id, name, first_used) "
            "VALUES ($1, $2, $3, now() + $4 * interval '1 second')",
            tenant.account_pk,
            tenant.product_pk,
            key,
            index,
        )


# -- the former path: per-bucket objects reshaped by time_document (above) --------------------------------------------


class Former:
    """Runs the former operations in process, as the tenant, and reshapes their rows the former way."""

    def __init__(self, server: Server, db: Database, tenant: Tenant, timezone: str) -> None:
        self.server, self.db, self.tenant, self.timezone = server, db, tenant, timezone

    async def query(self, document: str, variables: dict[str, Any]) -> dict[str, Any]:
        state = self.server.app[STATE_KEY]
        principal = await principal_for_token(self.db, self.tenant.token)
        context = Context(db=state.db, principal=principal, limits=state.settings.limits)
        result = await state.executor.run(state.executor.prepare(document), context, variables)
        assert not result.errors, result.errors
        return result.data or {}

    async def session_document(self, params: dict[str, Any], metrics: dict[str, str], totals: bool) -> Any:
        window = documents.read_window(CountlyRequest(params), self.timezone)
        value_grains = [grain for grain in window.grains if grain != "HOUR"]
        data = await self.query(
            OLD_ROLLUPS,
            {
                "id": self.tenant.product_id,
                "since": window.since.isoformat(),
                "until": window.until.isoformat(),
                "grains": window.grains,
                "valueGrains": value_grains,
                "metrics": list(metrics) if value_grains else [],
                "totals": totals,
            },
        )
        analytics = data["node"]["analytics"]
        buckets: list[Bucket] = []
        meta: dict[str, list[str]] = {name: [] for name in metrics.values()}
        for row in (analytics.get("totals") or []) + (analytics.get("values") or []):
            grain = GRAIN_LETTERS[row["grain"]]
            metric = row.get("metric")
            if metric is None:
                counts = {
                    "t": row["sessions"],
                    "n": row["newUsers"],
                    "u": row["uniqueUsers"],
                    "d": row["duration"],
                    "e": row["requests"],
                }
                value = None
            else:
                counts = {"t": row["sessions"], "n": row["newUsers"], "u": row["uniqueUsers"]}
                value = row["value"]
                listed = meta[metrics[metric]]
                if shapes.clean_value(value) not in listed:
                    listed.append(shapes.clean_value(value))
            if grain == "w":
                counts = {"u": counts["u"]}
            start = datetime.fromisoformat(row["bucket"]).replace(tzinfo=None)
            buckets.append(Bucket(grain, start, counts, value))
        document = time_document(buckets)
        if not document:
            return {}
        document["meta"] = {name: sorted(values) for name, values in meta.items()}
        return document

    async def events_document(self, params: dict[str, Any]) -> Any:
        request = CountlyRequest(params)
        window = documents.read_window(request, self.timezone)
        node = (await self.query(OLD_CATALOG, {"id": self.tenant.product_id}))["node"]
        keys_listed = [item["name"] for item in node["eventDefinitions"]["nodes"] if item["visible"]]
        segments = {
            info["key"]: {seg["key"]: seg["values"] for seg in info["segmentations"]}
            for info in node["analytics"]["eventKeys"]
        }
        keys = documents._event_keys(request, documents.EventCatalog(keys_listed, {}))
        if not keys:
            return {}
        segmentation = request.text("segmentation") or None
        data = await self.query(
            OLD_EVENT_ROLLUPS,
            {
                "id": self.tenant.product_id,
                "keys": keys,
                "since": window.since.isoformat(),
                "until": window.until.isoformat(),
                "grains": [grain for grain in window.grains if grain != "WEEK"],
                "segmentation": segmentation,
            },
        )
        buckets = [
            Bucket(
                GRAIN_LETTERS[row["grain"]],
                datetime.fromisoformat(row["bucket"]).replace(tzinfo=None),
                {"c": row["count"], "s": row["sum"], "dur": row["duration"]},
                row["segment"] if segmentation else None,
            )
            for row in data["node"]["analytics"]["eventRollups"]
        ]
        document = time_document(buckets)
        if not document:
            return {}
        if len(keys) == 1:
            meta: dict[str, Any] = {"segments": list(segments.get(keys[0], {}))}
            if segmentation:
                meta[segmentation] = sorted(
                    {shapes.clean_value(b.value) for b in buckets if b.value is not None}
                )
            document["meta"] = meta
        return document


SESSION_SHAPES: dict[str, tuple[dict[str, str], bool]] = {
    "sessions": ({"COUNTRY": "countries"}, True),
    "users": ({"COUNTRY": "countries"}, True),
    "locations": ({"COUNTRY": "countries"}, True),
    "devices": ({"DEVICE": "devices"}, False),
    "carriers": ({"CARRIER": "carriers"}, False),
    "device_details": (documents.DEVICE_DETAILS_META, False),
    "app_versions": (documents.DEVICE_DETAILS_META, False),
}


def _custom_range() -> dict[str, Any]:
    """`[startMs,endMs]`: about 400 days ending 3 days ago."""
    end = time.time() * 1000
    return {"period": json.dumps([int(end - 400 * 86400 * 1000), int(end - 3 * 86400 * 1000)])}


async def _compare(
    http: aiohttp.ClientSession, server: Server, former: Former, method: str, params: dict[str, Any]
) -> str:
    tenant = former.tenant
    answer = await get(
        http, server, "/o", app_id=tenant.product_id, api_key=tenant.token, method=method, **params
    )
    if method == "events":
        expected = await former.events_document(params)
    else:
        metrics, totals = SESSION_SHAPES[method]
        expected = await former.session_document(params, metrics, totals)
    assert answer.status == 200, answer.text
    # the reply escapes strings as Countly does: the expected document goes through the same writer
    same_json(json.loads(answer.text), json.loads(replies.data(expected).text), f"{method} {params}")
    return answer.text


@pytest.mark.parametrize("timezone", ZONES)
async def test_time_documents_hold_the_per_bucket_rows(
    http: aiohttp.ClientSession, server: Server, db: Database, timezone: str
) -> None:
    tenant = await new_tenant(db, timezone=timezone)
    await _seed(db, tenant, timezone, seed=ZONES.index(timezone))
    former = Former(server, db, tenant, timezone)
    periods = [*PERIODS, _custom_range()]
    sizes = []
    for params in periods:
        sizes.append(len(await _compare(http, server, former, "sessions", params)))
        sizes.append(len(await _compare(http, server, former, "device_details", params)))
    for method in SESSION_METHODS:
        await _compare(http, server, former, method, {"period": "60days"})
    event_asks: list[dict[str, Any]] = [
        {},
        {"event": "lo.gin", "segmentation": "plan"},
        {"events": json.dumps(["purchase", "lo.gin", "[CLY]_view"])},
        {"event": "purchase", "segmentation": "level"},
        {"event": "purchase", "segmentation": "nothing"},
        {"event": "missing"},
    ]
    for params in periods:
        for asked in event_asks:
            sizes.append(len(await _compare(http, server, former, "events", {**params, **asked})))
    # the data reach the documents (not only empty ones or failures compared)
    assert max(sizes) > 10_000 and sizes.count(2) >= 1 and sizes.count(0) < len(sizes) // 4


async def test_empty_app_documents(http: aiohttp.ClientSession, server: Server, db: Database) -> None:
    tenant = await new_tenant(db, timezone="Europe/Berlin")
    former = Former(server, db, tenant, "Europe/Berlin")
    for method in ("sessions", "devices", "device_details"):
        assert await _compare(http, server, former, method, {"period": "30days"}) == "{}"
    await db.execute(
        "INSERT INTO event_definitions (account_id, product_id, name) VALUES ($1, $2, 'only')",
        tenant.account_pk,
        tenant.product_pk,
    )
    assert await _compare(http, server, former, "events", {}) == "{}"


async def test_columns_are_the_rows_transposed(
    http: aiohttp.ClientSession, server: Server, db: Database
) -> None:
    """The graph's columnar fields answer exactly the rows of `rollups` / `eventRollups`, in their order."""
    timezone = "America/New_York"
    tenant = await new_tenant(db, timezone=timezone)
    await _seed(db, tenant, timezone, seed=99)
    former = Former(server, db, tenant, timezone)
    since, until = "2020-01-01T00:00:00+00:00", "2100-01-01T00:00:00+00:00"
    data = await former.query(
        """query($id: ID!, $since: DateTime!, $until: DateTime!) { node(id: $id) { ... on Product { analytics {
          rows: rollups(since: $since, until: $until, metrics: [COUNTRY, OS]) {
            grain bucket metric value sessions newUsers uniqueUsers duration requests }
          columns: rollupColumns(since: $since, until: $until, metrics: [COUNTRY, OS]) {
            size grains buckets metrics values sessions newUsers uniqueUsers duration requests }
          eventRows: eventRollups(keys: ["purchase", "lo.gin"], since: $since, until: $until,
                                  segmentation: "plan") { key grain bucket segment count sum duration }
          eventColumns: eventRollupColumns(keys: ["purchase", "lo.gin"], since: $since, until: $until,
                                           segmentation: "plan") {
            size keys grains buckets segments count sum duration }
          none: rollupColumns(since: $since, until: $until, totals: false) { size grains buckets }
        } } } }""",
        {"id": tenant.product_id, "since": since, "until": until},
    )
    analytics = data["node"]["analytics"]
    rows, columns = analytics["rows"], analytics["columns"]
    assert columns["size"] == len(rows) > 1000
    names = [
        "grain",
        "bucket",
        "metric",
        "value",
        "sessions",
        "newUsers",
        "uniqueUsers",
        "duration",
        "requests",
    ]
    transposed = {name: [row[name] for row in rows] for name in names}
    transposed["bucket"] = [value[:19] for value in transposed["bucket"]]
    plural = {"grain": "grains", "bucket": "buckets", "metric": "metrics", "value": "values"}
    assert transposed == {name: columns[plural.get(name, name)] for name in names}
    event_rows, event_columns = analytics["eventRows"], analytics["eventColumns"]
    assert event_columns["size"] == len(event_rows) > 100
    event_names = ["key", "grain", "bucket", "segment", "count", "sum", "duration"]
    transposed = {name: [row[name] for row in event_rows] for name in event_names}
    transposed["bucket"] = [value[:19] for value in transposed["bucket"]]
    plural = {"key": "keys", "grain": "grains", "bucket": "buckets", "segment": "segments"}
    assert transposed == {name: event_columns[plural.get(name, name)] for name in event_names}
    assert analytics["none"] == {"size": 0, "grains": [], "buckets": []}
