"""People searches (KISSmetrics' `people_search_v2` reports): their definitions, checked and normalised.

A definition selects people of one product and the columns to show for each:

    {"match": "all" | "any",
     "criteria": [
        {"property": "plan", "op": "equals", "value": "pro"},
        {"event": "signed up", "did": true, "at_least": 1}],
     "columns": [
        {"event": "signed up", "return": "total_times_ever" | "total_times" | "last"},
        {"property": "plan"}]}

Events and properties are named by name (case-insensitive) or by their definition's `index`. A property
criterion compares the person's global value (`op`: equals, not_equals, contains, not_contains, gt, gte, lt,
lte, exists, not_exists; gt..lte compare numbers, the others text). An event criterion counts the person's
occurrences within the run's dates: at least `at_least` (default 1) when `did`, fewer otherwise. Checking
resolves every name and index against the product's definitions and stores the definition with names, so that
a run reads nothing else; an error names the part that is wrong (`criteria[1].event: ...`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from resolvers.context import Context
from resolvers.errors import UserError

REPORT_TYPE = "people_search_v2"
PROPERTY_OPS = (
    "equals",
    "not_equals",
    "contains",
    "not_contains",
    "gt",
    "gte",
    "lt",
    "lte",
    "exists",
    "not_exists",
)
NUMBER_OPS = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
EVENT_RETURNS = {
    "total_times_ever": "Total Times Ever",
    "total_times": "Total Times for Date Range",
    "last": "Date of Last Time for Date Range",
}
MAX_CRITERIA = 20
MAX_COLUMNS = 50

# the product's definitions with their index (rank by id: definitions are only ever added)
_DEFINITIONS = """
SELECT 'event' AS kind, t.name, row_number() OVER (ORDER BY t.id) AS index
FROM event_definitions t WHERE t.account_id = $1 AND t.product_id = $2
UNION ALL
SELECT 'property', t.name, row_number() OVER (ORDER BY t.id)
FROM property_definitions t WHERE t.account_id = $1 AND t.product_id = $2 AND t.scope = 'device'
"""


@dataclass
class _Names:
    """A product's event and property names, by lower-case name and by index."""

    by_name: dict[tuple[str, str], str]
    by_index: dict[tuple[str, int], str]

    def resolve(self, kind: str, ref: Any, where: str) -> str:
        if isinstance(ref, bool) or not isinstance(ref, str | int):
            raise UserError(f"{where}: give the {kind}'s name (text) or its index (an integer)")
        if isinstance(ref, int):
            found = self.by_index.get((kind, ref))
            if found is None:
                raise UserError(f"{where}: this product has no {kind} with index {ref}")
            return found
        found = self.by_name.get((kind, ref.strip().lower()))
        if found is None:
            raise UserError(f"{where}: this product has no {kind} named {ref!r}")
        return found


async def _names(ctx: Context, product_pk: int) -> _Names:
    rows = await ctx.db.fetch(_DEFINITIONS, ctx.account_id, product_pk)
    by_name: dict[tuple[str, str], str] = {}
    for row in rows:
        by_name.setdefault((row["kind"], row["name"].lower()), row["name"])
    return _Names(by_name, {(row["kind"], row["index"]): row["name"] for row in rows})


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise UserError(f"{where}: must be an object")
    return value


def _list(value: Any, where: str, limit: int) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise UserError(f"{where}: must be a list")
    if len(value) > limit:
        raise UserError(f"{where}: at most {limit} items")
    return value


def _unknown_keys(item: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(item) - allowed)
    if unknown:
        raise UserError(f"{where}: unknown key {unknown[0]!r} (allowed: {', '.join(sorted(allowed))})")


