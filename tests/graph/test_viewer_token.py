"""`Viewer.token`: the token a request was made with, so that a client that logged in can revoke it (sign out)."""

from __future__ import annotations

import aiohttp

from tests.conftest import Server, Tenant, gql, new_tenant

LOGIN = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }"


async def test_a_logged_in_client_signs_out_by_revoking_its_token(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant
) -> None:
    login = await gql(http, server, LOGIN, {"e": tenant.email, "p": tenant.password})
    token = login.data["login"]["token"]
    viewer = await gql(http, server, "{ viewer { token { id name permissions } } }", token=token)
    own = viewer.data["viewer"]["token"]
    assert own["name"] == f"login of {tenant.email}" and own["permissions"] == ["ADMIN"]
    # each token sees itself
    other = await gql(http, server, "{ viewer { token { id } } }", token=tenant.token)
    assert other.data["viewer"]["token"]["id"] != own["id"]
    revoked = await gql(
        http, server, "mutation($id: ID!) { deleteToken(id: $id) { deletedId } }", {"id": own["id"]}, token
    )
    assert revoked.data == {"deleteToken": {"deletedId": own["id"]}}
    assert (await gql(http, server, "{ viewer { permissions } }", token=token)).status == 401
    assert (await gql(http, server, "{ viewer { permissions } }", token=tenant.token)).status == 200


async def test_another_accounts_token_id_is_not_found(
    http: aiohttp.ClientSession, server: Server, tenant: Tenant, db: object
) -> None:
    other = await new_tenant(db)  # type: ignore[arg-type]
    theirs = (await gql(http, server, "{ viewer { token { id } } }", token=other.token)).data["viewer"][
        "token"
    ]["id"]
    reply = await gql(
        http,
        server,
        "mutation($id: ID!) { deleteToken(id: $id) { deletedId } }",
        {"id": theirs},
        tenant.token,
    )
    assert reply.errors and reply.errors[0]["extensions"]["code"] == "NOT_FOUND"
    assert (await gql(http, server, "{ viewer { permissions } }", token=other.token)).status == 200
