"""A started gateway keeps what start-up built out of the garbage collector's generations (the latency tail)."""

from __future__ import annotations

import gc

from gateway.app import freeze_startup_heap
from tests.conftest import Server


async def test_the_start_up_heap_is_frozen_once_the_app_has_started(server: Server) -> None:
    assert server.app.on_startup[-1] is freeze_startup_heap
    # the schema alone is tens of thousands of objects
    assert gc.get_freeze_count() > 10_000
