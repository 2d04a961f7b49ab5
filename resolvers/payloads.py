"""Small result types shared by mutations of several domains."""

from __future__ import annotations

import strawberry


@strawberry.type(description="The id of what a delete mutation removed.")
class DeletePayload:
    deleted_id: strawberry.ID
