"""Writes one batch of web hits inside the batch's open transaction: PREPARE, then STORE (`web/sql.py`).

A hit is counted once, as a pageview (or an event) of its path and of its site, per hour and per day, and per
dimension value per day; the first hit of a session on a path is also a visitor. A hit without a session is a
visitor of every path it names (its sender asked for no sessions). Bots are stored but not counted. The
batch's counts are summed here (`rollups.RollupDeltas`), so that STORE writes each rollup row once.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import orjson

from gateway.db.pool import Transaction
from gateway.ingest.buckets import BucketCalculator
from gateway.ingest.model import Outcome, TrackRequest
from gateway.ingest.web import sql
from gateway.ingest.web.model import WebHit
from gateway.ingest.web.rollups import MAX_VALUE, RollupDeltas, dimensions_of

# product, event, path (or event name), the account the request names (PREPARE finds or adds a path only for the
# account that owns the product: a request naming another one stores nothing, and takes no path from the others)
PathKey = tuple[int, bool, str, int]


def path_text(request: TrackRequest) -> str:
    """The path of a web hit, or its event's name."""
    event = request.events[0]
    return event.key if event.path is None else event.path


def path_key(event: bool, path: str) -> bytes:
    """The key of a path in `web_visits`: md5 of its kind and text."""
    return hashlib.md5((b"e" if event else b"p") + path.encode("utf-8")).digest()  # noqa: S324 - a key, not a secret


def _doc(rows: list[Any]) -> str:
    return orjson.dumps(rows).decode()


