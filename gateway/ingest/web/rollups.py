"""The rollup deltas of one batch of web hits, summed in memory: each rollup key is written once per batch.

A counted hit (not a bot's) is one pageview, and one visitor when it is a first visit, of about twenty keys
(`web_rollups`, migration 030): its path's and its site's hour and day, its kind's hour and day (the site's),
and per day the values of seven dimensions, for its path and for its site. Hits of a batch share most of
those keys (a site's hour, a popular page's browser), so the batch sums them here and sends each key once,
with its sums: PostgreSQL then upserts a few rows per hit instead of grouping twenty per hit itself.

The keys a hit adds to are those of `sql.rollups_of` (the statement the seeding sums stored hits with), which
`tests/ingest/test_web_rollups.py` checks.

Rows come in the order they are locked in (`rows`): every path's rows by key, then the site's rows by key.
Every batch of every process takes that order, so two batches never wait for each other in a cycle, and the
site's rows, which every concurrent batch of the site writes, are taken last and held for the shortest time.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

# dimension values and details are cut to this many characters (index entries are bounded); the hits keep them
MAX_VALUE = 512

# (product_id, dimension, grain, path_id, bucket, value, detail)
RollupKey = tuple[int, str, str, int, datetime, str, str]


class RollupDeltas:
    """Pageviews and visitors per rollup key of the hits `add`ed so far."""

    __slots__ = ("_path_rows", "_events")

    def __init__(self) -> None:
        # the rows of each path (path_id > 0); the site's are summed from them in `rows`
        self._path_rows: dict[RollupKey, list[int]] = {}
        # per (product_id, path_id): whether the path names an event (its kind)
        self._events: dict[tuple[int, int], bool] = {}

    def add(
        self,
        product_id: int,
        path_id: int,
        event: bool,
        hour: datetime,
        day: datetime,
        first_visit: bool,
        dimensions: tuple[tuple[str, str, str], ...],
    ) -> None:
        """Count one hit of `path_id` (> 0) at local `hour` and `day`; `dimensions` are its (dimension, value,
        detail) of the day, values and details cut to MAX_VALUE (a campaign only when it has one)."""
        visitor = 1 if first_visit else 0
        rows = self._path_rows
        self._events[(product_id, path_id)] = event
        keys = [(product_id, "", "h", path_id, hour, "", ""), (product_id, "", "d", path_id, day, "", "")]
        keys += [
            (product_id, dimension, "d", path_id, day, value, detail)
            for dimension, value, detail in dimensions
        ]
        for key in keys:
            found = rows.get(key)
            if found is None:
                rows[key] = [1, visitor]
            else:
                found[0] += 1
                found[1] += visitor

    def __bool__(self) -> bool:
        return bool(self._path_rows)

    def rows(self, accounts: dict[int, int]) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        """(the paths' rows, the sites' rows), each sorted by key: product_id, dimension, grain, path_id,
        bucket, value, detail, pageviews, visitors, account_id (`accounts`: product id -> account id)."""
        site: dict[RollupKey, list[int]] = {}
        events = self._events
        for key, (views, visits) in self._path_rows.items():
            product_id, dimension, grain, path_id, bucket, value, detail = key
            site_keys: tuple[RollupKey, ...] = ((product_id, dimension, grain, 0, bucket, value, detail),)
            if not dimension:
                kind = "event" if events[(product_id, path_id)] else "pageview"
                site_keys += ((product_id, "kind", grain, 0, bucket, kind, ""),)
            for site_key in site_keys:
                found = site.get(site_key)
                if found is None:
                    site[site_key] = [views, visits]
                else:
                    found[0] += views
                    found[1] += visits
        return _sorted(self._path_rows, accounts), _sorted(site, accounts)


def _sorted(rows: dict[RollupKey, list[int]], accounts: dict[int, int]) -> list[tuple[Any, ...]]:
    return [(*key, *sums, accounts[key[0]]) for key, sums in sorted(rows.items())]


def dimensions_of(
    referrer: str,
    scheme: str,
    browser: str,
    browser_version: str,
    system: str,
    system_version: str,
    size: str,
    width: int,
    country: str,
    region: str,
    language: str,
    campaign: str,
) -> tuple[tuple[str, str, str], ...]:
    """A hit's (dimension, value, detail) of the day, as `RollupDeltas.add` takes them: cut to MAX_VALUE; a
    campaign only when the hit has one (its detail: the referrer)."""
    referrer = referrer[:MAX_VALUE]
    found = (
        ("referrer", referrer, scheme),
        ("browser", browser[:MAX_VALUE], browser_version[:MAX_VALUE]),
        ("system", system[:MAX_VALUE], system_version[:MAX_VALUE]),
        ("size", size, str(width) if width else ""),
        ("location", country, region),
        ("language", language, ""),
    )
    if campaign:
        return (*found, ("campaign", campaign[:MAX_VALUE], referrer))
    return found
