"""Countly's counting rules applied to one batch of requests, in memory.

`Planner` walks the requests of a batch in order against the locked device rows and accumulates everything
the batch must write: new and updated sessions, event rows, device state, the rollup deltas (sessions / users
per metric value, events per key and segmentation value, at every grain) and the definitions. Nothing here
touches the database; `writer.py` turns the plan into a fixed handful of bulk statements.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from math import isfinite
from typing import Any

from gateway.ingest.buckets import GRAINS, BucketCalculator, Buckets
from gateway.ingest.model import EventInput, Outcome, TrackRequest
from gateway.ingest.people import PeoplePlan, survivor
from gateway.ingest.timestamps import parse_timestamp

IGNORED_DEVICE_KEY = "00000000-0000-0000-0000-000000000000"
SESSION_COOLDOWN = timedelta(seconds=15)
MAX_SESSION_DURATION = 86400
NEGATIVE_DURATION = 30
INT32_MAX = 2_147_483_647
# device columns holding the latest metric values (plus city and location)
METRIC_COLUMNS: tuple[str, ...] = (
    "os",
    "os_version",
    "device",
    "resolution",
    "carrier",
    "app_version",
    "locale",
)
DEVICE_COLUMNS: tuple[str, ...] = (*METRIC_COLUMNS, "country", "city", "location")
# the metric dimensions of the session rollups
METRIC_DIMENSIONS: tuple[str, ...] = (*METRIC_COLUMNS, "country")
ALL_GRAINS: tuple[int, ...] = tuple(range(len(GRAINS)))
T, N, U, D, E = range(5)

SessionKey = tuple[int, str, str, datetime, str]  # product, dimension, grain, bucket, value
SessionCell = tuple[int, str, str]  # product, dimension, value
EventCell = tuple[int, str, str, str]  # product, key, seg_key, seg_value
# per 15-minute UTC slot, the sums of a cell: expanded to the grains' buckets once per batch (`*_rollup_rows`)
Slots = dict[int, list[Any]]
# a rollup row for the writer: its key, its sums, then the product's account id (the order of sql.py)
RollupRow = tuple[Any, ...]


@dataclass
class ProductInfo:
    """The product columns ingestion needs."""

    id: int
    account_id: int
    status: str
    salt: str | None
    timezone: str


@dataclass
class DeviceState:
    """A locked device row, mutated in memory while the batch is planned."""

    id: int
    account_id: int
    product_id: int
    device_key: str
    inserted: bool
    first_seen: datetime
    last_seen: datetime
    attrs: dict[str, str | None]
    open_session_id: int | None
    last_session_end: datetime | None
    last_request_hash: str | None
    last_begin_at: datetime | None
    last_session_id: int | None
    touched: bool = False
    merged_into: DeviceState | None = None

    def final(self) -> DeviceState:
        """The device this one was merged into (itself when it was not)."""
        device = self
        while device.merged_into is not None:
            device = device.merged_into
        return device


@dataclass
class NewSession:
    """A session started in this batch; `temp_id` is negative until real ids are allocated."""

    temp_id: int
    account_id: int
    product_id: int
    device_id: int
    started_at: datetime
    duration: int = 0
    ended_at: datetime | None = None


@dataclass
class SessionUpdate:
    """A change to a session that already exists in the database."""

    duration_delta: int = 0
    ended_at: datetime | None = None
    set_end: bool = False


# One `events` row, its values in the order of `sql.EVENT_COLUMNS` (STORE's event rows, and the COPY's columns):
# account_id, product_id, device_id, session_id, key, count, sum, duration, segmentation, occurred_at, path,
# title, referrer. A list, so that a temporary session id can be replaced in place for the COPY (`SESSION_ID`).
EventRow = list[Any]
SESSION_ID = 3


def normalize_duration(raw: int | float | str | None) -> int:
    """Countly's rule: above 86400 s is capped, negative becomes 30 s."""
    try:
        seconds = int(float(raw))  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return 0
    if seconds < 0:
        return NEGATIVE_DURATION
    return min(seconds, MAX_SESSION_DURATION)


