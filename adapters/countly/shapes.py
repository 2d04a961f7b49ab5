"""Countly's reply shapes built from graph results: nested time documents, bars, dashboard numbers, labels.

A time document nests year → month → day → hour, each level holding its letters (`t n u d e` for sessions,
`c s dur` for events); weeks sit in the year as `w<N>`; segmented documents put each value as a key at every
level (dots become `:`). Zero counts are left out, as Countly never writes them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

Number = int | float


@dataclass(frozen=True)
class Bucket:
    """One rollup row: grain (`h d w m y`), local bucket start, segment value (None = totals) and counts."""

    grain: str
    start: datetime
    counts: Mapping[str, Number]
    value: str | None = None


def clean_value(value: str) -> str:
    """A segment value as a document key: dots become `:` (Countly keeps dots out of its keys)."""
    return value.replace(".", ":")


def number(value: Number) -> Number:
    """Whole floats printed as integers, the way JavaScript prints them."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def week_of(moment: datetime) -> int:
    """Countly's week of the year: ceil(dayOfYear / 7)."""
    return math.ceil(moment.timetuple().tm_yday / 7)


def _path(bucket: Bucket) -> list[str] | None:
    start = bucket.start
    year = str(start.year)
    if bucket.grain == "y":
        return [year]
    if bucket.grain == "w":
        return [year, f"w{week_of(start)}"]
    if bucket.grain == "m":
        return [year, str(start.month)]
    if bucket.grain == "d":
        return [year, str(start.month), str(start.day)]
    if bucket.grain == "h":
        return [year, str(start.month), str(start.day), str(start.hour)]
    return None


def time_document(buckets: Iterable[Bucket]) -> dict[str, Any]:
    """The nested document of the buckets (values summed when two buckets land on the same key)."""
    document: dict[str, Any] = {}
    for bucket in buckets:
        path = _path(bucket)
        if path is None:
            continue
        if bucket.value is not None:
            path = [*path, clean_value(bucket.value)]
        counts = {k: v for k, v in bucket.counts.items() if v}
        if not counts:
            continue
        node = document
        for key in path:
            child = node.get(key)
            if not isinstance(child, dict):
                child = {}
                node[key] = child
            node = child
        for letter, amount in counts.items():
            node[letter] = number(node.get(letter, 0) + amount)
    return document


class TimeDocument:
    """`time_document` built from columns (the graph's `rollupColumns`), without an object per bucket.

    Same rules and the same order of keys as `time_document` given the buckets in the same order: buckets
    that reach the same key are summed, zero counts are left out, and a bucket with no count creates no key.
    The node of each path is remembered once reached (an hour then finds its day in one lookup), which is
    safe because a dict, once in the document, is never replaced.
    """

    def __init__(self) -> None:
        self.document: dict[str, Any] = {}
        self._nodes: dict[tuple[str, ...], dict[str, Any]] = {(): self.document}

    def add(
        self,
        grains: Sequence[str],
        starts: Sequence[str],
        values: Sequence[str | None],
        letters: tuple[str, ...],
        columns: Sequence[Sequence[Number]],
        week_letters: tuple[str, ...] | None = None,
    ) -> None:
        """Bucket i: grain letter, local start text (`2026-11-23T14:00:00`), value (None: totals) and an
        amount per letter from each column; `week_letters` (when given) are the only letters weeks keep."""
        if len(columns) != len(letters):
            raise ValueError("one column per letter")
        # rows are then as long as `letters`: the zips below need no strict check per bucket
        nodes = self._nodes
        week = None if week_letters is None else [(letter, letters.index(letter)) for letter in week_letters]
        # integers are written as they are: a new node then takes its letters in one update
        integers = all(float not in set(map(type, column)) for column in columns)
        rows = zip(grains, starts, values, zip(*columns, strict=True), strict=True)
        for grain, start, value, amounts in rows:
            counts: Iterable[tuple[str, Number]]
            if grain == "w" and week is not None:
                counts = [(letter, amounts[i]) for letter, i in week if amounts[i]]
                if not counts:
                    continue
            elif all(amounts):
                counts = zip(letters, amounts, strict=False)
            else:
                counts = [
                    (letter, amount) for letter, amount in zip(letters, amounts, strict=False) if amount
                ]
                if not counts:
                    continue
            path = bucket_path(grain, start)
            if path is None:
                continue
            node = nodes.get(path)
            if node is None:
                # most often a new hour of a day already reached
                parent = nodes.get(path[:-1]) or self._node(path[:-1])
                last = path[-1]
                node = parent.get(last)
                if not isinstance(node, dict):
                    if value is None:
                        # a new node: its letters as they come, in one step
                        node = dict(counts) if integers else _numbers(counts)
                        parent[last] = node
                        nodes[path] = node
                        continue
                    node = {}
                    parent[last] = node
                nodes[path] = node
            if value is not None:
                key = clean_value(value)
                child = node.get(key)
                if not isinstance(child, dict):
                    node[key] = dict(counts) if integers else _numbers(counts)
                    continue
                node = child
            for letter, amount in counts:
                if letter in node:
                    node[letter] = number(node[letter] + amount)
                else:
                    node[letter] = number(amount) if type(amount) is float else amount

    def _node(self, path: tuple[str, ...]) -> dict[str, Any]:
        node = self._nodes.get(path)
        if node is None:
            parent = self._node(path[:-1])
            node = parent.get(path[-1])
            if not isinstance(node, dict):
                node = {}
                parent[path[-1]] = node
            self._nodes[path] = node
        return node


