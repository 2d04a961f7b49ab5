"""GraphQL over HTTP, rule by rule, and the limits against abusive queries (just under passes, just over fails)."""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest

from gateway.access.budget import authenticate_and_charge
from gateway.db.pool import Database
from tests.conftest import Server, Tenant, gateway_with, gql

RESPONSE_TYPE = "application/graphql-response+json"


async def post(
    http: aiohttp.ClientSession,
    server: Server,
    body: Any,
    headers: dict[str, str] | None = None,
    raw: bytes | None = None,
) -> tuple[int, Any, Any]:
    data = raw if raw is not None else json.dumps(body).encode()
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    async with http.post(server.url + "/graphql", data=data, headers=all_headers) as response:
        text = await response.text()
        return response.status, json.loads(text) if text else None, response.headers


# --- GraphQL over HTTP -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (RESPONSE_TYPE, RESPONSE_TYPE),
        ("application/json", "application/json"),
        ("", "application/json"),
        ("*/*", "application/json"),
        (f"application/json;q=0.5, {RESPONSE_TYPE}", RESPONSE_TYPE),
        (f"{RESPONSE_TYPE};q=0.1, application/json", "application/json"),
    ],
)
async def test_reply_media_type_follows_accept(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant, accept: str, expected: str
) -> None:
    headers = {"Authorization": f"Bearer {tenant.token}"}
    if accept:
        headers["Accept"] = accept
    status, body, reply_headers = await post(http, server, {"query": "{ account { id } }"}, headers)
    assert status == 200 and body["data"]["account"]["id"] == tenant.account_id
    assert reply_headers["Content-Type"] == f"{expected}; charset=utf-8"


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ("{ account { id ", None),  # cannot be parsed
        ("{ account { unknownField } }", None),  # fails validation
        ("query($n: Int!) { products(first: $n) { totalCount } }", {"n": "x"}),  # variables cannot be coerced
        ("query($n: Int!) { products(first: $n) { totalCount } }", None),  # required variable missing
    ],
)
async def test_request_errors_are_400_without_data(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant, query: str, variables: Any
) -> None:
    auth = {"Authorization": f"Bearer {tenant.token}"}
    status, body, headers = await post(
        http, server, {"query": query, "variables": variables}, {**auth, "Accept": RESPONSE_TYPE}
    )
    assert status == 400 and "data" not in body and body["errors"]
    assert headers["Content-Type"].startswith(RESPONSE_TYPE)
    # the legacy media type keeps 200 for well-formed requests
    status, body, _ = await post(
        http, server, {"query": query, "variables": variables}, {**auth, "Accept": "application/json"}
    )
    assert status == 200 and "data" not in body and body["errors"]


