"""Excel 97 (BIFF8) `.xls` files written in constant memory, with xlwt, sheet by sheet, as an export is read.

xlwt (the Python library that writes BIFF8) builds a whole workbook in memory before it saves it, and spends
several microseconds of Python per cell: a million-row export would hold hundreds of megabytes and take
minutes. So it is fed differently here, keeping its own encodings:

- xlwt writes everything but the rows: the workbook globals (fonts, number formats, cell styles, sheet
  directory, shared strings), each sheet's records before and after its rows (an empty sheet's
  `get_biff_data()`, with its dimensions set), and the OLE2 compound document around the workbook stream
  (`CompoundDoc.XlsDoc`, given the stream's length).
- Rows are encoded here as xlwt encodes them (a ROW record from xlwt's template, then NUMBER, BOOLERR, LABEL
  with xlwt's `upack2` string encoding, or LABELSST) and handed out as they come; tests/background compare
  them with xlwt's records byte for byte. Strings go inline (LABEL) rather than into the shared string table,
  which would hold every distinct string until the end; only strings over 255 characters (rare: long JSON)
  use the table.
- A sheet holds a header row and 65,535 rows (BIFF8's 65,536 row limit); more rows continue on new sheets,
  each with the header again. Excel's 32,767-character cell limit cuts longer strings.

The file is returned in three parts: `start()` is nothing, `rows()` gives each batch of sheet bytes in file
order, and `finish()` gives the tail (stream padding, sector tables, directory) and the head (the compound
document's header and the workbook globals), which only then are known and which go before everything else.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import xlwt
from xlwt.CompoundDoc import XlsDoc
from xlwt.UnicodeUtils import upack2

ROWS_PER_SHEET = 65_535  # and a header row: BIFF8's 65,536
MAX_COLUMNS = 256
MAX_CELL_CHARS = 32_767
INLINE_CHARS = 255
EXCEL_EPOCH = datetime(1899, 12, 30, tzinfo=UTC)
DATE_FORMAT = "yyyy-mm-dd hh:mm:ss"
WINDOW2 = 0x023E

_NUMBER = struct.Struct("<HH3Hd")  # NUMBER: id, length, row, column, XF, IEEE double
_BOOL = struct.Struct("<HH3HBB")  # BOOLERR: id, length, row, column, XF, value, is-error
_LABEL = struct.Struct("<HH3H")  # LABEL: id, length, row, column, XF; then the string
_LABEL_SST = struct.Struct("<HH3HL")  # LABELSST: id, length, row, column, XF, string index
_ROW_INDEX = struct.Struct("<H")


class _SheetsWritten:
    """What `Workbook.get_biff_data` sees of the sheets when they are written already: their lengths.

    xlwt's `get_biff_data` joins the globals and every sheet's bytes (`sheets += data`, then `... + sheets`);
    the sheets' bytes are in the export's chunks by then, so each stands in as its length only, and the joined
    result is the globals alone, whose sheet directory points where the sheets are.
    """

    def __init__(self, length: int) -> None:
        self.length = length

    def __len__(self) -> int:
        return self.length

    def __add__(self, other: _SheetsWritten) -> _SheetsWritten:
        return _SheetsWritten(self.length + len(other))

    def __radd__(self, other: bytes) -> Any:
        # b"" + first sheet (the sum starts empty): the stand-in; globals + sheets: the globals
        return other if other else self


def _records(data: bytes) -> list[tuple[int, int]]:
    """(record id, offset) of each BIFF record in `data`."""
    found, offset = [], 0
    while offset < len(data):
        record_id, length = struct.unpack_from("<HH", data, offset)
        found.append((record_id, offset))
        offset += 4 + length
    return found


class XlsFile:
    """One `.xls` file, written as its rows come (see the module docstring)."""

    reserves_head = True

    def __init__(self, headers: Sequence[str], types: Sequence[str], sheet_name: str = "Export") -> None:
        if len(headers) > MAX_COLUMNS:
            raise ValueError(f"an Excel 97 sheet holds at most {MAX_COLUMNS} columns")
        self.book = xlwt.Workbook(encoding="utf-8")
        self.headers = list(headers)
        self.types = list(types)
        self.sheet_name = sheet_name[:24] or "Export"
        self.date_xf = self.book.add_style(xlwt.easyxf(num_format_str=DATE_FORMAT))
        self.plain_xf = self.book.add_style(xlwt.Style.default_style)
        self.written = 0
        self.sheet_lengths: list[int] = []
        self._sheets: list[Any] = []
        self._row = 0  # the next row of the current sheet; 0: no sheet open
        self._sheet_rows = 0
        self._sheet_length = 0
        self._epilogue = b""
        self._row_template = b""

    # -- sheets -----------------------------------------------------------------------------------------------

    def _open_sheet(self, rows: int) -> bytes:
        """The records before a sheet's rows, and its header row; `rows`: the data rows it will hold."""
        number = len(self.sheet_lengths) + 1
        sheet = self.book.add_sheet(self.sheet_name if number == 1 else f"{self.sheet_name} ({number})")
        self._sheets.append(sheet)
        sheet.first_used_row, sheet.last_used_row = 0, rows
        sheet.first_used_col, sheet.last_used_col = 0, max(len(self.headers) - 1, 0)
        data = sheet.get_biff_data()
        window = next(offset for record_id, offset in _records(data) if record_id == WINDOW2)
        self._epilogue = data[window:]
        sheet.row(0)  # a row of xlwt's, for the template of every ROW record
        self._row_template = sheet.row(0).get_row_biff_data()
        self._row_template = (
            self._row_template[:6] + struct.pack("<HH", 0, len(self.headers)) + self._row_template[10:]
        )
        self._row, self._sheet_rows = 0, rows
        head = data[:window] + self._encode_row(self.headers, ["text"] * len(self.headers))
        self._sheet_length = len(head)
        return head

    def _close_sheet(self) -> bytes:
        self._sheet_length += len(self._epilogue)
        self.sheet_lengths.append(self._sheet_length)
        self._row = 0
        return self._epilogue

    # -- rows -------------------------------------------------------------------------------------------------

    def _cell(self, row: int, column: int, kind: str, value: Any) -> bytes:
        if value is None:
            return b""
        if kind == "time":
            days = (value - EXCEL_EPOCH).total_seconds() / 86400.0
            return _NUMBER.pack(0x0203, 14, row, column, self.date_xf, days)
        if kind in ("int", "float") and not isinstance(value, bool):
            return _NUMBER.pack(0x0203, 14, row, column, self.plain_xf, float(value))
        if kind == "bool":
            return _BOOL.pack(0x0205, 8, row, column, self.plain_xf, 1 if value else 0, 0)
        text = value if isinstance(value, str) else str(value)
        if len(text) <= INLINE_CHARS:
            packed = upack2(text)
            return _LABEL.pack(0x0204, 6 + len(packed), row, column, self.plain_xf) + packed
        text = text[:MAX_CELL_CHARS]
        return _LABEL_SST.pack(0x00FD, 10, row, column, self.plain_xf, self.book.add_str(text))

    def _encode_row(self, values: Sequence[Any], types: Sequence[str]) -> bytes:
        row = self._row
        cell = self._cell
        parts = [self._row_template[:4], _ROW_INDEX.pack(row), self._row_template[6:]]
        for column, (kind, value) in enumerate(zip(types, values, strict=True)):
            parts.append(cell(row, column, kind, value))
        self._row = row + 1
        return b"".join(parts)

    def start(self) -> bytes:
        return b""

    def rows(self, batch: Sequence[Sequence[Any]], remaining: int) -> bytes:
        """The bytes of a batch of rows; `remaining`: rows still to come after this batch (to size the sheets)."""
        out: list[bytes] = []
        types = self.types
        left = len(batch) + remaining
        for values in batch:
            if self._row == 0:
                out.append(self._open_sheet(min(left, ROWS_PER_SHEET) if left > 0 else ROWS_PER_SHEET))
            encoded = self._encode_row(values, types)
            self._sheet_length += len(encoded)
            out.append(encoded)
            self.written += 1
            left -= 1
            if self._row > self._sheet_rows:
                out.append(self._close_sheet())
        return b"".join(out)

    def finish(self) -> tuple[bytes, bytes]:
        """(tail, head): the bytes after the sheets, and the bytes before them."""
        tail_sheet = b""
        if not self.sheet_lengths and self._row == 0:
            tail_sheet = self._open_sheet(0)
        if self._row != 0:
            tail_sheet += self._close_sheet()
        for sheet, length in zip(self._sheets, self.sheet_lengths, strict=True):
            sheet.get_biff_data = lambda length=length: _SheetsWritten(length)
        workbook_globals = self.book.get_biff_data()
        stream_length = len(workbook_globals) + sum(self.sheet_lengths)
        doc = XlsDoc()
        padding = b"\x00" * (0x1000 - (stream_length % 0x1000))
        doc.book_stream_len = stream_length + len(padding)
        doc._build_directory()
        doc._build_sat()
        doc._build_header()
        head = doc.header + doc.packed_MSAT_1st + workbook_globals
        tail = tail_sheet + padding + doc.packed_MSAT_2nd + doc.packed_SAT + doc.dir_stream
        return tail, head
