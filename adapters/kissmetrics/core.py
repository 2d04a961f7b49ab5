"""KISSmetrics' Core API (`/core`): the directory, `/core/rels`, and accounts, products, reports, events and
properties as lists and details, read through the graph (operations/core_*.graphql) and shaped here.

Ids are the objects' UUIDs; a malformed, unknown or foreign id is 404 alike. Lists page with `limit` and
`offset` over the graph's connections (one page costs the same statements whatever its size).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from adapters.kissmetrics import envelopes
from adapters.kissmetrics.envelopes import BadRequest, Page, iso, link
from adapters.kissmetrics.operations import with_fragments
from gateway.access.principal import Permission, Principal
from gateway.access.tokens import bearer_token, principal_for_token
from gateway.execution.executor import RequestError
from gateway.execution.inprocess import run_operation
from gateway.http.error_shapes import ErrorShape, add_dialect_route, claim_prefix
from gateway.observability.metrics import STATEMENTS
from gateway.state import state_of

# object kind -> (collection path, its detail rel, its GraphQL type)
KINDS = {
    "accounts": ("account", "Account"),
    "products": ("product", "Product"),
    "reports": ("report", "Report"),
    "events": ("event", "EventDefinition"),
    "properties": ("property", "PropertyDefinition"),
}
RELS = {
    "self": "This resource",
    "first": "The first page of a list",
    "last": "The last page of a list",
    "next": "The next page of a list",
    "prev": "The previous page of a list",
    "accounts": "The accounts the token may access",
    "products": "Products (of an account, or every one the token may access)",
    "reports": "Reports (of a product, or every one the token may access)",
    "events": "Events of an event library",
    "properties": "Properties of people",
    "account": "The account an object belongs to",
    "product": "The product an object belongs to",
    "run": "Runs a people search (POST) in the Query API",
    "account-detail": "One account, by id",
    "product-detail": "One product, by id",
    "report-detail": "One report, by id",
    "event-detail": "One event, by id",
    "property-detail": "One property, by id",
    "product-reports": "The reports of a product",
    "product-events": "The events of a product",
    "product-properties": "The properties of a product",
    "canonical": "The canonical list of these objects",
}


class Failed(Exception):
    """A reply other than 200, in the Core API's shape."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


async def principal_of(request: web.Request) -> Principal:
    token = bearer_token(request.headers.get("Authorization"))
    principal = await principal_for_token(state_of(request).db, token) if token else None
    if principal is None:
        raise Failed(401)
    if not principal.can(Permission.READ):
        raise Failed(403)
    return principal


async def query(
    request: web.Request, principal: Principal, name: str, variables: dict[str, Any], op: str | None = None
) -> dict[str, Any]:
    try:
        result = await run_operation(request, principal, with_fragments(name), variables, op)
    except RequestError as exc:
        raise Failed(400) from exc
    if result.errors:
        codes = {(error.extensions or {}).get("code") for error in result.errors}
        raise Failed(404 if "NOT_FOUND" in codes else 400 if "BAD_USER_INPUT" in codes else 500)
    return result.data or {}


def object_id(raw: str) -> str:
    try:
        return str(uuid.UUID(raw))
    except ValueError as exc:
        raise Failed(404) from exc


# -- objects ---------------------------------------------------------------------------------------------


def account(base: str, a: dict[str, Any]) -> dict[str, Any]:
    href = f"{base}/core/accounts/{a['uuid']}"
    return {
        "id": a["uuid"],
        "name": a["name"],
        "status": "active",
        "created_at": iso(a["createdAt"], zulu=True),
        "updated_at": iso(a["updatedAt"], zulu=True),
        "contact": {"phone": None, "country": None, "name": None},
        "links": [link("Self", "self", href), link("Products", "products", f"{href}/products")],
    }


def _hosts(url: str | None) -> list[str]:
    from urllib.parse import urlsplit

    if not url:
        return []
    host = urlsplit(url if "//" in url else f"//{url}").hostname
    return [host] if host else []


def product(base: str, p: dict[str, Any]) -> dict[str, Any]:
    href = f"{base}/core/products/{p['uuid']}"
    return {
        "id": p["uuid"],
        "account_id": p["account"]["uuid"],
        "name": p["name"],
        "tracking_key": p["appKey"],
        "url": p["url"],
        "status": "active" if p["status"] == "ACTIVE" else "paused",
        "environment": p["environment"],
        "timezone": p["timezone"],
        "created_at": iso(p["createdAt"]),
        "hosts": _hosts(p["url"]),
        "links": [
            link("Self", "self", href),
            link("Account", "account", f"{base}/core/accounts/{p['account']['uuid']}"),
            link("Product Reports", "reports", f"{href}/reports"),
            link("Product Events", "events", f"{href}/events"),
            link("Product Properties", "properties", f"{href}/properties"),
        ],
    }


