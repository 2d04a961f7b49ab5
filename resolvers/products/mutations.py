"""Mutations that create, update and delete products."""

from __future__ import annotations

import ipaddress
import re
import secrets
from typing import Any

import asyncpg
import strawberry

from gateway.access.app_keys import forget_app_keys
from gateway.access.hosts import forget_hosts
from gateway.access.principal import Permission
from gateway.input_values import BadInput, timezone
from resolvers.context import Context, ctx_of
from resolvers.errors import NotFound, UserError
from resolvers.inputs import check_text, own_pk, set_clause, unset
from resolvers.payloads import DeletePayload, delete_owned
from resolvers.products.hosts import normalize_hosts, replace_hosts
from resolvers.products.types import PRODUCT_COLUMNS, Product, ProductStatus

_SITE_CODE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,48}[a-z0-9])?$")
MAX_IGNORED_IPS = 100


def _check_site_code(code: str) -> str:
    code = code.strip().lower()
    if not _SITE_CODE.match(code):
        raise UserError(
            "`siteCode` must have 1 to 50 letters, digits or hyphens, not starting or ending with one"
        )
    return code


def _check_ips(ips: list[str]) -> list[str]:
    if len(ips) > MAX_IGNORED_IPS:
        raise UserError(f"At most {MAX_IGNORED_IPS} ignored IPs")
    checked = []
    for ip in ips:
        try:
            checked.append(str(ipaddress.ip_address(ip.strip())))
        except ValueError:
            raise UserError(f"{ip!r} is not an IP address") from None
    return list(dict.fromkeys(checked))


def _check_timezone(name: str) -> str:
    try:
        return timezone(name)
    except BadInput as exc:  # unknown, malformed, or too long for a file name (ZoneInfo raised OSError)
        raise UserError(str(exc)) from None


@strawberry.input(description="A new product.")
class CreateProductInput:
    name: str
    url: str | None = None
    timezone: str = "UTC"
    environment: str = "production"
    status: ProductStatus = ProductStatus.ACTIVE
    salt: str | None = strawberry.field(default=None, description="Checksum salt SDKs sign requests with.")
    hosts: list[str] | None = strawberry.field(
        default=None, description="Web hosts whose requests count for the product (custom domains)."
    )
    site_code: str | None = strawberry.field(
        default=None,
        description="The site code (`<siteCode>.example.com` picks the product); random if omitted.",
    )
    ignored_ips: list[str] | None = strawberry.field(
        default=None, description="IPs whose web hits are dropped."
    )
    public: bool = strawberry.field(default=False, description="Analytics readable without a token.")


@strawberry.input(description="Changes to a product; omitted fields stay as they are.")
class UpdateProductInput:
    name: str | None = strawberry.UNSET
    url: str | None = strawberry.UNSET
    timezone: str | None = strawberry.UNSET
    environment: str | None = strawberry.UNSET
    status: ProductStatus | None = strawberry.UNSET
    salt: str | None = strawberry.field(default=strawberry.UNSET, description="Empty string: no checksum.")
    hosts: list[str] | None = strawberry.field(
        default=strawberry.UNSET, description="Replaces the product's web hosts (empty list: none)."
    )
    site_code: str | None = strawberry.UNSET
    ignored_ips: list[str] | None = strawberry.field(
        default=strawberry.UNSET, description="Replaces the IPs whose web hits are dropped."
    )
    public: bool | None = strawberry.UNSET


def _site_changes(input: CreateProductInput | UpdateProductInput) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if not unset(input.site_code):
        changes["site_code"] = _check_site_code(input.site_code or "")
    if not unset(input.ignored_ips):
        changes["ignored_ips"] = _check_ips(input.ignored_ips or [])
    if not unset(input.public):
        changes["public"] = bool(input.public)
    return changes


async def _write_product(
    ctx: Context, account_id: int, sql: str, args: list[Any], hosts: list[str] | None
) -> Product:
    """Run the product's INSERT or UPDATE (`sql`, returning PRODUCT_COLUMNS) and, when given, its hosts, in one
    transaction; a site code or host another product holds is refused."""
    try:
        async with ctx.db.transaction() as tx:
            row = await tx.fetchrow(sql, *args)
            if row is None:
                raise NotFound("Product")
            if hosts is not None:
                await replace_hosts(tx, account_id, row["id"], hosts)
    except asyncpg.UniqueViolationError as error:
        if error.constraint_name == "products_site_code":
            raise UserError("`siteCode` is already used by another product", code="CONFLICT") from None
        raise
    forget_app_keys()
    forget_hosts()
    return Product.from_row(row)


@strawberry.type
class ProductMutations:
    @strawberry.mutation(description="Create a product (app or site) with a fresh app key.")
    async def create_product(self, info: strawberry.Info, input: CreateProductInput) -> Product:
        ctx = ctx_of(info)
        principal = ctx.require(Permission.CREATE_PRODUCTS)
        hosts = normalize_hosts(input.hosts) if input.hosts is not None else None
        site = _site_changes(input)
        columns = ["account_id", "name", "url", "timezone", "environment", "status", "app_key", "salt", *site]
        args = [
            principal.account_id,
            check_text("name", input.name),
            input.url,
            _check_timezone(input.timezone),
            check_text("environment", input.environment, max_length=50),
            input.status.value,
            secrets.token_hex(20),
            input.salt or None,
            *site.values(),
        ]
        placeholders = ", ".join(f"${i}" for i in range(1, len(args) + 1))
        sql = f"INSERT INTO products AS t ({', '.join(columns)}) VALUES ({placeholders}) RETURNING {PRODUCT_COLUMNS}"
        return await _write_product(ctx, principal.account_id, sql, args, hosts)

    @strawberry.mutation(description="Change a product.")
    async def update_product(
        self, info: strawberry.Info, id: strawberry.ID, input: UpdateProductInput
    ) -> Product:
        ctx = ctx_of(info)
        principal = ctx.require(Permission.UPDATE_PRODUCTS)
        pk = own_pk(id, "Product")
        if not principal.may_use_product(pk):
            raise NotFound("Product")
        changes: dict[str, object] = {}
        if not unset(input.name):
            changes["name"] = check_text("name", input.name or "")
        if input.url is not strawberry.UNSET:
            changes["url"] = input.url
        if not unset(input.timezone):
            changes["timezone"] = _check_timezone(input.timezone or "")
        if not unset(input.environment):
            changes["environment"] = check_text("environment", input.environment or "", max_length=50)
        if not unset(input.status) and isinstance(input.status, ProductStatus):
            changes["status"] = input.status.value
        if input.salt is not strawberry.UNSET:
            changes["salt"] = input.salt or None
        changes.update(_site_changes(input))
        hosts = None if unset(input.hosts) else normalize_hosts(input.hosts or [])
        if changes:
            assignments, values = set_clause(changes, 3)
        elif hosts is not None:
            assignments, values = "updated_at = now()", []
        else:
            raise UserError("Nothing to update: give at least one field")
        sql = f"UPDATE products AS t SET {assignments} WHERE t.id = $1 AND t.account_id = $2 RETURNING {PRODUCT_COLUMNS}"
        return await _write_product(
            ctx, principal.account_id, sql, [pk, principal.account_id, *values], hosts
        )

    @strawberry.mutation(description="Delete a product and all its data.")
    async def delete_product(self, info: strawberry.Info, id: strawberry.ID) -> DeletePayload:
        deleted = await delete_owned(
            ctx_of(info), Permission.ADMIN, "products", "Product", id, product_column="id"
        )
        forget_app_keys()
        return deleted
