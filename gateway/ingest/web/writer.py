"""Writes one batch of web hits inside the batch's open transaction: PREPARE, then STORE (`web/sql.py`).

A hit is counted once, as a pageview (or an event) of its path and of its site, per hour and per day, and per
dimension value per day; the first hit of a session on a path is also a visitor. A hit without a session is a
visitor of every path it names (its sender asked for no sessions). Bots are stored but not counted.
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
from gateway.ingest.timestamps import parse_timestamp
from gateway.ingest.web import sql
from gateway.ingest.web.model import WebHit

# dimension values and details are cut to this many characters in the rollups (index entries are bounded)
MAX_VALUE = 512

PathKey = tuple[int, bool, str]  # product, event, path (or event name)


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

    # paths (with the batch's latest title of each), campaigns and session visits, each once, sorted
    paths: dict[PathKey, str] = {}
    campaigns: set[tuple[int, str, int]] = set()
    visits: set[tuple[int, str, str, int, int]] = set()
    for request, hit in zip(requests, hits, strict=True):
        if hit.bot:
            continue  # bots are stored, but name no path and visit nothing
        key = (request.product_id, hit.event, path_text(request))
        title = request.events[0].title or ""
        if title or key not in paths:
            paths[key] = title
        if hit.campaign:
            campaigns.add((request.product_id, hit.campaign[:MAX_VALUE], request.account_id))
        if hit.session is not None:
            pk = path_key(hit.event, key[2]).hex()
            visits.add((request.product_id, hit.session.hex(), pk, hit.epoch, request.account_id))
    accounts = {r.product_id: r.account_id for r in requests}
    path_rows = [(*key, title, accounts[key[0]]) for key, title in sorted(paths.items())]
    rows = await tx.fetch(
        sql.PREPARE,
        sorted(accounts),
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
    ordinals = {(row[0], row[1], row[2]): i for i, row in enumerate(path_rows, start=1)}
    wanted = [
        i
        for key, i in ordinals.items()
        if key[0] in products and products[key[0]][0] == accounts[key[0]] and i not in ids
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
    hit_rows: list[list[Any]] = []
    notices: dict[int, int] = {}
    used_visits: set[str] = set()
    for request, hit, outcome in zip(requests, hits, outcomes, strict=True):
        if outcome is not Outcome.STORED:
            continue
        event = request.events[0]
        path = path_text(request)
        path_id = 0 if hit.bot else ids[ordinals[(request.product_id, hit.event, path)]]
        first = hit.session is None
        if hit.session is not None and not hit.bot:
            visit = hit.session.hex() + path_key(hit.event, path).hex()
            if visit in first_visits and visit not in used_visits:
                used_visits.add(visit)
                first = True
        first = first and not hit.bot
        at = parse_timestamp(event.timestamp, now) if event.timestamp is not None else now
        calc = calculators.get(request.product_id)
        if calc is None:
            calc = calculators[request.product_id] = BucketCalculator(products[request.product_id][2])
        hour, day = calc.buckets(at)[:2]
        referrer = event.referrer or ""
        hit_rows.append(
            [
                request.account_id,
                request.product_id,
                event.key,
                at,
                event.path,
                event.title,
                event.referrer,
                hit.details(first),
                path_id,
                first,
                hit.bot,
                hour,
                day,
                "event" if hit.event else "pageview",
                referrer[:MAX_VALUE],
                hit.referrer_scheme,
                hit.browser[:MAX_VALUE],
                hit.browser_version[:MAX_VALUE],
                hit.system[:MAX_VALUE],
                hit.system_version[:MAX_VALUE],
                hit.size,
                str(hit.width) if hit.width else "",
                hit.country,
                hit.region,
                hit.language,
                hit.campaign[:MAX_VALUE],
            ]
        )
        notices[request.product_id] = notices.get(request.product_id, 0) + 1
    if not hit_rows:
        return outcomes
    payloads = [
        json.dumps(
            {"product_id": pid, "account_id": accounts[pid], "requests": n, "events": n, "sessions": 0},
            separators=(",", ":"),
        )
        for pid, n in sorted(notices.items())
    ]
    await tx.fetchrow(sql.STORE, _doc(hit_rows), _doc(retitles), payloads)
    return outcomes
