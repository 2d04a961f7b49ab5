"""Values read from other tables by a few columns of each row (`json_leaves.Lookup`: an event's device key, its
person's newest alias), looked up once per distinct key of a set of rows and joined back to them.

A page built as JSON (`json_pages`) and a chunk of an exported list (`gateway/background/export_rows.py`) read
their rows the same way: the rows in a common table with the lookups' keys as columns, each distinct key looked
up once in a `MATERIALIZED` one, and the values joined back by equality. PostgreSQL runs a scalar subquery once
per row. Joined to each row (LATERAL), it caches the subquery's rows by key (Memoize) only when its statistics
promise repeated keys, and it looks up every row of the list before the page's LIMIT when the page must be
sorted. A materialized common table is computed once, whatever the plan of the join back (a derived table would
be computed again each time a nested loop rescanned it). A null key finds nothing, as the lookup itself would.
"""

from __future__ import annotations

from collections.abc import Iterable

from resolvers.json_leaves import Lookup

# the lookups of a set of rows, by their keys (SQL expressions over the listed table): the values looked up with
# those keys, each with its index (the value's column is `_f{index}`)
ByKeys = dict[tuple[str, ...], list[tuple[int, Lookup]]]


def by_keys(values: Iterable[tuple[int, Lookup | None]]) -> ByKeys:
    """The lookups among `values` (index, lookup or None), grouped by their keys."""
    grouped: ByKeys = {}
    for i, lookup in values:
        if lookup is not None:
            grouped.setdefault(lookup.keys, []).append((i, lookup))
    return grouped


def key_columns(lookups: ByKeys) -> list[str]:
    """The columns the rows' statement selects for `looked_up_once`: each group's keys, as `_k{group}_{key}`."""
    return [f"{key} AS _k{g}_{k}" for g, keys in enumerate(lookups) for k, key in enumerate(keys)]


def looked_up_once(inner: str, lookups: ByKeys, rows: str, depth: int) -> tuple[str, str, dict[int, str]]:
    """The rows of `inner` (selecting `key_columns(lookups)`) with `lookups` looked up once per distinct key:
    the common tables of the statement (its WITH, `rows` being the rows' own), its FROM, and the column of each
    looked up value by its index. `depth` tells the common tables of nested statements apart."""
    tables = [f"{rows} AS ({inner})"]
    source = rows
    values: dict[int, str] = {}
    for g, (keys, looked) in enumerate(lookups.items()):
        found = f"l{depth}_{g}"
        columns = [f"_k{g}_{k}" for k in range(len(keys))]
        selected = ", ".join(
            f"{lookup.over(*(f'_keys.{c}' for c in columns))} AS _f{i}" for i, lookup in looked
        )
        distinct = ", ".join(f"{rows}.{c}" for c in columns)
        tables.append(
            f"{found} AS MATERIALIZED (SELECT _keys.*, {selected} FROM (SELECT DISTINCT {distinct} FROM {rows}) _keys)"
        )
        source += f" LEFT JOIN {found} ON " + " AND ".join(f"{found}.{c} = {rows}.{c}" for c in columns)
        for i, _ in looked:
            values[i] = f"{found}._f{i}"
    return f"WITH {', '.join(tables)} ", source, values
