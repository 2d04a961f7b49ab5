"""The KISSmetrics shim's GraphQL operation documents (`operations/*.graphql`), loaded by name; documents that
read Core API objects get the shared fragments appended."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from adapters.operation_files import operation_loader

OPERATIONS_DIR = Path(__file__).parent / "operations"
operation = operation_loader(OPERATIONS_DIR)


@cache
def with_fragments(name: str) -> str:
    """The document `name` with the Core API's object fragments."""
    return operation(name) + "\n" + operation("fragments")
