"""`analytics-gateway seed`: a reproducible synthetic data set for benchmarks and demos.

Raw rows (devices, sessions, events) are generated from a seed number with `random.Random` and written with
COPY (`copy_records_to_table`) in chunks; the rollups the ingestion engine maintains (session_rollups,
event_rollups) and the definitions are then computed in SQL from the stored rows, with the same buckets
(hour, day, Countly week, month, year in the product's local time) and the same letters, so reads see the
same numbers as if the data had been sent through `/i`.

Each session is modelled as three requests: `begin_session` with metrics (at `started_at`), one request
carrying the session's events, and `end_session` with `session_duration` (at `ended_at`).

People (`_seed_people`): every device is a person, known by its device key and, for ALIAS_SHARE of them, by an
email address an alias joined to it (as a product that identifies its users once they sign up). Each person
has the properties every person of a product has (`plan`, `lifetime value`, `country`, `email` for those
known by one) and a few of a long tail of others (PROPERTY_TAIL names, most of them rare), written with COPY.
Events: most take one of the twelve common keys; TAIL_EVENT_SHARE of them one of EVENT_TAIL rarer names. So a
product has definitions in the numbers of a real one (about 160 events and 100 properties of people), each
backed by the rows it describes. These draws use their own random streams, so the devices, sessions and common
events a seed number gives are the same as before people were seeded.
"""

from __future__ import annotations

import math
import random
import secrets
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from gateway.cli.seed_web import build_web_rollups, seed_pageviews
from gateway.db.pool import Database

CHUNK = 50_000
# raised when the same arguments give other rows (the benchmark reseeds data sets of an earlier version)
SEED_VERSION = 2
EVENTS_PER_SESSION = 20

OS = ("Android", "iOS", "Windows", "macOS", "Linux")
OS_VERSIONS = {
    "Android": ("12", "13", "14"),
    "iOS": ("16.7", "17.4", "18.1"),
    "Windows": ("10", "11"),
    "macOS": ("14.5", "15.1"),
    "Linux": ("6.8",),
}
DEVICES = ("Pixel 8", "Galaxy S23", "iPhone 15", "iPhone 13", "ThinkPad", "MacBook Air", "Desktop")
RESOLUTIONS = ("1080x2400", "1170x2532", "1920x1080", "2560x1600")
CARRIERS = ("Vodafone", "Orange", "T-Mobile", "Verizon", "")
APP_VERSIONS = ("1.0.0", "1.1.0", "1.2.3", "2.0.0")
LOCALES = ("en_US", "de_DE", "fr_FR", "tr_TR", "es_ES")
COUNTRIES = (("US", "New York"), ("DE", "Berlin"), ("FR", "Paris"), ("TR", "Istanbul"), ("GB", "London"))
EVENT_KEYS = (
    "[CLY]_view",
    "purchase",
    "add_to_cart",
    "login",
    "search",
    "share",
    "level_up",
    "video_play",
    "signup",
    "logout",
    "checkout",
    "rate",
)
PLANS = ("free", "pro", "team")
# the rarer events: verb and object, e.g. "viewed pricing page"
TAIL_VERBS = (
    "viewed",
    "clicked",
    "opened",
    "closed",
    "completed",
    "started",
    "shared",
    "downloaded",
    "rated",
    "dismissed",
    "enabled",
    "disabled",
)
TAIL_OBJECTS = (
    "pricing page",
    "onboarding step",
    "help article",
    "invite dialog",
    "export",
    "report",
    "settings",
    "notification",
    "banner",
    "tutorial",
    "survey",
    "integration",
)
EVENT_TAIL = tuple(f"{verb} {obj}" for obj in TAIL_OBJECTS for verb in TAIL_VERBS)
TAIL_EVENT_SHARE = 0.01
# properties of people: those of every person, and a long tail (area and field, e.g. "campaign source")
ALIAS_SHARE = 0.4
TAIL_AREAS = (
    "campaign",
    "experiment",
    "referrer",
    "landing page",
    "trial",
    "billing",
    "team",
    "device",
    "newsletter",
    "support",
    "survey",
    "integration",
)
TAIL_FIELDS = ("source", "variant", "name", "count", "score", "amount", "status", "tier")
NUMERIC_FIELDS = frozenset({"count", "score", "amount"})
PROPERTY_TAIL = tuple(f"{area} {field}" for area in TAIL_AREAS for field in TAIL_FIELDS)
TAIL_VALUES = ("a", "b", "control", "alpha", "beta", "gold", "silver", "active", "paused", "new")
TAIL_PROPERTIES_PER_PERSON = 4
SOURCES = ("organic", "ads", "email", "social")
PATHS = ("/", "/pricing", "/docs", "/blog", "/signup")


