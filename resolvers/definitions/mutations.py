"""Mutations that document event and property definitions: display name, description and visibility.

The ingestion engine creates definitions and keeps their usage (totals, first and last use); people edit only
how a definition is shown (KISSmetrics' Core API gives `display_name`, `description` and `is_visible`). A
definition keeps its name, by which tracking calls and people searches find it.
"""

from __future__ import annotations

import asyncpg
import strawberry

from gateway.access.principal import Permission
from resolvers.context import Context, ctx_of
from resolvers.definitions.types import (
    EVENT_DEFINITION_COLUMNS,
    PROPERTY_COLUMNS,
    EventDefinition,
    PropertyDefinition,
)
from resolvers.errors import UserError
from resolvers.payloads import update_owned

MAX_DISPLAY_NAME = 255
MAX_DESCRIPTION = 2000


def _text(field: str, value: str | None, max_length: int, *, lines: bool) -> str | None:
    """A text to store: None for null or blank, else trimmed, at most `max_length` characters, without control
    characters (PostgreSQL's text refuses NUL); with `lines`, tabs and line breaks are allowed."""
    text = (value or "").strip()
    if not text:
        return None
    if len(text) > max_length:
        raise UserError(f"`{field}` is longer than {max_length} characters")
    allowed = "\t\n\r" if lines else ""
    if any((ord(c) < 32 or ord(c) == 127) and c not in allowed for c in text):
        raise UserError(
            f"`{field}` must not hold control characters other than tabs and line breaks"
            if lines
            else f"`{field}` must be one line without control characters"
        )
    return text


@strawberry.input(description="How a definition is shown; omitted fields stay as they are.")
class UpdateDefinitionInput:
    display_name: str | None = strawberry.field(
        default=strawberry.UNSET,
        description=f"At most {MAX_DISPLAY_NAME} characters on one line; null or blank: shown as its name.",
    )
    description: str | None = strawberry.field(
        default=strawberry.UNSET, description=f"At most {MAX_DESCRIPTION} characters; null or blank: none."
    )
    visible: bool | None = strawberry.field(
        default=strawberry.UNSET, description="Whether lists of the product show it as visible."
    )


def _changes(input: UpdateDefinitionInput) -> dict[str, object]:
    changes: dict[str, object] = {}
    if input.display_name is not strawberry.UNSET:
        changes["display_name"] = _text("displayName", input.display_name, MAX_DISPLAY_NAME, lines=False)
    if input.description is not strawberry.UNSET:
        changes["description"] = _text("description", input.description, MAX_DESCRIPTION, lines=True)
    if input.visible is not strawberry.UNSET:
        if input.visible is None:
            raise UserError("`visible` must be true or false")
        changes["visible"] = input.visible
    return changes


async def _update(
    ctx: Context, table: str, columns: str, type_name: str, id: strawberry.ID, input: UpdateDefinitionInput
) -> asyncpg.Record:
    """The caller's definition named by `id` after the change (another account's id is not found)."""
    principal = ctx.require(Permission.WRITE)
    changes = _changes(input)
    # definitions have no `updated_at`: their times are those of the data they describe
    return await update_owned(ctx, principal.account_id, table, columns, type_name, id, changes, touch=False)


@strawberry.type
class DefinitionMutations:
    @strawberry.mutation(
        description="Change how an event definition is shown: display name, description, visibility."
    )
    async def update_event_definition(
        self, info: strawberry.Info, id: strawberry.ID, input: UpdateDefinitionInput
    ) -> EventDefinition:
        row = await _update(
            ctx_of(info), "event_definitions", EVENT_DEFINITION_COLUMNS, "EventDefinition", id, input
        )
        return EventDefinition.from_row(row)

    @strawberry.mutation(
        description="Change how a property definition (of people or of events) is shown: display name, "
        "description, visibility."
    )
    async def update_property_definition(
        self, info: strawberry.Info, id: strawberry.ID, input: UpdateDefinitionInput
    ) -> PropertyDefinition:
        row = await _update(
            ctx_of(info), "property_definitions", PROPERTY_COLUMNS, "PropertyDefinition", id, input
        )
        return PropertyDefinition.from_row(row)
