"""Systems of records: customer profiles and their attributes, on the people model (persons and properties).

A customer is a person of one of the account's apps; a system of records (SOR) is a property `source`: the
`global` attributes are the person's global properties, and each SOR's attributes its properties of that
source. So the attributes synced here are the properties KISSmetrics and the graph read, and the other way
round.

- `GET /api/customer_profiles` (+ `/export`): `sor_identifiers` (the SORs whose attributes are listed, `global`
  always), `customer_id_type` (`user_id`: the customer's newest user id, else its own id; `device_id`: its own
  id), `customer_ids`, `attribute_keys` (only profiles holding one of them, with only those keys),
  `updated_since`, `page` and `num_per_page` (1..10000, default 2000). One profile per person: a user two apps
  know is two profiles, each with its app in `applications`.
- `POST /api/attribute_values`, as the official Ruby gem sends it: `sor`, `api_key` (an app's key, or an API
  token with the rights COUNT and READ, else 403) and `customer_attribute_values`; a null value unsets, `action_type` `ADD`/`REMOVE`
  changes a set. With an app's key, the app's customer (created when new); with a token, every app that knows
  the customer, or the account's first app for a customer none knows.
- `GET /api/attribute_values` (v3): `sor_id`, `customer_id`, `customer_type` → the customer's attributes of
  that SOR.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from adapters.followanalytics import graph, params
from adapters.followanalytics.auth import caller
from adapters.followanalytics.enable import granted
from adapters.followanalytics.exports import start
from adapters.followanalytics.lists import page_reply, window
from adapters.followanalytics.replies import (
    FORBIDDEN,
    TOO_LARGE,
    UNAUTHENTICATED,
    Failure,
    json_reply,
    success,
)
from gateway.access.app_keys import product_for_app_key
from gateway.access.principal import Principal
from gateway.access.tokens import principal_for_token
from gateway.json_text import loads_json
from gateway.state import state_of
from resolvers.node import to_global_id

GLOBAL = "global"
DEFAULT_PER_PAGE = 2000
MAX_BODY = 4 * 1024 * 1024
MAX_VALUES = 1000
MAX_CUSTOMER_ID = 500
ACTIONS = {"ADD": "add", "REMOVE": "remove"}


def profile(
    node: dict[str, Any], id_type: str, sors: list[str] | None, keys: list[str] | None
) -> dict[str, Any]:
    attributes: dict[str, dict[str, Any]] = {GLOBAL: {}}
    wanted = None if keys is None else {key.lower() for key in keys}
    for value in node["propertyValues"]:
        if sors is not None and value["source"] != GLOBAL and value["source"] not in sors:
            continue
        if wanted is not None and value["name"] not in wanted:
            continue
        attributes.setdefault(value["source"], {})[value["name"]] = value["value"]
    customer = node["deviceId"] if id_type == "device_id" else node["knownAs"]
    return {
        "customer_id": customer,
        "customer_id_type": id_type,
        "attributes": attributes,
        "applications": [node["product"]["id"]],
    }


def _where(query: Any) -> tuple[dict[str, Any] | None, str, list[str] | None, list[str] | None]:
    id_type = query.get("customer_id_type") or "user_id"
    if id_type not in ("user_id", "device_id"):
        raise Failure(400, "Invalid customer_id_type: user_id or device_id")
    keys = params.values(query, "attribute_keys")
    since = params.iso_time(query, "updated_since")
    where = {
        "identities": params.values(query, "customer_ids"),
        "hasProperties": keys,
        "updatedSince": None if since is None else since.isoformat(),
    }
    found = {name: value for name, value in where.items() if value is not None}
    return found or None, id_type, params.values(query, "sor_identifiers"), keys


async def customer_profiles(request: web.Request, principal: Principal) -> web.Response:
    query = request.rel_url.query
    paging = params.paging(query, "num_per_page", DEFAULT_PER_PAGE)
    where, id_type, sors, keys = _where(query)
    data = await graph.run(
        request,
        principal,
        "profiles",
        {**window(paging), "where": where},
        "FaProfiles",
    )
    listed = data["people"]
    items = [profile(node, id_type, sors, keys) for node in listed["nodes"]]
    return page_reply("profiles", items, listed["totalCount"], paging)


async def customer_profiles_export(request: web.Request, principal: Principal) -> web.Response:
    """The profiles as a file: one row per profile, its attributes per system of records as JSON."""
    where, id_type, _, _ = _where(request.rel_url.query)
    customer = "deviceId" if id_type == "device_id" else "knownAs"
    columns: list[dict[str, Any]] = [
        {"field": customer, "header": "customer_id"},
        {"field": None, "header": "customer_id_type", "value": id_type},
        {"field": "productId", "header": "application"},
        {"field": "propertiesBySource", "header": "attributes"},
    ]
    apps = (await graph.run(request, principal, "profiles", {}, "FaAppIds"))["products"]["nodes"]
    if not apps:
        raise Failure(404, "No app to export customers of.")
    people: dict[str, Any] = {"everyProduct": True}
    if where:
        people["people"] = where
    return await start(request, principal, apps[0]["id"], "DEVICES", columns, people)


async def _body(request: web.Request) -> dict[str, Any]:
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise Failure(413, TOO_LARGE)
    try:
        body = loads_json(await request.text() or "null")
    except ValueError:
        raise Failure(400, "The body must be a JSON object") from None
    if not isinstance(body, dict):
        raise Failure(400, "The body must be a JSON object")
    return body


async def _writer(request: web.Request, api_key: Any) -> tuple[Principal, str | None]:
    """The principal of `api_key` and the app it names: an app's key (that app) or an API token (none)."""
    if not isinstance(api_key, str) or not api_key or len(api_key) > 512:
        raise Failure(401, UNAUTHENTICATED)
    db = state_of(request).db
    found = await product_for_app_key(db, api_key)
    if found is not None:
        return found.principal, str(to_global_id("Product", found.product_id))
    principal = await principal_for_token(db, api_key)
    if principal is None:
        raise Failure(401, UNAUTHENTICATED)
    if not granted(principal, "sor_manage"):  # COUNT to write, READ to find the apps that know each customer
        raise Failure(403, FORBIDDEN)
    return principal, None


