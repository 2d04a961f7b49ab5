"""Sessions without cookies: a hash of the site, the visitor's user agent and IP, and a salt that rotates.

Every epoch (`GATEWAY_SESSION_HOURS`, 24 by default) has one random salt, kept in PostgreSQL so that every worker
process and host hashes a visitor alike; each process remembers the salt of the current epoch. Once an epoch is
over its salt is of no use (the housekeeping deletes it with its first visits), and a session hash cannot be tied
to a visitor again. A session a client names itself (`session` of the API) is hashed with the salt too, so the
same visitor counts once per path and epoch either way.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import time
import weakref
from dataclasses import dataclass

from gateway.db.pool import Database

DEFAULT_SESSION_HOURS = 24.0

# first visits and salts of epochs that ended (the housekeeping's): the hashes of the current epoch use its salt
EXPIRE_VISITS = """
DELETE FROM web_visits WHERE epoch < (SELECT max(epoch) FROM web_session_salts)
"""
EXPIRE_SALTS = """
DELETE FROM web_session_salts WHERE epoch < (SELECT max(epoch) FROM web_session_salts)
"""

_GET_OR_CREATE = """
WITH created AS (
    INSERT INTO web_session_salts (epoch, salt) VALUES ($1, $2) ON CONFLICT (epoch) DO NOTHING RETURNING salt
)
SELECT salt FROM created UNION ALL SELECT salt FROM web_session_salts WHERE epoch = $1 LIMIT 1
"""


@dataclass(frozen=True)
class SessionSalt:
    """The salt of one epoch."""

    epoch: int
    salt: bytes

    def session(self, product_id: int, user_agent: str, ip: str) -> bytes:
        """The session of a visitor of a site, from its user agent and IP address."""
        return self._hash(b"v", product_id, user_agent, ip)

    def named_session(self, product_id: int, name: str) -> bytes:
        """The session a client names itself."""
        return self._hash(b"n", product_id, name, "")

    def _hash(self, kind: bytes, product_id: int, first: str, second: str) -> bytes:
        digest = hashlib.blake2b(self.salt + kind, digest_size=16)
        digest.update(product_id.to_bytes(8, "big", signed=True))
        digest.update(first.encode("utf-8", "surrogatepass"))
        digest.update(b"\x00")
        digest.update(second.encode("utf-8", "surrogatepass"))
        return digest.digest()


class SessionSalts:
    """The salt of the current epoch, shared through PostgreSQL and remembered by this process."""

    def __init__(self, db: Database, hours: float = DEFAULT_SESSION_HOURS) -> None:
        self.db = db
        self.seconds = max(60.0, hours * 3600.0)
        self._current: SessionSalt | None = None
        self._lock = asyncio.Lock()

    def epoch(self, now: float | None = None) -> int:
        return int((time.time() if now is None else now) // self.seconds)

    async def current(self) -> SessionSalt:
        """The salt of the epoch now (created by the first process that needs it)."""
        epoch = self.epoch()
        found = self._current
        if found is not None and found.epoch == epoch:
            return found
        async with self._lock:
            found = self._current
            if found is None or found.epoch != epoch:
                salt = None
                while salt is None:
                    # None when another process created the salt after this statement's snapshot: ask again
                    salt = await self.db.fetchval(_GET_OR_CREATE, epoch, os.urandom(32))
                found = self._current = SessionSalt(epoch, bytes(salt))
        return found


# the salts of each database pool of this process (one per gateway process)
_salts: weakref.WeakKeyDictionary[Database, SessionSalts] = weakref.WeakKeyDictionary()


def salts_for(db: Database, hours: float | None = None) -> SessionSalts:
    """The salts of `db` in this process; `hours` (the epoch's length) is taken from the first call that gives it
    (the app's start), else the default."""
    found = _salts.get(db)
    if found is None or (hours is not None and found.seconds != max(60.0, hours * 3600.0)):
        found = _salts[db] = SessionSalts(db, DEFAULT_SESSION_HOURS if hours is None else hours)
    return found
