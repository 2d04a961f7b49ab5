"""Numbered pages of a product's events without reading the rows before them: the hourly page index.

A list paged by number (page N of `size` events) starts after (N - 1) x size events. An OFFSET would read and
throw away every one of them: a million rows for page 1,000 of 1,000 events. `event_hours` (migration 040)
counts the stored rows of each UTC hour per product and key, so the hour a page starts in is found by adding up
hourly counts (a few thousand rows for a year, read from the index alone: migration 050), and only that hour is
read, through `events_product_time`, to find the last row before the page. The page itself is then read after
that row, as any cursor page is.

A time range that does not start or end on the hour has a partial first and last hour: those are counted exactly
from the rows (at most an hour of them each). Lists filtered by device, session or segment are not counted by
the index: their rows are found by OFFSET over the filtered list (`offset_key`), which those filters keep small.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from resolvers.context import Context
from resolvers.events.filters import HourScope
from resolvers.pagination import Listing, PageRequest

HOUR = timedelta(hours=1)
# an `after` key past every row, for a page that starts after the end of its list
_END_ASCENDING = (datetime.max.replace(tzinfo=UTC), 0)
_END_DESCENDING = (datetime.min.replace(tzinfo=UTC), 0)

# The hour in which the list's row number $6 (from 0) lies: the first hour, in list order, whose running total
# passes it. The running sum is a ROWS frame in the list's order, so the scan stops at that hour (the default RANGE
# frame, and a sort of every hour on the condition, made this 3.9 ms instead of 0.8 on the 10M set); no row: the
# whole hours hold $6 rows or fewer.
_HOUR_OF_ROW = """
SELECT hour, running - n AS before FROM (
    SELECT hour, n, sum(n) OVER (ORDER BY hour {direction} ROWS UNBOUNDED PRECEDING) AS running
    FROM (SELECT hour, sum(rows) AS n FROM event_hours
          WHERE account_id = $1 AND product_id = $2 AND key = ANY($3::text[])
            AND ($4::timestamptz IS NULL OR hour >= $4) AND ($5::timestamptz IS NULL OR hour < $5)
          GROUP BY hour) AS h
) AS c
WHERE running > $6
ORDER BY hour {direction}
LIMIT 1
"""
_WHOLE_TOTAL = """
SELECT sum(rows) FROM event_hours
WHERE account_id = $1 AND product_id = $2 AND key = ANY($3::text[])
  AND ($4::timestamptz IS NULL OR hour >= $4) AND ($5::timestamptz IS NULL OR hour < $5)
