"""The shim's GraphQL operation documents, kept as `.graphql` files beside this module and loaded by name."""

from __future__ import annotations

from functools import cache
from pathlib import Path

OPERATIONS_DIR = Path(__file__).parent / "operations"


@cache
def operation(name: str) -> str:
    """The text of `operations/<name>.graphql`."""
    return (OPERATIONS_DIR / f"{name}.graphql").read_text(encoding="utf-8")
