"""First run: an account, an admin user, a product and a token, created once and printed as JSON.

Running it again prints the same credentials: they are kept in `<data dir>/credentials-<account>.json`
(readable by the owner only), and a token that was revoked since is replaced by a new one.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path

from gateway.access.principal import Permission
from gateway.access.tokens import principal_for_token
from gateway.db.pool import Database
from resolvers.accounts.store import create_account
from resolvers.tokens.store import issue_token


@dataclass
class Credentials:
    account_id: str
    product_id: str
    app_key: str
    token: str
    email: str
    password: str
    account: str
    graphql_url: str = ""


def credentials_path(data_dir: Path, account: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", account)
    return data_dir / f"credentials-{safe}.json"


async def bootstrap(db: Database, data_dir: Path, account: str) -> Credentials:
    from resolvers.node import to_global_id

    path = credentials_path(data_dir, account)
    saved = json.loads(path.read_text()) if path.exists() else None
    row = await db.fetchrow("SELECT id FROM accounts WHERE name = $1", account)
    if row is None:
        email = f"admin@{re.sub(r'[^a-z0-9-]', '-', account.lower()) or 'gateway'}.local"
        password = secrets.token_urlsafe(12)
        created = await create_account(db, account, email, password)
        account_id, token = created.account_id, created.token
    else:
        account_id = row["id"]
        user = await db.fetchrow(
            "SELECT id, email FROM users WHERE account_id = $1 ORDER BY id LIMIT 1", account_id
        )
        email = user["email"] if user else ""
        password = saved["password"] if saved else ""
        token = saved["token"] if saved else ""
        principal = await principal_for_token(db, token) if token else None
        if principal is None or principal.account_id != account_id:
            issued = await issue_token(
                db, account_id, "bootstrap token", [Permission.ADMIN], user["id"] if user else None
            )
            token = issued.secret
        if not password and user is not None:
            from gateway.access.passwords import hash_password

            password = secrets.token_urlsafe(12)
            await db.execute(
                "UPDATE users SET password_hash = $2 WHERE id = $1", user["id"], hash_password(password)
            )
    product = await db.fetchrow(
        "SELECT id, app_key FROM products WHERE account_id = $1 ORDER BY id LIMIT 1", account_id
    )
    if product is None:
        product = await db.fetchrow(
            """INSERT INTO products (account_id, name, app_key) VALUES ($1, $2, $3) RETURNING id, app_key""",
            account_id,
            "My first app",
            secrets.token_hex(20),
        )
    assert product is not None
    credentials = Credentials(
        account_id=str(to_global_id("Account", account_id)),
        product_id=str(to_global_id("Product", product["id"])),
        app_key=product["app_key"],
        token=token,
        email=email,
        password=password,
        account=account,
    )
    _save(path, credentials)
    return credentials


def _save(path: Path, credentials: Credentials) -> None:
    """The credentials file: what bootstrap made, without the GraphQL address (the command line that runs
    `serve` decides it, and a file that named one would go stale when the port changes)."""
    saved = asdict(credentials)
    del saved["graphql_url"]
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(saved, handle, indent=2)
