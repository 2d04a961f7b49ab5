"""Requests about people's own data (GDPR): a copy of everything stored about them, or its erasure.

- `requestPersonData(identities:)`: for each name, an export job (kind PERSON, JSON) writes everything stored
  about the people the name identifies (gateway/background/person_data.py); the request is processed once
  every file is written, and each file downloads through a link valid for 7 days. With `notify`, each file's
  link is e-mailed to the requester (the token's user) once written, as exports' links are
  (gateway/background/export_delivery.py); without an SMTP server such a request is refused
  (MAIL_NOT_CONFIGURED), as an export to e-mail is.
- `erasePeople(identities:)`: erases at once every row that identifies those people (`erasure.py`); the
  request keeps no name, only how many names were asked about and how many people were erased.

Both look in one product when named, else in every product the token may use (a token limited to some products
reaches no other), and answer a `PersonRequest` to follow by its UUID (`personRequest(uuid:)`).
"""

from __future__ import annotations

import enum
import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import strawberry

from gateway.access.principal import Permission
from gateway.background.jobs import wake_job_runners
from resolvers.context import Context, ctx_of
from resolvers.errors import UserError
from resolvers.exports.mutations import mail_recipient
from resolvers.exports.types import EXPORT_PRODUCTS
from resolvers.people.erasure import MAX_IDENTITIES, erase_people
from resolvers.products.types import require_product_pk
from resolvers.scope import within_scope

LINK_DAYS = 7
_COLUMNS = "id, uuid, kind, identities, exports, asked, erased, notify, created_at, processed_at"


@strawberry.enum(description="What a request about people's data asks for.")
class PersonRequestKind(enum.Enum):
    ACCESS = "access"
    ERASE = "erase"


@strawberry.type(description="The file of one name of an access request.")
class PersonDataFile:
    identity: str
    status: str = strawberry.field(description="The export's status: pending, running, finished or failed.")
    download_link: str | None = strawberry.field(
        description="Where the file downloads without credentials (once finished; for 7 days)."
    )
    link_expires_at: datetime | None


@strawberry.type(description="A request about people's own data (GDPR), followed by its UUID.")
class PersonRequest:
    uuid: UUID
    kind: PersonRequestKind
    processed: bool = strawberry.field(
        description="Whether every file is written (access) or the data erased."
    )
    requested_at: datetime
    processed_at: datetime | None
    asked: int = strawberry.field(description="How many names the request named.")
    erased: int = strawberry.field(description="Erasures: how many people were erased.")
    notify: bool = strawberry.field(
        description="Whether the requester asked to be e-mailed (access requests)."
    )
    files: list[PersonDataFile] = strawberry.field(description="Access requests: one file per name.")


async def _products(ctx: Context, product_id: strawberry.ID | None) -> list[int] | None:
    """The products a request looks in: the one named, else those the token is limited to (None: every product
    of the account)."""
    if product_id is not None:
        return [await require_product_pk(ctx, product_id)]
    scope = ctx.product_scope
    return None if scope is None else sorted(scope)


def _checked(identities: list[str]) -> list[str]:
    names = [name for name in dict.fromkeys(identities) if name]
    if not names or len(names) > MAX_IDENTITIES or any(len(name) > 1000 or "\x00" in name for name in names):
        raise UserError(f"`identities` must name 1 to {MAX_IDENTITIES} people", code="BAD_IDENTITIES")
    return names


async def _load(ctx: Context, row: asyncpg.Record) -> PersonRequest:
    files: list[PersonDataFile] = []
    processed_at = row["processed_at"]
    if row["kind"] == "access":
        exports = row["exports"] or {}
        ids = [entry["export"] for entry in exports.values()]
        states = {
            r["id"]: r
            for r in await ctx.db.fetch(
                "SELECT id, status, finished_at, link_expires_at FROM exports WHERE account_id = $1 AND id = ANY($2::bigint[])",
                ctx.account_id,
                ids,
            )
        }
        for identity in row["identities"] or []:
            entry = exports.get(identity) or {}
            state = states.get(entry.get("export"))
            status = state["status"] if state else "failed"
            live = (
                state is not None
                and state["link_expires_at"] is not None
                and state["link_expires_at"] > datetime.now(UTC)
            )
            files.append(
                PersonDataFile(
                    identity=identity,
                    status=status,
                    download_link=f"/exports/download?token={entry['link']}"
                    if status == "finished" and live
                    else None,
                    link_expires_at=state["link_expires_at"] if state else None,
                )
            )
        if files and all(f.status in ("finished", "failed") for f in files) and processed_at is None:
            processed_at = max((s["finished_at"] for s in states.values() if s["finished_at"]), default=None)
    processed = row["kind"] == "erase" or (bool(files) and processed_at is not None)
    return PersonRequest(
        uuid=row["uuid"],
        kind=PersonRequestKind(row["kind"]),
        processed=processed,
        requested_at=row["created_at"],
        processed_at=processed_at if processed else None,
        asked=row["asked"],
        erased=row["erased"],
        notify=row["notify"],
        files=files,
    )