@dataclass
class SeedResult:
    """What a seeding run wrote."""

    account: str
    account_id: int
    product_ids: list[int]
    devices: int
    sessions: int
    events: int
    seconds: float
    pageviews: int = 0
    timings: dict[str, float] = field(default_factory=dict)
    # names people are known by (device keys and aliases), and their property values
    identities: int = 0
    properties: int = 0


class Progress:
    """A plain-text progress bar on stderr (one line, redrawn)."""

    def __init__(self, label: str, total: int, stream: TextIO | None = None, enabled: bool = True) -> None:
        self.label, self.total, self.done = label, max(total, 1), 0
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.started = time.monotonic()
        self._last = 0.0

    def update(self, n: int) -> None:
        self.done += n
        now = time.monotonic()
        if self.enabled and (now - self._last > 0.2 or self.done >= self.total):
            self._last = now
            frac = min(self.done / self.total, 1.0)
            bar = "#" * int(frac * 30)
            rate = self.done / max(now - self.started, 1e-9)
            self.stream.write(
                f"\r{self.label:<10} [{bar:<30}] {frac * 100:5.1f}% {self.done:>11,}/{self.total:,} "
                f"{rate:>10,.0f}/s"
            )
            self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write(f"  {time.monotonic() - self.started:.1f}s\n")
            self.stream.flush()


def _local_buckets(expr: str) -> list[tuple[str, str]]:
    """(grain, SQL bucket expression) of a naive local timestamp expression, Countly weeks included."""
    return [
        ("h", f"date_trunc('hour', {expr})"),
        ("d", f"date_trunc('day', {expr})"),
        (
            "w",
            f"date_trunc('year', {expr}) + ((extract(doy FROM {expr})::int - 1) / 7 * 7) * interval '1 day'",
        ),
        ("m", f"date_trunc('month', {expr})"),
        ("y", f"date_trunc('year', {expr})"),
    ]


# Coarser grains are unions of local hours, so additive letters are rolled up from the hourly rows.
_ROLL_UP_GRAINS = [(g, e) for g, e in _local_buckets("h.bucket") if g != "h"]


async def _reserve_ids(db: Database, table: str, count: int) -> int:
    """Reserve `count` ids of `table`'s serial; returns the first one."""
    async with db.transaction() as tx:
        seq = await tx.fetchval("SELECT pg_get_serial_sequence($1, 'id')", table)
        await tx.execute("SELECT pg_advisory_xact_lock(hashtext($1))", seq)
        first = await tx.fetchval("SELECT nextval($1::regclass)", seq)
        if count > 1:
            await tx.execute("SELECT setval($1::regclass, $2)", seq, first + count - 1)
    return int(first)


