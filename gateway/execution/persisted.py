"""Persisted documents: Apollo's automatic persisted queries, and the trusted-documents allow-list.

APQ: a client sends `extensions.persistedQuery.sha256Hash` without the query; an unknown hash answers
`PersistedQueryNotFound`, the client then sends query and hash together, the hash is checked and the query
remembered. Documents live in PostgreSQL (shared by all workers) with a small per-process cache in front.
In trusted-documents mode only registered documents run; the shims' own documents are always registered.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from importlib import resources

from gateway.db.pool import Database

CACHE_SIZE = 5000


def sha256_hex(query: str) -> str:
    return hashlib.sha256(query.encode("utf-8")).hexdigest()


def adapter_documents() -> list[str]:
    """Every operation document shipped with the REST shims (`adapters/<vendor>/**/*.graphql`)."""
    found: list[str] = []

    def walk(folder: resources.abc.Traversable) -> None:
        for entry in folder.iterdir():
            if entry.is_dir():
                walk(entry)
            elif entry.name.endswith(".graphql"):
                found.append(entry.read_text("utf-8"))

    walk(resources.files("adapters"))
    return found


class PersistedQueries:
    """Looks documents up by hash and remembers new ones."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._cache: OrderedDict[str, tuple[str, bool]] = OrderedDict()

    async def lookup(self, sha256: str) -> tuple[str, bool] | None:
        """(query, trusted) for a hash, or None."""
        cached = self._cache.get(sha256)
        if cached is not None:
            self._cache.move_to_end(sha256)
            return cached
        row = await self.db.fetchrow("SELECT query, trusted FROM persisted_queries WHERE sha256 = $1", sha256)
        if row is None:
            return None
        self._remember_locally(sha256, (row["query"], row["trusted"]))
        return row["query"], row["trusted"]

    async def remember(self, sha256: str, query: str) -> None:
        if sha256 in self._cache:
            return
        await self.db.execute(
            "INSERT INTO persisted_queries (sha256, query) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            sha256,
            query,
        )
        self._remember_locally(sha256, (query, False))

    async def register_trusted(self, queries: list[str]) -> None:
        """Allow these documents in trusted-documents mode."""
        if not queries:
            return
        hashes = [sha256_hex(q) for q in queries]
        await self.db.execute(
            """INSERT INTO persisted_queries (sha256, query, trusted)
               SELECT * FROM unnest($1::text[], $2::text[], array_fill(true, ARRAY[cardinality($1)]))
               ON CONFLICT (sha256) DO UPDATE SET trusted = true""",
            hashes,
            queries,
        )
        for sha256, query in zip(hashes, queries, strict=True):
            self._remember_locally(sha256, (query, True))

    def _remember_locally(self, sha256: str, entry: tuple[str, bool]) -> None:
        self._cache[sha256] = entry
        if len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