def verify_checksum(request: TrackRequest, salt: str) -> Outcome | None:
    """CHECKSUM_MISSING / CHECKSUM_MISMATCH, or None when the request carries a valid checksum."""
    if not request.checksum and not request.checksum256:
        return Outcome.CHECKSUM_MISSING
    data = ((request.checksum_payload or "") + salt).encode("utf-8")
    if request.checksum256:
        expected, given = hashlib.sha256(data).hexdigest().upper(), request.checksum256.upper()
    else:
        expected, given = hashlib.sha1(data).hexdigest().upper(), (request.checksum or "").upper()  # noqa: S324
    return None if hmac.compare_digest(expected, given) else Outcome.CHECKSUM_MISMATCH


def precheck(request: TrackRequest, product: ProductInfo | None) -> Outcome | None:
    """The outcome of a request that is refused before any device is touched, else None."""
    if product is None or product.account_id != request.account_id:
        return Outcome.UNKNOWN_PRODUCT
    if product.status == "paused":
        return Outcome.PRODUCT_PAUSED
    if product.salt:
        refused = verify_checksum(request, product.salt)
        if refused is not None:
            return refused
    if ignored_device(request):
        return Outcome.IGNORED_DEVICE
    return None


def ignored_device(request: TrackRequest) -> bool:
    """Whether the request names no device, or the all-zero id Countly ignores (an iOS advertising id when
    tracking is limited)."""
    return not request.device_key or request.device_key == IGNORED_DEVICE_KEY


