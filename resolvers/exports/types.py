"""The Export type: an asynchronous job that writes a product's raw data to a downloadable file."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import asyncpg
import strawberry

from gateway.access.principal import Permission
from resolvers.context import Context, ctx_of
from resolvers.errors import found
from resolvers.node import Node, register_node
from resolvers.pagination import ById, Listing, Order

if TYPE_CHECKING:
    from resolvers.products.types import Product


@strawberry.enum(description="What an export contains.")
class ExportKind(enum.Enum):
    EVENTS = "events"
    SESSIONS = "sessions"
    DEVICES = "devices"
    PAGEVIEWS = strawberry.enum_value(
        "pageviews",
        description="A site's web hits (pageviews and events, bots included), one CSV row each with the columns "
        "of GoatCounter's export format, version 2 (first column named `2Path`); CSV or CSV_GZIP.",
    )
    PRODUCT_DAYS = strawberry.enum_value(
        "product_days",
        description="Per product and day (from the rollups): sessions, users, duration, events.",
    )
    EVENT_TOTALS = strawberry.enum_value(
        "event_totals", description="Per event name (from the rollups): occurrences, sum, duration."
    )
    PERSON = strawberry.enum_value(
        "person", description="Everything stored about the people one name identifies (GDPR access; JSON)."
    )
    EVENT_SEGMENTS = strawberry.enum_value(
        "event_segments",
        description="Per segmentation key and value of one event name (`where.eventKey`, from the rollups).",
    )


@strawberry.enum(description="The file format of an export.")
class ExportFormat(enum.Enum):
    CSV = "csv"
    JSON = "json"
    CSV_GZIP = strawberry.enum_value("csv_gzip", description="CSV compressed with gzip (PAGEVIEWS exports).")
    XLS = strawberry.enum_value(
        "xls", description="Excel 97 (BIFF8): a sheet per 65,535 rows, under a header row."
    )


@strawberry.enum(description="Where an export job is.")
class ExportStatus(enum.Enum):
    PENDING = "pending"
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"
    EXPIRED = strawberry.enum_value(
        "expired", description="Finished, and its file deleted since (`expiresAt`)."
    )


@strawberry.type(description="One column of an export's file.")
class ExportColumn:
    field: str | None = strawberry.field(
        description="The exported objects' field (null: `value` in every row)."
    )
    header: str
    value: str | None = None


@strawberry.federation.type(keys=["id"], description="An export job and, once finished, its file.")
class Export(Node):
    account_pk: strawberry.Private[int]
    product_pk: strawberry.Private[int]
    kind: ExportKind
    format: ExportFormat
    status: ExportStatus
    progress: float = strawberry.field(description="From 0 to 1.")
    rows: int
    size: int = strawberry.field(description="Bytes of the file.")
    hash: str | None = strawberry.field(description="SHA-256 of the file, hex.")
    error: str | None
    since: datetime | None
    until: datetime | None
    after_cursor: str | None = strawberry.field(description="The export covers the rows after this cursor.")
    first_cursor: str | None = strawberry.field(description="Id of the first exported row.")
    last_cursor: str | None = strawberry.field(
        description="Id of the last exported row: start the next export after it to continue."
    )
    created_at: datetime
    finished_at: datetime | None
    expires_at: datetime | None = strawberry.field(description="When the finished file will be deleted.")
    fields: list[ExportColumn] | None = strawberry.field(
        description="The file's columns (null: the kind's fixed columns)."
    )
    link_expires_at: datetime | None = strawberry.field(
        description="Until when the download link opens the file (null: the export has none)."
    )
    email_to: str | None = strawberry.field(
        description="Where the link is e-mailed once the file is written."
    )
    emailed_at: datetime | None
    email_error: str | None = strawberry.field(
        description="Why the e-mail could not be sent, if it could not."
    )
    # the download token, known only to the mutation that made it
    link_token: strawberry.Private[str | None] = None

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> Export:
        return cls(
            pk=row["id"],
            account_pk=row["account_id"],
            product_pk=row["product_id"],
            kind=ExportKind(row["kind"]),
            format=ExportFormat(row["format"]),
            status=ExportStatus(row["status"]),
            progress=row["progress"],
            rows=row["rows"],
            size=row["size"],
            hash=row["hash"],
            error=row["error"],
            since=row["since"],
            until=row["until"],
            after_cursor=None if row["after_id"] is None else str(row["after_id"]),
            first_cursor=None if row["first_cursor"] is None else str(row["first_cursor"]),
            last_cursor=None if row["last_cursor"] is None else str(row["last_cursor"]),
            created_at=row["created_at"],
            finished_at=row["finished_at"],
            expires_at=row["expires_at"],
            fields=None
            if row["fields"] is None
            else [
                ExportColumn(field=c[0], header=c[1], value=c[2] if len(c) > 2 else None)
                for c in row["fields"]
            ],
            link_expires_at=row["link_expires_at"],
            email_to=row["email_to"],
            emailed_at=row["emailed_at"],
            email_error=row["email_error"],
        )

    @strawberry.field(description="Where to download the file (with the same bearer token) once finished.")
    def download_url(self) -> str | None:
        return f"/exports/{self.id()}/download" if self.status is ExportStatus.FINISHED else None

    @strawberry.field(
        description="A URL path that downloads the file without credentials until `linkExpiresAt` (202 while the "
        "file is written); shown only in the reply of `startExport` that made it."
    )
    def download_link(self) -> str | None:
        return None if self.link_token is None else f"/exports/download?token={self.link_token}"

    @strawberry.field(description="The product exported.")
    async def product(
        self, info: strawberry.Info
    ) -> Annotated[Product, strawberry.lazy("resolvers.products.types")]:
        from resolvers.products.types import load_product

        return found(await load_product(ctx_of(info), self.product_pk), "Product")


EXPORT_COLUMNS = (
    "t.id, t.account_id, t.product_id, t.kind, t.format, t.status, t.progress, t.rows, t.size, t.hash, t.error, "
    "t.since, t.until, t.after_id, t.first_cursor, t.last_cursor, t.created_at, t.finished_at, t.expires_at, "
    "t.fields, t.link_expires_at, t.email_to, t.emailed_at, t.email_error"
)
EXPORT_ORDER = Order("t.id")
# exports are read with READ or EXPORT
_EXPORTING = (Permission.READ, Permission.EXPORT)


def _ids(json: str) -> str:
    """The bigint[] of a JSON array of ids (NULL when it is not an array)."""
    return (
        f"CASE WHEN jsonb_typeof({json}) = 'array' "
        f"THEN ARRAY(SELECT x::bigint FROM jsonb_array_elements_text({json}) AS x) END"
    )


# Every product whose rows an export (alias `t`) holds, NULL for every product of the account
# (`resolvers/scope.py`): a token limited to some products reads, and downloads, only the exports of those.
# - a person's data (GDPR access): the products looked in (`products`; null: every one; older requests named
#   one `product`), as `gateway/background/person_data.py` reads them;
# - the people of every product (`account_people`): those of the token that started it (`scope`), if limited;
# - any other: its product and, for kinds over several, the others (`product_ids`).
EXPORT_PRODUCTS = f"""CASE
    WHEN t.kind = 'person' THEN CASE WHEN t.filter ? 'products' THEN {_ids("t.filter->'products'")}
                                     ELSE {_ids("jsonb_build_array(t.filter->'product')")} END
    WHEN t.filter ? 'account_people' THEN {_ids("t.filter->'scope'")}
    ELSE t.product_id || COALESCE(t.product_ids, '{{}}'::bigint[])
END"""
ACCOUNT_EXPORTS = Listing(
    "exports",
    "account_id",
    EXPORT_COLUMNS,
    Export.from_row,
    products_sql=EXPORT_PRODUCTS,
    permissions=_EXPORTING,
)
PRODUCT_EXPORTS = Listing(
    "exports",
    "product_id",
    EXPORT_COLUMNS,
    Export.from_row,
    products_sql=EXPORT_PRODUCTS,
    permissions=_EXPORTING,
)
EXPORT_BY_ID = ById(
    "exports", EXPORT_COLUMNS, Export.from_row, products_sql=EXPORT_PRODUCTS, permissions=_EXPORTING
)


async def load_export(ctx: Context, pk: int) -> Export | None:
    return await EXPORT_BY_ID.load(ctx, pk)


register_node("Export", load_export)
