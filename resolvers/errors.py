"""Errors the graph reports to clients on purpose; their messages are safe to show (everything else is masked)."""

from __future__ import annotations

from typing import TypeVar

T = TypeVar("T")


class UserError(Exception):
    """A problem with the caller's input (unknown id, invalid value); its message reaches the client."""

    def __init__(self, message: str, code: str = "BAD_USER_INPUT") -> None:
        super().__init__(message)
        self.code = code


class NotFound(UserError):
    def __init__(self, what: str) -> None:
        super().__init__(f"{what} not found", code="NOT_FOUND")


def found(value: T | None, what: str) -> T:
    """`value`, or NotFound when a non-null relation points at a row the caller may not see."""
    if value is None:
        raise NotFound(what)
    return value
