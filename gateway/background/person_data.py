"""The file of an access request (GDPR): everything stored about the people one name identifies, as JSON.

One document: `{"identity": name, "people": [...]}`, one entry per product that knows the name (of the products
the request may look in: one, those of a token limited to some, or all of the account's): the person's
own id, every identity, every property value (per system of records), first and last seen, its latest metrics,
then all of its sessions and all of its events, read in keyset chunks and written as they are read (a person
with millions of events is never held in memory).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from gateway.background.export_chunks import ChunkWriter
from gateway.background.export_rows import Written
from gateway.db.pool import Database
from gateway.ingest.rules import METRIC_COLUMNS
from gateway.json_text import compact_json

CHUNK = 5000

_PEOPLE = f"""
SELECT d.id, d.device_key, d.first_seen, d.last_seen, {", ".join("d." + c for c in METRIC_COLUMNS)}, d.country, d.city,
       p.id AS product_id, p.name AS product
FROM person_identities i
JOIN devices d ON d.id = i.person_id AND d.account_id = i.account_id
JOIN products p ON p.id = d.product_id AND p.account_id = d.account_id
WHERE i.account_id = $1 AND i.key = lower($2) AND ($3::bigint[] IS NULL OR i.product_id = ANY($3::bigint[]))
ORDER BY p.id
"""


def _time(value: Any) -> Any:
    return None if value is None else value.isoformat()


async def _rows(db: Database, sql: str, *args: Any) -> list[Any]:
    return list(await db.fetch(sql, *args))


def _session(row: Any) -> dict[str, Any]:
    return {
        "started_at": _time(row["started_at"]),
        "ended_at": _time(row["ended_at"]),
        "duration": row["duration"],
    }


def _event(row: Any) -> dict[str, Any]:
    event = {"name": row["key"], "date_utc": _time(row["occurred_at"]), "count": row["count"]}
    for name in ("sum", "duration", "path", "title", "referrer"):
        if row[name] is not None:
            event[name] = row[name]
    if row["segmentation"] is not None:
        event["details"] = orjson.loads(row["segmentation"])
    return event


async def _stream(
    db: Database,
    chunks: ChunkWriter,
    sql: str,
    account_id: int,
    person_id: int,
    shape: Callable[[Any], dict[str, Any]],
) -> None:
    """The rows of `sql` (keyset chunks after the last id) as the items of a JSON array, chunk by chunk."""
    last, first = 0, True
    while rows := await db.fetch(sql, account_id, person_id, last, CHUNK):
        text = ",".join(compact_json(shape(row)) for row in rows)
        await chunks.add((b"" if first else b",") + text.encode())
        first, last = False, rows[-1]["id"]


async def write_person_data(db: Database, job: Any) -> Written:
    stored = job.filter or {}
    identity = stored.get("identity", "")
    # the products looked in (null: every product of the account); requests before `products` named one product
    products = stored["products"] if "products" in stored else stored.get("product") and [stored["product"]]
    chunks = await ChunkWriter(db, job.id, job.attempt).start()
    await chunks.add(b'{"identity":' + compact_json(identity).encode() + b',"people":[')
    people = await _rows(db, _PEOPLE, job.account_id, identity, products)
    for n, person in enumerate(people):
        identities = await _rows(
            db,
            "SELECT identity, kind, created_at FROM person_identities WHERE account_id = $1 AND person_id = $2 "
            "ORDER BY created_at, key",
            job.account_id,
            person["id"],
        )
        properties = await _rows(
            db,
            "SELECT source, name, value, set_at FROM person_properties WHERE account_id = $1 AND person_id = $2 "
            "ORDER BY source, name",
            job.account_id,
            person["id"],
        )
        head = {
            "product": person["product"],
            "device_id": person["device_key"],
            "identities": [
                {"identity": r["identity"], "kind": r["kind"], "since": _time(r["created_at"])}
                for r in identities
            ],
            "properties": [
                {"source": r["source"], "name": r["name"], "value": r["value"], "set_at": _time(r["set_at"])}
                for r in properties
            ],
            "first_seen": _time(person["first_seen"]),
            "last_seen": _time(person["last_seen"]),
            "metrics": {c: person[c] for c in (*METRIC_COLUMNS, "country", "city") if person[c] is not None},
        }
        text = compact_json(head)
        await chunks.add((b"," if n else b"") + text[:-1].encode() + b',"sessions":[')
        await _stream(
            db,
            chunks,
            "SELECT id, started_at, ended_at, duration FROM sessions WHERE account_id = $1 AND device_id = $2 "
            "AND id > $3 ORDER BY id LIMIT $4",
            job.account_id,
            person["id"],
            _session,
        )
        await chunks.add(b'],"events":[')
        await _stream(
            db,
            chunks,
            "SELECT id, key, occurred_at, count, sum, duration, segmentation::text AS segmentation, path, title, "
            "referrer FROM events WHERE account_id = $1 AND device_id = $2 AND id > $3 ORDER BY id LIMIT $4",
            job.account_id,
            person["id"],
            _event,
        )
        await chunks.add(b"]}")
    await chunks.add(b"]}")
    digest = await chunks.close()
    return Written(rows=len(people), size=chunks.size, hash=digest, first_id=None, last_id=None)
