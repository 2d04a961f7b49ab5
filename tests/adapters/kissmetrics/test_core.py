"""The Core API: exact envelopes, links from the request's own host, paging by `next`, 401/404, tenancy, and
a constant number of statements per page."""

from __future__ import annotations

import json
import re
from typing import Any

import aiohttp

from gateway.db.pool import Database
from tests.adapters.kissmetrics.helpers import beacon
from tests.conftest import Server, Tenant, new_tenant

NOT_FOUND = {"meta": {"status": 404, "message": "not found", "errors": ["not_found"]}}


async def core(
    http: aiohttp.ClientSession, url: str, token: str | None, **headers: str
) -> tuple[int, Any, Any]:
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    headers.setdefault("Accept", "application/json")
    async with http.get(url, headers=headers) as response:
        return response.status, json.loads(await response.text()), response.headers


async def _product_with_data(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant, events: int
) -> None:
    for n in range(events):
        await beacon(http, server, f"/e?_k={tenant.app_key}&_p=p{n}&_n=Event%20{n:02d}&Prop{n:02d}=1")


async def test_directory_rels_and_account(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant
) -> None:
    base = server.url
    status, body, headers = await core(
        http, base + "/core", tenant.token, **{"Content-Type": "application/json"}
    )
    assert status == 200 and body["links"] == [
        {"name": "Directory", "rel": "self", "href": f"{base}/core", "templated": False}
    ]
    rels = {link["rel"]: link for link in body["data"]["links"]}
    assert rels["accounts"]["href"] == f"{base}/core/accounts"
    assert rels["account-detail"] == {
        "name": "Account Detail",
        "rel": "account-detail",
        "href": f"{base}/core/accounts/{{account_id}}",
        "templated": True,
    }
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert headers["Cache-Control"] == "max-age=0, private, must-revalidate" and headers["ETag"]
    assert headers["Link"] == f'<{base}/core>; rel="self"; templated="false"'
    status, body, _ = await core(http, base + "/core/rels", tenant.token)
    assert status == 200 and {"self", "next", "run"} <= {r["name"] for r in body["data"]["rels"]}

    status, body, headers = await core(http, base + "/core/accounts", tenant.token)
    assert status == 200, body
    [account] = body["data"]
    assert list(body) == ["meta", "data", "pagination", "links"]
    assert body["meta"] == {"status": 200} and body["pagination"] == {"limit": 20, "offset": 0, "total": 1}
    page = f"{base}/core/accounts?limit=20&offset=0"
    assert body["links"] == [
        {"name": "Self", "rel": "self", "href": page, "templated": False},
        {"name": "First", "rel": "first", "href": page, "templated": False},
        {"name": "Last", "rel": "last", "href": page, "templated": False},
    ]
    assert headers["Link"] == (
        f'<{page}>; rel="self"; templated="false",<{page}>; rel="first"; templated="false",'
        f'<{page}>; rel="last"; templated="false"'
    )
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", account["created_at"])
    assert account["status"] == "active" and account["contact"] == {
        "phone": None,
        "country": None,
        "name": None,
    }
    status, single, _ = await core(http, f"{base}/core/accounts/{account['id']}", tenant.token)
    assert status == 200 and single["data"] == account and list(single) == ["meta", "data", "links"]
    assert single["links"] == [
        {"name": "Self", "rel": "self", "href": f"{base}/core/accounts/{account['id']}", "templated": False}
    ]


async def test_walk_every_list_through_next(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant, db: Database
) -> None:
    await _product_with_data(http, server, tenant, 7)
    base = server.url
    _, accounts, _ = await core(http, base + "/core/accounts", tenant.token)
    account = accounts["data"][0]
    _, products, _ = await core(http, account["links"][1]["href"], tenant.token)
    assert products["links"][-1] == {
        "name": "Canoncial",
        "rel": "canonical",
        "href": f"{base}/core/products",
        "templated": False,
    }
    assert f"account_id={account['id']}&limit=20&offset=0" in products["links"][0]["href"]
    [product] = products["data"]
    assert product["tracking_key"] == tenant.app_key and product["account_id"] == account["id"]
    assert [link["rel"] for link in product["links"]] == [
        "self",
        "account",
        "reports",
        "events",
        "properties",
    ]
    for kind, expected in (("events", 7), ("properties", 7)):
        seen: list[str] = []
        indexes: list[int] = []
        url: str | None = f"{base}/core/products/{product['id']}/{kind}?limit=3"
        pages = 0
        while url:
            status, body, _ = await core(http, url, tenant.token)
            assert status == 200 and body["pagination"]["total"] == expected
            seen += [item["id"] for item in body["data"]]
            indexes += [item["index"] for item in body["data"]]
            url = next((link["href"] for link in body["links"] if link["rel"] == "next"), None)
            pages += 1
        assert pages == 3 and len(seen) == len(set(seen)) == expected
        # each page numbers its own rows (computed after its offset) as the whole list does
        assert indexes == list(range(1, expected + 1)), kind
    _, events, _ = await core(http, f"{base}/core/events?limit=2&offset=2", tenant.token)
    assert [link["rel"] for link in events["links"]] == [
        "self",
        "first",
        "last",
        "next",
        "prev",
        "event-detail",
    ]
    assert events["links"][2]["href"] == f"{base}/core/events?limit=2&offset=6"
    event = events["data"][0]
    assert set(event) == {
        "id",
        "product_id",
        "name",
        "display_name",
        "description",
        "is_visible",
        "total",
        "first_used_at",
        "last_used_at",
        "first_sent_at",
        "last_sent_at",
        "index",
        "links",
    }
    assert event["name"] == "event 02" and event["index"] == 3 and event["total"] == 1
    status, detail, _ = await core(http, f"{base}/core/events/{event['id']}", tenant.token)
    assert status == 200 and detail["data"] == event
    _, props, _ = await core(http, f"{base}/core/properties?limit=1", tenant.token)
    assert props["data"][0]["type"] == "number" and props["data"][0]["name"] == "prop00"


