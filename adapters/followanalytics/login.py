"""`POST /api/login`: email and password (the graph's `login`) → `auth_token` and the documented `user` object.

The user object is built from the graph: the user (`id`, `uid`, `email`), the account as the one entity
(`identifier` in the `FAENTITY_` style, made from the account's id), and the rights and product scope of the new
token as the `enable` flags and `admin` (`enable.py`). The gateway keeps no first or last name, entity description, entity API keys or
data retention: those are null.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from adapters.followanalytics import enable, graph
from adapters.followanalytics.replies import (
    MISSING_CREDENTIALS,
    TOO_LARGE,
    TOO_MANY_LOGINS,
    WRONG_CREDENTIALS,
    Failure,
    success,
)
from gateway.access.principal import Principal
from gateway.access.tokens import principal_for_token
from gateway.json_text import loads_json
from gateway.state import state_of
from resolvers.node import from_global_id

MAX_BODY = 64 * 1024


def number_of(global_id: str) -> int:
    """The number behind a graph id (the vendor's ids are numbers)."""
    return from_global_id(global_id)[1]


def entity_identifier(account_id: str) -> str:
    return "FAENTITY_" + account_id.rstrip("=")


async def _credentials(request: web.Request) -> tuple[str, str]:
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise Failure(413, TOO_LARGE)
    try:
        text = await request.text()
    except UnicodeDecodeError:  # not text in its charset: no credentials can be read from it
        raise Failure(400, MISSING_CREDENTIALS) from None
    fields: Any = None
    if "json" in (request.content_type or "") or text.lstrip().startswith("{"):
        try:
            fields = loads_json(text) if text.strip() else {}
        except ValueError:  # loads_json's only error, deep nesting included
            raise Failure(400, MISSING_CREDENTIALS) from None
    else:
        try:
            fields = dict(await request.post()) if request.can_read_body or text else {}
        except (ValueError, HttpProcessingError):  # a malformed form or multipart body
            raise Failure(400, MISSING_CREDENTIALS) from None
    if isinstance(fields, dict) and isinstance(fields.get("user"), dict):
        fields = fields["user"]  # Rails' nested params ({"user": {"email", "password"}})
    email = fields.get("email") if isinstance(fields, dict) else None
    password = fields.get("password") if isinstance(fields, dict) else None
    if not isinstance(email, str) or not isinstance(password, str) or not email or not password:
        raise Failure(400, MISSING_CREDENTIALS)
    return email, password


def user_object(viewer: dict[str, Any], principal: Principal) -> dict[str, Any]:
    """The documented `user` object of the caller (`viewer` as `operations/viewer.graphql` reads it) and the
    flags of its token's rights and scope (`principal`)."""
    user = viewer.get("user") or {}
    account = viewer["account"]
    account_number = number_of(account["id"])
    user_number = number_of(user["id"]) if user.get("id") else None
    return {
        "id": user_number,
        "uid": None if user_number is None else str(user_number),
        "first_name": None,
        "last_name": None,
        "full_name": None,
        "email": user.get("email"),
        "entities": [
            {
                "id": account_number,
                "name": account["name"],
                "description": None,
                "identifier": entity_identifier(account["id"]),
                "active": True,
                "qa_api_key": None,
                "prod_api_key": None,
                "data_retention_in_months": None,
            }
        ],
        "enable": enable.flags(principal),
        "admin": enable.is_admin(principal),
        "superadmin": False,
        "prefered_entity": {"id": account_number, "name": account["name"]},
    }


async def login(request: web.Request) -> web.Response:
    email, password = await _credentials(request)
    try:
        data = await graph.run(request, None, "login", {"email": email, "password": password})
    except Failure as failure:
        if failure.status == 429:
            raise Failure(429, TOO_MANY_LOGINS) from None
        if failure.status in (400, 401):
            raise Failure(401, WRONG_CREDENTIALS) from None
        raise
    token = data["login"]["token"]
    principal = await principal_for_token(state_of(request).db, token)
    if principal is None:  # revoked between the login and this read
        raise Failure(401, WRONG_CREDENTIALS)
    viewer = (await graph.run(request, principal, "viewer"))["viewer"]
    return success({"auth_token": token, "user": user_object(viewer, principal)})
