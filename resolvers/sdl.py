"""Printing the graph's SDL, the text of `schema.graphql`."""

from __future__ import annotations


def print_sdl() -> str:
    from resolvers.schema import schema

    return schema.as_str() + "\n"
