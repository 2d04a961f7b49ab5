"""Errors the graph reports to clients on purpose; their messages are safe to show (everything else is masked)."""

from __future__ import annotations


class UserError(Exception):
    """A problem with the caller's input (unknown id, invalid value); its message reaches the client."""

    def __init__(self, message: str, code: str = "BAD_USER_INPUT") -> None:
        super().__init__(message)
        self.code = code


class NotFound(UserError):
    def __init__(self, what: str) -> None:
        super().__init__(f"{what} not found", code="NOT_FOUND")
