"""The KISSmetrics shim's GraphQL operation documents (`operations/*.graphql`), loaded by name; documents that
read Core API objects get the shared fragments appended."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from adapters.operation_files import operation_loader

OPERATIONS_DIR = Path(__file__).parent / "operations"
operation = operation_loader(OPERATIONS_DIR)


@cache
def _fragments() -> dict[str, str]:
    """The Core API's object fragments (`operations/fragments.graphql`) by name."""
    found = {}
    for block in operation("fragments").split("\nfragment ")[1:]:
        found[block.split(" ", 1)[0]] = "fragment " + block.strip() + "\n"
    return found


@cache
def with_fragments(name: str) -> str:
    """The document `name` with the object fragments it spreads (a document may not define unused ones)."""
    document = operation(name)
    used = [text for fragment, text in _fragments().items() if f"...{fragment}" in document]
    return "\n".join([document, *used])
