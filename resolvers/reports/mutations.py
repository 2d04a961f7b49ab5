"""Mutations that create, update and delete saved reports."""

from __future__ import annotations

import json

import strawberry
from strawberry.scalars import JSON

from gateway.access.principal import Permission
from resolvers.context import ctx_of
from resolvers.errors import UserError
from resolvers.inputs import check_text, unset
from resolvers.payloads import DeletePayload, delete_owned, update_owned
from resolvers.products.types import require_product_pk
from resolvers.reports.types import REPORT_COLUMNS, Report

MAX_DEFINITION_BYTES = 256 * 1024


def _check_definition(definition: object) -> object:
    if not isinstance(definition, dict):
        raise UserError("`definition` must be a JSON object")
    if len(json.dumps(definition)) > MAX_DEFINITION_BYTES:
        raise UserError("`definition` is larger than 256 KiB")
    return definition


@strawberry.input(description="A new report.")
class CreateReportInput:
    name: str
    type: str
    definition: JSON = strawberry.field(default_factory=dict)
    product_id: strawberry.ID | None = strawberry.field(
        default=None, description="Null: account-wide report."
    )


@strawberry.input(description="Changes to a report; omitted fields stay as they are.")
class UpdateReportInput:
    name: str | None = strawberry.UNSET
    type: str | None = strawberry.UNSET
    definition: JSON | None = strawberry.UNSET


@strawberry.type
class ReportMutations:
    @strawberry.mutation(description="Save a report.")
    async def create_report(self, info: strawberry.Info, input: CreateReportInput) -> Report:
        ctx = ctx_of(info)
        principal = ctx.require(Permission.WRITE)
        row = await ctx.db.fetchrow(
            f"""INSERT INTO reports AS t (account_id, product_id, name, type, definition)
                VALUES ($1, $2, $3, $4, $5) RETURNING {REPORT_COLUMNS}""",
            principal.account_id,
            None if input.product_id is None else await require_product_pk(ctx, input.product_id),
            check_text("name", input.name),
            check_text("type", input.type, max_length=50),
            _check_definition(input.definition),
        )
        assert row is not None
        return Report.from_row(row)

    @strawberry.mutation(description="Change a report.")
    async def update_report(
        self, info: strawberry.Info, id: strawberry.ID, input: UpdateReportInput
    ) -> Report:
        ctx = ctx_of(info)
        principal = ctx.require(Permission.WRITE)
        changes: dict[str, object] = {}
        if not unset(input.name):
            changes["name"] = check_text("name", input.name or "")
        if not unset(input.type):
            changes["type"] = check_text("type", input.type or "", max_length=50)
        if not unset(input.definition):
            changes["definition"] = _check_definition(input.definition)
        row = await update_owned(ctx, principal.account_id, "reports", REPORT_COLUMNS, "Report", id, changes)
        return Report.from_row(row)

    @strawberry.mutation(description="Delete a report.")
    async def delete_report(self, info: strawberry.Info, id: strawberry.ID) -> DeletePayload:
        return await delete_owned(ctx_of(info), Permission.WRITE, "reports", "Report", id)
