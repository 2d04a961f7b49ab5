"""`rollupTree` / `eventRollupTree` over `/graphql`: each product its own tree, one statement for all products,
nothing of another account's. (The trees' contents against the stored rows: `tests/adapters/countly/
test_time_documents.py`.)"""

from __future__ import annotations

import json

import aiohttp

from gateway.access.tokens import principal_for_token
from gateway.db.pool import Database
from gateway.execution.fast_path import RawJson
from gateway.state import STATE_KEY
from resolvers.context import Context
from tests.conftest import Server, gql, new_tenant
from tests.graph.rollup_products import product_with_rollups, read_products

QUERY = """
query Trees($n: Int!) {
  products(first: $n) {
    nodes {
      id
      analytics {
        rollupTree(since: "2026-01-01T00:00:00Z", until: "2026-01-03T00:00:00Z", grains: [DAY, HOUR],
                   metrics: [COUNTRY], metricGrains: [DAY]) {
          tree values { metric values }
        }
        valuesOnly: rollupTree(since: "2026-01-01T00:00:00Z", until: "2026-01-03T00:00:00Z", totals: false,
                               metrics: [COUNTRY, OS]) {
          tree values { metric values }
        }
        eventRollupTree(keys: ["tap", "tap"], since: "2026-01-01T00:00:00Z", until: "2026-01-03T00:00:00Z") {
          tree segments
        }
      }
    }
  }
}
"""


async def test_trees_per_product_batched(http: aiohttp.ClientSession, server: Server, db: Database) -> None:
    reads = [await read_products(http, server, db, QUERY, count) for count in (2, 6)]
    for read in reads:
        by_id = read.analytics
        assert by_id[read.tenant.product_id] == {  # the tenant's own, empty product
            "rollupTree": {"tree": {}, "values": [{"metric": "COUNTRY", "values": []}]},
            "valuesOnly": {
                "tree": {},
                "values": [{"metric": "COUNTRY", "values": []}, {"metric": "OS", "values": []}],
            },
            "eventRollupTree": {"tree": {}, "segments": []},
        }
        for product_id, sessions in read.sessions.items():
            totals = {"t": sessions, "n": 1, "u": 1, "d": 60, "e": 3}
            country = {"t": sessions, "n": 1, "u": 1}
            analytics = by_id[product_id]
            # the country's hour is not read: metric values at days only
            assert analytics["rollupTree"] == {
                "tree": {"2026": {"1": {"2": {**totals, "DE": country, "5": totals}}}},
                "values": [{"metric": "COUNTRY", "values": ["DE"]}],
            }
            # every grain of the values (their hour too), no totals
            assert analytics["valuesOnly"] == {
                "tree": {"2026": {"1": {"2": {"DE": country, "5": {"DE": country}}}}},
                "values": [{"metric": "COUNTRY", "values": ["DE"]}, {"metric": "OS", "values": []}],
            }
            assert analytics["eventRollupTree"] == {
                "tree": {"2026": {"1": {"2": {"c": sessions, "s": 1.5}}}},
                "segments": [],
            }
    assert reads[0].statements == reads[1].statements, [read.statements for read in reads]


async def test_trees_of_another_account_are_not_read(
    http: aiohttp.ClientSession, server: Server, db: Database
) -> None:
    owner, other = await new_tenant(db), await new_tenant(db)
    product_id = await product_with_rollups(db, owner, 7)
    query = """query($id: ID!) { node(id: $id) { ... on Product { analytics {
        rollupTree(since: "2026-01-01T00:00:00Z", until: "2026-01-03T00:00:00Z") { tree }
        eventRollupTree(keys: ["tap"], since: "2026-01-01T00:00:00Z", until: "2026-01-03T00:00:00Z") { tree }
    } } } }"""
    mine = await gql(http, server, query, {"id": product_id}, token=owner.token)
    day = {"t": 7, "n": 1, "u": 1, "d": 60, "e": 3}
    assert mine.data == {
        "node": {
            "analytics": {
                "rollupTree": {"tree": {"2026": {"1": {"2": {**day, "5": day}}}}},
                "eventRollupTree": {"tree": {"2026": {"1": {"2": {"c": 7, "s": 1.5}}}}},
            }
        }
    }, mine.body
    theirs = await gql(http, server, query, {"id": product_id}, token=other.token)
    assert theirs.data == {"node": None}, theirs.body


async def test_trees_as_text_or_objects(http: aiohttp.ClientSession, server: Server, db: Database) -> None:
    """In process, the tree is objects unless the caller writes JSON text itself (`raw_json`, as `/graphql`
    and the Countly shim do); both hold the same."""
    tenant = await new_tenant(db)
    product_id = await product_with_rollups(db, tenant, 3)
    state = server.app[STATE_KEY]
    operation = state.executor.prepare(
        """query($id: ID!) { node(id: $id) { ... on Product { analytics {
            rollupTree(since: "2026-01-01T00:00:00Z", until: "2026-01-03T00:00:00Z", metrics: [COUNTRY]) { tree }
            eventRollupTree(keys: ["tap"], since: "2026-01-01T00:00:00Z", until: "2026-01-03T00:00:00Z") { tree }
        } } } }"""
    )
    principal = await principal_for_token(db, tenant.token)
    found = {}
    for raw in (False, True):
        context = Context(db=state.db, principal=principal, limits=state.settings.limits, raw_json=raw)
        result = await state.executor.run(operation, context, {"id": product_id})
        assert not result.errors, result.errors
        found[raw] = result.data["node"]["analytics"]
    for field in ("rollupTree", "eventRollupTree"):
        text = found[True][field]["tree"]
        assert type(text) is RawJson
        assert json.loads(text.text) == found[False][field]["tree"]
        assert isinstance(found[False][field]["tree"], dict) and found[False][field]["tree"]
