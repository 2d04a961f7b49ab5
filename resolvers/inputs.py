"""Helpers shared by mutations: resolving global ids to the caller's rows and building partial updates."""

from __future__ import annotations

from typing import Any

import strawberry

from resolvers.errors import NotFound, UserError
from resolvers.node import InvalidId, pk_of


def own_pk(global_id: strawberry.ID | str, type_name: str) -> int:
    """The primary key of an id of `type_name`; a malformed id is reported like a missing one."""
    try:
        return pk_of(global_id, type_name)
    except InvalidId as exc:
        raise NotFound(type_name) from exc


def set_clause(changes: dict[str, Any], first_param: int, *, touch: bool = True) -> tuple[str, list[Any]]:
    """`col = $n, ...` for the given (column, value) pairs, which must come from code, not from the client;
    with `touch`, `updated_at = now()` as well."""
    if not changes:
        raise UserError("Nothing to update: give at least one field")
    parts = []
    values = []
    for offset, (column, value) in enumerate(changes.items()):
        parts.append(f"{column} = ${first_param + offset}")
        values.append(value)
    return ", ".join(parts) + (", updated_at = now()" if touch else ""), values


def unset(value: object) -> bool:
    return value is None or value is strawberry.UNSET


def check_text(name: str, value: str, *, max_length: int = 200, allow_empty: bool = False) -> str:
    value = value.strip()
    if not value and not allow_empty:
        raise UserError(f"`{name}` must not be empty")
    if len(value) > max_length:
        raise UserError(f"`{name}` is longer than {max_length} characters")
    return value
