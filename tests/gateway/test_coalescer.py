"""`gateway.execution.coalescer`: items of one key handed in during one turn share a call; failures stay with their item."""

from __future__ import annotations

import asyncio

import pytest

from gateway.execution.coalescer import Coalescer


class Recorder:
    """A batch function that doubles numbers, fails on negative ones and records the calls it got."""

    def __init__(self, wrong_count: bool = False) -> None:
        self.calls: list[tuple[str, list[int]]] = []
        self.wrong_count = wrong_count

    async def __call__(self, key: str, items: list[int]) -> list[int]:
        self.calls.append((key, list(items)))
        await asyncio.sleep(0)
        if any(item < 0 for item in items):
            raise ValueError(f"negative item in {items}")
        doubled = [item * 2 for item in items]
        return doubled[:-1] if self.wrong_count else doubled


async def test_items_of_one_turn_share_a_call_and_get_their_own_results() -> None:
    calls = Recorder()
    coalescer: Coalescer[str, int, int] = Coalescer(calls)
    results = await asyncio.gather(*(coalescer.run("a", n) for n in range(5)))
    assert results == [0, 2, 4, 6, 8]
    assert calls.calls == [("a", [0, 1, 2, 3, 4])]
    assert (coalescer.stats.items, coalescer.stats.calls) == (5, 1)


async def test_keys_are_called_apart() -> None:
    calls = Recorder()
    coalescer: Coalescer[str, int, int] = Coalescer(calls)
    results = await asyncio.gather(coalescer.run("a", 1), coalescer.run("b", 2), coalescer.run("a", 3))
    assert results == [2, 4, 6]
    assert sorted(calls.calls) == [("a", [1, 3]), ("b", [2])]


async def test_an_item_of_a_later_turn_gets_a_call_of_its_own() -> None:
    calls = Recorder()
    coalescer: Coalescer[str, int, int] = Coalescer(calls)
    first = asyncio.ensure_future(coalescer.run("a", 1))
    await asyncio.sleep(0)  # the first item's task hands it in
    await asyncio.sleep(0)  # the call for it starts
    second = asyncio.ensure_future(coalescer.run("a", 2))
    assert await asyncio.gather(first, second) == [2, 4]
    assert calls.calls == [("a", [1]), ("a", [2])]


async def test_max_items_splits_a_turn() -> None:
    calls = Recorder()
    coalescer: Coalescer[str, int, int] = Coalescer(calls, max_items=2)
    assert await asyncio.gather(*(coalescer.run("a", n) for n in range(5))) == [0, 2, 4, 6, 8]
    assert calls.calls == [("a", [0, 1]), ("a", [2, 3]), ("a", [4])]


async def test_a_failed_shared_call_fails_only_the_bad_item() -> None:
    calls = Recorder()
    coalescer: Coalescer[str, int, int] = Coalescer(calls)
    results = await asyncio.gather(*(coalescer.run("a", n) for n in (1, -1, 3)), return_exceptions=True)
    assert results[0] == 2 and results[2] == 6
    assert isinstance(results[1], ValueError) and str(results[1]) == "negative item in [-1]"
    assert calls.calls[0] == ("a", [1, -1, 3])
    assert sorted(calls.calls[1:]) == [("a", [-1]), ("a", [1]), ("a", [3])]
    assert coalescer.stats.calls == 4


async def test_a_lone_failing_item_is_not_called_twice() -> None:
    calls = Recorder()
    coalescer: Coalescer[str, int, int] = Coalescer(calls)
    with pytest.raises(ValueError, match="negative"):
        await coalescer.run("a", -5)
    assert calls.calls == [("a", [-5])]


async def test_a_result_count_that_does_not_match_is_an_error() -> None:
    coalescer: Coalescer[str, int, int] = Coalescer(Recorder(wrong_count=True))
    with pytest.raises(RuntimeError, match="gave 0 results for 1 items"):
        await coalescer.run("a", 1)


async def test_a_caller_that_goes_away_leaves_the_others_their_results() -> None:
    calls = Recorder()
    coalescer: Coalescer[str, int, int] = Coalescer(calls)
    leaving = asyncio.ensure_future(coalescer.run("a", 1))
    staying = asyncio.ensure_future(coalescer.run("a", 2))
    await asyncio.sleep(0)
    leaving.cancel()
    assert await staying == 4
    assert leaving.cancelled()
    assert calls.calls == [("a", [1, 2])]