def _criterion(item: Any, names: _Names, where: str) -> dict[str, Any]:
    item = _object(item, where)
    if ("property" in item) == ("event" in item):
        raise UserError(f"{where}: give either `property` or `event`")
    if "property" in item:
        _unknown_keys(item, {"property", "op", "value"}, where)
        name = names.resolve("property", item["property"], f"{where}.property")
        op = item.get("op", "equals")
        if op not in PROPERTY_OPS:
            raise UserError(f"{where}.op: {op!r} is not one of {', '.join(PROPERTY_OPS)}")
        value = item.get("value")
        if op in ("exists", "not_exists"):
            value = None
        elif op in NUMBER_OPS:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise UserError(f"{where}.value: `{op}` compares numbers: give a number")
        elif isinstance(value, bool) or not isinstance(value, str | int | float):
            raise UserError(f"{where}.value: `{op}` needs a text or number value")
        return {
            "property": name,
            "op": op,
            "value": value if value is None or op in NUMBER_OPS else str(value),
        }
    _unknown_keys(item, {"event", "did", "at_least"}, where)
    did = item.get("did", True)
    if not isinstance(did, bool):
        raise UserError(f"{where}.did: must be true or false")
    at_least = item.get("at_least", 1)
    if isinstance(at_least, bool) or not isinstance(at_least, int) or not 1 <= at_least <= 2**31 - 1:
        raise UserError(f"{where}.at_least: must be a whole number from 1")
    return {
        "event": names.resolve("event", item["event"], f"{where}.event"),
        "did": did,
        "at_least": at_least,
    }


def _column(item: Any, names: _Names, where: str) -> dict[str, Any]:
    item = _object(item, where)
    if ("property" in item) == ("event" in item):
        raise UserError(f"{where}: give either `property` or `event`")
    if "property" in item:
        _unknown_keys(item, {"property"}, where)
        return {"property": names.resolve("property", item["property"], f"{where}.property")}
    _unknown_keys(item, {"event", "return"}, where)
    returned = item.get("return", "total_times")
    if returned not in EVENT_RETURNS:
        raise UserError(f"{where}.return: {returned!r} is not one of {', '.join(EVENT_RETURNS)}")
    return {"event": names.resolve("event", item["event"], f"{where}.event"), "return": returned}


async def check_people_search(ctx: Context, product_pk: int | None, definition: Any) -> dict[str, Any]:
    """The normalised definition of a people search of `product_pk`; raises UserError naming what is wrong."""
    if product_pk is None:
        raise UserError(f"`productId`: a {REPORT_TYPE} report searches the people of one product")
    definition = _object(definition, "definition")
    _unknown_keys(definition, {"match", "criteria", "columns"}, "definition")
    match = definition.get("match", "all")
    if match not in ("all", "any"):
        raise UserError("definition.match: must be `all` or `any`")
    names = await _names(ctx, product_pk)
    criteria = _list(definition.get("criteria"), "definition.criteria", MAX_CRITERIA)
    columns = _list(definition.get("columns"), "definition.columns", MAX_COLUMNS)
    return {
        "match": match,
        "criteria": [_criterion(c, names, f"definition.criteria[{i}]") for i, c in enumerate(criteria)],
        "columns": [_column(c, names, f"definition.columns[{i}]") for i, c in enumerate(columns)],
    }


def column_headers(definition: dict[str, Any]) -> list[dict[str, Any]]:
    """The result columns of a run: KMID and Person first, then one per requested event or property."""
    headers: list[dict[str, Any]] = [
        {"name": "KMID", "kind": "internal", "returns": "internal", "returnsName": "internal"},
        {"name": "Person", "kind": "internal", "returns": "internal", "returnsName": "internal"},
    ]
    for column in definition.get("columns", []):
        if "event" in column:
            returned = column["return"]
            headers.append(
                {
                    "name": column["event"],
                    "kind": "event",
                    "returns": returned,
                    "returnsName": EVENT_RETURNS[returned],
                }
            )
        else:
            headers.append(
                {"name": column["property"], "kind": "property", "returns": "value", "returnsName": "Value"}
            )
    return headers
