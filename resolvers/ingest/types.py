"""Inputs and results of the record mutations (the graph's side of the ingestion engine)."""

from __future__ import annotations

import enum

import strawberry
from strawberry.scalars import JSON

from gateway.ingest.model import Outcome


@strawberry.enum(description="What the gateway did with one recorded request.")
class RecordOutcome(enum.Enum):
    STORED = Outcome.STORED.value
    DUPLICATE = Outcome.DUPLICATE.value
    IGNORED_DEVICE = Outcome.IGNORED_DEVICE.value
    CHECKSUM_MISMATCH = Outcome.CHECKSUM_MISMATCH.value
    CHECKSUM_MISSING = Outcome.CHECKSUM_MISSING.value
    PRODUCT_PAUSED = Outcome.PRODUCT_PAUSED.value
    UNKNOWN_PRODUCT = Outcome.UNKNOWN_PRODUCT.value


@strawberry.type(description="The outcome of one recorded request; STORED means committed to the database.")
class RecordResult:
    outcome: RecordOutcome

    @strawberry.field(description="Whether the request's data was stored.")
    def stored(self) -> bool:
        return self.outcome is RecordOutcome.STORED


@strawberry.input(description="One event occurrence.")
class EventOccurrenceInput:
    key: str
    count: int = 1
    sum: float | None = None
    duration: float | None = strawberry.field(default=None, description="Seconds.")
    segmentation: JSON | None = strawberry.field(default=None, description="A flat object of key → value.")
    timestamp: str | None = strawberry.field(
        default=None, description="Unix seconds (10 digits), milliseconds (13 digits) or ISO 8601."
    )
    path: str | None = strawberry.field(default=None, description="Pageviews: the page's path.")
    title: str | None = None
    referrer: str | None = None


@strawberry.input(description="A device's latest metrics, sent when a session begins.")
class DeviceMetricsInput:
    os: str | None = None
    os_version: str | None = None
    device: str | None = None
    resolution: str | None = None
    carrier: str | None = None
    app_version: str | None = None
    locale: str | None = None

    def as_metrics(self) -> dict[str, str]:
        names = ["os", "os_version", "device", "resolution", "carrier", "app_version", "locale"]
        return {f"_{name}": value for name in names if (value := getattr(self, name)) is not None}


@strawberry.enum(description="What a session request does.")
class SessionAction(enum.Enum):
    BEGIN = "begin"
    HEARTBEAT = "heartbeat"
    END = "end"


@strawberry.input(description="One write request of one device: a session step, events, metrics, details.")
class RecordInput:
    device_id: str
    timestamp: str | None = strawberry.field(
        default=None,
        description="Unix seconds (10 digits), milliseconds (13 digits) or ISO 8601; default now.",
    )
    begin_session: bool = False
    session_duration: int | None = strawberry.field(
        default=None, description="Seconds since the last heartbeat."
    )
    end_session: bool = False
    metrics: JSON | None = strawberry.field(
        default=None, description="Metric name → value (`_os`, `_os_version`, `_device`, `_carrier`, ...)."
    )
    events: list[EventOccurrenceInput] | None = None
    old_device_id: str | None = strawberry.field(
        default=None, description="Merge this device into `deviceId`."
    )
    user_details: JSON | None = None
    country: str | None = None
    city: str | None = None
    location: str | None = strawberry.field(default=None, description='"lat,lon"')
    dedupe_hash: str | None = strawberry.field(
        default=None, description="A request equal to the device's previous hash is ignored as a duplicate."
    )
    checksum_payload: str | None = strawberry.field(
        default=None, description="The signed text, for products with a checksum salt."
    )
    checksum: str | None = strawberry.field(default=None, description="SHA-1 of payload + salt, hex.")
    checksum256: str | None = strawberry.field(default=None, description="SHA-256 of payload + salt, hex.")
    properties: JSON | None = strawberry.field(
        default=None,
        description="Properties of the person set at the request's time, name → value (names are "
        "case-insensitive; a null value removes the property).",
    )
    property_source: str = strawberry.field(
        default="global", description="The system of records `properties` belong to."
    )
    alias: str | None = strawberry.field(
        default=None,
        description="Another identity of the same person: joins the two into one person for good, whatever "
        "their order (the person known first is kept, with everything of the other).",
    )
    events_once_per_second: bool = strawberry.field(
        default=False,
        description="Count each event once per person, key and second (a repeated one is not stored again).",
    )
