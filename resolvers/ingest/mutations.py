"""The record mutations: translate their inputs into engine requests and wait until they are committed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any

import strawberry
from graphql import GraphQLSchema
from strawberry.scalars import JSON

from gateway.access.principal import Permission
from gateway.ingest.model import EventInput, HealthCheck, SetChange, TrackRequest
from gateway.ingest.people import DEFAULT_SOURCE
from resolvers.context import Context, ctx_of
from resolvers.errors import UserError
from resolvers.ingest.types import (
    DeviceMetricsInput,
    EventOccurrenceInput,
    RecordInput,
    RecordOutcome,
    RecordResult,
    SessionAction,
)
from resolvers.products.types import require_product_pk

# GraphQL field name -> Python attribute of the inputs, for the paths that get Strawberry objects
EVENT_FIELDS = ("key", "count", "sum", "duration", "segmentation", "timestamp", "path", "title", "referrer")
RECORD_FIELDS = {
    "deviceId": "device_id",
    "timestamp": "timestamp",
    "beginSession": "begin_session",
    "sessionDuration": "session_duration",
    "endSession": "end_session",
    "metrics": "metrics",
    "oldDeviceId": "old_device_id",
    "userDetails": "user_details",
    "country": "country",
    "city": "city",
    "location": "location",
    "dedupeHash": "dedupe_hash",
    "checksumPayload": "checksum_payload",
    "checksum": "checksum",
    "checksum256": "checksum256",
    "properties": "properties",
    "propertySource": "property_source",
    "alias": "alias",
    "eventsOncePerSecond": "events_once_per_second",
    "healthCheck": "health_check",
}
HEALTH_FIELDS = {
    "sdkName": "sdk_name",
    "sdkVersion": "sdk_version",
    "errorLogs": "error_logs",
    "warningLogs": "warning_logs",
    "statusCode": "status_code",
    "errorMessage": "error_message",
    "backoffs": "backoffs",
    "consecutiveBackoffs": "consecutive_backoffs",
}
MAX_REQUESTS = 1000
MAX_EVENTS = 1000
MAX_KEY_LENGTH = 500


def _text_map(value: Any, name: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise UserError(f"`{name}` must be a JSON object")
    return value


def _event(event: Mapping[str, Any]) -> EventInput:
    key = str(event["key"]).strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise UserError(f"An event `key` must have 1 to {MAX_KEY_LENGTH} characters")
    get = event.get
    segmentation = get("segmentation")
    # positional, in EventInput's field order: one per event of every write, keywords cost a third more
    return EventInput(
        key,
        get("count", 1),
        get("sum"),
        get("duration"),
        _text_map(segmentation, "segmentation") or None if segmentation is not None else None,
        get("timestamp"),
        get("path"),
        get("title"),
        get("referrer"),
    )


def _health(check: Mapping[str, Any] | None) -> HealthCheck | None:
    if check is None:
        return None
    return HealthCheck(
        **{python: check[graphql] for graphql, python in HEALTH_FIELDS.items() if graphql in check}
    )


def _track(
    account_id: int, product_id: int, item: Mapping[str, Any], set_changes: dict[str, SetChange] | None = None
) -> TrackRequest:
    """An engine request from one `RecordInput`, as graphql-core coerced it (GraphQL field names)."""
    device = str(item["deviceId"]).strip()
    if not device or len(device) > MAX_KEY_LENGTH:
        raise UserError(f"`deviceId` must have 1 to {MAX_KEY_LENGTH} characters")
    get = item.get
    events = get("events") or []
    if len(events) > MAX_EVENTS:
        raise UserError(f"At most {MAX_EVENTS} events per request")
    metrics = _text_map(get("metrics"), "metrics")
    alias = get("alias")
    if alias is not None:
        alias = str(alias).strip()
        if not alias or len(alias) > MAX_KEY_LENGTH:
            raise UserError(f"`alias` must have 1 to {MAX_KEY_LENGTH} characters")
        if get("oldDeviceId"):
            raise UserError("Give `alias` or `oldDeviceId`, not both")
    source = get("propertySource") or DEFAULT_SOURCE
    if len(source) > MAX_KEY_LENGTH:
        raise UserError(f"`propertySource` must have at most {MAX_KEY_LENGTH} characters")
    # positional, in TrackRequest's field order (see _event)
    return TrackRequest(
        account_id,
        product_id,
        device,
        get("timestamp"),
        bool(get("beginSession")),
        get("sessionDuration"),
        bool(get("endSession")),
        {str(k): str(v) for k, v in metrics.items() if v is not None},
        [_event(e) for e in events],
        alias or get("oldDeviceId"),
        _text_map(get("userDetails"), "userDetails") or None,
        get("country"),
        get("city"),
        get("location"),
        get("dedupeHash"),
        get("checksumPayload"),
        get("checksum"),
        get("checksum256"),
        _text_map(get("properties"), "properties") or None,
        source,
        alias is not None,
        bool(get("eventsOncePerSecond")),
        health_check=_health(get("healthCheck")),
        set_changes=set_changes,
    )


async def _product_for_write(ctx: Context, product_id: strawberry.ID | None) -> tuple[int, int]:
    principal = ctx.require(Permission.COUNT)
    if product_id is None:
        if principal.product_id is None:
            raise UserError("`productId` is required")
        return principal.account_id, principal.product_id
    return principal.account_id, await require_product_pk(ctx, product_id)


async def _record(
    ctx: Context,
    product_id: strawberry.ID | None,
    items: Sequence[Mapping[str, Any]],
    set_changes: Sequence[dict[str, SetChange] | None] | None = None,
) -> list[RecordResult]:
    if len(items) > MAX_REQUESTS:
        raise UserError(f"At most {MAX_REQUESTS} requests per call")
    account_id, product = await _product_for_write(ctx, product_id)
    changes = set_changes or [None] * len(items)
    requests = [_track(account_id, product, item, c) for item, c in zip(items, changes, strict=True)]
    if ctx.engine is None:
        raise RuntimeError("the ingestion engine is not running in this process")
    outcomes = await ctx.engine.submit(requests)
    return [RecordResult(outcome=RecordOutcome(outcome.value)) for outcome in outcomes]


async def record_items(
    ctx: Context,
    product_id: strawberry.ID | None,
    items: Sequence[Mapping[str, Any]],
    set_changes: Sequence[dict[str, SetChange] | None] | None = None,
) -> list[RecordResult]:
    """Record requests in `record`'s coerced form (GraphQL field names), for other mutations of the graph; with
    `set_changes`, each request also changes set-valued properties (per request, by name)."""
    return await _record(ctx, product_id, items, set_changes)


@strawberry.type
class IngestMutations:
    @strawberry.mutation(
        description="Record write requests of devices (sessions, events, metrics); answers once committed. "
        "`productId` may be omitted with a product's app key."
    )
    async def record(
        self, info: strawberry.Info, requests: list[RecordInput], product_id: strawberry.ID | None = None
    ) -> list[RecordResult]:
        # the schema runs `record_coerced` instead (see install_record_resolver); this serves other schemas
        return await _record(ctx_of(info), product_id, [_coerced_form(item) for item in requests])

    @strawberry.mutation(description="Begin, extend (heartbeat) or end a device's session.")
    async def record_session(
        self,
        info: strawberry.Info,
        product_id: strawberry.ID,
        device_id: str,
        action: SessionAction,
        duration: int | None = None,
        metrics: DeviceMetricsInput | None = None,
        timestamp: str | None = None,
    ) -> RecordResult:
        item = {
            "deviceId": device_id,
            "timestamp": timestamp,
            "beginSession": action is SessionAction.BEGIN,
            "endSession": action is SessionAction.END,
            "sessionDuration": duration,
            "metrics": metrics.as_metrics() if metrics else None,
        }
        return (await _record(ctx_of(info), product_id, [item]))[0]

    @strawberry.mutation(description="Record event occurrences (pageviews included) of a device.")
    async def record_events(
        self,
        info: strawberry.Info,
        product_id: strawberry.ID,
        device_id: str,
        events: list[EventOccurrenceInput],
    ) -> RecordResult:
        item = {"deviceId": device_id, "events": [_event_form(event) for event in events]}
        return (await _record(ctx_of(info), product_id, [item]))[0]

    @strawberry.mutation(
        description="Join two identities of a product into one person for good, whatever their order: the "
        "person known first is kept, with the events, sessions, properties and names of the other. Answers once "
        "committed."
    )
    async def alias(
        self,
        info: strawberry.Info,
        product_id: strawberry.ID,
        identity: str,
        other_identity: str,
        timestamp: str | None = None,
    ) -> RecordResult:
        item = {"deviceId": identity, "alias": other_identity, "timestamp": timestamp}
        return (await _record(ctx_of(info), product_id, [item]))[0]

    @strawberry.mutation(
        description="Set properties of a person (created if the identity is new), name → value; a null value "
        "removes a property. Names are case-insensitive. Answers once committed."
    )
    async def set_properties(
        self,
        info: strawberry.Info,
        product_id: strawberry.ID,
        identity: str,
        properties: JSON,
        source: str = "global",
        timestamp: Annotated[
            str | None,
            strawberry.argument(
                description="When the values were set: Unix seconds, milliseconds or ISO 8601."
            ),
        ] = None,
    ) -> RecordResult:
        if not isinstance(properties, dict) or not properties:
            raise UserError("`properties` must be a JSON object with at least one property")
        item = {
            "deviceId": identity,
            "properties": properties,
            "propertySource": source,
            "timestamp": timestamp,
        }
        return (await _record(ctx_of(info), product_id, [item]))[0]


def _event_form(event: EventOccurrenceInput) -> dict[str, Any]:
    return {name: getattr(event, name) for name in EVENT_FIELDS}


def _coerced_form(item: RecordInput) -> dict[str, Any]:
    """A RecordInput object as graphql-core hands it over: a dict with the GraphQL field names."""
    form = {graphql: getattr(item, python) for graphql, python in RECORD_FIELDS.items()}
    form["events"] = [_event_form(event) for event in item.events or []]
    check = item.health_check
    form["healthCheck"] = (
        None
        if check is None
        else {graphql: getattr(check, python) for graphql, python in HEALTH_FIELDS.items()}
    )
    return form


async def record_coerced(_root: Any, info: Any, requests: list[dict[str, Any]], productId: Any = None) -> Any:  # noqa: N803
    """`Mutation.record` on graphql-core's coerced arguments.

    Strawberry would turn every request and event into input objects first, which costs more than the rest of
    a Countly `/i` request; the values are already validated by graphql-core, so the engine reads them as is.
    """
    return await _record(info.context, productId, requests)


def install_record_resolver(schema: GraphQLSchema) -> None:
    """Let the executable schema run `record` on coerced arguments (the shims' hot path)."""
    mutation = schema.mutation_type
    assert mutation is not None
    mutation.fields["record"].resolve = record_coerced
