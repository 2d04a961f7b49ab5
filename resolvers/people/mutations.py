"""Changing people's properties by name: set, unset, and add to or remove from set-valued properties.

`updatePersonProperties` names a person by any identity (a person no product knows yet is created with that
identity as its own id) and changes its properties of one system of records. Sets and unsets go through the
ingestion engine as any property write does (`record`, answered once committed), and so do additions to and
removals from a set-valued property (a JSON list): the engine applies them to the stored set in the transaction
that writes them, while the person is locked, so two changes of one set at the same moment both count
(gateway/ingest/people.py).
"""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.scalars import JSON

from gateway.ingest.model import SetChange
from gateway.ingest.people import DEFAULT_SOURCE, changed_set, then_change
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


def property_changes(changes: list[PropertyChangeInput]) -> tuple[dict[str, Any], dict[str, SetChange]]:
    """(values to write, name -> value or None to unset; changes of stored sets, by name) for `changes` in
    order: a value replaces the changes of its set before it, and a change after a value applies to it."""
    values: dict[str, Any] = {}
    sets: dict[str, SetChange] = {}
    for change in changes:
        name = change.name.strip().lower()
        if not name:
            raise UserError("A property needs a name")
        if change.add is None and change.remove is None:
            values[name] = change.value
            sets.pop(name, None)
            continue
        added, removed = list(change.add or []), list(change.remove or [])
        if name in values:
            values[name] = changed_set(values[name], added, removed)
            continue
        sets[name] = then_change(sets.get(name), added, removed)
    return values, sets


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
        ctx = ctx_of(info)
        if not changes or len(changes) > MAX_CHANGES:
            raise UserError(f"`changes` must hold 1 to {MAX_CHANGES} changes")
        values, sets = property_changes(changes)
        item: dict[str, Any] = dict.fromkeys(RECORD_FIELDS)
        item.update(deviceId=identity, properties=values or None, propertySource=source)
        (result,) = await record_items(ctx, product_id, [item], [sets or None])
        ctx.forget_loaded()
        return result.stored()
