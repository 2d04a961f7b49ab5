"""Pages built as JSON by PostgreSQL answer exactly what the Python path answers, byte for byte.

Every query runs twice on the same data: as the gateway runs it (pages of plain leaves built by PostgreSQL,
`resolvers.pagination`) and with that switched off, through the Python objects and graphql-core's
serialization. The data has what could tell them apart: text needing escapes, nulls, timestamps with and
without microseconds, at the ends of Python's years and at infinity, global ids, cursors.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import orjson
import pytest

from gateway.access.tokens import principal_for_token
from gateway.db.pool import Database, start_counting
from gateway.execution.executor import Executor
from gateway.execution.fast_path import LeafListSelection, RawJson
from gateway.http.graphql_endpoint import encode_json
from resolvers import pagination
from resolvers.context import Context
from resolvers.events.types import PRODUCT_EVENTS
from resolvers.pagination import Order, PageRequest
from resolvers.people.erasure import erase_people
from resolvers.schema import schema
from tests.conftest import Server, Tenant, gql, new_tenant
from tests.graph.plans import lookup_scans
from tests.graph.seed import seed_product_tree

AWKWARD_TEXTS = ['quote " and \\ backslash', "tab\tnew\nline\x01\x1f", "é 中文 🎉 \u2028", "</script>", ""]


@pytest.fixture
async def shop(db: Database) -> AsyncIterator[Tenant]:
    tenant = await new_tenant(db)
    account, product = tenant.account_pk, tenant.product_pk
    for n, text in enumerate(AWKWARD_TEXTS):
        device = await db.fetchval(
            """INSERT INTO devices (account_id, product_id, device_key, first_seen, last_seen, os, city)
               VALUES ($1, $2, $3, '2026-03-01 10:00:00+00', $4::text::timestamptz, $5, NULL) RETURNING id""",
            account,
            product,
            f"device {text}",
            f"2026-03-0{n + 1} 10:00:00.{n:06d}+00",
            text or None,
        )
        for a, alias in enumerate([f"user {text}", f"later {text}"][: n % 3]):  # none, one or two users
            await db.execute(
                """INSERT INTO person_identities (account_id, product_id, key, identity, person_id, kind, created_at)
                   VALUES ($1, $2, lower($3), $3, $4, 'alias', '2026-03-01'::timestamptz + $5 * interval '1 day')""",
                account,
                product,
                alias,
                device,
                a,
            )
        for s in range(3):
            session = await db.fetchval(
                """INSERT INTO sessions (account_id, product_id, device_id, started_at, duration, ended_at)
                   VALUES ($1, $2, $3, $4::text::timestamptz, $5, CASE WHEN $5 > 0 THEN $4::text::timestamptz END)
                   RETURNING id""",
                account,
                product,
                device,
                f"2026-03-0{n + 1} 1{s}:00:00.{s * 250000:06d}+02",
                s * 60,
            )
            await db.execute(
                """INSERT INTO events (account_id, product_id, device_id, session_id, key, count, occurred_at,
                                       path, title, referrer)
                   SELECT $1, $2, $3, $4, $5, 2147483647 - g, $6::text::timestamptz + g * interval '1.5 second',
                          CASE WHEN g % 2 = 0 THEN '/p/' || $5 END, $5, NULL
                   FROM generate_series(1, 4) g""",
                account,
                product,
                device,
                session,
                text,
                f"2026-03-0{n + 1} 1{s}:00:00+00",
            )
    # the edges of Python's years, in a product of their own, and a row no page can build (infinity)
    for name, stamps in (
        ("years", ["0001-01-01 00:00:00.000001+00", "9999-12-31 23:59:59.999999+00"]),
        ("infinite", ["infinity", "2026-01-01 00:00:00+00"]),
    ):
        other = await db.fetchval(
            "INSERT INTO products (account_id, name, app_key) VALUES ($1, $2, $3) RETURNING id",
            account,
            name,
            f"key-{name}-{account}",
        )
        for n, stamp in enumerate(stamps):
            await db.execute(
                "INSERT INTO events (account_id, product_id, key, occurred_at) VALUES ($1, $2, 'edge', $3::text::timestamptz)",
                account,
                other,
                stamp,
            )
            device = await db.fetchval(
                """INSERT INTO devices (account_id, product_id, device_key, first_seen, last_seen)
                   VALUES ($1, $2, $3, now(), now() - $4 * interval '1 hour') RETURNING id""",
                account,
                other,
                f"edge {n}",
                n,
            )
            await db.execute(
                """INSERT INTO sessions (account_id, product_id, device_id, started_at)
                   VALUES ($1, $2, $3, $4::text::timestamptz)""",
                account,
                other,
                device,
                stamp,
            )
    await db.execute(
        """INSERT INTO segments (account_id, product_id, identifier, name, filter)
           VALUES ($1, $2, 'android', 'Android', '{"os": ["é 中文 🎉 \u2028", "</script>"]}')""",
        account,
        product,
    )
    yield tenant


async def _run(
    db: Database, tenant: Tenant, query: str, variables: dict[str, Any], *, raw_json: bool = False
) -> bytes:
    principal = await principal_for_token(db, tenant.token)
    executor = Executor(schema._schema)
    context = Context(db=db, principal=principal, raw_json=raw_json)
    result = await executor.run(executor.prepare(query), context, variables)
    errors = [error.formatted for error in result.errors or []]
    return encode_json({"data": result.data, "errors": errors})


async def _both(
    db: Database, tenant: Tenant, monkeypatch: pytest.MonkeyPatch, query: str, variables: dict[str, Any]
) -> tuple[bytes, bytes, int]:
    """(reply built in PostgreSQL, reply built in Python, how many statements built pages as JSON).

    The reply built in PostgreSQL is checked to be the same when its pages stay PostgreSQL's text.
    """
    built: list[int] = []
    fetch_projected = pagination.Listing._fetch_projected

    async def counting(self: Any, *args: Any) -> Any:
        pages = await fetch_projected(self, *args)
        built.append(len(pages))
        return pages

    with monkeypatch.context() as patch:
        patch.setattr(pagination.Listing, "_fetch_projected", counting)
        projected = await _run(db, tenant, query, variables)
    # as the GraphQL endpoint runs it: PostgreSQL's text written into the reply as it is (its spacing differs)
    raw = await _run(db, tenant, query, variables, raw_json=True)
    assert orjson.dumps(orjson.loads(raw)) == projected
    with monkeypatch.context() as patch:
        patch.setattr(pagination.Listing, "_projected", lambda self, ctx, request, info: request)
        plain = await _run(db, tenant, query, variables)
    return projected, plain, sum(1 for pages in built if pages)


EVENT_LEAVES = "__typename id key count timestamp path title referrer isPageview"

# (query, variables, how many pages PostgreSQL builds as JSON)
CASES: list[tuple[str, dict[str, Any], int]] = [
    (
        f"{{ products(first: 5) {{ nodes {{ name events(first: 7) {{ nodes {{ {EVENT_LEAVES} }} }} }} }} }}",
        {},
        1,
    ),
    (
        """{ products(first: 5) { nodes { events(first: 3) { __typename totalCount
             pageInfo { hasNextPage hasPreviousPage startCursor endCursor } items: nodes { k: key t: timestamp } } } } }""",
        {},
        1,
    ),
    (
        """{ products(first: 3) { nodes { devices(first: 10) { nodes {
             id deviceId firstSeen lastSeen os osVersion device resolution carrier appVersion locale country city
             sessions(first: 2) { nodes { id startedAt endedAt duration } }
             events(first: 2) { nodes { key timestamp } } } } } } }""",
        {},
        3,  # the devices with their sessions and events; a session at infinity sends one product's devices,
        # then their sessions and events, the Python way
    ),
    (
        """{ products(first: 1) { nodes { sessions(first: 20) { nodes { startedAt
             events(first: 5) { nodes { ...E } } } } } } } fragment E on Event { key ... on Event { count } }""",
        {},
        1,
    ),
    (
        "{ products(first: 1) { nodes { segments(first: 5) { nodes { devices(first: 5) { nodes { deviceId os } } } } } } }",
        {},
        1,
    ),
    (
        "{ products(first: 5) { nodes { events(first: 0) { nodes { key } pageInfo { hasNextPage endCursor } } } } }",
        {},
        1,
    ),
    ('{ products(first: 5) { nodes { events(first: 4, key: "") { nodes { key path } } } } }', {}, 1),
    # the user each event's and session's person is known by now (its newest alias), null without one
    (
        """{ products(first: 1) { nodes { events(first: 60) { nodes { key deviceId userId } }
             sessions(first: 20) { nodes { deviceId userId } } devices(first: 10) { nodes { latestAlias } } } } }""",
        {},
        1,
    ),
    # ... looked up once per device of a page, in child connections too, beside edges' cursors
    (
        """{ products(first: 5) { nodes { devices(first: 10) { nodes { deviceId sessions(first: 2) { nodes {
             userId deviceId events(first: 3) { nodes { deviceId key userId } } } } } } } } }""",
        {},
        1,
    ),
    (
        "{ products(first: 5) { nodes { events(first: 7) { edges { cursor node { userId key deviceId } } } } } }",
        {},
        1,
    ),
    # child connections built inside their parents' items, down to four levels
    (
        """query($s: Int!) { products(first: 5) { nodes { name devices(first: 10) { nodes { deviceId os
             sessions(first: $s) { __typename pageInfo { hasNextPage hasPreviousPage } nodes { startedAt duration } }
             last: sessions(first: 1) { nodes { id } } none: events(first: 0) { pageInfo { hasNextPage } nodes { key } }
           } } } } }""",
        {"s": 2},
        4,  # as above: the devices, then the three child connections of one product's devices
    ),
    (
        """{ products(first: 5) { nodes { devices(first: 3) { nodes { id sessions(first: 2) { nodes { endedAt
             events(first: 3) { nodes { key timestamp count isPageview } } } } } } } } }""",
        {},
        1,
    ),
    (
        """{ products(first: 1) { nodes { devices(first: 10) { nodes { deviceId
             sessions(first: 2) { pageInfo { hasNextPage } nodes { startedAt events(first: 2) { nodes { key } } } } } } } } }""",
        {},
        1,
    ),
    (
        """{ products(first: 5) { nodes { devices(first: 3) { nodes { os sessions(first: 2) { totalCount nodes { id } }
             events(first: 2, period: {since: "2026-03-02T00:00:00Z", until: "2026-03-04T11:00:00Z"}) {
               totalCount nodes { key } } } } } } }""",
        {},
        1,
    ),
    # a child that cannot be built with its parents (cursors, a bad page size) is loaded by itself
    (
        "{ products(first: 5) { nodes { devices(first: 3) { nodes { os sessions(first: 2) { pageInfo { endCursor } nodes { id } } } } } } }",
        {},
        1,
    ),
    (
        "{ products(first: 5) { nodes { devices(first: 3) { nodes { os sessions(first: 100000) { nodes { id } } } } } } }",
        {},
        0,
    ),
    # edges, with cursors written as Python writes them (timestamps, and integers for products)
    ("{ products(first: 5) { nodes { events(first: 3) { edges { cursor node { key } } } } } }", {}, 1),
    (
        """{ products(first: 1) { edges { __typename c: cursor n: node { id devices(first: 3) {
             pageInfo { hasNextPage } edges { node { deviceId sessions(first: 2) { edges { cursor node { startedAt } } } }
             cursor } } } } } }""",
        {},
        1,
    ),
    (
        "{ products(first: 5) { pageInfo { startCursor endCursor } edges { cursor node { name } } } }",
        {},
        1,
    ),
    # not built as JSON: a directive, two lists, edges and nodes, floats and JSON, a nested object
    (
        "query($c: Boolean!) { products(first: 5) { nodes { events(first: 3) { nodes { key count @include(if: $c) } } } } }",
        {"c": True},
        0,
    ),
    ("{ products(first: 5) { nodes { events(first: 3) { a: nodes { key } b: nodes { count } } } } }", {}, 0),
    (
        "{ products(first: 5) { nodes { events(first: 3) { edges { cursor node { key } } nodes { key } } } } }",
        {},
        0,
    ),
    (
        "{ products(first: 5) { nodes { events(first: 3) { nodes { key sum duration segmentation } } } } }",
        {},
        0,
    ),
    ("{ products(first: 5) { nodes { events(first: 3) { nodes { key device { os } } } } } }", {}, 0),
]


@pytest.mark.parametrize(("query", "variables", "pages"), CASES)
async def test_json_pages_answer_what_python_answers(
    db: Database,
    shop: Tenant,
    monkeypatch: pytest.MonkeyPatch,
    query: str,
    variables: dict[str, Any],
    pages: int,
) -> None:
    projected, plain, built = await _both(db, shop, monkeypatch, query, variables)
    assert projected == plain
    assert built == pages
    assert (b'"errors":[]' in projected) == ("100000" not in query), projected[:500]


async def test_one_context_gives_text_then_objects(db: Database, shop: Tenant) -> None:
    """A shim's operations share a context (`gateway.execution.inprocess`): a page one loaded as PostgreSQL's text is not
    what the next gets when it wants objects, and asking again for text finds the text page loaded already."""
    query = CASES[0][0]
    principal = await principal_for_token(db, shop.token)
    executor = Executor(schema._schema)
    operation = executor.prepare(query)
    context = Context(db=db, principal=principal, raw_json=True)
    counted = start_counting()
    as_text = await executor.run(operation, context, {})
    context.raw_json = False
    as_objects = await executor.run(operation, context, {})
    assert counted.count == 2 * 4  # each run loaded its own pages
    assert as_text.errors is None and as_objects.errors is None
    texts = [product["events"]["nodes"] for product in as_text.data["products"]["nodes"]]  # type: ignore[index]
    objects = [product["events"]["nodes"] for product in as_objects.data["products"]["nodes"]]  # type: ignore[index]
    # (a page holding a row PostgreSQL cannot write exactly is read the Python way either way)
    assert sum(type(nodes) is RawJson for nodes in texts) == 2
    assert all(type(nodes) is list and all(type(node) is dict for node in nodes) for nodes in objects)
    assert [orjson.loads(nodes.text) if type(nodes) is RawJson else nodes for nodes in texts] == objects
    context.raw_json = True
    again = await executor.run(operation, context, {})
    assert counted.count == 2 * 4  # all loaded already
    assert encode_json(again.data) == encode_json(as_text.data)


async def test_paging_with_cursors_from_json_pages(
    db: Database, shop: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    query = """query($after: String) { products(first: 5) { nodes { name
                 events(first: 4, after: $after) { pageInfo { hasNextPage endCursor } nodes { key timestamp } } } } }"""
    after = None
    seen = 0
    for _ in range(20):
        projected, plain, built = await _both(db, shop, monkeypatch, query, {"after": after})
        assert projected == plain and built == 1
        products = orjson.loads(projected)["data"]["products"]["nodes"]
        page = next(p for p in products if p["name"].startswith("app of"))["events"]
        seen += len(page["nodes"])
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == len(AWKWARD_TEXTS) * 3 * 4


async def test_paging_through_edges_built_as_json(
    db: Database, shop: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    query = """query($after: String) { products(first: 1) { nodes {
                 sessions(first: 4, after: $after) { pageInfo { hasNextPage } edges { cursor node { startedAt } } } } } }"""
    after = None
    seen = []
    for _ in range(20):
        projected, plain, built = await _both(db, shop, monkeypatch, query, {"after": after})
        assert projected == plain and built == 1
        sessions = orjson.loads(projected)["data"]["products"]["nodes"][0]["sessions"]
        seen += [edge["node"]["startedAt"] for edge in sessions["edges"]]
        if not sessions["pageInfo"]["hasNextPage"]:
            break
        after = sessions["edges"][-1]["cursor"]
    assert len(seen) == len(set(seen)) == len(AWKWARD_TEXTS) * 3


async def test_rows_python_cannot_read_the_same_way_fall_back(
    db: Database, shop: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    query = "{ products(first: 5) { nodes { name events(first: 5) { nodes { key timestamp } } } } }"
    projected, plain, built = await _both(db, shop, monkeypatch, query, {})
    assert projected == plain and built == 1
    products = {p["name"]: p["events"]["nodes"] for p in orjson.loads(projected)["data"]["products"]["nodes"]}
    assert [e["timestamp"] for e in products["years"]] == [
        "9999-12-31T23:59:59.999999+00:00",
        "0001-01-01T00:00:00.000001+00:00",
    ]
    assert len(products["infinite"]) == 2  # read through Python, as before


async def test_only_the_pages_with_such_rows_fall_back(db: Database, shop: Tenant) -> None:
    principal = await principal_for_token(db, shop.token)
    ctx = Context(db=db, principal=principal, serialized_lists=True)
    products = {
        row["name"]: row["id"]
        for row in await db.fetch("SELECT id, name FROM products WHERE account_id = $1", shop.account_pk)
    }
    shape = (("key", "key"), ("timestamp", "timestamp"))
    selection = LeafListSelection(leaves=shape, type_name="Event", cursors=False, shape=shape)
    request = PageRequest(first=5, after=None, order=Order("t.occurred_at"), projection=selection)
    pages = await PRODUCT_EVENTS._fetch_projected(ctx, request, selection, list(products.values()), False)
    assert set(pages) == {products["years"], products[f"app of {shop.email.split('@')[0]}"]}


async def test_a_tree_of_plain_connections_is_one_statement(
    http: aiohttp.ClientSession, server: Server, db: Database
) -> None:
    tenant = await new_tenant(db)
    await seed_product_tree(db, tenant.account_pk, products=4, sessions_per_product=5, events_per_session=3)
    await gql(http, server, "{ __typename }", token=tenant.token)  # the token remembered: no lookup below
    flat = await gql(http, server, "{ products(first: 10) { nodes { id } } }", token=tenant.token)
    tree = await gql(
        http,
        server,
        """{ products(first: 10) { nodes { id name devices(first: 10) { nodes { deviceId os
             sessions(first: 5) { nodes { startedAt duration events(first: 5) { nodes { key timestamp } } } } } } } } }""",
        token=tenant.token,
    )
    assert tree.status == 200 and tree.errors is None, tree.body
    products = [p for p in tree.data["products"]["nodes"] if p["devices"]["nodes"]]
    assert len(products) == 4
    assert all(
        len(s["events"]["nodes"]) == 3
        for p in products
        for d in p["devices"]["nodes"]
        for s in d["sessions"]["nodes"]
    )
    assert tree.statements == flat.statements  # four levels in the one statement of the first


def test_raw_json_is_written_as_it_is_by_both_encoders() -> None:
    page = RawJson('[{"key" : "a", "n" : 1}, {"key" : "é \\" \\u2028", "n" : null}]')
    assert encode_json({"data": {"nodes": page}}) == (
        b'{"data":{"nodes":[{"key" : "a", "n" : 1}, {"key" : "\xc3\xa9 \\" \\u2028", "n" : null}]}}'
    )
    # a value orjson refuses (an integer beyond 64 bits in a JSON scalar) sends the reply through json
    beyond = encode_json({"data": {"nodes": page, "big": 2**70}})
    assert json.loads(beyond) == {
        "data": {"nodes": [{"key": "a", "n": 1}, {"key": 'é " \u2028', "n": None}], "big": 2**70}
    }


async def test_looked_up_values_of_rows_without_a_person(
    db: Database, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Events and sessions whose device is none, gone, erased or another account's: `deviceId` and `userId` are
    null, as the Python path answers (it loads devices and identities of the caller's account)."""
    account, product = tenant.account_pk, tenant.product_pk
    stranger = await new_tenant(db)

    async def person(account: int, product: int, key: str, alias: str | None) -> int:
        device = int(
            await db.fetchval(
                """INSERT INTO devices (account_id, product_id, device_key, first_seen, last_seen)
                   VALUES ($1, $2, $3, now(), now()) RETURNING id""",
                account,
                product,
                key,
            )
        )
        if alias is not None:
            await db.execute(
                """INSERT INTO person_identities (account_id, product_id, key, identity, person_id, kind)
                   VALUES ($1, $2, lower($3), $3, $4, 'alias')""",
                account,
                product,
                alias,
                device,
            )
        return device

    kept = await person(account, product, "kept", "Kept User")
    gone = await person(account, product, "gone", "Gone User")
    erased = await person(account, product, "erased", "Erased User")
    elsewhere = await person(stranger.account_pk, stranger.product_pk, "elsewhere", "Someone Else")
    devices = [kept, None, gone, erased, elsewhere, kept]
    for n, device in enumerate(devices):
        await db.execute(
            """INSERT INTO events (account_id, product_id, device_id, key, occurred_at)
               VALUES ($1, $2, $3, $4, '2026-03-01'::timestamptz + $5 * interval '1 minute')""",
            account,
            product,
            device,
            f"event {n}",
            n,
        )
        if device not in (
            None,
            elsewhere,
        ):  # (a session's device is of its account: Session.deviceId is not null)
            await db.execute(
                """INSERT INTO sessions (account_id, product_id, device_id, started_at)
                   VALUES ($1, $2, $3, '2026-03-01'::timestamptz + $4 * interval '1 minute')""",
                account,
                product,
                device,
                n,
            )
    # events carry no foreign key: the person's row may go without them (an erasure takes them along)
    await db.execute("DELETE FROM devices WHERE id = $1", gone)
    assert (await erase_people(db, account, ["Erased User"], None)).events == 1

    query = """{ products(first: 1) { nodes { events(first: 10) { nodes { key deviceId userId } }
                 sessions(first: 10) { nodes { deviceId userId events(first: 2) { nodes { deviceId } } } } } } }"""
    projected, plain, built = await _both(db, tenant, monkeypatch, query, {})
    assert projected == plain and built == 1
    events = orjson.loads(projected)["data"]["products"]["nodes"][0]["events"]["nodes"]
    assert [(e["key"], e["deviceId"], e["userId"]) for e in events] == [
        ("event 5", "kept", "Kept User"),
        ("event 4", None, None),
        ("event 2", None, None),
        ("event 1", None, None),
        ("event 0", "kept", "Kept User"),
    ]


async def test_each_device_of_a_page_is_looked_up_once(
    db: Database, shop: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page's device keys and users are read once per device, not once per row (`json_leaves.Lookup`)."""
    statements: list[tuple[str, tuple[Any, ...]]] = []
    fetch = Database.fetch

    async def capturing(self: Database, sql: Any, *args: Any) -> Any:
        statements.append((sql, args))
        return await fetch(self, sql, *args)

    query = "{ products(first: 1) { nodes { events(first: 50) { nodes { key deviceId userId } } } } }"
    with monkeypatch.context() as patch:
        patch.setattr(Database, "fetch", capturing)
        projected, plain, built = await _both(db, shop, monkeypatch, query, {})
    assert projected == plain and built == 1
    events = orjson.loads(projected)["data"]["products"]["nodes"][0]["events"]["nodes"]
    devices = {event["deviceId"] for event in events}
    assert len(events) == 50 and 1 < len(devices) < 50
    sql, args = next((sql, args) for sql, args in statements if "json_agg" in sql)
    looked_up = await lookup_scans(db, sql, args)
    assert {scan["Relation Name"] for scan in looked_up} == {"devices", "person_identities"}
    assert all(scan["Actual Loops"] == len(devices) for scan in looked_up), looked_up
