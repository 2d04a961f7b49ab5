"""The Report type: a saved analysis (a dashboard, a funnel, a people search) with its definition."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated
from uuid import UUID

import asyncpg
import strawberry
from strawberry.scalars import JSON

from resolvers.context import Context, ctx_of
from resolvers.errors import found
from resolvers.node import Node, register_node
from resolvers.pagination import ById, Connection, Listing, Order, page_request

if TYPE_CHECKING:
    from resolvers.accounts.types import Account
    from resolvers.products.types import Product
    from resolvers.reports.runs import ReportRun


@strawberry.federation.type(keys=["id"], description="A saved report.")
class Report(Node):
    account_pk: strawberry.Private[int]
    product_pk: strawberry.Private[int | None]
    uuid: UUID = strawberry.field(description="A stable UUID (KISSmetrics' Core API shows it as `id`).")
    name: str
    type: str = strawberry.field(
        description="What kind of report, e.g. `dashboard`, `funnel`, `people_search_v2` (a people search, "
        "the one kind that runs: see `runReport`)."
    )
    definition: JSON
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> Report:
        return cls(
            pk=row["id"],
            account_pk=row["account_id"],
            product_pk=row["product_id"],
            uuid=row["uuid"],
            name=row["name"],
            type=row["type"],
            definition=row["definition"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
        )

    @strawberry.field(description="The product the report is about; null for account-wide reports.")
    async def product(
        self, info: strawberry.Info
    ) -> Annotated[Product, strawberry.lazy("resolvers.products.types")] | None:
        from resolvers.products.types import load_product

        return None if self.product_pk is None else await load_product(ctx_of(info), self.product_pk)

    @strawberry.field(description="The account of the report.")
    async def account(
        self, info: strawberry.Info
    ) -> Annotated[Account, strawberry.lazy("resolvers.accounts.types")]:
        from resolvers.accounts.types import load_account

        return found(await load_account(ctx_of(info), self.account_pk), "Account")

    @strawberry.field(description="Whether the report can run (`runReport`): people searches can.")
    def runnable(self) -> bool:
        from resolvers.people.search import REPORT_TYPE

        return self.type == REPORT_TYPE

    @strawberry.field(description="The report's runs, newest first.")
    async def runs(
        self, info: strawberry.Info, first: int | None = None, after: str | None = None
    ) -> Connection[Annotated[ReportRun, strawberry.lazy("resolvers.reports.runs")]]:
        from resolvers.reports.runs import REPORT_RUNS, RUN_ORDER

        ctx = ctx_of(info)
        return await REPORT_RUNS.connection(ctx, self.pk, page_request(ctx, first, after, RUN_ORDER))


REPORT_COLUMNS = (
    "t.id, t.account_id, t.product_id, t.uuid, t.name, t.type, t.definition, t.created_at, t.updated_at"
)
REPORT_ORDER = Order("t.id", descending=False)
ACCOUNT_REPORTS = Listing("reports", "account_id", REPORT_COLUMNS, Report.from_row)
PRODUCT_REPORTS = Listing("reports", "product_id", REPORT_COLUMNS, Report.from_row)
REPORT_BY_ID = ById("reports", REPORT_COLUMNS, Report.from_row)


async def load_report(ctx: Context, pk: int) -> Report | None:
    return await REPORT_BY_ID.load(ctx, pk)


register_node("Report", load_report)
