"""Report runs: a people search carried out asynchronously (gateway/background/report_runs.py), its status and
its result rows. Started with `runReport`; clients that wait for a run read it with `pollReportRun`, which
counts the reads (KISSmetrics' clients expect the first status read of a run to say it is not done)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any
from uuid import UUID

import asyncpg
import strawberry
from strawberry.scalars import JSON

from gateway.execution.graphql_core import GRAPHQL_MAX_INT
from resolvers.context import Context, ctx_of
from resolvers.errors import UserError, found
from resolvers.node import Node, register_node
from resolvers.pagination import ById, Listing, Order

if TYPE_CHECKING:
    from resolvers.reports.types import Report

MAX_ROWS_PER_PAGE = 1000


@strawberry.enum(description="Where a report run is.")
class RunStatus(enum.Enum):
    PENDING = "pending"
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"


@strawberry.type(description="A result column of a run.")
class RunColumn:
    name: str = strawberry.field(
        description="`KMID` (the person's number), `Person`, or an event or property."
    )
    kind: str = strawberry.field(description="`internal`, `event` or `property`.")
    returns: str = strawberry.field(
        description="What the column holds: `total_times_ever`, `total_times`, ..."
    )
    returns_name: str = strawberry.field(description="The same, for people.")


@strawberry.federation.type(keys=["id"], description="A run of a report (a people search) and its results.")
class ReportRun(Node):
    account_pk: strawberry.Private[int]
    report_pk: strawberry.Private[int]
    uuid: UUID = strawberry.field(description="A stable UUID (KISSmetrics' `query_guid`).")
    status: RunStatus
    progress: float = strawberry.field(description="From 0 to 1; it grows as the run advances.")
    error: str | None
    start_date: datetime = strawberry.field(description="The searched period's start (events counted from).")
    end_date: datetime = strawberry.field(description="The searched period's end (exclusive).")
    total: int | None = strawberry.field(description="How many rows (people) the result has, once finished.")
    polls: int = strawberry.field(description="How many times the run was read with `pollReportRun`.")
    created_at: datetime
    finished_at: datetime | None
    _columns: strawberry.Private[list[dict[str, Any]] | None]

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> ReportRun:
        return cls(
            pk=row["id"],
            account_pk=row["account_id"],
            report_pk=row["report_id"],
            uuid=row["uuid"],
            status=RunStatus(row["status"]),
            progress=row["progress"],
            error=row["error"],
            start_date=row["starts_at"],
            end_date=row["ends_at"],
            total=row["total"],
            polls=row["polls"],
            created_at=row["created_at"],
            finished_at=row["finished_at"],
            _columns=row["columns"],
        )

    @strawberry.field(description="The result's columns: KMID and Person first, then the requested ones.")
    def columns(self) -> list[RunColumn]:
        return [
            RunColumn(name=c["name"], kind=c["kind"], returns=c["returns"], returns_name=c["returnsName"])
            for c in self._columns or []
        ]

    @strawberry.field(description="Result rows aligned with `columns` (null where a person has no value).")
    async def rows(self, info: strawberry.Info, offset: int = 0, limit: int = 50) -> list[JSON]:
        if not 0 <= offset <= GRAPHQL_MAX_INT or not 0 <= limit <= MAX_ROWS_PER_PAGE:
            raise UserError(f"`offset` must be 0 or more and `limit` from 0 to {MAX_ROWS_PER_PAGE}")
        ctx = ctx_of(info)
        rows = await ctx.db.fetch(
            "SELECT cells FROM report_run_rows WHERE account_id = $1 AND run_id = $2 AND seq >= $3 "
            "ORDER BY seq LIMIT $4",
            ctx.account_id,
            self.pk,
            offset,
            limit,
        )
        return [row["cells"] for row in rows]

    @strawberry.field(description="The report that ran.")
    async def report(
        self, info: strawberry.Info
    ) -> Annotated[Report, strawberry.lazy("resolvers.reports.types")]:
        from resolvers.reports.types import load_report

        return found(await load_report(ctx_of(info), self.report_pk), "Report")


RUN_COLUMNS = (
    "t.id, t.account_id, t.report_id, t.uuid, t.status, t.progress, t.error, t.starts_at, t.ends_at, t.total, "
    "t.polls, t.created_at, t.finished_at, t.columns"
)
RUN_ORDER = Order("t.id")
REPORT_RUNS = Listing(
    "report_runs", "report_id", RUN_COLUMNS, ReportRun.from_row, product_column="product_id"
)
RUN_BY_ID = ById("report_runs", RUN_COLUMNS, ReportRun.from_row)


async def load_report_run(ctx: Context, pk: int) -> ReportRun | None:
    return await RUN_BY_ID.load(ctx, pk)


register_node("ReportRun", load_report_run)
