"""Changing people's properties by name: set, unset, and add to or remove from set-valued properties.

`updatePersonProperties` names a person by any identity (a person no product knows yet is created with that
identity as its own id) and changes its properties of one system of records. Sets and unsets go through the
ingestion engine as any property write does (`record`, answered once committed). Adding to or removing from a
set-valued property (a JSON list) reads the current list and writes the new one: two changes of the same set
at the same moment may lose one of them (the engine writes whole values).
"""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.scalars import JSON

from gateway.ingest.people import DEFAULT_SOURCE
from resolvers.context import ctx_of
from resolvers.errors import UserError
from resolvers.ingest.mutations import RECORD_FIELDS, record_items

MAX_CHANGES = 1000


@strawberry.input(
    description="One change of a property: set it (`value`; null unsets it), or add to / remove from its set."
)
class PropertyChangeInput:
    name: str
    value: JSON | None = strawberry.field(
        default=None, description="The new value; null removes the property."
    )
    add: list[JSON] | None = strawberry.field(default=None, description="Values added to the property's set.")
    remove: list[JSON] | None = strawberry.field(
        default=None, description="Values removed from the property's set."
    )


def _as_set(current: Any) -> list[Any]:
    if current is None:
        return []
    return list(current) if isinstance(current, list) else [current]


def changed_values(current: dict[str, Any], changes: list[PropertyChangeInput]) -> dict[str, Any]:
    """The properties to write (name -> value, None: unset) for `changes` applied in order to `current`."""
    written: dict[str, Any] = {}
    for change in changes:
        name = change.name.strip().lower()
        if not name:
            raise UserError("A property needs a name")
        if change.add is None and change.remove is None:
            written[name] = change.value
            continue
        values = _as_set(written[name] if name in written else current.get(name))
        for value in change.add or []:
            if value not in values:
                values.append(value)
        removed = change.remove or []
        written[name] = [value for value in values if value not in removed]
    return written


@strawberry.type
class PeopleMutations:
    @strawberry.mutation(
        description="Change properties of the person a product knows by `identity` (created when unknown), in "
        "one system of records; answers once committed."
    )
    async def update_person_properties(
        self,
        info: strawberry.Info,
        product_id: strawberry.ID,
        identity: str,
        changes: list[PropertyChangeInput],
        source: str = DEFAULT_SOURCE,
    ) -> bool:
        from resolvers.devices.types import load_device_by_identity
        from resolvers.people.types import load_property_values
        from resolvers.products.types import require_product_pk

        ctx = ctx_of(info)
        if not changes or len(changes) > MAX_CHANGES:
            raise UserError(f"`changes` must hold 1 to {MAX_CHANGES} changes")
        current: dict[str, Any] = {}
        if any(c.add is not None or c.remove is not None for c in changes):
            person = await load_device_by_identity(ctx, await require_product_pk(ctx, product_id), identity)
            if person is not None:
                current = {v.name: v.value for v in await load_property_values(ctx, person.pk, source)}
        item: dict[str, Any] = dict.fromkeys(RECORD_FIELDS)
        item.update(deviceId=identity, properties=changed_values(current, changes), propertySource=source)
        (result,) = await record_items(ctx, product_id, [item])
        ctx.forget_loaded()
        return result.stored()
