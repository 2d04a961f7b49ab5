"""The shims' GraphQL operation documents, kept as `.graphql` files beside each vendor's modules."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path


def operation_loader(folder: Path) -> Callable[[str], str]:
    """A function giving the text of `<folder>/<name>.graphql`, each file read once."""

    @cache
    def operation(name: str) -> str:
        return (folder / f"{name}.graphql").read_text(encoding="utf-8")

    return operation