def report(base: str, r: dict[str, Any]) -> dict[str, Any]:
    product_id = (r.get("reportProduct") or {}).get("uuid")
    links = [link("Self", "self", f"{base}/core/reports/{r['uuid']}")]
    if r["runnable"]:
        links.append(link("Run Report", "run", f"{base}/query/reports/{r['uuid']}/run"))
    if product_id:
        links.append(link("Product", "product", f"{base}/core/products/{product_id}"))
    links.append(link("Account", "account", f"{base}/core/accounts/{r['account']['uuid']}"))
    return {
        "id": r["uuid"],
        "account_id": r["account"]["uuid"],
        "product_id": product_id,
        "name": r["name"],
        "report_type": r["type"],
        "created_at": iso(r["createdAt"]),
        "links": links,
    }


def _definition_links(base: str, kind: str, d: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        link("Self", "self", f"{base}/core/{kind}/{d['uuid']}"),
        link("Product", "product", f"{base}/core/products/{d['product']['uuid']}"),
    ]


def event(base: str, e: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": e["uuid"],
        "product_id": e["product"]["uuid"],
        "name": e["name"],
        "display_name": e["displayName"] or e["name"],
        "description": e["description"],
        "is_visible": e["visible"],
        "total": int(e["total"]),
        "first_used_at": iso(e["firstUsed"]),
        "last_used_at": iso(e["lastUsed"]),
        "first_sent_at": iso(e["firstSent"]),
        "last_sent_at": iso(e["lastSent"]),
        "index": e["index"],
        "links": _definition_links(base, "events", e),
    }


def property_(base: str, p: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": p["uuid"],
        "product_id": p["product"]["uuid"],
        "type": "number" if p["dataType"] == "number" else "text",
        "name": p["name"],
        "display_name": p["displayName"] or p["name"],
        "description": p["description"],
        "is_visible": p["visible"],
        "first_used_at": iso(p["firstSeen"]),
        "last_used_at": iso(p["lastSeen"]),
        "first_sent_at": iso(p["firstSent"]),
        "last_sent_at": iso(p["lastSent"]),
        "index": p["index"],
        "links": _definition_links(base, "properties", p),
    }


SHAPES: dict[str, Callable[[str, dict[str, Any]], dict[str, Any]]] = {
    "Account": account,
    "Product": product,
    "Report": report,
    "EventDefinition": event,
    "PropertyDefinition": property_,
}


def _templated(base: str, kind: str) -> list[dict[str, Any]]:
    """The templated links recorded on each list (RFC 6570)."""
    if kind == "products":
        return [
            link(f"Product {name.title()}", name, f"{base}/core/products/{{product_id}}/{name}", True)
            for name in ("reports", "events", "properties")
        ]
    rel, _ = KINDS[kind]
    return [link(f"{rel.title()} Detail", f"{rel}-detail", f"{base}/core/{kind}/{{{rel}_id}}", True)]


# -- handlers --------------------------------------------------------------------------------------------

Handler = Callable[[web.Request, Principal], Awaitable[web.Response]]


def _page(request: web.Request) -> Page:
    return envelopes.page_of(request, state_of(request).settings.limits.max_page_size)


async def directory(request: web.Request, principal: Principal) -> web.Response:
    base = envelopes.base_url(request)
    links = [link("Directory", "self", f"{base}/core")]
    links += [link(kind.title(), kind, f"{base}/core/{kind}") for kind in KINDS]
    links += [
        link(f"{rel.title()} Detail", f"{rel}-detail", f"{base}/core/{kind}/{{{rel}_id}}", True)
        for kind, (rel, _) in KINDS.items()
    ]
    body = {
        "links": [link("Directory", "self", f"{base}/core")],
        "data": {"links": links, "description": "API access for KISSmetrics", "name": "KISSmetrics API"},
    }
    return envelopes.ok(body)


async def rels(request: web.Request, principal: Principal) -> web.Response:
    base = envelopes.base_url(request)
    body = {
        "links": [link("Rels", "self", f"{base}/core/rels")],
        "data": {
            "title": "KISSmetrics API link relations",
            "description": "The relations (`rel`) of the links the API answers with.",
            "rels": [{"name": name, "description": text} for name, text in RELS.items()],
        },
    }
    return envelopes.ok(body)


async def accounts(request: web.Request, principal: Principal) -> web.Response:
    page = _page(request)
    base = envelopes.base_url(request)
    data = await query(request, principal, "core_accounts", {})
    items = [account(base, data["account"])]
    url = f"{base}/core/accounts"
    return envelopes.listing(
        items[page.offset : page.offset + page.limit],
        page,
        len(items),
        envelopes.paging_links(url, page, len(items)),
    )


LIST_OPERATIONS = {
    "products": ("KmProducts", "products"),
    "reports": ("KmReports", "reports"),
    "events": ("KmEvents", "eventDefinitions"),
    "properties": ("KmProperties", "propertyDefinitions"),
}


