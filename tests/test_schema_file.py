"""`schema.graphql` is printed from the code: this fails when it is stale (run `make schema`)."""

from __future__ import annotations

from pathlib import Path

from resolvers.sdl import print_sdl

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "schema.graphql"


def test_schema_file_is_current() -> None:
    assert SCHEMA_FILE.read_text() == print_sdl(), "schema.graphql is stale: run `make schema` and commit it"