# $1 account, $2 UUID, $3 the products of a limited token (null: every one): the request, if the token may follow
# it: an erasure that looked only in products of the token's, an access request none of whose files holds people
# of a product the token may not use
_REQUEST = f"""
SELECT {", ".join("r." + column for column in _COLUMNS.split(", "))} FROM person_requests r
WHERE r.account_id = $1 AND r.uuid = $2
  AND ($3::bigint[] IS NULL
       OR (r.kind = 'erase' AND r.products <@ $3::bigint[])
       OR (r.kind = 'access' AND NOT EXISTS (
           SELECT FROM exports t
           WHERE t.account_id = r.account_id
             AND t.id IN (SELECT (e.value->>'export')::bigint FROM jsonb_each(r.exports) AS e)
             AND NOT coalesce({within_scope("$3", products_sql=EXPORT_PRODUCTS)}, false))))
"""


async def load_person_request(ctx: Context, uuid: UUID) -> PersonRequest | None:
    scope = ctx.product_scope
    row = await ctx.db.fetchrow(_REQUEST, ctx.account_id, uuid, None if scope is None else list(scope))
    return None if row is None else await _load(ctx, row)


@strawberry.type
class PersonRequestMutations:
    @strawberry.mutation(
        description="Ask for everything stored about the people these names identify (GDPR access): one JSON "
        "file per name, written in the background; with `notify`, each file's link is e-mailed to the token's "
        "user once written (MAIL_NOT_CONFIGURED without an SMTP server)."
    )
    async def request_person_data(
        self,
        info: strawberry.Info,
        identities: list[str],
        product_id: strawberry.ID | None = None,
        notify: bool = False,
    ) -> PersonRequest:
        ctx = ctx_of(info)
        principal = ctx.require(Permission.ADMIN)
        names = _checked(identities)
        products = await _products(ctx, product_id)
        owner = products[0] if products else None
        if products is None:
            owner = await ctx.db.fetchval(
                "SELECT id FROM products WHERE account_id = $1 ORDER BY id LIMIT 1", principal.account_id
            )
        if owner is None:
            raise UserError("The account has no product: there is nobody to look for")
        email_to = await mail_recipient(ctx) if notify else None
        exports: dict[str, Any] = {}
        async with ctx.db.transaction() as tx:
            for name in names:
                token = secrets.token_urlsafe(32)
                export_id = await tx.fetchval(
                    """INSERT INTO exports (account_id, product_id, kind, format, filter, link_hash, link_expires_at,
                                            email_to, email_token)
                       VALUES ($1, $2, 'person', 'json', $3, $4, $5, $6, $7) RETURNING id""",
                    principal.account_id,
                    owner,
                    {"identity": name, "products": products},
                    hashlib.sha256(token.encode()).digest(),
                    datetime.now(UTC) + timedelta(days=LINK_DAYS),
                    email_to,
                    token if email_to else None,
                )
                exports[name] = {"export": export_id, "link": token}
            row = await tx.fetchrow(
                f"""INSERT INTO person_requests (account_id, kind, identities, exports, asked, notify)
                    VALUES ($1, 'access', $2, $3, $4, $5) RETURNING {_COLUMNS}""",
                principal.account_id,
                names,
                exports,
                len(names),
                notify,
            )
        wake_job_runners("exports")
        assert row is not None
        return await _load(ctx, row)

    @strawberry.mutation(
        description="Erase every row that identifies the people these names identify (GDPR erasure): their "
        "devices, identities, properties, sessions and events, and the export files of their products that "
        "hold people's rows (expired; exports being written start again). Analytics totals (rollups) stay as "
        "they were."
    )
    async def erase_people(
        self, info: strawberry.Info, identities: list[str], product_id: strawberry.ID | None = None
    ) -> PersonRequest:
        ctx = ctx_of(info)
        principal = ctx.require(Permission.ADMIN)
        names = _checked(identities)
        products = await _products(ctx, product_id)
        erased = await erase_people(ctx.db, principal.account_id, names, products)
        if erased.exports_restarted:
            wake_job_runners("exports")
        row = await ctx.db.fetchrow(
            f"""INSERT INTO person_requests (account_id, kind, status, asked, erased, processed_at, products)
                VALUES ($1, 'erase', 'processed', $2, $3, now(), $4) RETURNING {_COLUMNS}""",
            principal.account_id,
            len(names),
            erased.people,
            products,
        )
        assert row is not None
        return await _load(ctx, row)
