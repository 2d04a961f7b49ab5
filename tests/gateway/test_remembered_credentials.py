"""Credentials are looked up once per few seconds and process (`gateway.access.remembered.Remembered`)."""

from __future__ import annotations

import asyncio

from gateway.access.app_keys import product_for_app_key
from gateway.access.remembered import Remembered
from gateway.access.tokens import principal_for_token
from gateway.db.pool import Database, start_counting
from tests.conftest import Tenant


async def test_a_token_and_an_app_key_are_looked_up_once(db: Database, tenant: Tenant) -> None:
    counted = start_counting()
    first = await principal_for_token(db, tenant.token)
    assert first is not None and first.account_id == tenant.account_pk
    assert await principal_for_token(db, tenant.token) is first
    product = await product_for_app_key(db, tenant.app_key)
    assert product is not None and product.product_id == tenant.product_pk
    assert await product_for_app_key(db, tenant.app_key) is product
    assert counted.count == 2
    assert await principal_for_token(db, "agw_unknown-" + tenant.token) is None
    assert await principal_for_token(db, "agw_unknown-" + tenant.token) is None
    assert counted.count == 3


async def test_entries_expire_and_unknown_ones_sooner() -> None:
    remembered: Remembered[int] = Remembered(ttl=0.3, unknown_ttl=0.1)
    assert remembered.recall("known") == (False, None)
    assert remembered.keep("known", 7) == 7
    assert remembered.keep("unknown", None) is None
    assert remembered.recall("known") == (True, 7)
    assert remembered.recall("unknown") == (True, None)
    await asyncio.sleep(0.15)
    assert remembered.recall("unknown") == (False, None)
    assert remembered.recall("known") == (True, 7)
    await asyncio.sleep(0.2)
    assert remembered.recall("known") == (False, None)


def test_a_full_memory_starts_again() -> None:
    remembered: Remembered[int] = Remembered(ttl=60, unknown_ttl=60, size=2)
    remembered.keep("a", 1)
    remembered.keep("b", 2)
    remembered.keep("c", 3)
    assert [remembered.recall(key) for key in "abc"] == [(False, None), (False, None), (True, 3)]
    remembered.clear()
    assert remembered.recall("c") == (False, None)
