"""Mutations on accounts: create, rename, delete, and log in with email and password."""

from __future__ import annotations

import re

import asyncpg
import strawberry

from gateway.access.passwords import PasswordCheckBusy
from gateway.access.principal import Permission
from resolvers.accounts.store import check_login, create_account, release_login_attempt, reserve_login_attempt
from resolvers.accounts.types import Account, load_account
from resolvers.context import ctx_of
from resolvers.errors import NotFound, UserError
from resolvers.inputs import check_text, own_pk
from resolvers.payloads import DeletePayload
from resolvers.tokens.store import issue_token
from resolvers.users.types import User, load_token_user

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
MIN_PASSWORD = 8


@strawberry.input(description="A new account and its first (admin) user.")
class CreateAccountInput:
    name: str
    email: str
    password: str


@strawberry.type(description="A new account and an admin token of it.")
class CreateAccountPayload:
    account_id: strawberry.ID
    token: str = strawberry.field(description="An admin token of the new account; shown only now.")


@strawberry.type(description="A token for the logged-in user's account.")
class LoginPayload:
    token: str
    account: Account
    user: User = strawberry.field(description="The user who logged in.")


@strawberry.type
class AccountMutations:
    @strawberry.mutation(description="Create another account (tenant). The caller gets no access to it.")
    async def create_account(self, info: strawberry.Info, input: CreateAccountInput) -> CreateAccountPayload:
        ctx = ctx_of(info)
        ctx.require(Permission.ADMIN)
        if not _EMAIL.match(input.email):
            raise UserError("`email` is not an email address")
        if len(input.password) < MIN_PASSWORD:
            raise UserError(f"`password` must have at least {MIN_PASSWORD} characters")
        try:
            created = await create_account(
                ctx.db, check_text("name", input.name), input.email, input.password
            )
        except asyncpg.UniqueViolationError as exc:
            raise UserError("An account with that name or a user with that email exists already") from exc
        except PasswordCheckBusy as busy:
            raise UserError(str(busy), code="RATE_LIMITED") from None
        from resolvers.node import to_global_id

        return CreateAccountPayload(
            account_id=to_global_id("Account", created.account_id), token=created.token
        )

    @strawberry.mutation(
        description="Rename the caller's account (not with a token limited to some products)."
    )
    async def update_account(self, info: strawberry.Info, name: str) -> Account:
        ctx = ctx_of(info)
        principal = ctx.require_whole_account(Permission.ADMIN)
        try:
            await ctx.db.execute(
                "UPDATE accounts SET name = $2, updated_at = now() WHERE id = $1",
                principal.account_id,
                check_text("name", name),
            )
        except asyncpg.UniqueViolationError as exc:
            raise UserError("An account with that name exists already") from exc
        found = await load_account(ctx, principal.account_id)
        assert found is not None
        return found

    @strawberry.mutation(
        description="Delete the caller's own account and everything in it (not with a token limited to some products)."
    )
    async def delete_account(self, info: strawberry.Info, id: strawberry.ID) -> DeletePayload:
        ctx = ctx_of(info)
        principal = ctx.require_whole_account(Permission.ADMIN)
        if own_pk(id, "Account") != principal.account_id:
            raise NotFound("Account")
        await ctx.db.execute("DELETE FROM accounts WHERE id = $1", principal.account_id)
        return DeletePayload(deleted_id=id)

    @strawberry.mutation(description="Log in with email and password; returns a new admin token.")
    async def login(self, info: strawberry.Info, email: str, password: str) -> LoginPayload:
        ctx = ctx_of(info)
        if len(email) > 320 or not await reserve_login_attempt(ctx.db, email):
            raise UserError("Too many failed logins for this email; try again next hour", code="RATE_LIMITED")
        try:
            found = await check_login(ctx.db, email, password)
        except PasswordCheckBusy as busy:
            await release_login_attempt(ctx.db, email)
            raise UserError(str(busy), code="RATE_LIMITED") from None
        if found is None:
            raise UserError("Wrong email or password", code="UNAUTHENTICATED")
        await release_login_attempt(ctx.db, email)
        account_id, user_id = found
        issued = await issue_token(ctx.db, account_id, f"login of {email}", [Permission.ADMIN], user_id)
        from gateway.access.principal import Principal, expand_permissions

        ctx.principal = Principal(account_id, expand_permissions(["admin"]), token_id=issued.id)
        account = await load_account(ctx, account_id)
        user = await load_token_user(ctx, issued.id)
        assert account is not None and user is not None
        return LoginPayload(token=issued.secret, account=account, user=user)
