"""Mutations that create, update and delete device segments."""

from __future__ import annotations

import re

import asyncpg
import strawberry

from gateway.access.principal import Permission
from resolvers.context import ctx_of
from resolvers.errors import UserError
from resolvers.inputs import check_text, unset
from resolvers.payloads import DeletePayload, delete_owned, update_owned
from resolvers.products.types import require_product_pk
from resolvers.segments.types import SEGMENT_COLUMNS, Segment, SegmentFilterInput

_IDENTIFIER = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")


def _check_identifier(identifier: str) -> str:
    if not _IDENTIFIER.match(identifier):
        raise UserError("`identifier` must be 1-100 letters, digits, `_`, `.` or `-`")
    return identifier


@strawberry.input(description="A new segment.")
class CreateSegmentInput:
    product_id: strawberry.ID
    identifier: str
    name: str
    filter: SegmentFilterInput = strawberry.field(default_factory=SegmentFilterInput)


@strawberry.input(description="Changes to a segment; omitted fields stay as they are.")
class UpdateSegmentInput:
    identifier: str | None = strawberry.UNSET
    name: str | None = strawberry.UNSET
    filter: SegmentFilterInput | None = strawberry.UNSET


@strawberry.type
class SegmentMutations:
    @strawberry.mutation(description="Create a segment of a product's devices.")
    async def create_segment(self, info: strawberry.Info, input: CreateSegmentInput) -> Segment:
        ctx = ctx_of(info)
        principal = ctx.require(Permission.WRITE)
        product = await require_product_pk(ctx, input.product_id)
        try:
            row = await ctx.db.fetchrow(
                f"""INSERT INTO segments AS t (account_id, product_id, identifier, name, filter)
                    VALUES ($1, $2, $3, $4, $5) RETURNING {SEGMENT_COLUMNS}""",
                principal.account_id,
                product,
                _check_identifier(input.identifier),
                check_text("name", input.name),
                input.filter.to_json(),
            )
        except asyncpg.UniqueViolationError as exc:
            raise UserError(f"The product already has a segment {input.identifier!r}") from exc
        assert row is not None
        return Segment.from_row(row)

    @strawberry.mutation(description="Change a segment.")
    async def update_segment(
        self, info: strawberry.Info, id: strawberry.ID, input: UpdateSegmentInput
    ) -> Segment:
        ctx = ctx_of(info)
        principal = ctx.require(Permission.WRITE)
        changes: dict[str, object] = {}
        if not unset(input.identifier):
            changes["identifier"] = _check_identifier(input.identifier or "")
        if not unset(input.name):
            changes["name"] = check_text("name", input.name or "")
        if isinstance(input.filter, SegmentFilterInput):
            changes["filter"] = input.filter.to_json()
        try:
            row = await update_owned(
                ctx, principal.account_id, "segments", SEGMENT_COLUMNS, "Segment", id, changes
            )
        except asyncpg.UniqueViolationError as exc:
            raise UserError("The product already has a segment with that identifier") from exc
        return Segment.from_row(row)

    @strawberry.mutation(description="Delete a segment (its devices stay).")
    async def delete_segment(self, info: strawberry.Info, id: strawberry.ID) -> DeletePayload:
        return await delete_owned(ctx_of(info), Permission.WRITE, "segments", "Segment", id)
