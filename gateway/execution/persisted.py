"""Persisted documents: Apollo's automatic persisted queries, and the trusted-documents allow-list.

APQ: a client sends `extensions.persistedQuery.sha256Hash` without the query; an unknown hash answers
`PersistedQueryNotFound`, the client then sends query and hash together, the hash is checked and the query
remembered. Documents live in PostgreSQL (shared by all workers) with a small per-process cache in front.
In trusted-documents mode only registered documents run; the shims' own documents are always registered.

Remembered documents are bounded: each account keeps at most `per_account` of them (`persisted_documents`,
migration 048), the least recently used forgotten when a new one comes, and one unused for `unused_days` is
swept by the housekeeping (`EXPIRE`). Use is recorded when a document is read from the database and, for one a
process keeps in its cache, at most once an hour (`TOUCH_SECONDS`). A forgotten document costs its client one
round trip: its hash answers `PersistedQueryNotFound` and the client sends the text again, as APQ clients do.
The registered (trusted) documents are the gateway's own (`persisted_queries`): they are never forgotten.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import OrderedDict
from dataclasses import dataclass
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


# a document's use is written at most this often for a document a process keeps in its cache
TOUCH_SECONDS = 3600.0
DEFAULT_PER_ACCOUNT = 1000
DEFAULT_UNUSED_DAYS = 30.0

# (query, trusted) by hash: a registered document, else the caller's account's (whose use is then recorded)
_LOOKUP = """
WITH used AS (
    UPDATE persisted_documents SET last_used_at = now()
    WHERE account_id = $2 AND sha256 = $1
    RETURNING query
)
SELECT query, true AS trusted FROM persisted_queries WHERE sha256 = $1 AND trusted
UNION ALL
SELECT query, false FROM used
LIMIT 1
"""
# a new document of an account, and the account's least recently used ones beyond $4 forgotten
_REMEMBER = """
WITH kept AS (
    INSERT INTO persisted_documents AS d (account_id, sha256, query) VALUES ($1, $2, $3)
    ON CONFLICT (account_id, sha256) DO UPDATE SET last_used_at = now()
), forgotten AS (
    DELETE FROM persisted_documents
    WHERE account_id = $1 AND sha256 IN (
        SELECT sha256 FROM persisted_documents WHERE account_id = $1 AND sha256 <> $2
        ORDER BY last_used_at DESC, sha256 OFFSET GREATEST($4::int - 1, 0)
    )
)
SELECT 1
"""
_TOUCH = "UPDATE persisted_documents SET last_used_at = now() WHERE account_id = $1 AND sha256 = $2"
# the housekeeping's sweep (a batch at a time): documents unused for $1 days
EXPIRE = """
DELETE FROM persisted_documents WHERE (account_id, sha256) IN (
    SELECT account_id, sha256 FROM persisted_documents
    WHERE last_used_at < now() - $1::float8 * interval '1 day' LIMIT 1000
)
"""


@dataclass
class _Cached:
    query: str
    trusted: bool
    touched: float  # the loop's time its use was last written


class PersistedQueries:
    """Looks documents up by hash and remembers new ones, per account (see the module docstring)."""

    def __init__(self, db: Database, per_account: int = DEFAULT_PER_ACCOUNT) -> None:
        self.db = db
        self.per_account = max(1, per_account)
        # by (account, hash); registered documents under (None, hash)
        self._cache: OrderedDict[tuple[int | None, str], _Cached] = OrderedDict()

    async def lookup(self, sha256: str, account_id: int | None = None) -> tuple[str, bool] | None:
        """(query, trusted) for a hash: a registered document, or one `account_id` remembered; else None."""
        now = asyncio.get_running_loop().time()
        for key in ((None, sha256), (account_id, sha256)) if account_id is not None else ((None, sha256),):
            cached = self._cache.get(key)
            if cached is None:
                continue
            self._cache.move_to_end(key)
            if not cached.trusted and now - cached.touched > TOUCH_SECONDS:
                cached.touched = now
                await self.db.execute(_TOUCH, account_id, sha256)
            return cached.query, cached.trusted
        row = await self.db.fetchrow(_LOOKUP, sha256, account_id)
        if row is None:
            return None
        owner = None if row["trusted"] else account_id
        self._remember_locally((owner, sha256), _Cached(row["query"], row["trusted"], now))
        return row["query"], row["trusted"]

    async def remember(self, sha256: str, query: str, account_id: int) -> None:
        """Remember `account_id`'s document (forgetting its least recently used beyond the bound)."""
        if (account_id, sha256) in self._cache or (None, sha256) in self._cache:
            return
        await self.db.execute(_REMEMBER, account_id, sha256, query, self.per_account)
        now = asyncio.get_running_loop().time()
        self._remember_locally((account_id, sha256), _Cached(query, False, now))

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
        now = asyncio.get_running_loop().time()
        for sha256, query in zip(hashes, queries, strict=True):
            self._remember_locally((None, sha256), _Cached(query, True, now))

    def _remember_locally(self, key: tuple[int | None, str], entry: _Cached) -> None:
        self._cache[key] = entry
        if len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
