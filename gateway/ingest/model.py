"""The ingestion engine's input and output types, independent of any vendor dialect.

Adapters (the Countly shim, mutations, ...) translate their requests into `TrackRequest`s; the engine answers
one `Outcome` per request.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gateway.ingest.web.model import WebHit


@dataclass
class EventInput:
    """One event occurrence as sent by a client (Countly's `events[]` item)."""

    key: str
    count: int = 1
    sum: float | None = None
    duration: float | None = None
    segmentation: dict[str, Any] | None = None
    # raw client timestamp (10 digits = s, 13 digits = ms, or ISO 8601); None = the request's time
    timestamp: str | None = None
    path: str | None = None
    title: str | None = None
    referrer: str | None = None


@dataclass
class TrackRequest:
    """One write request of one device (Countly `/i`, or one item of `/i/bulk`)."""

    account_id: int
    product_id: int
    device_key: str
    timestamp: str | None = None
    begin_session: bool = False
    # raw seconds as sent: may be negative or huge (the engine normalises)
    session_duration: int | None = None
    end_session: bool = False
    # Countly metric names with or without the leading underscore: _os, _os_version, _device, ...
    metrics: dict[str, str] = field(default_factory=dict)
    events: list[EventInput] = field(default_factory=list)
    old_device_key: str | None = None
    user_details: dict[str, Any] | None = None
    country: str | None = None
    city: str | None = None
    location: str | None = None
    # duplicate suppression: equal to the device's previous request hash = duplicate
    dedupe_hash: str | None = None
    # checksum verification (only when the product has a salt)
    checksum_payload: str | None = None
    checksum: str | None = None
    checksum256: str | None = None
    # people (gateway.ingest.people): properties set on the person at the request's time, by name
    # (case-insensitive), in the system of records `property_source`
    properties: dict[str, Any] | None = None
    property_source: str = "global"
    # with old_device_key: join the two identities into one person whatever their order, keeping the person
    # known first (an alias); without it, old_device_key's device is merged into device_key's (Countly)
    join_identities: bool = False
    # events count once per person, key and second (KISSmetrics): a repeated one is not stored again
    events_once_per_second: bool = False
    # a web hit (a pageview or event of a site): its one event and these details (gateway/ingest/web)
    web: WebHit | None = None


class Outcome(enum.Enum):
    """What the engine did with one request."""

    STORED = "stored"
    DUPLICATE = "duplicate"
    IGNORED_DEVICE = "ignored_device"
    CHECKSUM_MISMATCH = "checksum_mismatch"
    CHECKSUM_MISSING = "checksum_missing"
    PRODUCT_PAUSED = "product_paused"
    UNKNOWN_PRODUCT = "unknown_product"
