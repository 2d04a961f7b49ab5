"""The record mutations: translate their inputs into engine requests and wait until they are committed."""

from __future__ import annotations

from typing import Any

import strawberry

from gateway.auth import Permission
from gateway.ingest.model import EventInput, TrackRequest
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

MAX_REQUESTS = 1000
MAX_EVENTS = 1000
MAX_KEY_LENGTH = 500


def _text_map(value: Any, name: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise UserError(f"`{name}` must be a JSON object")
    return value


def _event(event: EventOccurrenceInput) -> EventInput:
    key = event.key.strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise UserError(f"An event `key` must have 1 to {MAX_KEY_LENGTH} characters")
    return EventInput(
        key=key,
        count=event.count,
        sum=event.sum,
        duration=event.duration,
        segmentation=_text_map(event.segmentation, "segmentation") or None,
        timestamp=event.timestamp,
        path=event.path,
        title=event.title,
        referrer=event.referrer,
    )


def _track(account_id: int, product_id: int, item: RecordInput) -> TrackRequest:
    device = item.device_id.strip()
    if not device or len(device) > MAX_KEY_LENGTH:
        raise UserError(f"`deviceId` must have 1 to {MAX_KEY_LENGTH} characters")
    events = item.events or []
    if len(events) > MAX_EVENTS:
        raise UserError(f"At most {MAX_EVENTS} events per request")
    return TrackRequest(
        account_id=account_id,
        product_id=product_id,
        device_key=device,
        timestamp=item.timestamp,
        begin_session=item.begin_session,
        session_duration=item.session_duration,
        end_session=item.end_session,
        metrics={str(k): str(v) for k, v in _text_map(item.metrics, "metrics").items() if v is not None},
        events=[_event(e) for e in events],
        old_device_key=item.old_device_id,
        user_details=_text_map(item.user_details, "userDetails") or None,
        country=item.country,
        city=item.city,
        location=item.location,
        dedupe_hash=item.dedupe_hash,
        checksum_payload=item.checksum_payload,
        checksum=item.checksum,
        checksum256=item.checksum256,
    )


async def _product_for_write(ctx: Context, product_id: strawberry.ID | None) -> tuple[int, int]:
    principal = ctx.require(Permission.WRITE)
    if product_id is None:
        if principal.product_id is None:
            raise UserError("`productId` is required")
        return principal.account_id, principal.product_id
    return principal.account_id, await require_product_pk(ctx, product_id)


async def _record(
    ctx: Context, product_id: strawberry.ID | None, items: list[RecordInput]
) -> list[RecordResult]:
    if len(items) > MAX_REQUESTS:
        raise UserError(f"At most {MAX_REQUESTS} requests per call")
    account_id, product = await _product_for_write(ctx, product_id)
    requests = [_track(account_id, product, item) for item in items]
    if ctx.engine is None:
        raise RuntimeError("the ingestion engine is not running in this process")
    outcomes = await ctx.engine.submit(requests)
    return [RecordResult(outcome=RecordOutcome(outcome.value)) for outcome in outcomes]


@strawberry.type
class IngestMutations:
    @strawberry.mutation(
        description="Record write requests of devices (sessions, events, metrics); answers once committed. "
        "`productId` may be omitted with a product's app key."
    )
    async def record(
        self, info: strawberry.Info, requests: list[RecordInput], product_id: strawberry.ID | None = None
    ) -> list[RecordResult]:
        return await _record(ctx_of(info), product_id, requests)

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
        item = RecordInput(
            device_id=device_id,
            timestamp=timestamp,
            begin_session=action is SessionAction.BEGIN,
            end_session=action is SessionAction.END,
            session_duration=duration,
            metrics=metrics.as_metrics() if metrics else None,  # type: ignore[arg-type]
        )
        return (await _record(ctx_of(info), product_id, [item]))[0]

    @strawberry.mutation(description="Record event occurrences (pageviews included) of a device.")
    async def record_events(
        self,
        info: strawberry.Info,
        product_id: strawberry.ID,
        device_id: str,
        events: list[EventOccurrenceInput],
    ) -> RecordResult:
        item = RecordInput(device_id=device_id, events=events)
        return (await _record(ctx_of(info), product_id, [item]))[0]