def collection(kind: str) -> Handler:
    async def handle(request: web.Request, principal: Principal) -> web.Response:
        page = _page(request)
        base = envelopes.base_url(request)
        operation, field = LIST_OPERATIONS[kind]
        data = await query(
            request, principal, "core_lists", {"first": page.limit, "offset": page.offset}, operation
        )
        found = data[field]
        shape = SHAPES[KINDS[kind][1]]
        url = f"{base}/core/{kind}"
        links = envelopes.paging_links(url, page, found["totalCount"]) + _templated(base, kind)
        return envelopes.listing([shape(base, n) for n in found["nodes"]], page, found["totalCount"], links)

    return handle


def detail(kind: str) -> Handler:
    async def handle(request: web.Request, principal: Principal) -> web.Response:
        uid = object_id(request.match_info["id"])
        base = envelopes.base_url(request)
        data = await query(request, principal, "core_object", {"uuid": uid})
        node = data.get("nodeByUuid")
        if node is None or node["__typename"] != KINDS[kind][1]:
            raise Failed(404)
        return envelopes.single(SHAPES[node["__typename"]](base, node), f"{base}/core/{kind}/{uid}")

    return handle


# parent path -> (operation, parent type, field of the list, item kind)
NESTED = {
    ("accounts", "products"): ("KmAccountProducts", "Account", "products", "products"),
    ("products", "reports"): ("KmProductReports", "Product", "reports", "reports"),
    ("products", "events"): ("KmProductEvents", "Product", "eventDefinitions", "events"),
    ("products", "properties"): ("KmProductProperties", "Product", "properties", "properties"),
}


def nested(parent: str, child: str) -> Handler:
    operation, parent_type, field, kind = NESTED[(parent, child)]

    async def handle(request: web.Request, principal: Principal) -> web.Response:
        uid = object_id(request.match_info["id"])
        page = _page(request)
        base = envelopes.base_url(request)
        variables = {"uuid": uid, "first": page.limit, "offset": page.offset}
        data = await query(request, principal, "core_product_lists", variables, operation)
        node = data.get("nodeByUuid")
        if node is None or node["__typename"] != parent_type:
            raise Failed(404)
        found = node[field]
        if kind in ("events", "properties"):
            # the documents do not select the product of each definition: it is the parent
            for item in found["nodes"]:
                item["product"] = {"uuid": node["uuid"]}
        url = f"{base}/core/{parent}/{uid}/{child}"
        shape = SHAPES[KINDS[kind][1]]
        if parent == "accounts":
            links = envelopes.paging_links(url, page, found["totalCount"], {"account_id": uid})
            links += [
                link(
                    f"Product {name.title()}",
                    f"product-{name}",
                    f"{base}/core/products/{{product_id}}/{name}",
                    True,
                )
                for name in ("reports", "events", "properties")
            ]
            links.append(link("Canoncial", "canonical", f"{base}/core/products"))
        else:
            links = envelopes.paging_links(url, page, found["totalCount"]) + _templated(base, kind)
        return envelopes.listing([shape(base, n) for n in found["nodes"]], page, found["totalCount"], links)

    return handle


def guarded(handler: Handler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """Authentication, and every failure answered in the Core API's shape (never an HTML page)."""

    async def route(request: web.Request) -> web.StreamResponse:
        if request.method not in ("GET", "HEAD"):
            return envelopes.error(404)
        try:
            response = await handler(request, await principal_of(request))
            counter = request.get(STATEMENTS)
            if counter is not None:
                response.headers["X-SQL-Statements"] = str(counter.count)
            return response
        except Failed as failed:
            return envelopes.error(failed.status if failed.status in envelopes.MESSAGES else 400)
        except BadRequest:
            return envelopes.error(400)

    return route


# what the Core API's routes answer when their handler does not (an outage: 503 with Retry-After; an internal
# error: 500), and the paths below /core/ that match no route (404), in its `meta` shape
CORE_SHAPE = ErrorShape("kissmetrics-core", lambda _request, status, _message: envelopes.error(status))


def add_core_routes(app: web.Application) -> None:
    routes: dict[str, Handler] = {
        "/core": directory,
        "/core/rels": rels,
        "/core/accounts": accounts,
        "/core/accounts/{id}": detail("accounts"),
        "/core/accounts/{id}/products": nested("accounts", "products"),
    }
    for kind in ("products", "reports", "events", "properties"):
        routes[f"/core/{kind}"] = collection(kind)
        routes[f"/core/{kind}/{{id}}"] = detail(kind)
    for child in ("reports", "events", "properties"):
        routes[f"/core/products/{{id}}/{child}"] = nested("products", child)
    for path, handler in routes.items():
        add_dialect_route(app, CORE_SHAPE, "*", path, guarded(handler))
        add_dialect_route(app, CORE_SHAPE, "*", path + "/", guarded(handler))
    claim_prefix(app, CORE_SHAPE, "/core/")
