"""Prometheus' text exposition format 0.0.4: counters and histograms kept in plain dicts, and their lines.

Written by hand (no `prometheus-client` dependency): the gateway needs a handful of series, and the ingestion
engine keeps histograms of its own with these same types (`gateway.ingest.engine.EngineStats`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
BUCKETS: tuple[float, ...] = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)

LabelValues = tuple[str, ...]


def escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def format_labels(names: Sequence[str], values: Sequence[str], extra: str = "") -> str:
    parts = [f'{name}="{escape(value)}"' for name, value in zip(names, values, strict=True)]
    if extra:
        parts.append(extra)
    return "{" + ",".join(parts) + "}" if parts else ""


def number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if float(value).is_integer():
        return str(int(value))
    return repr(float(value))


class Counter:
    def __init__(self, name: str, help_text: str, labels: Sequence[str] = ()) -> None:
        self.name, self.help, self.label_names = name, help_text, tuple(labels)
        self.values: dict[LabelValues, float] = {}

    def inc(self, labels: LabelValues = (), amount: float = 1.0) -> None:
        self.values[labels] = self.values.get(labels, 0.0) + amount

    def render(self) -> Iterable[str]:
        yield f"# HELP {self.name} {self.help}"
        yield f"# TYPE {self.name} counter"
        for labels, value in sorted(self.values.items()):
            yield f"{self.name}{format_labels(self.label_names, labels)} {number(value)}"


class Histogram:
    def __init__(
        self, name: str, help_text: str, labels: Sequence[str] = (), buckets: Sequence[float] = BUCKETS
    ) -> None:
        self.name, self.help, self.label_names = name, help_text, tuple(labels)
        self.buckets = tuple(sorted(buckets))
        # per label set: [count per bucket (not cumulative) ..., count above the last bucket], sum
        self.values: dict[LabelValues, tuple[list[int], list[float]]] = {}
        if not self.label_names:
            # its one series exists before the first observation, as client libraries write it, so that a
            # scrape before any write already has the zeros `rate()` starts from
            self.values[()] = ([0] * (len(self.buckets) + 1), [0.0])

    def observe(self, labels: LabelValues, value: float) -> None:
        counts, total = self.values.setdefault(labels, ([0] * (len(self.buckets) + 1), [0.0]))
        for i, bound in enumerate(self.buckets):
            if value <= bound:
                counts[i] += 1
                break
        else:
            counts[-1] += 1
        total[0] += value

    def count(self, labels: LabelValues = ()) -> int:
        """Values observed under `labels`."""
        found = self.values.get(labels)
        return sum(found[0]) if found else 0

    def total(self, labels: LabelValues = ()) -> float:
        """The sum of the values observed under `labels`."""
        found = self.values.get(labels)
        return found[1][0] if found else 0.0

    def render(self) -> Iterable[str]:
        yield f"# HELP {self.name} {self.help}"
        yield f"# TYPE {self.name} histogram"
        for labels, (counts, total) in sorted(self.values.items()):
            cumulative = 0
            for bound, count in zip((*self.buckets, math.inf), counts, strict=True):
                cumulative += count
                le = f'le="{number(bound)}"'
                yield f"{self.name}_bucket{format_labels(self.label_names, labels, le)} {cumulative}"
            yield f"{self.name}_sum{format_labels(self.label_names, labels)} {number(total[0])}"
            yield f"{self.name}_count{format_labels(self.label_names, labels)} {cumulative}"


def gauge(name: str, help_text: str, value: float) -> Iterable[str]:
    yield f"# HELP {name} {help_text}"
    yield f"# TYPE {name} gauge"
    yield f"{name} {number(value)}"


def counter_value(name: str, help_text: str, value: float) -> Iterable[str]:
    yield f"# HELP {name} {help_text}"
    yield f"# TYPE {name} counter"
    yield f"{name} {number(value)}"