async def test_errors_and_tenancy(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant, db: Database
) -> None:
    await _product_with_data(http, server, tenant, 1)
    base = server.url
    other = await new_tenant(db)
    status, body, headers = await core(http, base + "/core/accounts", None)
    assert (status, body) == (
        401,
        {"meta": {"status": 401, "message": "unauthorized", "errors": ["unauthorized"]}},
    )
    assert (await core(http, base + "/core/accounts", "agw_nope"))[0] == 401
    _, products, _ = await core(http, base + "/core/products", tenant.token)
    product = products["data"][0]
    _, events, _ = await core(http, base + "/core/events", tenant.token)
    event = events["data"][0]
    account = product["account_id"]
    urls = [
        f"/core/accounts/{account}",
        f"/core/accounts/{account}/products",
        f"/core/products/{product['id']}",
        f"/core/products/{product['id']}/events",
        f"/core/products/{product['id']}/reports",
        f"/core/products/{product['id']}/properties",
        f"/core/events/{event['id']}",
    ]
    for url in urls:
        status, body, headers = await core(http, base + url, other.token)
        assert (status, body) == (404, NOT_FOUND), url
        assert headers["Cache-Control"] == "no-cache"
    # an object of another kind, malformed ids, bad paging: 404 and 400 in the same shape
    assert (await core(http, f"{base}/core/products/{event['id']}", tenant.token))[:2] == (404, NOT_FOUND)
    for url in ("/core/products/not-a-uuid", "/core/reports/%00", "/core/events/12"):
        assert (await core(http, base + url, tenant.token))[:2] == (404, NOT_FOUND)
    bad = {"meta": {"status": 400, "message": "bad request", "errors": ["bad_request"]}}
    # also digits that str.isdigit() admits but int() refuses (`²`), and numbers longer than int() converts
    hostile = ("limit=%C2%B2", "offset=%C2%B9", "limit=" + "9" * 5000, "offset=" + "9" * 5000)
    for query in ("limit=0", "limit=-1", "limit=abc", "offset=-5", "offset=1e3", "limit=1000000", *hostile):
        assert (await core(http, f"{base}/core/events?{query}", tenant.token))[:2] == (400, bad), query
    async with http.post(base + "/core/accounts", headers={"Authorization": f"Bearer {tenant.token}"}) as r:
        assert r.status == 404 and r.content_type == "application/json"
    # a path of no route below /core/ (and a wrong method of the Query API) in the API's own shape
    for url in ("/core/metrics", "/core/products/x/y/z", "/core/accounts/a/b"):
        assert (await core(http, base + url, tenant.token))[:2] == (404, NOT_FOUND), url
    async with http.get(
        base + "/query/reports/x/run", headers={"Authorization": f"Bearer {tenant.token}"}
    ) as r:
        assert (r.status, await r.json(), r.headers["Allow"]) == (
            405,
            {"message": "Method Not Allowed", "error": "Method Not Allowed", "status": 405},
            "POST",
        )
    # another product's key never writes here
    await beacon(http, server, f"/e?_k={other.app_key}&_p=intruder&_n=Nope")
    _, events_after, _ = await core(http, base + "/core/events", tenant.token)
    assert [e["name"] for e in events_after["data"]] == [event["name"]]


async def test_a_page_costs_the_same_statements_at_any_size(
    http: aiohttp.ClientSession, server: Server, db: Database
) -> None:
    counts: dict[int, list[int]] = {}
    for events in (2, 20):
        tenant = await new_tenant(db)
        await _product_with_data(http, server, tenant, events)
        _, products, _ = await core(http, server.url + "/core/products", tenant.token)
        product = products["data"][0]["id"]
        counts[events] = []
        for url in (
            "/core/events",
            "/core/properties",
            "/core/products",
            f"/core/products/{product}/events",
            f"/core/products/{product}/properties",
            "/core/reports",
        ):
            status, body, headers = await core(http, server.url + url, tenant.token)
            assert status == 200, url
            counts[events].append(int(headers["X-SQL-Statements"]))
        assert (
            len(body["data"]) == 0
            and (await core(http, server.url + "/core/events", tenant.token))[1]["pagination"]["total"]
            == events
        )
    print(f"statements per Core API page: {counts}")
    assert counts[2] == counts[20], counts
    assert max(counts[20]) <= 5, counts
