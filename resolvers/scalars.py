"""The graph's own `JSON` and `DateTime` scalars: Strawberry's, with their inputs normalised on the way in.

Both replace Strawberry's definitions of the same name (`scalar_overrides`, see `resolvers.schema`), so the SDL
is unchanged. Inputs go through `gateway.input_values`:

- `JSON`: strings and keys without U+0000 or lone surrogates, NaN and infinities (from literals such as
  `1e999`) as null, nested at most `MAX_JSON_DEPTH` levels (else the variable or argument is refused);
- `DateTime`: ISO 8601; an instant without an offset is UTC; always an aware UTC instant, clamped to the
  calendar's finite instants (`FIRST_INSTANT`..`LAST_INSTANT`), so the ends of the calendar (year 1 at +14:00,
  year 9999) neither overflow, nor compare naive with aware, nor are stored as -infinity; a resolver may still
  refuse an instant (a hit before 1970).

`printable_defaults` lets introspection print defaults such as a JSON argument's `{}`, which graphql-core's
`ast_from_value` cannot (GraphiQL's introspection query then failed).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from graphql import (
    GraphQLDefaultInput,
    GraphQLInputObjectType,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    Undefined,
    ValueNode,
    get_named_type,
    value_from_ast_untyped,
)
from graphql.utilities.value_to_literal import default_scalar_value_to_literal
from strawberry.types.scalar import ScalarDefinition, scalar

from gateway.input_values import BadInput, calendar_instant, json_value

JSON_DESCRIPTION = (
    "The `JSON` scalar type represents JSON values as specified by "
    "[ECMA-404](https://ecma-international.org/wp-content/uploads/ECMA-404_2nd_edition_december_2017.pdf)."
)
JSON_URL = "https://ecma-international.org/wp-content/uploads/ECMA-404_2nd_edition_december_2017.pdf"


def _json_literal(node: ValueNode, variables: dict[str, Any] | None = None) -> Any:
    return json_value(value_from_ast_untyped(node, variables))


JSON_SCALAR: ScalarDefinition = scalar(
    name="JSON",
    description=JSON_DESCRIPTION,
    specified_by_url=JSON_URL,
    serialize=lambda value: value,
    parse_value=json_value,
    parse_literal=_json_literal,
)


def parse_datetime(value: Any) -> datetime:
    """A DateTime input: ISO 8601 text as an aware UTC instant within the stored range (no offset: UTC)."""
    if not isinstance(value, str) or len(value) > 64:
        raise BadInput("DateTime must be an ISO 8601 string, e.g. 2024-05-01T00:00:00Z")
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
    except ValueError:
        raise BadInput(f"Not an ISO 8601 date and time: {value[:40]!r}") from None
    return calendar_instant(parsed)


def _datetime_literal(node: ValueNode, variables: dict[str, Any] | None = None) -> datetime:
    return parse_datetime(value_from_ast_untyped(node, variables))


def _isoformat(value: datetime) -> str:
    return value.isoformat()


DATETIME_SCALAR: ScalarDefinition = scalar(
    name="DateTime",
    description="Date with time (isoformat)",
    serialize=_isoformat,
    parse_value=parse_datetime,
    parse_literal=_datetime_literal,
)


def printable_defaults(schema: GraphQLSchema) -> None:
    """Give scalar defaults that are objects or lists (a JSON `{}`) as literals, which introspection prints;
    graphql-core's `ast_from_value` refuses them. The default's value is unchanged."""
    for named in schema.type_map.values():
        if named.name.startswith("__"):
            continue
        holders: list[Any] = []
        if isinstance(named, GraphQLInputObjectType):
            holders.extend(named.fields.values())
        elif isinstance(named, GraphQLObjectType):
            for field in named.fields.values():
                holders.extend(field.args.values())
        for holder in holders:
            value = holder.default_value
            if value is Undefined or not isinstance(value, dict | list):
                continue
            if isinstance(get_named_type(holder.type), GraphQLScalarType):
                # the literal is what introspection prints; `default_value` stays for Strawberry's SDL printer
                holder.default = GraphQLDefaultInput(literal=default_scalar_value_to_literal(value))
