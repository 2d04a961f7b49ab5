"""The ingestion engine's input and output types, independent of any vendor dialect.

Adapters (the Countly shim, mutations, ...) translate their requests into `TrackRequest`s; the engine answers
one `Outcome` per request.

Every dialect's values pass here, so the model is where they are normalised for storage
(`gateway.input_values`), whoever built them: a `TrackRequest` or `EventInput` holds only what PostgreSQL can
store and its rollups can sum. Text has no U+0000 or lone surrogate, and text that ends up in an index (device
keys, event keys, segmentation keys and values, metric values, property names) is cut to what an index entry
holds; counts are 1..MAX_COUNT; sums and durations finite within +-MAX_MEASURE, so no rollup can overflow;
JSON values (segmentation, user details) are bounded in depth, with non-finite numbers as null. Timestamps stay
the client's text here and become instants in [EARLIEST, now] when a batch is planned
(`gateway.ingest.timestamps`).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from gateway.input_values import (
    MAX_COUNT,
    MAX_MEASURE,
    BadInput,
    count,
    is_clean,
    json_value,
    measure,
    optional_text,
    text,
)

if TYPE_CHECKING:
    from gateway.ingest.web.model import WebHit

# UTF-8 bytes of the texts that are parts of index entries (a btree entry holds about 2,700 bytes): an event
# rollup's key is (key, segmentation key, segmentation value)
MAX_DEVICE_KEY_BYTES = 2000
MAX_EVENT_KEY_BYTES = 800
MAX_SEGMENT_KEY_BYTES = 400
MAX_VALUE_BYTES = 800
# text that is stored but never indexed (titles, paths, locations, the client's timestamp)
MAX_TEXT_CHARS = 10_000
MAX_TIMESTAMP_CHARS = 64
MAX_HASH_CHARS = 200


def indexed(value: Any, max_bytes: int) -> str:
    """`value` as text (`gateway.input_values.text`) of at most `max_bytes` UTF-8 bytes (cut at a character)."""
    value = text(value)
    if len(value) * 4 > max_bytes and len(encoded := value.encode("utf-8")) > max_bytes:
        value = encoded[:max_bytes].decode("utf-8", "ignore")
    return value


def _plain(value: Any, max_bytes: int) -> bool:
    """Whether a text needs no normalisation (the common case, checked in C)."""
    return type(value) is str and len(value) * 4 <= max_bytes and is_clean(value)


# what makes a segmentation's JSON text worth a closer look (an escape, a null, a list)
_SUSPECT = re.compile(rb"\\|null|\[").search


def _segmentation(raw: Any) -> dict[str, Any] | None:
    if type(raw) is not dict or not raw:
        return None if not isinstance(raw, dict) or not raw else _normalised_segmentation(raw)
    # the common case, told in C: orjson writes it (no lone surrogate, no integer beyond 64 bits, no non-str
    # key), its text has no escape (U+0000 would be one), no null (NaN would be one) and no list, one brace
    # (flat), and is too short to hold a key or value too long for an index
    try:
        data = orjson.dumps(raw)
    except TypeError:
        return _normalised_segmentation(raw)
    if len(data) <= MAX_SEGMENT_KEY_BYTES and _SUSPECT(data) is None and data.count(b"{") == 1:
        return raw
    return _normalised_segmentation(raw)


def _normalised_segmentation(raw: dict[str, Any]) -> dict[str, Any] | None:
    try:
        decoded = json_value(raw)
    except BadInput:
        return None  # nested beyond the limit: dropped, like unparseable segmentation
    if not isinstance(decoded, dict):
        return None
    kept: dict[str, Any] = {}
    for key, value in decoded.items():
        if isinstance(value, str):
            value = indexed(value, MAX_VALUE_BYTES)
        elif isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**63:
            continue  # a rollup keys it by its digits, which may run to thousands
        elif isinstance(value, float):
            value = measure(value)
        kept[indexed(key, MAX_SEGMENT_KEY_BYTES)] = value
    return kept or None


def _properties(raw: Any) -> dict[str, Any] | None:
    """A person's properties to set: names as indexed text, values as JSON values (None removes one)."""
    if not isinstance(raw, dict):
        return None
    kept: dict[str, Any] = {}
    for name, value in raw.items():
        try:
            kept[indexed(name, MAX_SEGMENT_KEY_BYTES)] = json_value(value)
        except BadInput:
            continue  # nested beyond the limit: dropped, like unparseable properties
    return kept


@dataclass
class SetChange:
    """Values added to and removed from a set-valued property (a JSON list), applied by the engine to the set
    stored when the batch is written, in its transaction (gateway/ingest/people.py): changes of one set made at
    the same moment all count."""

    added: list[Any] = field(default_factory=list)
    removed: list[Any] = field(default_factory=list)


def _set_changes(raw: Any) -> dict[str, SetChange] | None:
    """Set changes by property name: names as indexed text, values as JSON values (nested too deep: dropped)."""
    if not isinstance(raw, dict):
        return None
    kept: dict[str, SetChange] = {}
    for name, change in raw.items():
        if not isinstance(change, SetChange):
            continue
        added: list[Any] = []
        removed: list[Any] = []
        for values, into in ((change.added, added), (change.removed, removed)):
            for value in values:
                try:
                    into.append(json_value(value))
                except BadInput:
                    continue
        kept[indexed(name, MAX_SEGMENT_KEY_BYTES)] = SetChange(added, removed)
    return kept or None