def _numbers(counts: Iterable[tuple[str, Number]]) -> dict[str, Number]:
    """The letters of a new node, whole floats as integers (what `number(0 + amount)` gives)."""
    return {letter: number(amount) if type(amount) is float else amount for letter, amount in counts}


@lru_cache(maxsize=16384)
def bucket_path(grain: str, start: str) -> tuple[str, ...] | None:
    """The keys of a bucket (grain letter, local start text) in a time document, as `time_document` nests it.

    Cached: documents of the same period repeat the same buckets (and every metric value the same days).
    """
    path = _path(Bucket(grain, datetime.fromisoformat(start), {}))
    return None if path is None else tuple(path)


def short_number(value: float) -> str:
    """countlyCommon.getShortNumber of an already rounded number (`-24.6`, `1.2K`, `3M`)."""
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e4, "K")):
        if abs(value) >= limit:
            return f"{value / limit:.1f}".replace(".0", "", 1) + suffix
    return f"{value:.1f}".replace(".0", "", 1)


def percent_change(previous: float, current: float) -> tuple[str, str]:
    """(change, trend) the way the dashboard shows them: `NA`/`u` without a previous value, `∞`/`d` to zero."""
    if previous == 0:
        return "NA", "u"
    if current == 0:
        return "∞", "d"
    change = round((current - previous) / previous * 100, 1)
    return short_number(change) + "%", "d" if change < 0 else "u"


def time_string(minutes: float) -> str:
    """A duration in minutes as the dashboard prints it: `12.5 min`, `1.5 hours`, `2.0 days`, `1.1 years`."""
    if minutes >= 142560:
        return f"{minutes / 525600:.1f} years"
    if minutes >= 1440:
        return f"{minutes / 1440:.1f} days"
    if minutes >= 60:
        return f"{minutes / 60:.1f} hours"
    return f"{minutes:.1f} min"


def bars(items: Iterable[tuple[str, float]], max_items: int = 3) -> list[dict[str, Any]]:
    """The top items as `{name, percent}` (floored percents; the last takes the remainder up to 100)."""
    ranked = sorted((item for item in items if item[1] > 0), key=lambda item: -item[1])[:max_items]
    total = sum(amount for _, amount in ranked)
    result: list[dict[str, Any]] = []
    given = 0
    for index, (name, amount) in enumerate(ranked):
        percent = math.floor(amount / total * 100)
        given += percent
        if index == len(ranked) - 1:
            percent += 100 - given
        result.append({"name": name, "percent": percent})
    return result


@dataclass
class Totals:
    """Session numbers of one period: sessions, new users, unique users, duration (s), requests."""

    t: float = 0
    n: float = 0
    u: float = 0
    d: float = 0
    e: float = 0

    @classmethod
    def of(cls, counts: Mapping[str, Any] | None) -> Totals:
        counts = counts or {}
        return cls(*(float(counts.get(letter) or 0) for letter in "tnude"))


def _stat(current: float, previous: float, total: Any) -> dict[str, Any]:
    change, trend = percent_change(previous, current)
    return {"total": total, "change": change, "trend": trend}


def dashboard_numbers(current: Totals, previous: Totals, users_estimated: bool) -> dict[str, Any]:
    """The `dashboard` object of `/o/analytics/dashboard` for one period."""
    per_session = current.d / current.t if current.t else 0.0
    previous_per_session = previous.d / previous.t if previous.t else 0.0
    per_user = current.e / current.u if current.u else 0.0
    previous_per_user = previous.e / previous.u if previous.u else 0.0
    users = _stat(current.u, previous.u, number(current.u))
    users["is_estimate"] = users_estimated
    return {
        "total_sessions": _stat(current.t, previous.t, number(current.t)),
        "total_users": users,
        "new_users": _stat(current.n, previous.n, number(current.n)),
        "total_time": _stat(current.d, previous.d, time_string(current.d / 60)),
        "avg_time": _stat(per_session, previous_per_session, time_string(per_session / 60)),
        "avg_requests": _stat(per_user, previous_per_user, f"{per_user:.1f}"),
    }


@dataclass
class CountryRow:
    code: str
    counts: dict[str, float] = field(default_factory=dict)


def country_rows(rows: Iterable[CountryRow], limit: int = 10) -> list[dict[str, Any]]:
    """The `/o/analytics/countries` list of one period: the top countries by sessions."""
    from adapters.countly.countries import country_name

    ranked = sorted(rows, key=lambda row: (-row.counts.get("t", 0), row.code))[:limit]
    return [
        {
            "country": country_name(row.code),
            "code": row.code.lower(),
            "t": number(row.counts.get("t", 0)),
            "u": number(row.counts.get("u", 0)),
            "n": number(row.counts.get("n", 0)),
        }
        for row in ranked
        if row.counts.get("t", 0) or row.counts.get("u", 0) or row.counts.get("n", 0)
    ]