async def _copy(db: Database, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    async with db.pool.acquire() as conn:
        # the rows reference each other consistently by construction: skip the per-row foreign key
        # triggers when allowed (superuser, e.g. the embedded server), which makes COPY several times faster
        replica = await conn.fetchval("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        try:
            if replica:
                await conn.execute("SET session_replication_role = replica")
            await conn.copy_records_to_table(table, records=rows, columns=list(columns))
        finally:
            if replica:
                await conn.execute("SET session_replication_role = DEFAULT")


def _zipf_weights(n: int, exponent: float = 1.0) -> list[float]:
    """Cumulative weights of ranks 1..n falling as 1/rank**exponent: a few common names, many rare ones."""
    weights, total = [], 0.0
    for rank in range(1, n + 1):
        total += 1 / rank**exponent
        weights.append(total)
    return weights


_EVENT_TAIL_WEIGHTS = _zipf_weights(len(EVENT_TAIL))
_PROPERTY_TAIL_WEIGHTS = _zipf_weights(len(PROPERTY_TAIL), 0.8)
_IDENTITY_COLUMNS = ("account_id", "product_id", "key", "identity", "person_id", "kind", "created_at")
_PROPERTY_COLUMNS = ("account_id", "product_id", "person_id", "source", "name", "value", "number", "set_at")


@dataclass(frozen=True)
class Person:
    """What `_seed_people` needs of a seeded device: when it was first and last seen, and its country."""

    first_seen: datetime
    last_seen: datetime
    country: str


def _person_properties(
    rng: random.Random, plan: str, person: Person, email: str | None
) -> Iterator[tuple[str, str, float | None, datetime]]:
    """(name, value, numeric reading, set_at) of one person's properties: values as trackers send them (text)."""
    span = (person.last_seen - person.first_seen).total_seconds()

    def moment() -> datetime:
        return person.first_seen + timedelta(seconds=rng.random() * span)

    yield "plan", plan, None, person.first_seen
    value = {"free": 0.0, "pro": rng.uniform(20, 500), "team": rng.uniform(100, 2000)}[plan]
    value = round(value, 2)
    yield "lifetime value", f"{value:g}", value, moment()
    yield "country", person.country, None, person.first_seen
    if email is not None:
        yield "email", email, None, moment()
    names: set[str] = set()
    for _ in range(rng.randrange(2 * TAIL_PROPERTIES_PER_PERSON + 1)):
        names.add(rng.choices(PROPERTY_TAIL, cum_weights=_PROPERTY_TAIL_WEIGHTS)[0])
    for name in sorted(names):
        if name.rpartition(" ")[2] in NUMERIC_FIELDS:
            number = float(rng.randrange(1000))
            yield name, f"{number:g}", number, moment()
        else:
            yield name, rng.choice(TAIL_VALUES), None, moment()


async def _seed_people(
    db: Database,
    rng: random.Random,
    account_id: int,
    product_id: int,
    product_index: int,
    first_device: int,
    plans: list[str],
    people: list[Person],
) -> tuple[int, int]:
    """The identities and properties of a product's seeded devices (COPY ran without the trigger that adds the
    primary identities); returns how many identities and property values it wrote."""
    await db.execute(
        """INSERT INTO person_identities (account_id, product_id, key, identity, person_id, kind)
           SELECT account_id, product_id, lower(device_key), device_key, id, 'primary'
           FROM devices WHERE product_id = $1 AND id >= $2 ORDER BY lower(device_key)""",
        product_id,
        first_device,
    )
    identities, properties = len(people), 0
    aliases: list[tuple[Any, ...]] = []
    values: list[tuple[Any, ...]] = []
    for i, (plan, person) in enumerate(zip(plans, people, strict=True)):
        person_id = first_device + i
        email = None
        if rng.random() < ALIAS_SHARE:
            email = f"user-{product_index}-{i:08d}@{rng.choice(('example.com', 'example.org', 'mail.test'))}"
            span = (person.last_seen - person.first_seen).total_seconds()
            joined = person.first_seen + timedelta(seconds=rng.random() * span)
            aliases.append((account_id, product_id, email.lower(), email, person_id, "alias", joined))
        for name, value, number, set_at in _person_properties(rng, plan, person, email):
            values.append((account_id, product_id, person_id, "global", name, value, number, set_at))
        if len(values) >= CHUNK:
            await _copy(db, "person_properties", _PROPERTY_COLUMNS, values)
            properties += len(values)
            values = []
    if values:
        await _copy(db, "person_properties", _PROPERTY_COLUMNS, values)
        properties += len(values)
    for start in range(0, len(aliases), CHUNK):
        await _copy(db, "person_identities", _IDENTITY_COLUMNS, aliases[start : start + CHUNK])
    return identities + len(aliases), properties


async def ensure_products(db: Database, account_id: int, count: int, timezone: str = "UTC") -> list[int]:
    """The account's first `count` products (created when missing), oldest first."""
    rows = await db.fetch("SELECT id FROM products WHERE account_id = $1 ORDER BY id", account_id)
    ids = [r["id"] for r in rows]
    while len(ids) < count:
        ids.append(
            await db.fetchval(
                "INSERT INTO products (account_id, name, app_key, timezone) VALUES ($1, $2, $3, $4) "
                "RETURNING id",
                account_id,
                f"Seeded app {len(ids) + 1}",
                secrets.token_hex(20),
                timezone,
            )
        )
    return ids[:count]


# $1 a product: its every-key totals (event_totals, migration 052) summed from its rollups, as the ingestion keeps
# them; for rollups written without the ingestion (seeding, and tests that write rollup rows themselves)
EVENT_TOTALS_OF_PRODUCT = """
INSERT INTO event_totals (account_id, product_id, grain, bucket, c, s, dur)
SELECT account_id, product_id, grain, bucket, LEAST(sum(c), 9223372036854775807)::bigint, sum(s), sum(dur)
FROM event_rollups
WHERE product_id = $1 AND seg_key = ''
GROUP BY 1, 2, 3, 4
"""


async def clear_products(db: Database, product_ids: list[int]) -> None:
    """Delete the raw rows, rollups and definitions of these products."""
    for table in (
        "web_rollups",
        "web_rollup_months",
        "web_visits",
        "web_paths",
        "web_campaigns",
        "event_hours",
        "event_rollups",
        "event_totals",
        "session_rollups",
        "event_definitions",
        "property_definitions",
        "events",
        "sessions",
        "person_properties",
        "person_identities",
        "devices",
    ):
        await db.execute(f"DELETE FROM {table} WHERE product_id = ANY($1::bigint[])", product_ids)


async def seed(
    db: Database,
    *,
    account_id: int,
    account: str,
    devices: int,
    events: int,
    products: int = 1,
    seed_number: int = 1,
    days: int = 60,
    now: datetime | None = None,
    progress: bool = True,
    replace: bool = True,
    pageviews: int = 0,
) -> SeedResult:
    """Fill `products` products of the account with `devices` devices and `events` events each in total,
    and `pageviews` web hits in total (`gateway/cli/seed_web.py`).

    The same arguments (and the same `now`, which defaults to the current hour) give the same rows.
    """
    started = time.monotonic()
    timings: dict[str, float] = {}
    rng = random.Random(seed_number)
    # people's identities and properties, and the rarer events, draw from streams of their own (module docstring)
    people_rng = random.Random(f"people-{seed_number}")
    tail_rng = random.Random(f"events-{seed_number}")
    identities = properties = 0
    now = now or datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    window = days * 86400.0
    origin = now.timestamp() - window
    product_ids = await ensure_products(db, account_id, products)
    if replace:
        await clear_products(db, product_ids)
    timings["clear"] = time.monotonic() - started

    n_devices = max(1, devices // products)
    n_events = max(0, events // products)
    n_sessions = max(1, min(n_events // EVENTS_PER_SESSION or 1, n_devices * 50))
    total_sessions = n_sessions * products
    bar = Progress("rows", (n_devices + n_sessions + n_events) * products, enabled=progress)
    dev_bar = ses_bar = evt_bar = bar

    plans: list[tuple[int, list[int], list[float], list[int]]] = []
    for product_id in product_ids:
        # sessions: device, start (epoch seconds), duration; devices first seen at their first session
        sess_device = [rng.randrange(n_devices) for _ in range(n_sessions)]
        sess_start = [origin + rng.random() * window for _ in range(n_sessions)]
        sess_dur = [rng.randrange(5, 1800) for _ in range(n_sessions)]
        plans.append((product_id, sess_device, sess_start, sess_dur))

    device_cols = (
        "id",
        "account_id",
        "product_id",
        "device_key",
        "first_seen",
        "last_seen",
        "os",
        "os_version",
        "device",
        "resolution",
        "carrier",
        "app_version",
        "locale",
        "country",
        "city",
        "last_session_end",
        "last_begin_at",
        "last_session_id",
    )
    session_cols = ("id", "account_id", "product_id", "device_id", "started_at", "duration", "ended_at")
    event_cols = (
        "account_id",
        "product_id",
        "device_id",
        "session_id",
        "key",
        "count",
        "sum",
        "duration",
        "segmentation",
        "occurred_at",
        "path",
    )
    fromts = datetime.fromtimestamp

    for product_index, (product_id, sess_device, sess_start, sess_dur) in enumerate(plans):
        t0 = time.monotonic()
        first_device = await _reserve_ids(db, "devices", n_devices)
        first_session = await _reserve_ids(db, "sessions", n_sessions)
        # per device: first begin, last begin, last session
        first_begin = [math.inf] * n_devices
        last_begin = [-math.inf] * n_devices
        last_sid = [0] * n_devices
        for j in range(n_sessions):
            d, s = sess_device[j], sess_start[j]
            if s < first_begin[d]:
                first_begin[d] = s
            if s > last_begin[d]:
                last_begin[d], last_sid[d] = s, first_session + j
        rows: list[tuple[Any, ...]] = []
        people: list[Person] = []
        for i in range(n_devices):
            os_name = rng.choice(OS)
            country, city = rng.choice(COUNTRIES)
            seen = first_begin[i] != math.inf
            first = fromts(first_begin[i] if seen else origin + rng.random() * window, UTC)
            last = fromts(last_begin[i], UTC) if seen else first
            last_end = last + timedelta(seconds=sess_dur[last_sid[i] - first_session]) if seen else None
            rows.append(
                (
                    first_device + i,
                    account_id,
                    product_id,
                    f"p{product_index}-device-{i:08d}",
                    first,
                    last_end or last,
                    os_name,
                    rng.choice(OS_VERSIONS[os_name]),
                    rng.choice(DEVICES),
                    rng.choice(RESOLUTIONS),
                    rng.choice(CARRIERS) or None,
                    rng.choice(APP_VERSIONS),
                    rng.choice(LOCALES),
                    country,
                    city,
                    last_end,
                    last if seen else None,
                    last_sid[i] if seen else None,
                )
            )
            people.append(Person(first, last_end or last, country))
            if len(rows) >= CHUNK:
                await _copy(db, "devices", device_cols, rows)
                dev_bar.update(len(rows))
                rows = []
        if rows:
            await _copy(db, "devices", device_cols, rows)
            dev_bar.update(len(rows))
        written = await _seed_people(
            db,
            people_rng,
            account_id,
            product_id,
            product_index,
            first_device,
            [rng.choice(PLANS) for _ in range(n_devices)],
            people,
        )
        identities, properties = identities + written[0], properties + written[1]
        del people
        rows = []
        for j in range(n_sessions):
            start = fromts(sess_start[j], UTC)
            rows.append(
                (
                    first_session + j,
                    account_id,
                    product_id,
                    first_device + sess_device[j],
                    start,
                    sess_dur[j],
                    start + timedelta(seconds=sess_dur[j]),
                )
            )
            if len(rows) >= CHUNK:
                await _copy(db, "sessions", session_cols, rows)
                ses_bar.update(len(rows))
                rows = []
        if rows:
            await _copy(db, "sessions", session_cols, rows)
            ses_bar.update(len(rows))
        timings[f"devices+sessions p{product_index}"] = time.monotonic() - t0

        t0 = time.monotonic()
        rows = []
        end_ts = now.timestamp()
        for idx, count in _split(n_events, n_sessions, rng):
            sid = first_session + idx
            did = first_device + sess_device[idx]
            begin, dur = sess_start[idx], sess_dur[idx]
            for _ in range(count):
                key = EVENT_KEYS[min(int(rng.expovariate(0.35)), len(EVENT_KEYS) - 1)]
                seg: dict[str, Any] | None
                amount: float | None = None
                path = None
                if key == "purchase" or key == "checkout":
                    amount = round(rng.uniform(1, 200), 2)
                    seg = {"plan": rng.choice(PLANS), "source": rng.choice(SOURCES)}
                elif key == "[CLY]_view":
                    path = rng.choice(PATHS)
                    seg = {"name": path, "visit": 1}
                else:
                    seg = {"source": rng.choice(SOURCES)} if rng.random() < 0.5 else None
                count_of = 1 + int(rng.random() < 0.1)
                duration = round(rng.random() * 30, 1) if rng.random() < 0.3 else None
                if tail_rng.random() < TAIL_EVENT_SHARE:
                    key = tail_rng.choices(EVENT_TAIL, cum_weights=_EVENT_TAIL_WEIGHTS)[0]
                    seg, amount, path = None, None, None
                rows.append(
                    (
                        account_id,
                        product_id,
                        did,
                        sid,
                        key,
                        count_of,
                        amount,
                        duration,
                        seg,
                        fromts(min(begin + rng.random() * dur, end_ts), UTC),
                        path,
                    )
                )
            if len(rows) >= CHUNK:
                await _copy(db, "events", event_cols, rows)
                evt_bar.update(len(rows))
                rows = []
        if rows:
            await _copy(db, "events", event_cols, rows)
            evt_bar.update(len(rows))
        timings[f"events p{product_index}"] = time.monotonic() - t0
    bar.close()

    t0 = time.monotonic()
    if progress:
        sys.stderr.write("rollups    aggregating in SQL ...")
        sys.stderr.flush()
    await build_rollups(db, product_ids)
    timings["rollups"] = time.monotonic() - t0
    if progress:
        sys.stderr.write(f" {timings['rollups']:.1f}s\n")
    pageviews_written = 0
    if pageviews:
        t0 = time.monotonic()
        web_bar = Progress("pageviews", pageviews, enabled=progress)
        pageviews_written = await seed_pageviews(
            db, account_id, product_ids, pageviews, seed_number, days, now, _copy, web_bar.update
        )
        web_bar.close()
        timings["pageviews"] = time.monotonic() - t0
        t0 = time.monotonic()
        if progress:
            sys.stderr.write("web rollups aggregating in SQL ...")
            sys.stderr.flush()
        await build_web_rollups(db, product_ids, days, now)
        timings["web rollups"] = time.monotonic() - t0
        if progress:
            sys.stderr.write(f" {timings['web rollups']:.1f}s\n")
    # VACUUM as well as ANALYZE: a reseed deletes the products' former rows (the benchmark's ingestion account
    # held millions after every run), and the autovacuum that would clean them up otherwise starts a minute
    # later, in the middle of whatever runs next. Vacuumed now, their space is free for the next inserts, and
    # the new rows are marked all-visible for index-only scans.
    t0 = time.monotonic()
    tables = [
        "devices",
        "sessions",
        "events",
        "session_rollups",
        "event_rollups",
        "event_totals",
        "person_identities",
        "person_properties",
        "event_definitions",
        "property_definitions",
    ]
    if pageviews:
        tables += ["web_paths", "web_campaigns", "web_rollups", "web_rollup_months"]
    for table in tables:
        await db.execute(f"VACUUM (ANALYZE) {table}")
    timings["vacuum"] = time.monotonic() - t0
    return SeedResult(
        account=account,
        account_id=account_id,
        product_ids=product_ids,
        devices=n_devices * products,
        sessions=total_sessions,
        events=n_events * products,
        seconds=time.monotonic() - started,
        timings=timings,
        pageviews=pageviews_written,
        identities=identities,
        properties=properties,
    )


def _split(n_events: int, n_sessions: int, rng: random.Random) -> Iterator[tuple[int, int]]:
    """(session index, events in it) pairs summing to `n_events`, in session order."""
    base, extra = divmod(n_events, n_sessions)
    for idx in range(n_sessions):
        count = base + (1 if idx < extra else 0)
        if count:
            yield idx, count


async def build_rollups(db: Database, product_ids: list[int]) -> None:
    """Recompute the rollups and definitions of these products from their raw rows."""
    local_start = "(s.started_at AT TIME ZONE p.timezone)"
    local_end = "(s.ended_at AT TIME ZONE p.timezone)"
    dims = (
        "('', ''), ('os', d.os), ('os_version', d.os_version), ('device', d.device), "
        "('resolution', d.resolution), ('carrier', d.carrier), ('app_version', d.app_version), "
        "('locale', d.locale), ('country', d.country)"
    )
    async with db.transaction() as tx:
        await tx.execute("SET LOCAL work_mem = '256MB'")
        for product_id in product_ids:
            # hourly t/n (begin requests) and d/e totals (e: begin + events request at the start, end at the end)
            await tx.execute(
                f"""
                CREATE TEMP TABLE seed_hours ON COMMIT DROP AS
                SELECT m.dimension, m.value, date_trunc('hour', {local_start}) AS bucket,
                       count(*) AS t, count(*) FILTER (WHERE s.started_at = d.first_seen) AS n,
                       0::bigint AS d, CASE WHEN m.dimension = '' THEN 2 * count(*) ELSE 0 END AS e
                FROM sessions s JOIN devices d ON d.id = s.device_id JOIN products p ON p.id = s.product_id
                CROSS JOIN LATERAL (VALUES {dims}) AS m(dimension, value)
                WHERE s.product_id = $1 AND m.value IS NOT NULL
                GROUP BY 1, 2, 3
                """,
                product_id,
            )
            await tx.execute(
                f"""
                INSERT INTO seed_hours (dimension, value, bucket, t, n, d, e)
                SELECT '', '', date_trunc('hour', {local_end}), 0, 0, sum(s.duration), count(*)
                FROM sessions s JOIN products p ON p.id = s.product_id
                WHERE s.product_id = $1 GROUP BY 3
                """,
                product_id,
            )
            grains_sql = " UNION ALL ".join(
                f"SELECT '{g}'::text AS grain, {expr} AS bucket, h.dimension, h.value, h.t, h.n, h.d, h.e "
                "FROM seed_hours h"
                for g, expr in [("h", "h.bucket"), *_ROLL_UP_GRAINS]
            )
            # unique users: distinct devices with a begin in the bucket, per grain
            uniques_sql = " UNION ALL ".join(
                f"SELECT '{g}'::text AS grain, {expr} AS bucket, m.dimension, m.value, "
                "count(DISTINCT s.device_id) AS u "
                "FROM sessions s JOIN devices d ON d.id = s.device_id JOIN products p ON p.id = s.product_id "
                f"CROSS JOIN LATERAL (VALUES {dims}) AS m(dimension, value) "
                "WHERE s.product_id = $1 AND m.value IS NOT NULL GROUP BY 1, 2, 3, 4"
                for g, expr in _local_buckets(local_start)
            )
            await tx.execute(
                f"""
                INSERT INTO session_rollups (account_id, product_id, dimension, grain, bucket, value, t, n, u, d, e)
                SELECT p.account_id, p.id, a.dimension, a.grain, a.bucket, a.value,
                       a.t, a.n, coalesce(uq.u, 0), a.d, a.e
                FROM (SELECT grain, bucket, dimension, value, sum(t) AS t, sum(n) AS n, sum(d) AS d,
                             sum(e) AS e
                      FROM ({grains_sql}) g GROUP BY 1, 2, 3, 4) a
                LEFT JOIN ({uniques_sql}) uq USING (grain, bucket, dimension, value)
                JOIN products p ON p.id = $1
                """,
                product_id,
            )
            await tx.execute("DROP TABLE seed_hours")
            # events: hourly per key and per segmentation value, then the coarser grains from the hours
            await tx.execute(
                """
                CREATE TEMP TABLE seed_event_hours ON COMMIT DROP AS
                SELECT e.key, g.seg_key, g.seg_value,
                       date_trunc('hour', e.occurred_at AT TIME ZONE p.timezone) AS bucket,
                       sum(e.count) AS c, coalesce(sum(e.sum), 0) AS s, coalesce(sum(e.duration), 0) AS dur
                FROM events e JOIN products p ON p.id = e.product_id
                CROSS JOIN LATERAL (
                    SELECT '' AS seg_key, '' AS seg_value
                    UNION ALL
                    SELECT j.key, j.value FROM jsonb_each_text(coalesce(e.segmentation, '{}'::jsonb)) j
                    WHERE j.key <> '' AND j.value IS NOT NULL
                ) g
                WHERE e.product_id = $1
                GROUP BY 1, 2, 3, 4
                """,
                product_id,
            )
            event_grains = " UNION ALL ".join(
                f"SELECT '{g}'::text AS grain, {expr} AS bucket, h.key, h.seg_key, h.seg_value, h.c, h.s, h.dur "
                "FROM seed_event_hours h"
                for g, expr in [("h", "h.bucket"), *_ROLL_UP_GRAINS]
            )
            await tx.execute(
                f"""
                INSERT INTO event_rollups (account_id, product_id, key, seg_key, grain, bucket, seg_value, c, s, dur)
                SELECT p.account_id, p.id, x.key, x.seg_key, x.grain, x.bucket, x.seg_value,
                       sum(x.c), sum(x.s), sum(x.dur)
                FROM ({event_grains}) x JOIN products p ON p.id = $1
                GROUP BY p.account_id, p.id, x.key, x.seg_key, x.grain, x.bucket, x.seg_value
                """,
                product_id,
            )
            await tx.execute("DROP TABLE seed_event_hours")
            # every key's rows summed per bucket (migration 052), as the ingestion adds them
            await tx.execute(EVENT_TOTALS_OF_PRODUCT, product_id)
            # the events lists' page index (migration 040), kept by triggers that seeding's COPY skips
            await tx.execute(
                """
                INSERT INTO event_hours (account_id, product_id, key, hour, rows)
                SELECT e.account_id, e.product_id, k.key, date_trunc('hour', e.occurred_at, 'UTC'), count(*)
                FROM events e CROSS JOIN LATERAL (VALUES (''), (e.key)) AS k(key)
                WHERE e.product_id = $1
                GROUP BY 1, 2, 3, 4
                """,
                product_id,
            )
            # definitions in the order their names were first received (their `index` is their rank by id)
            await tx.execute(
                """
                INSERT INTO event_definitions (account_id, product_id, name, total, first_used, last_used,
                                               first_sent, last_sent)
                SELECT account_id, product_id, key, sum(count), min(occurred_at), max(occurred_at),
                       min(occurred_at), max(occurred_at)
                FROM events WHERE product_id = $1 GROUP BY account_id, product_id, key
                ORDER BY min(occurred_at), key
                """,
                product_id,
            )
            await tx.execute(
                """
                INSERT INTO property_definitions (account_id, product_id, scope, name, data_type,
                                                  first_seen, last_seen, first_sent, last_sent)
                SELECT account_id, product_id, 'event', seg_key, 'string', min(first_used), max(last_used),
                       min(first_used), max(last_used)
                FROM (SELECT r.account_id, r.product_id, r.seg_key, min(r.bucket) AS first_used,
                             max(r.bucket) AS last_used
                      FROM event_rollups r WHERE r.product_id = $1 AND r.grain = 'y' AND r.seg_key <> ''
                      GROUP BY 1, 2, 3) x
                GROUP BY account_id, product_id, seg_key
                UNION ALL
                (SELECT account_id, product_id, 'device', name,
                        CASE WHEN bool_and(number IS NOT NULL) THEN 'number' ELSE 'string' END,
                        min(set_at), max(set_at), min(set_at), max(set_at)
                 FROM person_properties WHERE product_id = $1 AND source = 'global'
                 GROUP BY account_id, product_id, name ORDER BY min(set_at), name)
                """,
                product_id,
            )


async def run_seed(
    url: str,
    data_dir: Path,
    *,
    account: str,
    devices: int,
    events: int,
    products: int = 1,
    seed_number: int = 1,
    days: int = 60,
    progress: bool = True,
    pageviews: int = 0,
) -> SeedResult:
    """Migrate, bootstrap the account (credentials in `data_dir`) and seed it; see `seed`."""
    from gateway.cli.bootstrap import bootstrap
    from gateway.db.migrate import migrate

    await migrate(url)
    # no client-side statement timeout: aggregating the rollups of 10M events takes minutes
    db = await Database.connect(url, min_size=1, max_size=2, command_timeout=None)
    try:
        await bootstrap(db, data_dir, account)
        account_id = await db.fetchval("SELECT id FROM accounts WHERE name = $1", account)
        return await seed(
            db,
            account_id=account_id,
            account=account,
            devices=devices,
            events=events,
            products=products,
            seed_number=seed_number,
            days=days,
            progress=progress,
            pageviews=pageviews,
        )
    finally:
        await db.close()
