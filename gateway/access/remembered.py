"""A short-lived, bounded memory of credentials looked up lately, per process."""

from __future__ import annotations

import time
from typing import Generic, TypeVar

V = TypeVar("V")


class Remembered(Generic[V]):
    """Credentials looked up lately, each for a few seconds: clients send theirs with every request.

    A change to a credential (a product paused, a token's rights) reaches the processes that remember it
    within its time to live; unknown credentials are remembered for less time. Bounded: emptied when full.
    """

    def __init__(self, ttl: float, unknown_ttl: float, size: int = 10_000) -> None:
        self.ttl, self.unknown_ttl, self.size = ttl, unknown_ttl, size
        self._entries: dict[str, tuple[V | None, float]] = {}

    def recall(self, key: str) -> tuple[bool, V | None]:
        """(whether `key` is remembered, what it stands for)."""
        cached = self._entries.get(key)
        if cached is not None and cached[1] > time.monotonic():
            return True, cached[0]
        return False, None

    def keep(self, key: str, found: V | None) -> V | None:
        """Remember what `key` stands for (None: nothing), and return it."""
        if len(self._entries) >= self.size:
            self._entries.clear()
        self._entries[key] = (found, time.monotonic() + (self.ttl if found is not None else self.unknown_ttl))
        return found

    def clear(self) -> None:
        self._entries.clear()
