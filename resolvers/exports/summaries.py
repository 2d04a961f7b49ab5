"""Exports of figures rather than rows: per-day figures of products, event totals, an event's segmentation values.

They are read from the rollups the ingestion engine keeps (never from raw events), per day of each product's own
time zone: the days whose local start lies in the export's period. The period's ends are taken as instants: a
period from one UTC midnight to another covers the days between, the last one excluded.

- `product_days`: per product and day: sessions, new users, unique users, seconds in sessions, events.
- `event_totals`: per event name: occurrences, sum, duration; most frequent first.
- `event_segments`: for one event name (`filter.key`): per segmentation key and value: occurrences, sum,
  duration; most frequent first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from resolvers.exports.sources import ExportField

# the local days of a product that a period covers (a period's open end: every day)
_DAYS = """
(($3::timestamptz IS NULL OR r.bucket >= date_trunc('day', $3::timestamptz AT TIME ZONE p.timezone))
 AND ($4::timestamptz IS NULL OR r.bucket < date_trunc('day', $4::timestamptz AT TIME ZONE p.timezone)))
"""

PRODUCT_DAYS_SQL = f"""
WITH days AS (
    SELECT r.product_id, r.bucket AS day, r.t, r.n, r.u, r.d
    FROM session_rollups r JOIN products p ON p.id = r.product_id AND p.account_id = $1
    WHERE r.account_id = $1 AND r.product_id = ANY($2::bigint[]) AND r.dimension = '' AND r.value = ''
      AND r.grain = 'd' AND {_DAYS}
), event_days AS (
    SELECT r.product_id, r.bucket AS day, sum(r.c) AS events
    FROM event_rollups r JOIN products p ON p.id = r.product_id AND p.account_id = $1
    WHERE r.account_id = $1 AND r.product_id = ANY($2::bigint[]) AND r.seg_key = '' AND r.seg_value = ''
      AND r.grain = 'd' AND {_DAYS}
    GROUP BY 1, 2
)
SELECT {{columns}}
FROM (SELECT product_id, day FROM days UNION SELECT product_id, day FROM event_days) AS k
JOIN products p ON p.id = k.product_id
LEFT JOIN days s ON s.product_id = k.product_id AND s.day = k.day
LEFT JOIN event_days e ON e.product_id = k.product_id AND e.day = k.day
ORDER BY array_position($2::bigint[], k.product_id), k.day
"""
PRODUCT_DAY_FIELDS: Mapping[str, ExportField] = {
    "productId": ExportField(
        "translate(encode(convert_to('Product:' || p.id, 'UTF8'), 'base64'), E'\\n', '')", "text"
    ),
    "productName": ExportField("p.name", "text"),
    "day": ExportField("to_char(k.day, 'YYYY-MM-DD')", "text"),
    "sessions": ExportField("coalesce(s.t, 0)", "int"),
    "newUsers": ExportField("coalesce(s.n, 0)", "int"),
    "uniqueUsers": ExportField("coalesce(s.u, 0)", "int"),
    "duration": ExportField("coalesce(s.d, 0)", "int"),
    "events": ExportField("coalesce(e.events, 0)", "int"),
}

EVENT_TOTALS_SQL = f"""
SELECT {{columns}} FROM (
    SELECT r.key, sum(r.c) AS count, sum(r.s) AS sum, sum(r.dur) AS duration
    FROM event_rollups r JOIN products p ON p.id = r.product_id AND p.account_id = $1
    WHERE r.account_id = $1 AND r.product_id = ANY($2::bigint[]) AND r.seg_key = '' AND r.seg_value = ''
      AND r.grain = 'd' AND {_DAYS}
    GROUP BY r.key
) AS k
ORDER BY k.count DESC, k.key
"""
EVENT_TOTAL_FIELDS: Mapping[str, ExportField] = {
    "key": ExportField("k.key", "text"),
    "count": ExportField("k.count", "int"),
    "sum": ExportField("k.sum", "float"),
    "duration": ExportField("k.duration", "float"),
}

EVENT_SEGMENTS_SQL = f"""
SELECT {{columns}} FROM (
    SELECT r.seg_key, r.seg_value, sum(r.c) AS count, sum(r.s) AS sum, sum(r.dur) AS duration
    FROM event_rollups r JOIN products p ON p.id = r.product_id AND p.account_id = $1
    WHERE r.account_id = $1 AND r.product_id = ANY($2::bigint[]) AND r.key = $5 AND r.seg_key <> ''
      AND r.grain = 'd' AND {_DAYS}
    GROUP BY r.seg_key, r.seg_value
) AS k
ORDER BY k.count DESC, k.seg_key, k.seg_value
"""
EVENT_SEGMENT_FIELDS: Mapping[str, ExportField] = {
    "segmentation": ExportField("k.seg_key", "text"),
    "value": ExportField("k.seg_value", "text"),
    "count": ExportField("k.count", "int"),
    "sum": ExportField("k.sum", "float"),
    "duration": ExportField("k.duration", "float"),
}

SUMMARY_FIELDS: Mapping[str, Mapping[str, ExportField]] = {
    "product_days": PRODUCT_DAY_FIELDS,
    "event_totals": EVENT_TOTAL_FIELDS,
    "event_segments": EVENT_SEGMENT_FIELDS,
}
_SQL = {
    "product_days": PRODUCT_DAYS_SQL,
    "event_totals": EVENT_TOTALS_SQL,
    "event_segments": EVENT_SEGMENTS_SQL,
}


@dataclass(frozen=True)
class SummarySource:
    """The statement of a summary export (its `{columns}` to fill in) and its parameters."""

    sql: str
    params: tuple[Any, ...]
    fields: Mapping[str, ExportField]


def summary_source(
    kind: str,
    account_id: int,
    product_ids: list[int],
    stored_filter: dict[str, Any] | None,
    since: datetime | None,
    until: datetime | None,
) -> SummarySource:
    params: tuple[Any, ...] = (account_id, product_ids, since, until)
    if kind == "event_segments":
        params += ((stored_filter or {}).get("key", ""),)
    return SummarySource(_SQL[kind], params, SUMMARY_FIELDS[kind])
