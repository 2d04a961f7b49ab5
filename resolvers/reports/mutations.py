"""Mutations that create, update, delete and run saved reports.

People searches (`people_search_v2`) have their definition checked and normalised (resolvers/people/search.py)
when they are created or changed; `runReport` starts a run (a job: gateway/background/report_runs.py) and
`pollReportRun` reads one, counting the reads."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON

from gateway.access.principal import Permission
from gateway.background.jobs import wake_job_runners
from resolvers.context import Context, ctx_of
from resolvers.errors import NotFound, UserError
from resolvers.inputs import check_text, own_pk, unset
from resolvers.payloads import DeletePayload, delete_owned, update_owned
from resolvers.people.search import REPORT_TYPE, check_people_search, column_headers
from resolvers.products.types import require_product_pk
from resolvers.reports.runs import RUN_COLUMNS, ReportRun
from resolvers.reports.types import REPORT_COLUMNS, Report, load_report
from resolvers.scope import product_scope_sql

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
        default=None, description="Null: account-wide report (not with a token limited to some products)."
    )


@strawberry.input(description="Changes to a report; omitted fields stay as they are.")
class UpdateReportInput:
    name: str | None = strawberry.UNSET
    type: str | None = strawberry.UNSET
    definition: JSON | None = strawberry.UNSET


@strawberry.type
class ReportMutations:
    @strawberry.mutation(
        description="Save a report. A `people_search_v2` report's definition is checked: an error names the "
        "part that is wrong."
    )
    async def create_report(self, info: strawberry.Info, input: CreateReportInput) -> Report:
        ctx = ctx_of(info)
        if input.product_id is None:
            # an account-wide report is the whole account's, which a token limited to some products is not
            principal = ctx.require_whole_account(Permission.WRITE)
            product = None
        else:
            principal = ctx.require(Permission.WRITE)
            product = await require_product_pk(ctx, input.product_id)
        kind = check_text("type", input.type, max_length=50)
        definition = _check_definition(input.definition)
        if kind == REPORT_TYPE:
            definition = await check_people_search(ctx, product, definition)
        row = await ctx.db.fetchrow(
            f"""INSERT INTO reports AS t (account_id, product_id, name, type, definition)
                VALUES ($1, $2, $3, $4, $5) RETURNING {REPORT_COLUMNS}""",
            principal.account_id,
            product,
            check_text("name", input.name),
            kind,
            definition,
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
        current = await load_report(ctx, own_pk(id, "Report"))
        if current is None:
            raise NotFound("Report")
        if changes.get("type", current.type) == REPORT_TYPE:
            changes["definition"] = await check_people_search(
                ctx, current.product_pk, changes.get("definition", current.definition)
            )
        row = await update_owned(ctx, principal.account_id, "reports", REPORT_COLUMNS, "Report", id, changes)
        return Report.from_row(row)

    @strawberry.mutation(description="Delete a report.")
    async def delete_report(self, info: strawberry.Info, id: strawberry.ID) -> DeletePayload:
        return await delete_owned(ctx_of(info), Permission.WRITE, "reports", "Report", id)

    @strawberry.mutation(
        description="Start a run of a people search over the given period (default: everything until now); "
        "read it with `pollReportRun` or `node` until it is FINISHED."
    )
    async def run_report(
        self,
        info: strawberry.Info,
        id: strawberry.ID,
        start_date: datetime | None = None,
        end_date: datetime | None = None,
    ) -> ReportRun:
        ctx = ctx_of(info)
        principal = ctx.require(Permission.READ)
        report = await load_report(ctx, own_pk(id, "Report"))
        if report is None:
            raise NotFound("Report")
        if report.type != REPORT_TYPE or report.product_pk is None:
            raise UserError(f"Only {REPORT_TYPE} reports can run", code="NOT_RUNNABLE")
        starts = start_date or datetime(1970, 1, 1, tzinfo=UTC)
        ends = end_date or datetime.now(UTC)
        if ends < starts:
            raise UserError("`endDate` is before `startDate`")
        # checked again: the product's events or properties may have changed since the report was saved
        definition = await check_people_search(ctx, report.product_pk, report.definition)
        row = await ctx.db.fetchrow(
            f"""INSERT INTO report_runs AS t (account_id, report_id, product_id, definition, starts_at, ends_at,
                                                columns)
                VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {RUN_COLUMNS}""",
            principal.account_id,
            report.pk,
            report.product_pk,
            definition,
            starts,
            ends,
            column_headers(definition),
        )
        assert row is not None
        wake_job_runners("report_runs")
        return ReportRun.from_row(row)

    @strawberry.mutation(
        description="Read a report run as a client waiting for it does: counts the read in `polls`."
    )
    async def poll_report_run(self, info: strawberry.Info, id: strawberry.ID) -> ReportRun:
        return await _poll(ctx_of(info), own_pk(id, "ReportRun"))


async def _poll(ctx: Context, pk: int) -> ReportRun:
    principal = ctx.require(Permission.READ)
    params: list[Any] = [pk, principal.account_id]
    scope = product_scope_sql(ctx, params)
    row = await ctx.db.fetchrow(
        f"UPDATE report_runs AS t SET polls = t.polls + 1 WHERE t.id = $1 AND t.account_id = $2{scope} "
        f"RETURNING {RUN_COLUMNS}",
        *params,
    )
    if row is None:
        raise NotFound("ReportRun")
    return ReportRun.from_row(row)
