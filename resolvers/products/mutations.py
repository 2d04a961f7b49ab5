"""Mutations that create, update and delete products."""

from __future__ import annotations

import secrets

import strawberry

from gateway.access.app_keys import forget_app_keys
from gateway.access.principal import Permission
from gateway.input_values import BadInput, timezone
from resolvers.context import ctx_of
from resolvers.errors import UserError
from resolvers.inputs import check_text, unset
from resolvers.payloads import DeletePayload, delete_owned, update_owned
from resolvers.products.types import PRODUCT_COLUMNS, Product, ProductStatus


def _check_timezone(name: str) -> str:
    try:
        return timezone(name)
    except BadInput as exc:
        raise UserError(str(exc)) from None


@strawberry.input(description="A new product.")
class CreateProductInput:
    name: str
    url: str | None = None
    timezone: str = "UTC"
    environment: str = "production"
    status: ProductStatus = ProductStatus.ACTIVE
    salt: str | None = strawberry.field(default=None, description="Checksum salt SDKs sign requests with.")
    public: bool = strawberry.field(
        default=False, description="Whether the app key alone may read the product's analytics."
    )


@strawberry.input(description="Changes to a product; omitted fields stay as they are.")
class UpdateProductInput:
    name: str | None = strawberry.UNSET
    url: str | None = strawberry.UNSET
    timezone: str | None = strawberry.UNSET
    environment: str | None = strawberry.UNSET
    status: ProductStatus | None = strawberry.UNSET
    salt: str | None = strawberry.field(default=strawberry.UNSET, description="Empty string: no checksum.")
    public: bool | None = strawberry.field(
        default=strawberry.UNSET, description="Whether the app key alone may read the product's analytics."
    )


@strawberry.type
class ProductMutations:
    @strawberry.mutation(description="Create a product (app or site) with a fresh app key.")
    async def create_product(self, info: strawberry.Info, input: CreateProductInput) -> Product:
        ctx = ctx_of(info)
        principal = ctx.require(Permission.ADMIN)
        row = await ctx.db.fetchrow(
            f"""INSERT INTO products AS t (account_id, name, url, timezone, environment, status, app_key, salt,
                                           public)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING {PRODUCT_COLUMNS}""",
            principal.account_id,
            check_text("name", input.name),
            input.url,
            _check_timezone(input.timezone),
            check_text("environment", input.environment, max_length=50),
            input.status.value,
            secrets.token_hex(20),
            input.salt or None,
            input.public,
        )
        assert row is not None
        return Product.from_row(row)

    @strawberry.mutation(description="Change a product.")
    async def update_product(
        self, info: strawberry.Info, id: strawberry.ID, input: UpdateProductInput
    ) -> Product:
        ctx = ctx_of(info)
        principal = ctx.require(Permission.ADMIN)
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
        if not unset(input.public):
            changes["public"] = bool(input.public)
        row = await update_owned(
            ctx, principal.account_id, "products", PRODUCT_COLUMNS, "Product", id, changes
        )
        forget_app_keys()
        return Product.from_row(row)

    @strawberry.mutation(description="Delete a product and all its data.")
    async def delete_product(self, info: strawberry.Info, id: strawberry.ID) -> DeletePayload:
        deleted = await delete_owned(ctx_of(info), Permission.ADMIN, "products", "Product", id)
        forget_app_keys()
        return deleted