async def test_execution_errors_keep_200_with_data(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant
) -> None:
    reply = await gql(
        http, server, "{ account { id } products(first: 1000) { totalCount } }", token=tenant.token
    )
    assert reply.status == 200 and reply.body["data"] is None or "account" in (reply.data or {})
    assert reply.errors[0]["extensions"]["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize(
    "content_type", [None, "text/plain", "application/x-www-form-urlencoded", "application/graphql"]
)
async def test_post_needs_json_content_type(
    http: aiohttp.ClientSession, server: Server, content_type: str | None
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    async with http.post(
        server.url + "/graphql",
        data=b'{"query": "{ __typename }"}',
        headers=headers,
        skip_auto_headers=["Content-Type"],
    ) as r:
        assert r.status == 415
        assert (await r.json())["errors"][0][
            "message"
        ] == "Send the request as Content-Type: application/json"


async def test_get_runs_queries_only(http: aiohttp.ClientSession, server: Server, tenant: Tenant) -> None:
    auth = {"Authorization": f"Bearer {tenant.token}", "Accept": RESPONSE_TYPE}
    params = {
        "query": "query($n: Int) { products(first: $n) { totalCount } }",
        "variables": json.dumps({"n": 1}),
    }
    async with http.get(server.url + "/graphql", params=params, headers=auth) as r:
        assert r.status == 200 and (await r.json())["data"]["products"]["totalCount"] == 1
    mutation = {"query": 'mutation { createProduct(input: {name: "x"}) { id } }'}
    async with http.get(server.url + "/graphql", params=mutation, headers=auth) as r:
        assert r.status == 405 and r.headers["Allow"] == "POST"
        assert (await r.json())["errors"][0]["message"] == "A mutation must be sent with POST"
    async with http.get(
        server.url + "/graphql", params={"query": "{ account { id } }", "variables": "{bad"}, headers=auth
    ) as r:
        assert r.status == 400 and (await r.json())["errors"][0]["message"] == "`variables` is not valid JSON"


async def test_utf8_in_and_out(http: aiohttp.ClientSession, server: Server, tenant: Tenant) -> None:
    name = "Ürün — 製品 🚀"
    reply = await gql(
        http,
        server,
        "mutation($n: String!) { createProduct(input: {name: $n}) { name } }",
        {"n": name},
        tenant.token,
    )
    assert reply.data["createProduct"]["name"] == name
    assert reply.headers["Content-Type"].endswith("charset=utf-8")
    status, body, _ = await post(
        http,
        server,
        None,
        {"Content-Type": "application/json; charset=latin-1", "Authorization": f"Bearer {tenant.token}"},
        raw=b'{"query": "{ __typename }"}',
    )
    assert status == 415 and body["errors"][0]["message"] == "Only UTF-8 is accepted"


async def test_unauthenticated_401_and_forbidden_403(
    http: aiohttp.ClientSession, server: Server, db: Database, tenant: Tenant
) -> None:
    status, body, headers = await post(
        http, server, {"query": "{ account { id } }"}, {"Accept": RESPONSE_TYPE}
    )
    assert status == 401 and body == {
        "errors": [{"message": "Authentication required: send Authorization: Bearer <token>"}]
    }
    reader = await gql(
        http,
        server,
        'mutation { createToken(name: "r", permissions: [READ]) { secret } }',
        token=tenant.token,
    )
    forbidden = await gql(
        http,
        server,
        'mutation { createProduct(input: {name: "x"}) { id } }',
        token=reader.data["createToken"]["secret"],
    )
    assert forbidden.status == 403
    assert forbidden.errors[0] == {
        "message": "This token lacks the 'create_products' or 'admin' permission.",
        "locations": [{"line": 1, "column": 12}],
        "path": ["createProduct"],
        "extensions": {"code": "FORBIDDEN"},
    }


async def test_internal_errors_are_masked_with_a_logged_id(
    http: aiohttp.ClientSession,
    server: Server,
    db: Database,
    tenant: Tenant,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # a row the code cannot represent (an export kind from the future) makes a resolver fail
    await db.execute(
        "INSERT INTO exports (account_id, product_id, kind, format) VALUES ($1, $2, 'hologram', 'csv')",
        tenant.account_pk,
        tenant.product_pk,
    )
    with caplog.at_level(logging.ERROR, logger="gateway.execution.executor"):
        reply = await gql(http, server, "{ exports { nodes { kind } } }", token=tenant.token)
    error = reply.errors[0]
    assert (
        error["message"] == "Internal server error" and error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    )
    assert "hologram" not in json.dumps(reply.body) and "Traceback" not in json.dumps(reply.body)
    assert any(error["extensions"]["errorId"] in record.getMessage() for record in caplog.records)
    await db.execute("DELETE FROM exports WHERE account_id = $1", tenant.account_pk)


# --- limits ------------------------------------------------------------------------------------------------


DEPTH_5 = "{ account { products { nodes { account { id } } } } }"
DEPTH_6 = "{ account { products { nodes { account { products { totalCount } } } } } }"


async def test_depth_limit(
    http: aiohttp.ClientSession, migrated: str, tmp_path: Path, tenant: Tenant
) -> None:
    async with gateway_with(migrated, tmp_path, limits={"max_depth": 5}) as server:
        assert (await gql(http, server, DEPTH_5, token=tenant.token)).status == 200
        over = await gql(http, server, DEPTH_6, token=tenant.token)
        assert (
            over.status == 400
            and over.errors[0]["message"] == "Query is 6 levels deep; the maximum depth is 5."
        )


async def test_alias_limit(
    http: aiohttp.ClientSession, migrated: str, tmp_path: Path, tenant: Tenant
) -> None:
    def aliased(n: int) -> str:
        return "{ " + " ".join(f"a{i}: account {{ id }}" for i in range(n)) + " }"

    async with gateway_with(migrated, tmp_path, limits={"max_aliases": 3}) as server:
        assert (await gql(http, server, aliased(3), token=tenant.token)).status == 200
        over = await gql(http, server, aliased(4), token=tenant.token)
        assert over.status == 400 and over.errors[0]["message"] == "Query uses 4 aliases; the maximum is 3."


async def test_token_limit(
    http: aiohttp.ClientSession, migrated: str, tmp_path: Path, tenant: Tenant
) -> None:
    async with gateway_with(migrated, tmp_path, limits={"max_tokens": 10}) as server:
        # `{ account { ... } }` is 4 tokens plus one per field: 10 tokens pass, 11 do not
        assert (
            await gql(http, server, "{ account { id name createdAt updatedAt id } }", token=tenant.token)
        ).status == 200
        over = await gql(
            http, server, "{ account { id name createdAt updatedAt id id } }", token=tenant.token
        )
        assert (
            over.status == 400
            and over.errors[0]["message"]
            == "Syntax Error: Document contains more than 10 tokens. Parsing aborted."
        )


async def test_body_size_limit(
    http: aiohttp.ClientSession, migrated: str, tmp_path: Path, tenant: Tenant
) -> None:
    async with gateway_with(migrated, tmp_path, limits={"max_body_bytes": 200}) as server:

        def body(size: int) -> bytes:
            base = json.dumps({"query": "{ account { id } }", "variables": {"pad": ""}})
            return json.dumps(
                {"query": "{ account { id } }", "variables": {"pad": "x" * (size - len(base))}}
            ).encode()

        auth = {"Authorization": f"Bearer {tenant.token}"}
        status, _, _ = await post(http, server, None, auth, raw=body(200))
        assert status == 200
        status, reply, _ = await post(http, server, None, auth, raw=body(201))
        assert status == 413 and reply["errors"][0]["message"] == "The request body is larger than 200 bytes"


async def test_node_estimate_limit(
    http: aiohttp.ClientSession, migrated: str, tmp_path: Path, tenant: Tenant
) -> None:
    # products(first: 10) → 10, each with sessions(first: 10) → 100, each with events(first: 10) → 1000: 1110 nodes
    query = "query($n: Int) { products(first: 10) { nodes { sessions(first: 10) { nodes { events(first: $n) { nodes { id } } } } } } }"
    async with gateway_with(migrated, tmp_path, limits={"max_nodes": 1110}) as server:
        assert (await gql(http, server, query, {"n": 10}, tenant.token)).status == 200
        over = await gql(http, server, query, {"n": 11}, tenant.token)
        assert over.status == 400
        assert (
            over.errors[0]["message"]
            == "Query may return up to 1210 nodes; the maximum is 1110. Ask for smaller pages."
        )
        assert "data" not in over.body


async def test_request_time_limit(
    http: aiohttp.ClientSession, migrated: str, tmp_path: Path, tenant: Tenant
) -> None:
    async with gateway_with(migrated, tmp_path, limits={"request_timeout": 0.000001}) as server:
        reply = await gql(
            http, server, "{ products { nodes { sessions { nodes { id } } } } }", token=tenant.token
        )
        assert reply.status == 504 and reply.errors[0]["extensions"]["code"] == "TIMEOUT"


async def test_statement_timeout_bounds_the_sql(migrated: str) -> None:
    db = await Database.connect(migrated, min_size=1, max_size=1, statement_timeout=0.2)
    try:
        assert await db.fetchval("SELECT 1 FROM pg_sleep(0.1)") == 1
        with pytest.raises(asyncpg.QueryCanceledError):
            await db.fetchval("SELECT 1 FROM pg_sleep(1)")
    finally:
        await db.close()


async def test_cost_budget_is_shared_and_reported(
    http: aiohttp.ClientSession, migrated: str, tmp_path: Path, tenant: Tenant
) -> None:
    # each query below costs 1 point; two gateway processes on one database share the budget of 3
    async with (
        gateway_with(migrated, tmp_path, limits={"cost_budget_per_hour": 3}) as one,
        gateway_with(migrated, tmp_path, limits={"cost_budget_per_hour": 3}) as two,
    ):
        first = await gql(
            http, one, "{ rateLimit { limit cost used remaining resetAt } }", token=tenant.token
        )
        assert first.data["rateLimit"]["limit"] == 3 and first.data["rateLimit"]["cost"] == 1
        used_before = first.data["rateLimit"]["used"]
        assert first.headers["X-RateLimit-Limit"] == "3"
        assert first.headers["X-RateLimit-Remaining"] == str(3 - used_before)
        replies = [
            await gql(http, server, "{ account { id } }", token=tenant.token) for server in (two, one, two)
        ]
        statuses = [r.status for r in replies]
        assert statuses == [200] * (3 - used_before) + [429] * used_before
        limited = replies[-1]
        assert limited.errors[0]["extensions"]["code"] == "RATE_LIMITED"
        assert limited.headers["X-RateLimit-Remaining"] == "0" and int(limited.headers["Retry-After"]) > 0


async def test_a_charge_waits_for_no_wal_flush_and_the_session_stays_durable(
    migrated: str, tenant: Tenant
) -> None:
    """The charge commits without waiting for the WAL flush, for its own transaction only: the pooled session,
    which the ingestion's durable commits share, keeps synchronous_commit on."""
    db = await Database.connect(migrated, min_size=1, max_size=1)
    try:
        charged = await authenticate_and_charge(db, tenant.token, 7, 100)
        assert charged is not None and charged[1].cost == 7
        used = charged[1].used
        again = await authenticate_and_charge(db, tenant.token, 1, 100)
        assert again is not None and again[1].used == used + 1
        assert await db.fetchval("SHOW synchronous_commit") == "on"
        async with db.transaction() as tx:
            assert await tx.fetchval("SHOW synchronous_commit") == "on"

        # and the charges wait for no WAL flush: client backends flush nothing for 20 of them (a durable commit
        # flushes once each); the backend's I/O statistics are reported before they are read
        async def flushes() -> int:
            await db.execute("SELECT pg_stat_force_next_flush()")
            await db.execute("SELECT 1")
            return int(
                await db.fetchval(
                    "SELECT sum(fsyncs) FROM pg_stat_io WHERE object = 'wal' AND backend_type = 'client backend'"
                )
            )

        before = await flushes()
        for _ in range(20):
            assert await authenticate_and_charge(db, tenant.token, 1, 100) is not None
        assert await flushes() - before < 5
    finally:
        await db.close()


async def test_costly_queries_cost_more(http: aiohttp.ClientSession, server: Server, tenant: Tenant) -> None:
    reply = await gql(
        http,
        server,
        "{ rateLimit { cost } products(first: 50) { nodes { events(first: 100) { nodes { id } } } } }",
        token=tenant.token,
    )
    assert reply.data["rateLimit"]["cost"] == 51  # (50 + 50 * 100) nodes / 100, rounded up


# --- persisted queries ---------------------------------------------------------------------------------------


def apq(query: str | None, digest: str) -> dict[str, Any]:
    body: dict[str, Any] = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": digest}}}
    if query is not None:
        body["query"] = query
    return body


async def test_automatic_persisted_queries(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant
) -> None:
    query = "{ account { id } } # apq " + tenant.account_id
    digest = hashlib.sha256(query.encode()).hexdigest()
    auth = {"Authorization": f"Bearer {tenant.token}"}
    status, body, _ = await post(http, server, apq(None, digest), auth)
    assert status == 200 and body == {
        "errors": [{"message": "PersistedQueryNotFound", "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}]
    }
    status, body, _ = await post(http, server, apq(query, "0" * 64), auth)
    assert status == 400 and body["errors"][0]["message"] == "provided sha does not match query"
    status, body, _ = await post(http, server, apq(query, digest), auth)
    assert status == 200 and body["data"]["account"]["id"] == tenant.account_id
    status, body, _ = await post(http, server, apq(None, digest), auth)
    assert status == 200 and body["data"]["account"]["id"] == tenant.account_id
    params = {"extensions": json.dumps(apq(None, digest)["extensions"])}
    async with http.get(server.url + "/graphql", params=params, headers=auth) as r:
        assert r.status == 200 and (await r.json())["data"]["account"]["id"] == tenant.account_id


async def test_persisted_queries_are_bounded_per_account_and_expire(
    http: aiohttp.ClientSession, migrated: str, tmp_path: Path, db: Database, tenant: Tenant
) -> None:
    from gateway.background.housekeeping import Housekeeping
    from tests.conftest import new_tenant

    other = await new_tenant(db)
    documents = [f"{{ account {{ id }} }} # bounded {n} {tenant.account_id}" for n in range(5)]
    digests = [hashlib.sha256(d.encode()).hexdigest() for d in documents]
    auth = {"Authorization": f"Bearer {tenant.token}"}

    async def stored() -> list[str]:
        rows = await db.fetch(
            "SELECT sha256 FROM persisted_documents WHERE account_id = $1", tenant.account_pk
        )
        return sorted(row["sha256"] for row in rows)

    async with gateway_with(migrated, tmp_path, persisted_per_account=3) as gw:
        for document, digest in zip(documents[:3], digests[:3], strict=True):
            status, _, _ = await post(http, gw, apq(document, digest), auth)
            assert status == 200
        # the first is used again (from the database, in a gateway that has not cached it): the second is now
        # the least recently used, and is forgotten when a fourth comes
        for n, digest in enumerate(digests[:3]):  # used a day ago, the first longest ago
            await db.execute(
                """UPDATE persisted_documents SET last_used_at = now() - interval '1 day' + $3 * interval '1 minute'
                   WHERE account_id = $1 AND sha256 = $2""",
                tenant.account_pk,
                digest,
                n,
            )
        async with gateway_with(migrated, tmp_path / "second", persisted_per_account=3) as fresh:
            status, body, _ = await post(http, fresh, apq(None, digests[0]), auth)
            assert status == 200 and body["data"]["account"]["id"] == tenant.account_id
        status, _, _ = await post(http, gw, apq(documents[3], digests[3]), auth)
        assert status == 200
        assert await stored() == sorted([digests[0], digests[2], digests[3]])
        # the forgotten one answers PersistedQueryNotFound (from a gateway that did not cache it) until sent again
        async with gateway_with(migrated, tmp_path / "third", persisted_per_account=3) as fresh:
            status, body, _ = await post(http, fresh, apq(None, digests[1]), auth)
            assert body["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
            # another account's documents are not this one's, and do not count against its bound
            other_auth = {"Authorization": f"Bearer {other.token}"}
            status, body, _ = await post(http, fresh, apq(None, digests[0]), other_auth)
            assert body["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
            status, _, _ = await post(http, fresh, apq(documents[4], digests[4]), other_auth)
            assert status == 200
    assert await stored() == sorted([digests[0], digests[2], digests[3]])
    # documents unused for longer than GATEWAY_PERSISTED_UNUSED_DAYS are swept by the housekeeping
    await db.execute(
        "UPDATE persisted_documents SET last_used_at = now() - interval '31 days' WHERE account_id = $1 AND sha256 = $2",
        tenant.account_pk,
        digests[2],
    )
    await Housekeeping(db, None, interval=3600, persisted_unused_days=30).sweep()
    assert await stored() == sorted([digests[0], digests[3]])


async def test_trusted_documents_mode(
    http: aiohttp.ClientSession, migrated: str, tmp_path: Path, tenant: Tenant, db: Database
) -> None:
    from gateway.execution.persisted import PersistedQueries, adapter_documents

    trusted = "query Trusted { account { id } }"
    await PersistedQueries(db).register_trusted([trusted])
    auth = {"Authorization": f"Bearer {tenant.token}"}
    async with gateway_with(migrated, tmp_path, trusted_documents=True) as server:
        status, body, _ = await post(http, server, {"query": "{ account { name } }"}, auth)
        assert (
            status == 403
            and body["errors"][0]["message"] == "Only registered (trusted) documents may run on this gateway"
        )
        status, body, _ = await post(http, server, {"query": trusted}, auth)
        assert status == 200 and body["data"]["account"]["id"] == tenant.account_id
        status, body, _ = await post(
            http, server, apq(None, hashlib.sha256(trusted.encode()).hexdigest()), auth
        )
        assert status == 200
        # an APQ registration cannot sneak a document in
        other = "{ account { createdAt } }"
        status, _, _ = await post(http, server, apq(other, hashlib.sha256(other.encode()).hexdigest()), auth)
        assert status == 403
        # the shims' own documents are registered at start
        for document in adapter_documents():
            found = await PersistedQueries(db).lookup(hashlib.sha256(document.encode()).hexdigest())
            assert found is not None and found[1]


async def test_introspection_can_be_switched_off(
    http: aiohttp.ClientSession, migrated: str, tmp_path: Path, tenant: Tenant
) -> None:
    async with gateway_with(migrated, tmp_path, introspection=False) as server:
        reply = await gql(http, server, "{ __schema { queryType { name } } }", token=tenant.token)
        assert reply.status == 400 and "introspection" in reply.errors[0]["message"].lower()
        assert (await gql(http, server, "{ account { __typename id } }", token=tenant.token)).status == 200
    async with gateway_with(migrated, tmp_path) as server:
        reply = await gql(http, server, "{ __schema { queryType { name } } }", token=tenant.token)
        assert reply.data == {"__schema": {"queryType": {"name": "Query"}}}


async def test_subscriptions_over_http_are_refused(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant
) -> None:
    reply = await gql(
        http,
        server,
        "subscription($p: ID!) { productActivity(productId: $p) { __typename } }",
        {"p": tenant.product_id},
        tenant.token,
    )
    assert reply.status == 400 and "data" not in reply.body
    assert reply.errors[0]["extensions"]["code"] == "SUBSCRIPTION_NEEDS_WEBSOCKET"


async def test_cross_origin_browsers_may_call_graphql(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant
) -> None:
    origin = {"Origin": "https://app.example.test"}
    preflight_headers = {
        **origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    }
    async with http.options(server.url + "/graphql", headers=preflight_headers) as r:
        assert r.status == 204
        assert r.headers["Access-Control-Allow-Origin"] == "*"
        assert "POST" in r.headers["Access-Control-Allow-Methods"]
        assert "Authorization" in r.headers["Access-Control-Allow-Headers"]
    status, body, headers = await post(
        http, server, {"query": "{ account { id } }"}, {**origin, "Authorization": f"Bearer {tenant.token}"}
    )
    assert status == 200 and headers["Access-Control-Allow-Origin"] == "*"
    assert "X-RateLimit-Remaining" in headers["Access-Control-Expose-Headers"]
    status, _, headers = await post(http, server, {"query": "{ account { id } }"}, origin)
    assert status == 401 and headers["Access-Control-Allow-Origin"] == "*"  # the page can read why


async def test_cors_origins_can_be_narrowed(
    http: aiohttp.ClientSession, migrated: str, tmp_path: Path, tenant: Tenant
) -> None:
    async with gateway_with(migrated, tmp_path, cors_origins=("https://ours.test",)) as server:
        auth = {"Authorization": f"Bearer {tenant.token}"}
        _, _, ours = await post(
            http, server, {"query": "{ account { id } }"}, {**auth, "Origin": "https://ours.test"}
        )
        assert ours["Access-Control-Allow-Origin"] == "https://ours.test" and ours["Vary"] == "Origin"
        _, _, theirs = await post(
            http, server, {"query": "{ account { id } }"}, {**auth, "Origin": "https://evil.test"}
        )
        assert "Access-Control-Allow-Origin" not in theirs
