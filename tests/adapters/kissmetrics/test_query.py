"""People searches: definitions checked in the graph, runs as jobs, status and results as the Query API answers."""

from __future__ import annotations

import json
from typing import Any

import aiohttp

from gateway.db.pool import Database
from tests.adapters.kissmetrics.helpers import beacon
from tests.conftest import Server, Tenant, gql, new_tenant

CREATE = """mutation($p: ID!, $d: JSON!) { createReport(input: {name: "Search", type: "people_search_v2",
  productId: $p, definition: $d}) { id uuid definition runnable } }"""


async def call(
    http: aiohttp.ClientSession, method: str, url: str, token: str | None, body: Any = None
) -> tuple[int, Any, Any]:
    headers = {"Accept": "application/json", "Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    async with http.request(method, url, headers=headers, data=data) as response:
        return response.status, json.loads(await response.text()), response.headers


async def _data(http: aiohttp.ClientSession, server: Server, tenant: Tenant) -> None:
    k = tenant.app_key
    await beacon(http, server, f"/e?_k={k}&_p=ann@example.com&_n=Signed%20Up&Plan=Pro&_d=1&_t=1388600000")
    await beacon(http, server, f"/e?_k={k}&_p=ann@example.com&_n=Paid&_d=1&_t=1388700000")
    await beacon(http, server, f"/e?_k={k}&_p=ann@example.com&_n=Paid&_d=1&_t=1400000000")
    await beacon(http, server, f"/e?_k={k}&_p=bob@example.com&_n=Signed%20Up&Plan=Free&_d=1&_t=1388600000")
    await beacon(http, server, f"/s?_k={k}&_p=cy@example.com&Plan=Pro")


async def test_definitions_are_checked(http: aiohttp.ClientSession, server: Server, tenant: Tenant) -> None:
    await _data(http, server, tenant)
    cases = [
        (
            {"criteria": [{"event": "nope"}]},
            "definition.criteria[0].event: this product has no event named 'nope'",
        ),
        (
            {"criteria": [{"property": 99}]},
            "definition.criteria[0].property: this product has no property with index 99",
        ),
        (
            {"criteria": [{"property": "plan", "op": "gt", "value": "x"}]},
            "definition.criteria[0].value: `gt` compares numbers",
        ),
        (
            {"columns": [{"event": "paid", "return": "sum"}]},
            "definition.columns[0].return: 'sum' is not one of",
        ),
        ({"match": "some"}, "definition.match: must be `all` or `any`"),
        ({"colums": []}, "definition: unknown key 'colums'"),
    ]
    for definition, message in cases:
        reply = await gql(http, server, CREATE, {"p": tenant.product_id, "d": definition}, tenant.token)
        assert reply.errors and reply.errors[0]["message"].startswith(message), (definition, reply.body)
    reply = await gql(
        http,
        server,
        CREATE,
        {"p": tenant.product_id, "d": {"criteria": [{"event": 1}], "columns": [{"property": "PLAN"}]}},
        tenant.token,
    )
    assert reply.errors is None, reply.body
    assert reply.data["createReport"]["definition"] == {
        "match": "all",
        "criteria": [{"event": "signed up", "did": True, "at_least": 1}],
        "columns": [{"property": "plan"}],
    }


async def test_run_status_and_results(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant, db: Database
) -> None:
    await _data(http, server, tenant)
    definition = {
        "match": "all",
        "criteria": [{"event": "signed up"}, {"property": "plan", "op": "not_equals", "value": "Enterprise"}],
        "columns": [
            {"event": "paid", "return": "total_times_ever"},
            {"event": "paid", "return": "total_times"},
            {"event": "paid", "return": "last"},
            {"property": "plan"},
        ],
    }
    created = (await gql(http, server, CREATE, {"p": tenant.product_id, "d": definition}, tenant.token)).data
    report = created["createReport"]["uuid"]
    base = server.url
    _, core, _ = await call(http, "GET", f"{base}/core/reports/{report}", tenant.token)
    assert {
        "name": "Run Report",
        "rel": "run",
        "href": f"{base}/query/reports/{report}/run",
        "templated": False,
    } in core["data"]["links"]

    status, body, headers = await call(
        http,
        "POST",
        f"{base}/query/reports/{report}/run",
        tenant.token,
        {"report": {"start_date": "1388534400", "end_date": "1391212800"}},
    )
    assert status == 202 and body == {"success": True, "query_guid": body["query_guid"]}
    assert headers["Location"] == f"{base}/query/queries/{body['query_guid']}/status"
    assert headers["Cache-Control"] == "no-cache"
    query = body["query_guid"]
    # polled without sleeping: the first read says "not done" whatever the run's state; 201 once done
    answers = []
    for _ in range(2000):
        status, answer, headers = await call(
            http, "GET", f"{base}/query/queries/{query}/status?limit=50", tenant.token
        )
        answers.append((status, answer))
        if status == 201:
            break
    assert answers[0][0] == 200 and answers[0][1]["completed"] is False
    assert answers[-1] == (201, {"completed": True, "progress": 1.0})
    assert headers["Location"] == f"{base}/query/queries/{query}/results"
    progress = [a["progress"] for s, a in answers if s == 200]
    assert progress == sorted(progress)

    status, results, _ = await call(
        http, "GET", f"{base}/query/queries/{query}/results?limit=1", tenant.token
    )
    assert status == 200 and list(results) == ["total", "links", "metadata", "columns", "rows"]
    assert results["total"] == 2 and results["metadata"] == {"limit": 1, "offset": 0}
    assert results["columns"][:2] == [
        {
            "display_name": "KMID",
            "type": "internal",
            "return_option": "internal",
            "display_return_option": "internal",
        },
        {
            "display_name": "Person",
            "type": "internal",
            "return_option": "internal",
            "display_return_option": "internal",
        },
    ]
    assert results["columns"][2]["display_return_option"] == "Total Times Ever"
    rows, url = [], f"{base}/query/queries/{query}/results?limit=1"
    while url:
        status, page, _ = await call(http, "GET", url, tenant.token)
        rows += page["rows"]
        url = next((link["href"] for link in page["links"] if link["rel"] == "next"), None)
        assert next(link for link in page["links"] if link["rel"] == "self")["href"].endswith(
            f"&query_guid={query}"
        )
    ann, bob = rows
    assert ann[1:] == ["ann@example.com", 2, 1, "2014-01-02T22:00:00+00:00", "Pro"]
    assert bob[1:] == ["bob@example.com", 0, 0, None, "Free"] and isinstance(bob[0], int)

    # the run is in the graph too
    reply = await gql(
        http,
        server,
        "query($u: UUID!) { nodeByUuid(uuid: $u) { ... on ReportRun { status progress total columns { name } rows(limit: 5) } } }",
        {"u": query},
        tenant.token,
    )
    run = reply.data["nodeByUuid"]
    assert run["status"] == "FINISHED" and run["total"] == 2 and run["rows"] == rows


async def test_query_errors_and_tenancy(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant, db: Database
) -> None:
    await _data(http, server, tenant)
    created = (await gql(http, server, CREATE, {"p": tenant.product_id, "d": {}}, tenant.token)).data
    report = created["createReport"]["uuid"]
    base = server.url
    other = await new_tenant(db)
    not_found = {
        "message": "Invalid report_guid provided: report not found.",
        "error": "Not Found",
        "status": 404,
    }
    for token in (other.token,):
        assert (await call(http, "POST", f"{base}/query/reports/{report}/run", token, {}))[:2] == (
            404,
            not_found,
        )
    assert (await call(http, "POST", f"{base}/query/reports/not-a-uuid/run", tenant.token, {}))[:2] == (
        404,
        not_found,
    )
    assert (await call(http, "POST", f"{base}/query/reports/{report}/run", None, {}))[0] == 401
    # bodies that once broke the parser (a nesting deeper than the JSON decoder's recursion, invalid UTF-8)
    hostile = (b"[" * 60000, b"\xff\xfe{}")
    for body in (
        b"{",
        b"[]",
        {"report": "x"},
        {"report": {"start_date": "yesterday"}},
        {"start_date": 1e30},
        *hostile,
    ):
        status, answer, _ = await call(http, "POST", f"{base}/query/reports/{report}/run", tenant.token, body)
        assert status == 400 and answer["status"] == 400 and answer["error"] == "Bad Request", body
        if body in (b"{", b"[]", *hostile):
            assert answer["message"] == "The request body must be a JSON object.", body
    status, body, _ = await call(
        http,
        "POST",
        f"{base}/query/reports/{report}/run",
        tenant.token,
        {"start_date": "2015-06-02T20:00:00-04:00", "end_date": "2015-06-03T20:00:00+0000"},
    )
    assert status == 202
    query = body["query_guid"]
    for url in (f"/query/queries/{query}/status", f"/query/queries/{query}/results"):
        assert (await call(http, "GET", base + url, other.token))[0] == 404
    # digits that str.isdigit() admits but int() refuses, and numbers longer than int() converts
    for query_string in ("limit=0", "limit=x", "offset=-1", "limit=%C2%B2", "offset=" + "9" * 5000):
        assert (
            await call(http, "GET", f"{base}/query/queries/{query}/results?{query_string}", tenant.token)
        )[0] == 400
    # a report that is not a people search does not run
    plain = await gql(
        http,
        server,
        'mutation { createReport(input: {name: "Dash", type: "dashboard"}) { uuid } }',
        token=tenant.token,
    )
    uid = plain.data["createReport"]["uuid"]
    assert (await call(http, "POST", f"{base}/query/reports/{uid}/run", tenant.token, {}))[0] == 400
