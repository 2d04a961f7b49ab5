"""The README's Layout section is the tree: every package it names exists and every package is named there.

A newcomer reads the architecture from that section and from each package's docstring, so both are checked:
a package added without a line in the README, or without a docstring saying what it holds, fails here.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE_ROOTS = ("gateway", "resolvers", "adapters")


def layout_block() -> list[str]:
    readme = (ROOT / "README.md").read_text("utf-8")
    section = readme.split("\n## Layout\n", 1)[1]
    return section.split("```\n", 2)[1].splitlines()


def named_paths() -> set[str]:
    """Every directory and file the Layout block names, as paths from the repository's root."""
    named: set[str] = set()
    parents: list[tuple[int, str]] = []
    for line in layout_block():
        indent = len(line) - len(line.lstrip(" "))
        # names come first, the description after a run of two or more spaces
        names = re.split(r"\s{2,}", line.strip(), maxsplit=1)[0]
        while parents and parents[-1][0] >= indent:
            parents.pop()
        prefix = parents[-1][1] if parents else ""
        entries = [n.strip() for n in re.split(r"[ ,]+", names) if n.strip()]
        for entry in entries:
            named.add(prefix + entry.rstrip("/"))
        if len(entries) == 1 and entries[0].endswith("/"):
            parents.append((indent, prefix + entries[0]))
    return named


def packages() -> set[str]:
    found = set()
    for root in SOURCE_ROOTS:
        for init in (ROOT / root).rglob("__init__.py"):
            relative = init.parent.relative_to(ROOT)
            if "static" not in relative.parts and relative.name != "migrations":
                found.add(str(relative))
    return found


def test_every_package_is_in_the_layout_section() -> None:
    named = named_paths()
    missing = {p for p in packages() if p not in named and p not in SOURCE_ROOTS}
    assert not missing, f"packages missing from the README's Layout section: {sorted(missing)}"


def test_everything_the_layout_section_names_exists() -> None:
    absent = sorted(p for p in named_paths() if not (ROOT / p).exists())
    assert not absent, f"the README's Layout section names what does not exist: {absent}"


def test_every_package_says_what_it_holds() -> None:
    silent = []
    for package in packages() | set(SOURCE_ROOTS):
        source = (ROOT / package / "__init__.py").read_text("utf-8")
        docstring = ast.get_docstring(ast.parse(source)) or ""
        if len(docstring.split()) < 5:
            silent.append(package)
    assert not silent, f"packages without a docstring saying what they hold: {sorted(silent)}"