@dataclass
class EventInput:
    """One event occurrence as sent by a client (Countly's `events[]` item); normalised when made."""

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

    def __post_init__(self) -> None:
        # one per event of every write: the common values pass a few C checks, the rest is normalised
        key = self.key
        if not (type(key) is str and len(key) <= 200 and key.isascii() and "\x00" not in key):
            self.key = indexed(key, MAX_EVENT_KEY_BYTES)
        if type(self.count) is not int or not 0 < self.count <= MAX_COUNT:
            self.count = count(self.count)
        if self.sum is not None and not (type(self.sum) is float and -MAX_MEASURE <= self.sum <= MAX_MEASURE):
            self.sum = measure(self.sum)
        if self.duration is not None and not (
            type(self.duration) is float and -MAX_MEASURE <= self.duration <= MAX_MEASURE
        ):
            self.duration = measure(self.duration)
        if self.segmentation is not None:
            self.segmentation = _segmentation(self.segmentation)
        timestamp = self.timestamp
        if timestamp is not None and not (
            type(timestamp) is str and timestamp.isdigit() and len(timestamp) < 20
        ):
            self.timestamp = text(timestamp, MAX_TIMESTAMP_CHARS)
        if self.path is not None or self.title is not None or self.referrer is not None:
            self.path = optional_text(self.path, MAX_TEXT_CHARS)
            self.title = optional_text(self.title, MAX_TEXT_CHARS)
            self.referrer = optional_text(self.referrer, MAX_TEXT_CHARS)


@dataclass
class HealthCheck:
    """An SDK's report on its own health (Countly's `hc`), kept per product, day and SDK: never a person.

    `status_code` is the HTTP status of the SDK's last request (-1: none), `error_message` the reply it got.
    """

    sdk_name: str = ""
    sdk_version: str = ""
    error_logs: int = 0
    warning_logs: int = 0
    status_code: int = -1
    error_message: str = ""
    backoffs: int = 0
    consecutive_backoffs: int = 0

    def __post_init__(self) -> None:
        self.sdk_name = indexed(self.sdk_name or "", 200)
        self.sdk_version = indexed(self.sdk_version or "", 200)
        self.error_message = text(self.error_message or "", 1000)
        for name in ("error_logs", "warning_logs", "backoffs", "consecutive_backoffs"):
            value = getattr(self, name)
            setattr(self, name, max(0, min(value, MAX_COUNT)) if type(value) is int else 0)
        code = self.status_code
        self.status_code = code if type(code) is int and -1 <= code <= 999 else -1


@dataclass
class TrackRequest:
    """One write request of one device (Countly `/i`, or one item of `/i/bulk`); normalised when made."""

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
    # an SDK health check: stored as the product's SDK health, with no device, session or event
    health_check: HealthCheck | None = None
    # changes of set-valued properties (in `property_source`), by name, applied after `properties`
    set_changes: dict[str, SetChange] | None = None

    def __post_init__(self) -> None:
        if not _plain(self.device_key, MAX_DEVICE_KEY_BYTES):
            self.device_key = indexed(self.device_key, MAX_DEVICE_KEY_BYTES)
        if self.old_device_key is not None and not _plain(self.old_device_key, MAX_DEVICE_KEY_BYTES):
            self.old_device_key = indexed(self.old_device_key, MAX_DEVICE_KEY_BYTES)
        if self.timestamp is not None and not _plain(self.timestamp, MAX_TIMESTAMP_CHARS):
            self.timestamp = text(self.timestamp, MAX_TIMESTAMP_CHARS)
        if self.metrics and not all(
            _plain(k, MAX_SEGMENT_KEY_BYTES) and _plain(v, MAX_VALUE_BYTES) for k, v in self.metrics.items()
        ):
            self.metrics = {
                indexed(k, MAX_SEGMENT_KEY_BYTES): indexed(v, MAX_VALUE_BYTES)
                for k, v in self.metrics.items()
            }
        if self.user_details is not None:
            try:
                details = json_value(self.user_details)
            except BadInput:
                details = None  # nested beyond the limit: dropped, like unparseable user details
            self.user_details = details if isinstance(details, dict) and details else None
        if self.properties is not None:
            self.properties = _properties(self.properties)
        if self.set_changes is not None:
            self.set_changes = _set_changes(self.set_changes)
        if not _plain(self.property_source, MAX_SEGMENT_KEY_BYTES):
            self.property_source = indexed(self.property_source, MAX_SEGMENT_KEY_BYTES)
        if self.country is not None and not _plain(self.country, MAX_VALUE_BYTES):
            self.country = indexed(self.country, MAX_VALUE_BYTES)
        if self.city is not None or self.location is not None:
            self.city = optional_text(self.city, MAX_TEXT_CHARS)
            self.location = optional_text(self.location, MAX_TEXT_CHARS)
        if self.dedupe_hash is not None and not _plain(self.dedupe_hash, MAX_HASH_CHARS * 4):
            self.dedupe_hash = text(self.dedupe_hash, MAX_HASH_CHARS)
        # compared with hmac.compare_digest, which takes ASCII text only: anything else can only mismatch
        if self.checksum is not None and not self.checksum.isascii():
            self.checksum = "-"
        if self.checksum256 is not None and not self.checksum256.isascii():
            self.checksum256 = "-"


class Outcome(enum.Enum):
    """What the engine did with one request."""

    STORED = "stored"
    DUPLICATE = "duplicate"
    IGNORED_DEVICE = "ignored_device"
    CHECKSUM_MISMATCH = "checksum_mismatch"
    CHECKSUM_MISSING = "checksum_missing"
    PRODUCT_PAUSED = "product_paused"
    UNKNOWN_PRODUCT = "unknown_product"
