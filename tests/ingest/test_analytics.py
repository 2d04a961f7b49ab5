"""The analytics reads over the rollups, directly and through a Strawberry schema."""

from __future__ import annotations

from datetime import UTC, datetime

import strawberry

from gateway.db.pool import Database
from gateway.ingest import EventInput, IngestEngine
from resolvers.analytics import event_keys, event_series, session_series
from resolvers.analytics.types import ProductAnalytics
from resolvers.context import Context
from tests.ingest.conftest import MakeProduct
from tests.ingest.helpers import req, ts


async def _seed(engine: IngestEngine, p: object) -> None:
    await engine.submit(
        [
            req(
                p,
                "a",
                timestamp=ts(2024, 3, 1, 9),
                begin_session=True,
                session_duration=60,
                metrics={"_os": "Android", "_app_version": "2.0.1"},
                events=[EventInput("buy", count=2, sum=5, segmentation={"plan": "pro"})],
            ),
            req(
                p,
                "b",
                timestamp=ts(2024, 3, 2, 9),
                begin_session=True,
                metrics={"_os": "iOS"},
                events=[EventInput("buy", segmentation={"plan": "free"}), EventInput("view")],
            ),
            req(p, "a", timestamp=ts(2024, 3, 2, 10), begin_session=True),
        ]
    )


async def test_read_functions(db: Database, engine: IngestEngine, make_product: MakeProduct) -> None:
    p = await make_product(timezone="Europe/Istanbul")  # UTC+3
    await _seed(engine, p)
    since, until = datetime(2024, 3, 1, tzinfo=UTC), datetime(2024, 3, 3, tzinfo=UTC)
    days = await session_series(db, p.account_id, p.product_id, since, until, "d")
    assert [(x.bucket, x.t, x.n, x.u, x.d) for x in days] == [
        (datetime(2024, 3, 1), 1, 1, 1, 60),
        (datetime(2024, 3, 2), 2, 1, 2, 0),
    ]
    hours = await session_series(db, p.account_id, p.product_id, since, until, "h")
    assert hours[0].bucket == datetime(2024, 3, 1, 12)  # 09:00 UTC is 12:00 in Istanbul
    by_os = await session_series(db, p.account_id, p.product_id, since, until, "m", "os")
    assert {(x.value, x.t) for x in by_os} == {("Android", 1), ("iOS", 1)}
    # a range that overlaps only the second day returns only that day
    second = await session_series(
        db, p.account_id, p.product_id, datetime(2024, 3, 2, 1, tzinfo=UTC), until, "d"
    )
    assert [x.bucket for x in second] == [datetime(2024, 3, 2)]
    ev = await event_series(db, p.account_id, p.product_id, ["buy"], since, until, "m", "plan")
    assert {(x.segment, x.c, x.s) for x in ev} == {("pro", 2, 5.0), ("free", 1, 0.0)}
    keys = await event_keys(db, p.account_id, p.product_id)
    assert keys.keys == ["buy", "view"]
    assert keys.segments["buy"] == {"plan": ["free", "pro"]}
    # another account sees nothing
    other = await make_product()
    assert await session_series(db, other.account_id, p.product_id, since, until, "d") == []
    assert (await event_keys(db, other.account_id, p.product_id)).keys == []


async def test_graphql_types(db: Database, engine: IngestEngine, make_product: MakeProduct) -> None:
    p = await make_product(timezone="Europe/Istanbul")
    await _seed(engine, p)

    @strawberry.type
    class Query:
        @strawberry.field
        def analytics(self) -> ProductAnalytics:
            return ProductAnalytics(
                account_id=p.account_id, product_id=p.product_id, timezone="Europe/Istanbul"
            )

    schema = strawberry.Schema(query=Query)
    result = await schema.execute(
        """{ analytics {
              sessions(since: "2024-03-01T00:00:00Z", until: "2024-03-03T00:00:00Z", granularity: DAY) {
                sessions newUsers uniqueUsers duration requests series { bucket sessions uniqueUsers } }
              breakdown(metric: OS, since: "2024-03-01T00:00:00Z", until: "2024-03-03T00:00:00Z") {
                value sessions newUsers uniqueUsers }
              events(keys: ["buy", "view"], since: "2024-03-01T00:00:00Z", until: "2024-03-03T00:00:00Z",
                     granularity: MONTH, segmentation: "plan") {
                count sum series { bucket count }
                keys { key count segments { value count } } }
              eventKeys { key segmentations { key values } } } }""",
        context_value=Context(db=db, principal=None),
    )
    assert result.errors is None, result.errors
    data = result.data["analytics"]  # type: ignore[index]
    assert data["sessions"]["sessions"] == 3
    assert data["sessions"]["newUsers"] == 2
    assert data["sessions"]["duration"] == 60
    assert data["sessions"]["requests"] == 3
    assert data["sessions"]["series"][0] == {
        "bucket": "2024-03-01T00:00:00+03:00",
        "sessions": 1,
        "uniqueUsers": 1,
    }
    assert data["breakdown"] == [
        {"value": "Android", "sessions": 1, "newUsers": 1, "uniqueUsers": 1},
        {"value": "iOS", "sessions": 1, "newUsers": 1, "uniqueUsers": 1},
    ]
    assert data["events"]["count"] == 4
    assert data["events"]["series"] == [{"bucket": "2024-03-01T00:00:00+03:00", "count": 4}]
    assert data["events"]["keys"][0] == {
        "key": "buy",
        "count": 3,
        "segments": [{"value": "free", "count": 1}, {"value": "pro", "count": 2}],
    }
    assert data["eventKeys"] == [
        {"key": "buy", "segmentations": [{"key": "plan", "values": ["free", "pro"]}]},
        {"key": "view", "segmentations": []},
    ]