async def write_web_batch(tx: Transaction, requests: list[TrackRequest]) -> list[Outcome]:
    """Store the web hits `requests` in the open transaction `tx`; one outcome per request."""
    now = datetime.now(UTC)
    hits: list[WebHit] = [r.web for r in requests if r.web is not None]
    assert len(hits) == len(requests), "write_web_batch takes web hits only"

    # paths (with the batch's latest title of each), campaigns and session visits, each once, sorted; each hit's
    # visit (its session and path key, in hex) when it has a session
    paths: dict[PathKey, str] = {}
    campaigns: set[tuple[int, str, int]] = set()
    visits: set[tuple[int, str, str, int, int]] = set()
    visit_of: list[str | None] = []
    path_keys: dict[tuple[bool, str], str] = {}
    for request, hit in zip(requests, hits, strict=True):
        if hit.bot:
            visit_of.append(None)
            continue  # bots are stored, but name no path and visit nothing
        key = (request.product_id, hit.event, path_text(request), request.account_id)
        title = request.events[0].title or ""
        if title or key not in paths:
            paths[key] = title
        if hit.campaign:
            campaigns.add((request.product_id, hit.campaign[:MAX_VALUE], request.account_id))
        if hit.session is None:
            visit_of.append(None)
            continue
        pk = path_keys.get(key[1:3])
        if pk is None:
            pk = path_keys[key[1:3]] = path_key(hit.event, key[2]).hex()
        session = hit.session.hex()
        visits.add((request.product_id, session, pk, hit.epoch, request.account_id))
        visit_of.append(session + pk)
    path_rows = [(*key[:3], title, key[3]) for key, title in sorted(paths.items())]
    rows = await tx.fetch(
        sql.PREPARE,
        sorted({r.product_id for r in requests}),
        _doc(path_rows),
        _doc(sorted(campaigns)),
        _doc(sorted(visits)),
    )

    products: dict[int, tuple[int, str, str]] = {}
    ids: dict[int, int] = {}  # ordinal in path_rows (from 1) -> path id
    stored_titles: dict[int, str] = {}
    first_visits: set[str] = set()
    for row in rows:
        kind = row["kind"]
        if kind == "p":
            products[row["o"]] = (row["id"], row["text"], row["tz"])
        elif kind in ("f", "a"):
            ids[row["o"]] = row["id"]
            if kind == "f":
                stored_titles[row["o"]] = row["text"]
        else:
            first_visits.add(row["text"])
    outcomes: list[Outcome] = []
    for request in requests:
        product = products.get(request.product_id)
        if product is None or product[0] != request.account_id:
            outcomes.append(Outcome.UNKNOWN_PRODUCT)
        elif product[1] == "paused":
            outcomes.append(Outcome.PRODUCT_PAUSED)
        else:
            outcomes.append(Outcome.STORED)
    ordinals = {(row[0], row[1], row[2], row[4]): i for i, row in enumerate(path_rows, start=1)}
    wanted = [
        i
        for key, i in ordinals.items()
        if key[0] in products and products[key[0]][0] == key[3] and i not in ids
    ]
    if wanted:
        # added by another transaction while PREPARE ran
        for row in await tx.fetch(sql.MISSING_PATHS, _doc([path_rows[i - 1] for i in wanted])):
            ordinal = wanted[row["o"] - 1]
            ids[ordinal] = row["id"]
            stored_titles[ordinal] = row["title"]

    retitles = sorted(
        (ids[i], title, row[4], row[0])
        for i, row in enumerate(path_rows, start=1)
        if i in stored_titles and (title := row[3]) and title != stored_titles[i]
    )
    calculators: dict[int, BucketCalculator] = {}
    event_rows: list[list[Any]] = []
    deltas = RollupDeltas()
    months: set[tuple[int, datetime]] = set()  # (product, local month) of the counted hits
    notices: dict[int, int] = {}
    used_visits: set[str] = set()
    for request, hit, outcome, visit in zip(requests, hits, outcomes, visit_of, strict=True):
        if outcome is not Outcome.STORED:
            continue
        event = request.events[0]
        path = path_text(request)
        # a hit without a session is a visit of its own; the first hit of a session on a path is a first visit
        first = not hit.bot and (hit.session is None or (visit in first_visits and visit not in used_visits))
        if first and visit is not None:
            used_visits.add(visit)
        at = now if hit.at is None or hit.at > now else hit.at
        if not hit.bot:
            calc = calculators.get(request.product_id)
            if calc is None:
                calc = calculators[request.product_id] = BucketCalculator(products[request.product_id][2])
            hour, day, _week, month = calc.buckets(at)[:4]
            months.add((request.product_id, month))
            deltas.add(
                request.product_id,
                ids[ordinals[(request.product_id, hit.event, path, request.account_id)]],
                hit.event,
                hour,
                day,
                first,
                dimensions_of(
                    event.referrer or "",
                    hit.referrer_scheme,
                    hit.browser,
                    hit.browser_version,
                    hit.system,
                    hit.system_version,
                    hit.size,
                    hit.width,
                    hit.country,
                    hit.region,
                    hit.language,
                    hit.campaign,
                ),
            )
        event_rows.append(
            [
                request.account_id,
                request.product_id,
                event.key,
                at,
                event.path,
                event.title,
                event.referrer,
                hit.details(first),
            ]
        )
        notices[request.product_id] = notices.get(request.product_id, 0) + 1
    if not event_rows:
        return outcomes
    payloads = [
        json.dumps(
            {"product_id": pid, "account_id": products[pid][0], "requests": n, "events": n, "sessions": 0},
            separators=(",", ":"),
        )
        for pid, n in sorted(notices.items())
    ]
    # the rows carry the account that owns each product (PREPARE read it): a stored hit's request names that
    # same account, and a request naming another one stored nothing
    path_rollups, site_rollups = deltas.rows({pid: product[0] for pid, product in products.items()})
    # each month the hits count in, and whether it has ended (a month before the product's current one): the
    # summed months' rows of an ended month stop being read once this batch commits (migration 054)
    month_rows = sorted(
        (products[pid][0], pid, month, month < calculators[pid].buckets(now)[3]) for pid, month in months
    )
    await tx.fetchrow(
        sql.STORE,
        _doc(event_rows),
        _doc(path_rollups),
        _doc(site_rollups),
        _doc(retitles),
        payloads,
        _doc(month_rows),
    )
    return outcomes
