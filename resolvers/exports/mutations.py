"""The mutation that starts an export job; the export worker (gateway/background/exports.py) carries it out."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from gateway.access.principal import Permission
from gateway.background.jobs import wake_job_runners
from resolvers.context import Context, ctx_of
from resolvers.errors import UserError
from resolvers.exports.sources import FIELDS_OF_KIND, check_fields
from resolvers.exports.types import EXPORT_COLUMNS, Export, ExportFormat, ExportKind
from resolvers.filters import MAX_FILTER_VALUES, TimeRange
from resolvers.inputs import own_pk
from resolvers.products.types import EventOrder, require_product_pk

if TYPE_CHECKING:
    from resolvers.events.filters import EventFilter
    from resolvers.people.filters import PeopleFilter

# how long a download link opens the file
LINK_DAYS = 7
MAX_FIELDS = 256  # an Excel 97 sheet's columns


@strawberry.input(description="One column of an export's file.")
class ExportFieldInput:
    field: str | None = strawberry.field(
        description="The field of the exported objects (`key`, `timestamp`, `deviceId`, ...); null: an empty column."
    )
    header: str | None = strawberry.field(
        default=None, description="The column's title (default: the field)."
    )
    value: str | None = strawberry.field(
        default=None,
        description="With no `field`: this text in every row (such as the exported product's id).",
    )


@strawberry.input(description="Which rows an export holds (each part applies to its kind).")
class ExportFilterInput:
    events: Annotated[EventFilter, strawberry.lazy("resolvers.events.filters")] | None = strawberry.field(
        default=None, description="EVENTS: which events."
    )
    event_order: EventOrder = strawberry.field(
        default=EventOrder.NEWEST_FIRST, description="EVENTS: their order."
    )
    device_ids: list[str] | None = strawberry.field(
        default=None, description="SESSIONS: only the sessions of these devices (`Device.deviceId`)."
    )
    identities: list[str] | None = strawberry.field(
        default=None, description="SESSIONS: only the sessions of the people known by one of these names."
    )
    user_ids: list[str] | None = strawberry.field(
        default=None,
        description="SESSIONS: only the sessions of the people whose current user (`Session.userId`) is one of "
        "these.",
    )
    segment: strawberry.ID | None = strawberry.field(
        default=None, description="DEVICES: only the devices this segment matches."
    )
    event_key: str | None = strawberry.field(default=None, description="EVENT_SEGMENTS: the event name.")
    every_product: bool = strawberry.field(
        default=False, description="DEVICES: the people of every product of the account (`Query.people`)."
    )
    people: Annotated[PeopleFilter, strawberry.lazy("resolvers.people.filters")] | None = strawberry.field(
        default=None,
        description="DEVICES: which people (by identities, users, own ids, segments, last change; other conditions "
        "of the filter are not taken by exports).",
    )


@strawberry.input(description="How the finished file reaches people, besides `Export.downloadUrl`.")
class ExportDeliveryInput:
    link: bool = strawberry.field(
        default=False,
        description=f"Make a download link that opens the file without credentials for {LINK_DAYS} days "
        "(`Export.downloadLink`, shown only in this reply).",
    )
    email: bool = strawberry.field(
        default=False,
        description="E-mail the link to the user the caller's token was issued to, once the file is written "
        "(needs GATEWAY_SMTP_URL; implies `link`).",
    )


@strawberry.input(description="What to export.")
class StartExportInput:
    product_id: strawberry.ID
    kind: ExportKind = ExportKind.EVENTS
    format: ExportFormat = ExportFormat.CSV
    period: TimeRange | None = None
    after_cursor: str | None = strawberry.field(
        default=None, description="Continue after this row id (an earlier export's `lastCursor`)."
    )
    fields: list[ExportFieldInput] | None = strawberry.field(
        default=None,
        description="The file's columns, in order: fields of the exported objects, as the graph names them. Without "
        "them, the kind's fixed columns (ordered by row id). With them, the rows are exactly those of the list "
        "the kind stands for (`Product.events`, `sessions`, `devices`, `Segment.devices`), in its order.",
    )
    where: ExportFilterInput | None = None
    delivery: ExportDeliveryInput | None = None
    more_products: list[strawberry.ID] | None = strawberry.field(
        default=None, description="PRODUCT_DAYS: other products exported with `productId`, after it."
    )


def _fields(input: StartExportInput) -> list[list[str | None]] | None:
    if input.fields is None:
        return None
    kind = input.kind.value
    if not input.fields or len(input.fields) > MAX_FIELDS:
        raise UserError(f"`fields` must list 1 to {MAX_FIELDS} columns")
    columns = [(f.field, f.header if f.header is not None else (f.field or "")) for f in input.fields]
    check_fields(kind, columns)
    if any(
        len(header) > 1000 or len(f.value or "") > 1000
        for (_, header), f in zip(columns, input.fields, strict=True)
    ):
        raise UserError("A column's header or value is too long")
    return [
        [name, header, f.value if name is None else None]
        for (name, header), f in zip(columns, input.fields, strict=True)
    ]


async def _filter(ctx: Any, input: StartExportInput, product_pk: int) -> dict[str, Any] | None:
    where = input.where
    if where is None:
        return None
    stored: dict[str, Any] = {"order": "newest" if where.event_order is EventOrder.NEWEST_FIRST else "oldest"}
    if where.events is not None:
        from resolvers.events.filters import event_conditions

        event_conditions(where.events)  # checks the sizes
        stored["events"] = where.events.to_json()
    if where.device_ids is not None:
        if len(where.device_ids) > MAX_FILTER_VALUES:
            raise UserError(f"`deviceIds` lists more than {MAX_FILTER_VALUES} values")
        stored["device_ids"] = list(where.device_ids)
    if where.identities is not None:
        if len(where.identities) > MAX_FILTER_VALUES:
            raise UserError(f"`identities` lists more than {MAX_FILTER_VALUES} values")
        stored["identities"] = list(where.identities)
    if where.user_ids is not None:
        if len(where.user_ids) > MAX_FILTER_VALUES:
            raise UserError(f"`userIds` lists more than {MAX_FILTER_VALUES} values")
        stored["user_ids"] = list(where.user_ids)
    if where.segment is not None:
        from resolvers.segments.types import load_segment

        segment = await load_segment(ctx, own_pk(where.segment, "Segment"))
        if segment is None or segment.product_pk != product_pk:
            raise UserError("`segment` is not a segment of the exported product", code="NOT_FOUND")
        stored["segment"] = segment.pk
    if where.event_key is not None:
        stored["key"] = where.event_key
    if where.people is not None:
        people = where.people
        if people.properties or people.events or people.identity:
            raise UserError(
                "Exports filter people by `identities`, `userIds`, `deviceIds`, `segments` and `updatedSince`"
            )
        from resolvers.people.filters import people_conditions

        people_conditions(people)  # checks the sizes
        stored["people"] = {
            "identities": people.identities,
            "user_ids": people.user_ids,
            "device_ids": people.device_ids,
            "segments": [str(s) for s in people.segments] if people.segments is not None else None,
            "updated_since": people.updated_since.isoformat() if people.updated_since else None,
            "has_properties": people.has_properties,
        }
    if where.every_product:
        stored["account_people"] = ctx.account_id
    return stored


async def mail_recipient(ctx: Context) -> str:
    """Where a file's link is e-mailed: the address of the caller's token's user. MAIL_NOT_CONFIGURED when the
    gateway has no SMTP server, NO_MAIL_ADDRESS when the token was made for no user."""
    from resolvers.users.types import load_token_user

    if not ctx.mail:
        raise UserError("E-mail delivery is not configured on this gateway", code="MAIL_NOT_CONFIGURED")
    principal = ctx.require_any()
    user = await load_token_user(ctx, principal.token_id)
    if user is None:
        raise UserError("The caller's token belongs to no user to e-mail", code="NO_MAIL_ADDRESS")
    return user.email


@strawberry.type
class ExportMutations:
    @strawberry.mutation(description="Start an export job; poll the returned Export until it is FINISHED.")
    async def start_export(self, info: strawberry.Info, input: StartExportInput) -> Export:
        ctx = ctx_of(info)
        principal = ctx.require(Permission.EXPORT)
        product = await require_product_pk(ctx, input.product_id)
        pageviews = input.kind is ExportKind.PAGEVIEWS
        if pageviews and (
            input.format not in (ExportFormat.CSV, ExportFormat.CSV_GZIP) or input.fields is not None
        ):
            raise UserError("PAGEVIEWS exports are CSV or CSV_GZIP, in GoatCounter's columns (no `fields`)")
        if not pageviews and input.format is ExportFormat.CSV_GZIP:
            raise UserError("CSV_GZIP is the format of PAGEVIEWS exports")
        after = None
        if input.after_cursor is not None:
            if not input.after_cursor.isdigit():
                raise UserError("`afterCursor` must be the `lastCursor` of an earlier export")
            after = int(input.after_cursor)
        fields = _fields(input)
        if (
            fields is None
            and not pageviews
            and (input.format is ExportFormat.XLS or input.kind.value not in FIELDS_OF_KIND)
        ):
            raise UserError("This export needs `fields` (the columns of its file)")
        product_ids = None
        if input.more_products:
            if input.kind is not ExportKind.PRODUCT_DAYS or len(input.more_products) > 1000:
                raise UserError("`moreProducts` is for PRODUCT_DAYS exports, up to 1000 products")
            product_ids = [product] + [await require_product_pk(ctx, other) for other in input.more_products]
        if input.kind is ExportKind.EVENT_SEGMENTS and (input.where is None or not input.where.event_key):
            raise UserError("EVENT_SEGMENTS exports need `where.eventKey`")
        stored_filter = await _filter(ctx, input, product)
        if ctx.product_scope is not None:  # the job reads as the token may: its products only
            stored_filter = {**(stored_filter or {}), "scope": list(ctx.product_scope)}
        delivery = input.delivery or ExportDeliveryInput()
        email_to = await mail_recipient(ctx) if delivery.email else None
        link = link_hash = link_expires = None
        if delivery.link or delivery.email:
            link = secrets.token_urlsafe(32)
            link_hash = hashlib.sha256(link.encode()).digest()
            link_expires = datetime.now(UTC) + timedelta(days=LINK_DAYS)
        row = await ctx.db.fetchrow(
            f"""INSERT INTO exports AS t (account_id, product_id, kind, format, since, until, after_id, fields,
                                          filter, link_hash, link_expires_at, email_to, email_token, product_ids)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
                RETURNING {EXPORT_COLUMNS}""",
            principal.account_id,
            product,
            input.kind.value,
            input.format.value,
            input.period.since if input.period else None,
            input.period.until if input.period else None,
            after,
            fields,
            stored_filter,
            link_hash,
            link_expires,
            email_to,
            link if email_to else None,
            product_ids,
        )
        assert row is not None
        wake_job_runners("exports")
        export = Export.from_row(row)
        export.link_token = link
        return export
