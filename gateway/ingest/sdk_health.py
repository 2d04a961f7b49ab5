"""SDK health checks in a batch: summed per product, local day and SDK, and written in the batch's transaction.

A request carrying a `HealthCheck` (Countly's `hc`, which the web SDK sends at every start, often with the
device id `undefined`) names no person: it creates no device, session or event, and is answered STORED once its
product's `sdk_health` row has been added to in the same transaction as the rest of the batch (so it shares the
batch's commit and is durable when acknowledged). The rows are shared by every batch of a product and day: they
are written last, sorted by key, like the rollups.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from gateway.db.pool import Transaction
from gateway.ingest.model import Outcome, TrackRequest
from gateway.input_values import zone

# rows: account_id, product_id, day, sdk_name, sdk_version, checks, error_logs, warning_logs, backoffs,
# longest_backoff_run, failed_requests, last_status_code, last_error_message, last_received_at
UPSERT = """
INSERT INTO sdk_health AS h (account_id, product_id, day, sdk_name, sdk_version, checks, error_logs, warning_logs,
                             backoffs, longest_backoff_run, failed_requests, last_status_code, last_error_message,
                             last_received_at)
SELECT (x.r->>0)::bigint, (x.r->>1)::bigint, (x.r->>2)::date, x.r->>3, x.r->>4, (x.r->>5)::bigint,
       (x.r->>6)::bigint, (x.r->>7)::bigint, (x.r->>8)::bigint, (x.r->>9)::integer, (x.r->>10)::bigint,
       (x.r->>11)::integer, x.r->>12, (x.r->>13)::timestamptz
FROM jsonb_array_elements($1::text::jsonb) WITH ORDINALITY AS x(r, o)
ORDER BY x.o
ON CONFLICT (account_id, product_id, day, sdk_name, sdk_version) DO UPDATE
SET checks = h.checks + EXCLUDED.checks, error_logs = h.error_logs + EXCLUDED.error_logs,
    warning_logs = h.warning_logs + EXCLUDED.warning_logs, backoffs = h.backoffs + EXCLUDED.backoffs,
    longest_backoff_run = GREATEST(h.longest_backoff_run, EXCLUDED.longest_backoff_run),
    failed_requests = h.failed_requests + EXCLUDED.failed_requests,
    last_status_code = CASE WHEN EXCLUDED.last_received_at >= h.last_received_at
                            THEN EXCLUDED.last_status_code ELSE h.last_status_code END,
    last_error_message = CASE WHEN EXCLUDED.last_received_at >= h.last_received_at
                              THEN EXCLUDED.last_error_message ELSE h.last_error_message END,
    last_received_at = GREATEST(h.last_received_at, EXCLUDED.last_received_at)
"""

Key = tuple[int, int, str, str, str]  # account, product, local day, sdk name, sdk version


def is_health_check(request: TrackRequest) -> bool:
    return request.health_check is not None


def plan(
    requests: list[TrackRequest],
    outcomes: list[Outcome | None],
    timezones: dict[int, str],
    times: list[datetime],
) -> list[list[Any]]:
    """The batch's `sdk_health` rows, sorted by key; marks each accepted health check STORED in `outcomes`.

    `timezones` holds the time zone of each product found; `times` each request's instant.
    """
    rows: dict[Key, list[Any]] = {}
    for i, request in enumerate(requests):
        check = request.health_check
        if check is None or outcomes[i] is not None:
            continue
        outcomes[i] = Outcome.STORED
        at = times[i]
        day = at.astimezone(zone(timezones.get(request.product_id))).date().isoformat()
        key = (request.account_id, request.product_id, day, check.sdk_name, check.sdk_version)
        failed = 0 if check.status_code == -1 or 200 <= check.status_code < 300 else 1
        found = rows.get(key)
        if found is None:
            rows[key] = [
                *key,
                1,
                check.error_logs,
                check.warning_logs,
                check.backoffs,
                check.consecutive_backoffs,
                failed,
                check.status_code,
                check.error_message,
                at,
            ]
            continue
        found[5] += 1
        found[6] += check.error_logs
        found[7] += check.warning_logs
        found[8] += check.backoffs
        found[9] = max(found[9], check.consecutive_backoffs)
        found[10] += failed
        if at >= found[13]:
            found[11], found[12], found[13] = check.status_code, check.error_message, at
    return [rows[key] for key in sorted(rows)]


async def store(tx: Transaction, rows: list[list[Any]]) -> None:
    """Add the rows to `sdk_health` (nothing to send when the batch held no health check)."""
    if rows:
        await tx.execute(UPSERT, orjson.dumps(rows).decode())
