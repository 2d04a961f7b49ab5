"""Leaf fields as PostgreSQL builds them in JSON: exactly the values the graph's own serialization gives.

A listing that declares its leaves here can have PostgreSQL build a page's items as JSON (see
`resolvers.pagination`), instead of a Python object per row and a serialization per field. Each expression
must give, for every row, the very value graphql-core would answer: strings and 32-bit integers do as they
are; timestamps are written like `datetime.isoformat()` in UTC; global ids like `resolvers.node`. Where a
value may not be representable the same way (a timestamp outside Python's years), `exact` is the SQL
condition under which it is, and a page with a row failing it is loaded the ordinary way instead.
A value read from another table by a few columns of the row (a `Lookup`: the device's key, the person's newest
alias) is read once per distinct value of those columns in a page, not once per row (see `lookups`).
Floats and JSON are left out on purpose: PostgreSQL writes `3.0` as `3` and `NaN` as a string, where the
graph answers `3.0` and an error.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Lookup:
    """A value read from another table by a few columns of the row: `template`, a scalar SQL expression with
    `{0}`, `{1}`, ... standing for the `keys` (SQL expressions over the listed table, alias `t`).

    A page has few distinct keys for many rows (1,000 events, a hundred devices), and PostgreSQL runs a scalar
    subquery once per row, so a page built in PostgreSQL looks each distinct key up once and joins the values
    back to its rows by equality. The value must therefore be null when a key is null, as a lookup by equality
    is; and the template holds no other braces. `required`: the value of a non-null field, where a row whose
    lookup finds nothing is not exact (its page is read the ordinary way, which reports what is missing)."""

    template: str
    keys: tuple[str, ...]
    required: bool = False

    def over(self, *columns: str) -> str:
        """The lookup's SQL with these expressions for its keys."""
        return self.template.format(*columns)


@dataclass(frozen=True)
class JsonLeaf:
    """A JSON-valued SQL expression over the listed table (alias `t`), and when it is exact (None: always).

    For a value read from another table, `lookup` says how (`sql` and `exact` are the same lookup for one row)."""

    sql: str
    exact: str | None = None
    lookup: Lookup | None = None


def text(column: str) -> JsonLeaf:
    """A text column for a String (or ID) field."""
    return JsonLeaf(column)


def integer(column: str) -> JsonLeaf:
    """An `integer` (32-bit) column for an Int field: every value fits GraphQL's Int."""
    return JsonLeaf(column)


def flag(condition: str) -> JsonLeaf:
    """A boolean condition for a Boolean field."""
    return JsonLeaf(f"({condition})")


def timestamp(column: str) -> JsonLeaf:
    """A timestamptz column for a DateTime field, written as Python's `isoformat()` of the UTC value.

    That is seconds, then microseconds only when there are any (always six digits), then `+00:00`.
    """
    utc = f"({column} AT TIME ZONE 'UTC')"
    whole = 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"'
    fraction = 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'
    sql = f"to_char({utc}, CASE WHEN date_part('microseconds', {column})::int % 1000000 = 0 THEN '{whole}' ELSE '{fraction}' END)"
    # asyncpg reads infinities and years beyond 1..9999 in its own ways: those rows go the ordinary way
    exact = f"({column} IS NULL OR ({utc} >= '0001-01-01' AND {utc} < '10000-01-01'))"
    return JsonLeaf(sql, exact)


def global_id(type_name: str, column: str = "t.id") -> JsonLeaf:
    """The Relay global id of the row: base64 of "TypeName:id", as `resolvers.node.to_global_id` writes it."""
    if not type_name.isidentifier():
        raise ValueError(f"not a type name: {type_name!r}")
    # PostgreSQL breaks base64 lines at 76 characters; Python never does
    return JsonLeaf(
        f"translate(encode(convert_to('{type_name}:' || {column}, 'UTF8'), 'base64'), E'\\n', '')"
    )


def looked_up(template: str, *keys: str, required: bool = False) -> JsonLeaf:
    """A text value read from another table by `keys`, columns of the row (see `Lookup`)."""
    lookup = Lookup(template, keys, required)
    sql = lookup.over(*keys)
    return JsonLeaf(sql, f"({sql} IS NOT NULL)" if required else None, lookup)


def device_key(column: str, required: bool = False) -> JsonLeaf:
    """The id a device's SDK sent (`Device.deviceId`) for a column holding the device's row id, of the row's own
    account only: rows carry no foreign key to devices, and a device of another account is not found, as the
    graph's loader does not find it. `required` (a non-null field): a row whose device is not found is not exact,
    so its page is read the ordinary way, which reports the device as not found."""
    return looked_up(
        "(SELECT d.device_key FROM devices d WHERE d.id = {0} AND d.account_id = {1})",
        column,
        "t.account_id",
        required=required,
    )


# -- cursors: what `resolvers.pagination.encode_cursor` writes, url-safe base64 of json.dumps([value, id]) --


def timestamp_cursor_value(column: str) -> JsonLeaf:
    """The JSON text of a timestamp sort value in a cursor: {"t": isoformat}."""
    leaf = timestamp(column)
    return JsonLeaf(f"""'{{"t": "' || {leaf.sql} || '"}}'""", f"({column} IS NOT NULL AND {leaf.exact})")


def integer_cursor_value(column: str) -> JsonLeaf:
    """The JSON text of an integer sort value in a cursor."""
    return JsonLeaf(f"{column}::text", f"({column} IS NOT NULL)")


def cursor(value: JsonLeaf, id_column: str = "t.id") -> JsonLeaf:
    """The cursor of a row, from the JSON text of its sort value (one of the two above)."""
    text = f"'[' || {value.sql} || ', ' || {id_column} || ']'"
    # url-safe base64 as Python writes it: '-' and '_' for '+' and '/', no line breaks, '=' padding kept
    return JsonLeaf(f"translate(encode(convert_to({text}, 'UTF8'), 'base64'), E'+/\\n', '-_')", value.exact)
