"""Creating accounts with their first user, and finding a user by email and password."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.access.passwords import UNKNOWN_USER_HASH, hash_password_async, verify_password_async
from gateway.access.principal import Permission
from gateway.db.pool import Database
from resolvers.tokens.store import issue_token


@dataclass(frozen=True)
class NewAccount:
    account_id: int
    user_id: int
    token: str


async def create_account(db: Database, name: str, email: str, password: str) -> NewAccount:
    """An account, its admin user and an admin token, in one transaction."""
    password_hash = await hash_password_async(password)
    async with db.transaction() as tx:
        account_id = await tx.fetchval("INSERT INTO accounts (name) VALUES ($1) RETURNING id", name)
        user_id = await tx.fetchval(
            "INSERT INTO users (account_id, email, password_hash) VALUES ($1, $2, $3) RETURNING id",
            account_id,
            email,
            password_hash,
        )
        issued = await issue_token(tx, account_id, f"admin token of {email}", [Permission.ADMIN], user_id)
    return NewAccount(account_id=int(account_id), user_id=int(user_id), token=issued.secret)


async def check_login(db: Database, email: str, password: str) -> tuple[int, int] | None:
    """(account id, user id) when the password is right, else None; the hash runs off the event loop (and
    raises PasswordCheckBusy when too many logins wait for it).

    An email no user has costs the same work as a wrong password: its password is checked against a hash of no
    one's password (`UNKNOWN_USER_HASH`), on the same threads, so that neither the time of the reply nor a
    busy answer tells which emails exist."""
    row = await db.fetchrow(
        "SELECT id, account_id, password_hash FROM users WHERE lower(email) = lower($1)", email
    )
    stored = UNKNOWN_USER_HASH if row is None else row["password_hash"]
    if not await verify_password_async(password, stored) or row is None:
        return None
    return int(row["account_id"]), int(row["id"])


# failed logins allowed per email and hour before every attempt is refused until the hour ends
MAX_FAILED_LOGINS = 10


async def reserve_login_attempt(db: Database, email: str) -> bool:
    """Count an attempt against `email`'s failed logins of this hour, before the password is checked; False when
    they are used up (the attempt is then refused without a check).

    One statement, which locks the email's row: attempts sent at once are counted one after the other, in every
    worker process, so no more than MAX_FAILED_LOGINS passwords are ever checked per email and hour. A right
    password gives its attempt back (`release_login_attempt`).
    """
    counted = await db.fetchval(
        """INSERT INTO login_failures (email, window_start, failures)
           VALUES (lower($1), date_trunc('hour', now()), 1)
           ON CONFLICT (email, window_start) DO UPDATE SET failures = login_failures.failures + 1
           WHERE login_failures.failures < $2
           RETURNING failures""",
        email,
        MAX_FAILED_LOGINS,
    )
    return counted is not None


async def release_login_attempt(db: Database, email: str) -> None:
    """Give back the attempt a successful login reserved: only failures count."""
    await db.execute(
        """UPDATE login_failures SET failures = greatest(failures - 1, 0)
           WHERE email = lower($1) AND window_start = date_trunc('hour', now())""",
        email,
    )
