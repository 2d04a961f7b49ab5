"""Set-valued attributes: ADD and REMOVE change the stored set in the ingestion engine's transaction, so changes
of one set sent at the same moment all count (the gem's syncs, several at once), and several changes of one set
in one request or one batch apply in order."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

from gateway.db.pool import Database
from gateway.ingest.model import SetChange, TrackRequest
from gateway.ingest.writer import write_batch
from tests.adapters.followanalytics.test_profiles import SOR, attribute, gem_request
from tests.conftest import Server, Tenant, gql

MEMBERS = 24

SET_PROPERTIES = """
mutation ($app: ID!, $customer: String!, $changes: [PropertyChangeInput!]!) {
  updatePersonProperties(productId: $app, identity: $customer, changes: $changes, source: "sor")
}
"""


async def _stored(db: Database, tenant: Tenant, customer: str, name: str, source: str = SOR) -> Any:
    return await db.fetchval(
        """SELECT p.value FROM person_properties p JOIN person_identities i ON i.person_id = p.person_id
           WHERE i.account_id = $1 AND i.product_id = $2 AND i.key = lower($3) AND p.source = $4 AND p.name = $5""",
        tenant.account_pk,
        tenant.product_pk,
        customer,
        source,
        name,
    )


async def test_concurrent_adds_of_different_members_all_survive(
    server: Server, db: Database, tenant: Tenant
) -> None:
    first = await gem_request(server, tenant.app_key, [attribute("teams", "team-0", "ada", "ADD")])
    assert first[0] == 200
    replies = await asyncio.gather(
        *(
            gem_request(server, tenant.app_key, [attribute("teams", f"team-{n}", "ada", "ADD")])
            for n in range(1, MEMBERS)
        )
    )
    assert {status for status, _ in replies} == {200}
    assert sorted(await _stored(db, tenant, "ada", "teams")) == sorted(f"team-{n}" for n in range(MEMBERS))
    # removals and additions at once: every one counts
    replies = await asyncio.gather(
        *(
            gem_request(server, tenant.app_key, [attribute("teams", f"team-{n}", "ada", "REMOVE")])
            for n in range(0, MEMBERS, 2)
        ),
        *(
            gem_request(server, tenant.app_key, [attribute("teams", f"new-{n}", "ada", "ADD")])
            for n in range(6)
        ),
    )
    assert {status for status, _ in replies} == {200}
    expected = {f"team-{n}" for n in range(1, MEMBERS, 2)} | {f"new-{n}" for n in range(6)}
    assert set(await _stored(db, tenant, "ada", "teams")) == expected


async def test_changes_of_one_set_in_one_request_apply_in_order(
    http: aiohttp.ClientSession, server: Server, db: Database, tenant: Tenant
) -> None:
    async def change(*changes: dict[str, Any]) -> None:
        reply = await gql(
            http,
            server,
            SET_PROPERTIES,
            {"app": tenant.product_id, "customer": "bob", "changes": list(changes)},
            tenant.token,
        )
        assert reply.errors is None and reply.data["updatePersonProperties"] is True, reply.body

    await change({"name": "Tags", "value": "solo"})  # a single value is a set of one
    await change({"name": "tags", "add": ["a", "b"]}, {"name": "tags", "remove": ["a", "solo"]})
    assert await _stored(db, tenant, "bob", "tags", "sor") == ["b"]
    await change({"name": "tags", "remove": ["b"]}, {"name": "tags", "add": ["b", "c", {"k": 1}]})
    assert await _stored(db, tenant, "bob", "tags", "sor") == ["b", "c", {"k": 1}]
    await change(
        {"name": "tags", "add": ["d"]}, {"name": "tags", "value": ["x"]}, {"name": "tags", "add": ["y"]}
    )
    assert await _stored(db, tenant, "bob", "tags", "sor") == ["x", "y"]
    await change({"name": "tags", "add": ["x"]}, {"name": "tags", "remove": ["x", "y"]})
    assert await _stored(db, tenant, "bob", "tags", "sor") == []


async def test_changes_of_one_set_in_one_batch_combine(db: Database, tenant: Tenant) -> None:
    def request(change: SetChange | None = None, value: Any = None) -> TrackRequest:
        return TrackRequest(
            tenant.account_pk,
            tenant.product_pk,
            "carol",
            properties=None if value is None else {"tags": value},
            set_changes=None if change is None else {"tags": change},
        )

    async with db.transaction() as tx:
        await write_batch(tx, [request(value=["kept", "gone"])])
    async with db.transaction() as tx:  # one batch: four changes of the stored set, one after the other
        await write_batch(
            tx,
            [
                request(SetChange(added=["a"], removed=["gone"])),
                request(SetChange(added=["b"], removed=["a"])),
                request(SetChange(added=["a", "c"])),
                request(SetChange(removed=["c"])),
            ],
        )
    assert await _stored(db, tenant, "carol", "tags", "global") == ["kept", "b", "a"]
