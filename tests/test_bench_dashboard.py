"""The benchmark sends the dashboard's documents with the variables the dashboard computes for a period."""

from __future__ import annotations

from datetime import UTC, date, datetime

import aiohttp
from graphql import parse, validate

from bench.dashboard import dashboard_requests, overview_variables, period_days
from resolvers.schema import schema
from tests.conftest import Server, Tenant


def test_presets_are_local_days_with_the_previous_period_just_before() -> None:
    today = date(2026, 3, 15)
    assert period_days("today", today) == (today, today, date(2026, 3, 14), date(2026, 3, 14), "HOUR")
    assert period_days("7d", today) == (date(2026, 3, 9), today, date(2026, 3, 2), date(2026, 3, 8), "DAY")
    assert period_days("30d", today)[:4] == (date(2026, 2, 14), today, date(2026, 1, 15), date(2026, 2, 13))
    # 12 months: whole months, this one included; the 12 before
    assert period_days("12m", today) == (
        date(2025, 4, 1),
        date(2026, 3, 31),
        date(2024, 4, 1),
        date(2025, 3, 31),
        "MONTH",
    )


def test_overview_variables_are_midnights_of_the_product_zone() -> None:
    now = datetime(
        2026, 3, 29, 22, 30, tzinfo=UTC
    )  # 30 March in Berlin, the day after the clocks went forward
    variables = overview_variables("UHJvZHVjdDox", "Europe/Berlin", "7d", now)
    assert variables == {
        "product": "UHJvZHVjdDox",
        "since": "2026-03-24T00:00:00+01:00",
        "until": "2026-03-31T00:00:00+02:00",
        "previousSince": "2026-03-17T00:00:00+01:00",
        "previousUntil": "2026-03-24T00:00:00+01:00",
        "grain": "DAY",
        "webGrain": "DAY",
        "web": False,
        "countEvents": False,
    }


def test_requests_are_valid_documents_with_their_operation() -> None:
    requests = dashboard_requests("UHJvZHVjdDox", "UTC")
    assert set(requests) == {
        "products",
        *(f"overview_{preset}" for preset in ("7d", "30d", "12m")),
        *(f"overview_tables_{preset}" for preset in ("7d", "30d", "12m")),
    }
    for request in requests.values():
        document = parse(request.query)
        assert not validate(schema._schema, document)
        names = [d.name.value for d in document.definitions if hasattr(d, "name") and d.name]
        assert request.operation in names


async def test_every_request_runs_on_the_gateway(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant
) -> None:
    for site in (False, True):
        for name, request in dashboard_requests(tenant.product_id, "UTC", site).items():
            body = {
                "query": request.query,
                "operationName": request.operation,
                "variables": request.variables,
            }
            headers = {"Authorization": f"Bearer {tenant.token}"}
            async with http.post(server.url + "/graphql", json=body, headers=headers) as response:
                reply = await response.json()
            assert response.status == 200 and "errors" not in reply, (name, reply)
            if request.operation != "Products":
                assert ("webAnalytics" in reply["data"]["node"]) is site, name
