"""The mutation that starts an export job; the export worker (gateway/background/exports.py) carries it out."""

from __future__ import annotations

import strawberry

from gateway.access.principal import Permission
from resolvers.context import ctx_of
from resolvers.errors import UserError
from resolvers.exports.types import EXPORT_COLUMNS, Export, ExportFormat, ExportKind
from resolvers.filters import TimeRange
from resolvers.products.types import require_product_pk


@strawberry.input(description="What to export.")
class StartExportInput:
    product_id: strawberry.ID
    kind: ExportKind = ExportKind.EVENTS
    format: ExportFormat = ExportFormat.CSV
    period: TimeRange | None = None
    after_cursor: str | None = strawberry.field(
        default=None, description="Continue after this row id (an earlier export's `lastCursor`)."
    )


@strawberry.type
class ExportMutations:
    @strawberry.mutation(description="Start an export job; poll the returned Export until it is FINISHED.")
    async def start_export(self, info: strawberry.Info, input: StartExportInput) -> Export:
        ctx = ctx_of(info)
        principal = ctx.require(Permission.EXPORT)
        product = await require_product_pk(ctx, input.product_id)
        pageviews = input.kind is ExportKind.PAGEVIEWS
        if pageviews and input.format is ExportFormat.JSON:
            raise UserError("PAGEVIEWS exports are CSV or CSV_GZIP")
        if not pageviews and input.format is ExportFormat.CSV_GZIP:
            raise UserError("CSV_GZIP is the format of PAGEVIEWS exports")
        after = None
        if input.after_cursor is not None:
            if not input.after_cursor.isdigit():
                raise UserError("`afterCursor` must be the `lastCursor` of an earlier export")
            after = int(input.after_cursor)
        row = await ctx.db.fetchrow(
            f"""INSERT INTO exports AS t (account_id, product_id, kind, format, since, until, after_id)
                VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {EXPORT_COLUMNS}""",
            principal.account_id,
            product,
            input.kind.value,
            input.format.value,
            input.period.since if input.period else None,
            input.period.until if input.period else None,
            after,
        )
        assert row is not None
        await ctx.db.execute("SELECT pg_notify('exports', $1)", str(row["id"]))
        return Export.from_row(row)