def segment_value(value: Any) -> str | None:
    """A segmentation value as the string rollups are keyed by; None for values that are not scalars."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, str):
        return value
    return None


def plain_json(value: Any) -> bool:
    """Whether `value` is a scalar that orjson writes as PostgreSQL reads json's text of it: not NaN or an
    infinity (orjson: null; json: NaN, which PostgreSQL refuses), not an integer beyond 64 bits (orjson
    refuses it), not a list or an object (which may hold such values)."""
    if value is None or type(value) is str or type(value) is bool:
        return True
    if type(value) is int:
        return -(2**63) <= value < 2**64
    if type(value) is float:
        return isfinite(value)
    return False


def _data_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, dict | list):
        return "object"
    return "string"


def _metric_values(request: TrackRequest) -> dict[str, str]:
    values: dict[str, str] = {}
    for name, raw in (request.metrics or {}).items():
        dimension = name[1:] if name.startswith("_") else name
        if dimension in METRIC_COLUMNS and raw is not None and str(raw) != "":
            values[dimension] = str(raw)
    if request.country:
        values["country"] = request.country
    return values


def _event_count(raw: Any) -> int:
    try:
        count = int(raw)
    except (TypeError, ValueError, OverflowError):
        return 1
    return 1 if count <= 0 else min(count, INT32_MAX)


def _bump_cell(
    cells: dict[EventCell, Slots], cell: EventCell, slot: int, count: int, total: float, duration: float
) -> None:
    slots = cells.get(cell)
    if slots is None:
        cells[cell] = {slot: [count, total, duration]}
        return
    sums = slots.get(slot)
    if sums is None:
        slots[slot] = [count, total, duration]
    else:
        sums[0] += count
        sums[1] += total
        sums[2] += duration


def _float_or_none(raw: Any) -> float | None:
    if type(raw) is float:
        return raw if isfinite(raw) else None
    if raw is None or isinstance(raw, bool):
        return None
    try:
        value = float(raw)
    except (TypeError, ValueError, OverflowError):
        return None
    return value if isfinite(value) else None


@dataclass
class Planner:
    """Accumulates the writes of one batch; see the module docstring."""

    products: dict[int, ProductInfo]
    now: datetime
    # [t, n, u, d, e] per slot of each (product, dimension, value), added at every grain
    session_cells: dict[SessionCell, Slots] = field(default_factory=dict)
    # unique users counted at some grains only (the periods the device was not seen in yet): per grain
    unique_users: dict[SessionKey, int] = field(default_factory=dict)
    # [c, s, dur] per slot of each (product, key, seg_key, seg_value)
    event_cells: dict[EventCell, Slots] = field(default_factory=dict)
    # (product, name) -> [total, first_used, last_used]
    event_definitions: dict[tuple[int, str], list[Any]] = field(default_factory=dict)
    # (product, scope, name) -> [data_type, first_seen, last_seen]
    property_definitions: dict[tuple[int, str, str], list[Any]] = field(default_factory=dict)
    events: list[EventRow] = field(default_factory=list)
    # the rows of `events` whose session id is temporary (a session started in this batch)
    events_in_new_sessions: list[EventRow] = field(default_factory=list)
    new_sessions: dict[int, NewSession] = field(default_factory=dict)
    session_updates: dict[int, SessionUpdate] = field(default_factory=dict)
    merged: list[DeviceState] = field(default_factory=list)
    # product -> counters for the NOTIFY payload
    notices: dict[int, dict[str, int]] = field(default_factory=dict)
    # whether every segmentation of `events` is flat and made of values orjson writes as json does (see
    # `plain_json`); the writer then sends the events as one JSON document
    plain_segmentation: bool = True
    # what the batch writes to people: properties, their definitions (gateway/ingest/people.py)
    people: PeoplePlan = field(default_factory=PeoplePlan)
    _calculators: dict[int, BucketCalculator] = field(default_factory=dict)

    # -- public ---------------------------------------------------------------------------------------------

    def apply(
        self, request: TrackRequest, at: datetime, device: DeviceState, old: DeviceState | None
    ) -> Outcome:
        """Apply one accepted request to its (locked) device; returns STORED or DUPLICATE."""
        device = device.final()
        if request.dedupe_hash is not None and request.dedupe_hash == device.last_request_hash:
            return Outcome.DUPLICATE
        if old is not None and old.final() is not device:
            if request.join_identities:
                device, merged = survivor(device, old.final())
                self._merge(merged, device)
            else:
                self._merge(old.final(), device)
        product = self.products[device.product_id]
        calc = self._calculator(product)
        slot = calc.slot(at)
        # computed here (cached per slot) so that a time without local buckets fails before any change, as ever
        buckets = calc.buckets_of_slot(slot)
        device.touched = True
        device.last_request_hash = request.dedupe_hash
        device.last_seen = max(device.last_seen, at)
        device.first_seen = min(device.first_seen, at)
        notice = self.notices.setdefault(product.id, {"requests": 0, "events": 0, "sessions": 0})
        notice["requests"] += 1
        values = _metric_values(request)

        if request.begin_session:
            self._begin_session(product, device, at, slot, buckets, calc, values, notice)
        events = request.events
        if events and request.events_once_per_second:
            events = self.people.fresh_events(device, events, at)
        if events:
            notice["events"] += self._events(product, device, events, at)
        if request.session_duration is not None:
            seconds = normalize_duration(request.session_duration)
            self._bump_session(product.id, "", "", slot, D, seconds)
            if device.open_session_id is not None:
                self._add_duration(device.open_session_id, seconds)
        if request.end_session:
            if device.open_session_id is not None:
                self._set_end(device.open_session_id, at)
                device.last_session_id = device.open_session_id
                device.open_session_id = None
            device.last_session_end = at
        self._bump_session(product.id, "", "", slot, E, 1)

        device.attrs.update(values)
        if request.city:
            device.attrs["city"] = request.city
        if request.location is not None:
            device.attrs["location"] = request.location or None
        if request.user_details:
            self._user_details(product, device, request.user_details, at)
        if request.properties:
            self.people.set_properties(
                device, product.account_id, request.properties, at, request.property_source
            )
        if request.set_changes:
            self.people.change_sets(
                device, product.account_id, request.set_changes, at, request.property_source
            )
        return Outcome.STORED

    # -- sessions and users ---------------------------------------------------------------------------------

    def _begin_session(
        self,
        product: ProductInfo,
        device: DeviceState,
        at: datetime,
        slot: int,
        buckets: Buckets,
        calc: BucketCalculator,
        values: dict[str, str],
        notice: dict[str, int],
    ) -> None:
        if (
            device.open_session_id is None
            and device.last_session_end is not None
            and device.last_session_id is not None
            and timedelta(0) <= at - device.last_session_end <= SESSION_COOLDOWN
        ):
            # a begin right after an end only extends the previous session
            device.open_session_id = device.last_session_id
            self._set_end(device.last_session_id, None)
            return
        if device.open_session_id is not None:
            self._set_end(device.open_session_id, at)
        temp_id = -(len(self.new_sessions) + 1)
        self.new_sessions[temp_id] = NewSession(temp_id, product.account_id, product.id, device.id, at)
        device.open_session_id = device.last_session_id = temp_id
        notice["sessions"] += 1

        is_new = device.last_begin_at is None
        previous = calc.local(device.last_begin_at) if device.last_begin_at is not None else None
        unique = tuple(i for i in ALL_GRAINS if previous is None or previous < buckets[i])
        self._bump_session(product.id, "", "", slot, T, 1)
        if is_new:
            self._bump_session(product.id, "", "", slot, N, 1)
        self._bump_unique(product.id, "", "", slot, buckets, unique)
        for dimension, value in values.items():
            self._bump_session(product.id, dimension, value, slot, T, 1)
            if is_new:
                self._bump_session(product.id, dimension, value, slot, N, 1)
            # a user whose value changed is unique for the new value in every period
            grains = unique if device.attrs.get(dimension) == value else ALL_GRAINS
            self._bump_unique(product.id, dimension, value, slot, buckets, grains)
        if device.last_begin_at is None or at > device.last_begin_at:
            device.last_begin_at = at

    def _bump_session(
        self, product_id: int, dimension: str, value: str, slot: int, letter: int, amount: int
    ) -> None:
        """Add `amount` to `letter` of the cell at every grain."""
        cell = (product_id, dimension, value)
        slots = self.session_cells.get(cell)
        if slots is None:
            slots = self.session_cells[cell] = {}
        sums = slots.get(slot)
        if sums is None:
            sums = slots[slot] = [0, 0, 0, 0, 0]
        sums[letter] += amount

    def _bump_unique(
        self,
        product_id: int,
        dimension: str,
        value: str,
        slot: int,
        buckets: Buckets,
        grains: tuple[int, ...],
    ) -> None:
        """Count a unique user at `grains` (whose buckets are `buckets`)."""
        if grains == ALL_GRAINS:
            self._bump_session(product_id, dimension, value, slot, U, 1)
            return
        for i in grains:
            key = (product_id, dimension, GRAINS[i], buckets[i], value)
            self.unique_users[key] = self.unique_users.get(key, 0) + 1

    def session_rollup_rows(self) -> list[RollupRow]:
        """The batch's session rollup deltas: (product, dimension, grain, bucket, value, t, n, u, d, e, account),
        sorted by key (the order rows are locked in)."""
        rollups: dict[SessionKey, list[int]] = {}
        for (product_id, dimension, value), slots in self.session_cells.items():
            for grain, bucket, sums in self._calculators[product_id].per_bucket(slots):
                rollups[(product_id, dimension, grain, bucket, value)] = list(sums)
        for key, users in self.unique_users.items():
            found = rollups.get(key)
            if found is None:
                rollups[key] = [0, 0, users, 0, 0]
            else:
                found[U] += users
        products = self.products
        return [(*key, *sums, products[key[0]].account_id) for key, sums in sorted(rollups.items())]

    def _set_end(self, session_id: int, ended_at: datetime | None) -> None:
        if session_id < 0:
            self.new_sessions[session_id].ended_at = ended_at
        else:
            update = self.session_updates.setdefault(session_id, SessionUpdate())
            update.ended_at, update.set_end = ended_at, True

    def _add_duration(self, session_id: int, seconds: int) -> None:
        if session_id < 0:
            session = self.new_sessions[session_id]
            session.duration = min(session.duration + seconds, INT32_MAX)
        else:
            self.session_updates.setdefault(session_id, SessionUpdate()).duration_delta += seconds

    # -- events ---------------------------------------------------------------------------------------------

    def _events(
        self, product: ProductInfo, device: DeviceState, events: list[EventInput], at: datetime
    ) -> int:
        """Count and store a request's events; returns how many had a key."""
        stored = 0
        for event in events:
            key = event.key
            if isinstance(key, str) and key:
                self._event(product, device, event, key, at)
                stored += 1
        return stored

    def _event(
        self, product: ProductInfo, device: DeviceState, event: EventInput, key: str, at: datetime
    ) -> None:
        # the hot loop of ingestion: the common value types skip the general parsers (same results)
        occurred = at if event.timestamp is None else parse_timestamp(event.timestamp, self.now)
        count = event.count
        if type(count) is not int or not 0 < count <= INT32_MAX:
            count = _event_count(count)
        total = None if event.sum is None else _float_or_none(event.sum)
        duration = None if event.duration is None else _float_or_none(event.duration)
        segmentation = event.segmentation if isinstance(event.segmentation, dict) else None
        row = [
            product.account_id,
            product.id,
            device.id,
            device.open_session_id,
            key,
            count,
            total,
            duration,
            segmentation or None,
            occurred,
            event.path,
            event.title,
            event.referrer,
        ]
        self.events.append(row)
        if device.open_session_id is not None and device.open_session_id < 0:
            self.events_in_new_sessions.append(row)

        product_id = product.id
        slot = int(occurred.timestamp()) // 900  # BucketCalculator.slot
        s, dur = total or 0.0, duration or 0.0
        cells = self.event_cells
        _bump_cell(cells, (product_id, key, "", ""), slot, count, s, dur)
        if segmentation:
            for seg_key, raw in segmentation.items():
                value: str | None
                if type(raw) is str:
                    value = raw
                else:
                    value = segment_value(raw)
                    if not plain_json(raw):
                        self.plain_segmentation = False
                if value is None or not seg_key:
                    continue
                _bump_cell(cells, (product_id, key, seg_key, value), slot, count, s, dur)
                self._define_property(product_id, "event", seg_key, raw, occurred)
        definition = self.event_definitions.get((product_id, key))
        if definition is None:
            self.event_definitions[(product_id, key)] = [count, occurred, occurred]
        else:
            definition[0] += count
            if occurred < definition[1]:
                definition[1] = occurred
            if occurred > definition[2]:
                definition[2] = occurred

    def event_rollup_rows(self) -> list[RollupRow]:
        """The batch's event rollup deltas: (product, key, seg_key, grain, bucket, seg_value, c, s, dur, account),
        sorted by key (the order rows are locked in)."""
        rows = []
        for (product_id, key, seg_key, seg_value), slots in self.event_cells.items():
            # the rows of two cells differ in key, seg_key or seg_value: only a cell's own slots can share a row
            account_id = self.products[product_id].account_id
            for grain, bucket, (count, total, duration) in self._calculators[product_id].per_bucket(slots):
                rows.append(
                    (product_id, key, seg_key, grain, bucket, seg_value, count, total, duration, account_id)
                )
        rows.sort()
        return rows

    # -- devices --------------------------------------------------------------------------------------------

    def _define_property(self, product_id: int, scope: str, name: str, value: Any, at: datetime) -> None:
        key = (product_id, scope, name)
        found = self.property_definitions.get(key)
        if found is None:
            self.property_definitions[key] = [_data_type(value), at, at]
        else:
            # as min() / max(), which keep the first of equal values
            if at < found[1]:
                found[1] = at
            if at > found[2]:
                found[2] = at

    def _user_details(
        self, product: ProductInfo, device: DeviceState, details: dict[str, Any], at: datetime
    ) -> None:
        """Countly's user details (and their `custom` object) are the person's properties."""
        merged: dict[str, Any] = {}
        for name, value in details.items():
            if name == "custom" and isinstance(value, dict):
                for custom_name, custom_value in value.items():
                    # Countly's update operators ({"$inc": 1}, ...) are not supported: such values are skipped
                    if custom_name and not isinstance(custom_value, dict):
                        merged[str(custom_name)] = custom_value
            elif name and value is not None:
                merged[str(name)] = value
        self.people.set_properties(device, product.account_id, merged, at)

    def _merge(self, old: DeviceState, device: DeviceState) -> None:
        """Merge `old` into `device`: earliest first_seen, missing attributes, session state (its identities and
        properties are moved in SQL after STORE: `people.MERGE_PEOPLE`)."""
        if not old.inserted or old.touched:
            device.first_seen = min(device.first_seen, old.first_seen)
            if old.last_begin_at is not None and (
                device.last_begin_at is None or old.last_begin_at > device.last_begin_at
            ):
                device.last_begin_at = old.last_begin_at
            for name, value in old.attrs.items():
                if device.attrs.get(name) is None:
                    device.attrs[name] = value
            if device.open_session_id is None and device.last_session_id is None:
                device.open_session_id = old.open_session_id
                device.last_session_id = old.last_session_id
                device.last_session_end = old.last_session_end
        old.merged_into = device
        old.touched = False
        device.touched = True
        self.merged.append(old)

    def _calculator(self, product: ProductInfo) -> BucketCalculator:
        calc = self._calculators.get(product.id)
        if calc is None:
            calc = self._calculators[product.id] = BucketCalculator(product.timezone)
        return calc
