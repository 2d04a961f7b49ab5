"""The files of exports that name their fields (CSV, JSON, XLS), written batch by batch as rows are read.

Every format has the same shape: `start()` (bytes known at once), `rows(batch, remaining)` (the bytes of a
batch, in file order), `finish()` → (tail, head): the bytes after the rows and, for formats that only know them
at the end (`reserves_head`: XLS), the bytes before everything. Values are written as the graph answers them:
times as `isoformat()` in UTC, JSON values compact, booleans `true`/`false`, nulls as empty CSV cells; XLS cells
keep their types (dates, numbers, booleans; see `xls.py`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any, Protocol

import orjson

from gateway.background.xls import XlsFile
from gateway.json_text import compact_json


class ExportFormat(Protocol):
    reserves_head: bool
    written: int

    def start(self) -> bytes: ...

    def rows(self, batch: Sequence[Sequence[Any]], remaining: int) -> bytes: ...

    def finish(self) -> tuple[bytes, bytes]: ...


def graph_value(kind: str, value: Any) -> Any:
    """A value as the graph's JSON gives it (`json` values arrive as PostgreSQL's text of them)."""
    if value is None:
        return None
    if kind == "time":
        return value.isoformat()
    if kind == "json":
        return orjson.loads(value)
    return value


def _csv_value(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind == "time":
        return value.isoformat()
    if kind == "json":
        return compact_json(orjson.loads(value))
    if kind == "bool":
        return "true" if value else "false"
    return value


class CsvFile:
    """UTF-8 CSV with a header row."""

    reserves_head = False

    def __init__(self, headers: Sequence[str], types: Sequence[str]) -> None:
        self.headers = list(headers)
        self.types = list(types)
        self.written = 0
        # the columns whose values need converting: text and numbers are written as they are
        self._converted = [i for i, kind in enumerate(self.types) if kind in ("time", "json", "bool")]

    def start(self) -> bytes:
        buffer = io.StringIO()
        csv.writer(buffer).writerow(self.headers)
        return buffer.getvalue().encode("utf-8")

    def rows(self, batch: Sequence[Sequence[Any]], remaining: int) -> bytes:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        converted, types = self._converted, self.types
        if converted:
            out = []
            for values in batch:
                row = list(values)
                for i in converted:
                    row[i] = _csv_value(types[i], row[i])
                out.append(row)
            writer.writerows(out)
        else:
            writer.writerows(batch)
        self.written += len(batch)
        return buffer.getvalue().encode("utf-8")

    def finish(self) -> tuple[bytes, bytes]:
        return b"", b""


class JsonFile:
    """One JSON array of objects, keyed by the headers."""

    reserves_head = False

    def __init__(self, headers: Sequence[str], types: Sequence[str]) -> None:
        self.headers = list(headers)
        self.types = list(types)
        self.written = 0

    def start(self) -> bytes:
        return b"["

    def rows(self, batch: Sequence[Sequence[Any]], remaining: int) -> bytes:
        headers, types = self.headers, self.types
        parts = []
        for values in batch:
            record = {h: graph_value(k, v) for h, k, v in zip(headers, types, values, strict=True)}
            parts.append(("," if self.written else "") + compact_json(record))
            self.written += 1
        return "".join(parts).encode("utf-8")

    def finish(self) -> tuple[bytes, bytes]:
        return b"]", b""


def export_format(file_format: str, headers: Sequence[str], types: Sequence[str], title: str) -> ExportFormat:
    if file_format == "xls":
        return XlsFile(headers, types, title)
    if file_format == "json":
        return JsonFile(headers, types)
    return CsvFile(headers, types)