def _changes(items: Any) -> list[tuple[str, dict[str, Any]]]:
    """(customer id, change) of each attribute value; 400 for anything malformed."""
    if not isinstance(items, list) or not items or len(items) > MAX_VALUES:
        raise Failure(400, f"customer_attribute_values must list 1 to {MAX_VALUES} attribute values")
    found = []
    for n, item in enumerate(items):
        where = f"customer_attribute_values[{n}]"
        if not isinstance(item, dict):
            raise Failure(400, f"{where} must be an object")
        key, customer = item.get("attribute_key"), item.get("customer_id")
        if not isinstance(key, str) or not key.strip() or len(key) > 500:
            raise Failure(400, f"{where}: missing attribute_key")
        if not isinstance(customer, str | int) or isinstance(customer, bool) or not str(customer).strip():
            raise Failure(400, f"{where}: missing customer_id")
        if len(str(customer).strip()) > MAX_CUSTOMER_ID:  # the graph's limit, named as the gem sent it
            raise Failure(400, f"{where}: customer_id must have 1 to {MAX_CUSTOMER_ID} characters")
        if item.get("customer_id_type", "user_id") not in ("user_id", "device_id"):
            raise Failure(400, f"{where}: customer_id_type must be user_id or device_id")
        value = item.get("attribute_value")
        action = item.get("action_type")
        if action is None:
            change: dict[str, Any] = {"name": key, "value": value}
        elif action in ACTIONS:
            if value is None:
                raise Failure(400, f"{where}: {action} needs an attribute_value")
            change = {"name": key, ACTIONS[action]: [value]}
        else:
            raise Failure(400, f"{where}: action_type must be ADD or REMOVE")
        found.append((str(customer).strip(), change))
    return found


async def set_attribute_values(request: web.Request) -> web.Response:
    body = await _body(request)
    principal, app = await _writer(request, body.get("api_key"))
    sor = body.get("sor")
    if not isinstance(sor, str) or not sor.strip() or len(sor) > 500:
        raise Failure(400, "Missing System of Record identifier.")
    changes = _changes(body.get("customer_attribute_values"))
    apps = [app] if app is not None else None
    if apps is None:
        listed = (await graph.run(request, principal, "profiles", {}, "FaAppIds"))["products"]["nodes"]
        apps = [node["id"] for node in listed]
        if not apps:
            raise Failure(404, "No app to set attributes in.")
    by_customer: dict[str, list[dict[str, Any]]] = {}
    for customer, change in changes:
        by_customer.setdefault(customer, []).append(change)
    for customer, customer_changes in by_customer.items():
        targets = apps
        if app is None:
            known = (
                await graph.run(
                    request,
                    principal,
                    "profiles",
                    {"first": 10000, "offset": 0, "where": {"identities": [customer]}},
                    "FaProfiles",
                )
            )["people"]["nodes"]
            targets = [node["product"]["id"] for node in known] or apps[:1]
        for target in targets:
            await graph.run(
                request,
                principal,
                "profiles",
                {"app": target, "customer": customer, "sor": sor.strip(), "changes": customer_changes},
                "FaSetAttributes",
            )
    return success({"attribute_values": len(changes)})


async def attribute_values(request: web.Request) -> web.Response:
    """v3: a customer's attributes of one system of records."""
    principal = await caller(request, "segments_view")
    query = request.rel_url.query
    sor, customer = (query.get("sor_id") or "").strip(), (query.get("customer_id") or "").strip()
    id_type = query.get("customer_type") or query.get("customer_id_type") or "user_id"
    if not sor or not customer:
        raise Failure(400, "sor_id and customer_id are required")
    if id_type not in ("user_id", "device_id"):  # echoed in the reply: only the two kinds there are
        raise Failure(400, "Invalid customer_type: user_id or device_id")
    data = await graph.run(
        request,
        principal,
        "profiles",
        {"first": 1, "offset": 0, "where": {"identities": [customer]}},
        "FaProfiles",
    )
    nodes = data["people"]["nodes"]
    if not nodes:
        raise Failure(404, "Customer not found.")
    values = {v["name"]: v["value"] for v in nodes[0]["propertyValues"] if v["source"] == sor}
    return json_reply({"customer_id": customer, "customer_id_type": id_type, "attribute_values": values})


async def attribute_values_route(request: web.Request) -> web.StreamResponse:
    """`/api/attribute_values`: POST sets (the gem's sync), GET reads (v3)."""
    if request.method == "POST":
        return await set_attribute_values(request)
    return await attribute_values(request)
