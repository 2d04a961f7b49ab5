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


def fragment_appender(operation: Callable[[str], str], fragments: str = "fragments") -> Callable[[str], str]:
    """A function giving a document with the shared fragments it spreads appended (from `<fragments>.graphql`
    of the same folder): a document may not define fragments it does not use, so each gets only its own."""

    @cache
    def shared() -> dict[str, str]:
        found = {}
        for block in operation(fragments).split("\nfragment ")[1:]:
            found[block.split(" ", 1)[0]] = "fragment " + block.strip() + "\n"
        return found

    @cache
    def with_fragments(name: str) -> str:
        document = operation(name)
        used = [text for fragment, text in shared().items() if f"...{fragment}" in document]
        return "\n".join([document, *used])

    return with_fragments