"""
_KEYS = "AND ($4::text[] IS NULL OR t.key = ANY($4::text[]))"
# The product is the account's: checked once per statement, not on each row of the hour, so that the rows' times
# and ids are read from `events_product_time` alone (an index-only scan) instead of visiting every row for its
# `account_id` (on the 10M set, FollowAnalytics' page 1,000, 7,050 rows into its hour: 2.06 -> 1.08 ms a statement)
_OWN_PRODUCT = "EXISTS (SELECT FROM products p WHERE p.id = $2 AND p.account_id = $1)"
_COUNT_RANGE = f"""
SELECT count(*) FROM events t
WHERE t.product_id = $2 AND {_OWN_PRODUCT} AND t.occurred_at >= $3 AND t.occurred_at < $5 {_KEYS}
"""
_ROW_IN_RANGE = f"""
SELECT t.occurred_at, t.id FROM events t
WHERE t.product_id = $2 AND {_OWN_PRODUCT} AND t.occurred_at >= $3 AND t.occurred_at < $5 {_KEYS}
ORDER BY t.occurred_at {{direction}}, t.id {{direction}}
OFFSET $6 LIMIT 1
"""


def _floor(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def _ceil(moment: datetime) -> datetime:
    floor = _floor(moment)
    return floor if floor == moment else floor + HOUR


@dataclass(frozen=True)
class _Ranges:
    """A scope cut into a partial first hour, whole hours, and a partial last hour (either partial may be None)."""

    head: tuple[datetime, datetime] | None
    whole_since: datetime | None
    whole_until: datetime | None
    tail: tuple[datetime, datetime] | None


def _ranges(scope: HourScope) -> _Ranges:
    since, until = scope.since, scope.until
    whole_since = None if since is None else _ceil(since)
    whole_until = None if until is None else _floor(until)
    if whole_since is not None and whole_until is not None and whole_since > whole_until:
        # the range lies inside one hour: all of it is a "head"
        assert since is not None and until is not None
        return _Ranges((since, until), whole_since, whole_since, None)
    head = None
    if since is not None and whole_since is not None and whole_since != since:
        head = (since, whole_since)
    tail = None
    if until is not None and whole_until is not None and whole_until != until:
        tail = (whole_until, until)
    return _Ranges(head, whole_since, whole_until, tail)


class PageIndex:
    """Reads of the page index for one product's events."""

    def __init__(self, ctx: Context, product_pk: int, scope: HourScope) -> None:
        self.ctx = ctx
        self.product_pk = product_pk
        self.scope = scope
        self.keys = scope.keys
        self.ranges = _ranges(scope)

    def _args(self, since: datetime | None, until: datetime | None) -> list[Any]:
        return [self.ctx.account_id, self.product_pk, since, self.keys, until]

    async def _count_range(self, span: tuple[datetime, datetime]) -> int:
        return int(await self.ctx.db.fetchval(_COUNT_RANGE, *self._args(*span)) or 0)

    async def _whole_total(self) -> int:
        r = self.ranges
        whole = await self.ctx.db.fetchval(
            _WHOLE_TOTAL,
            self.ctx.account_id,
            self.product_pk,
            self.keys if self.keys is not None else [""],
            r.whole_since,
            r.whole_until,
        )
        return int(whole or 0)

    async def total(self) -> int:
        """How many events the scope holds."""
        r = self.ranges
        head = await self._count_range(r.head) if r.head else 0
        tail = await self._count_range(r.tail) if r.tail else 0
        return head + await self._whole_total() + tail

    async def _key_in(
        self, span: tuple[datetime, datetime], offset: int, descending: bool
    ) -> tuple[Any, int]:
        """The `after` key of a page starting `offset` rows into `span` (in list order)."""
        if offset == 0:
            return (span[1], 0) if descending else (span[0], 0)
        row = await self.ctx.db.fetchrow(
            _ROW_IN_RANGE.format(direction="DESC" if descending else "ASC"), *self._args(*span), offset - 1
        )
        if row is None:  # rows deleted since they were counted: the page starts after the span
            return (span[0], 0) if descending else (span[1], 0)
        return row["occurred_at"], row["id"]

    async def after_key(self, offset: int, descending: bool) -> tuple[Any, int]:
        """The `after` key of a page that starts `offset` rows into the scope's list (newest first if `descending`)."""
        r = self.ranges
        first, last = (r.tail, r.head) if descending else (r.head, r.tail)
        remaining = offset
        if first is not None:
            n = await self._count_range(first)
            if remaining < n:
                return await self._key_in(first, remaining, descending)
            remaining -= n
        row = await self.ctx.db.fetchrow(
            _HOUR_OF_ROW.format(direction="DESC" if descending else "ASC"),
            self.ctx.account_id,
            self.product_pk,
            self.keys if self.keys is not None else [""],
            r.whole_since,
            r.whole_until,
            remaining,
        )
        if row is not None:
            hour = row["hour"]
            return await self._key_in((hour, hour + HOUR), remaining - int(row["before"]), descending)
        if last is not None:
            remaining -= await self._whole_total()
            n = await self._count_range(last)
            if remaining < n:
                return await self._key_in(last, remaining, descending)
        return _END_DESCENDING if descending else _END_ASCENDING


async def offset_key(
    ctx: Context, listing: Listing[Any], parent_id: int, request: PageRequest, offset: int
) -> tuple[Any, int]:
    """The `after` key of a page that starts `offset` rows into any listing's list, by OFFSET over it."""
    params: list[Any] = [parent_id]
    where = listing.where_sql(ctx, request, params)
    params.append(offset - 1)
    column = request.order.column
    row = await ctx.db.fetchrow(
        f"SELECT {column} AS _sort, t.id FROM {listing.table} t {listing.join} "
        f"WHERE {listing.parent_sql} = $1{where} ORDER BY {listing.order_sql(request)} "
        f"OFFSET ${len(params)} LIMIT 1",
        *params,
    )
    if row is None:
        return _END_DESCENDING if request.order.descending else _END_ASCENDING
    return row["_sort"], row["id"]
