"""Sheets in and out: a CSV file read into a header and rows (its delimiter sniffed, its
cells guarded against spreadsheet formulas), and rows written back as CSV.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from ..errors import DataError


def header_key(text: str) -> str:
    """A column name compared loosely: case, spaces, '_', '-' and punctuation ignored."""
    return " ".join(re.sub(r"[\W_]+", " ", text.casefold()).split())


@dataclass
class Table:
    """A CSV file read: its header and its data rows with the line each starts on."""

    header: list[str]
    rows: list[tuple[int, list[str]]]


# A cell a spreadsheet would run as a formula: it starts, after any apostrophes, with
# one of these (OWASP's list). Written out behind one more apostrophe, which Excel,
# LibreOffice and Google Sheets show as text; read back, that one apostrophe goes.
# Numbers ("-250.00" in a report) are left as they are. Excel in many European locales
# opens a .csv split at semicolons, so each piece after a ';' is guarded the same way.
_FORMULA = re.compile(r"'*[=+\-@\t\r]")


_GUARDED = re.compile(r"'+[=+\-@\t\r]")


_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", re.ASCII)


def _guard_piece(text: str) -> str:
    if _FORMULA.match(text) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


def _unguard_piece(text: str) -> str:
    return text[1:] if _GUARDED.match(text) else text


def guard_cell(text: str) -> str:
    """``text`` as a CSV cell no spreadsheet runs as a formula (``unguard_cell`` undoes it)."""
    if ";" in text:
        return ";".join(_guard_piece(piece) for piece in text.split(";"))
    return _guard_piece(text)


def unguard_cell(cell: str) -> str:
    """A cell as ``guard_cell`` was given it: one apostrophe before a formula sign goes."""
    if ";" in cell:
        return ";".join(_unguard_piece(piece) for piece in cell.split(";"))
    return _unguard_piece(cell)


def _sniff_delimiter(first_line: str) -> str:
    """',' unless the header holds none and does hold ';' or a tab (European exports)."""
    if "," in first_line:
        return ","
    for candidate in (";", "\t"):
        if candidate in first_line:
            return candidate
    return ","


def read_csv(data: bytes) -> Table:
    """Parse CSV bytes (UTF-8, a BOM allowed, first row a header); ``DataError`` with the
    line when the file cannot be read as CSV at all."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise DataError(f"not valid UTF-8 (byte {exc.start}); save the file as UTF-8 "
                        "(in Excel: CSV UTF-8)", line=line) from None
    nul = text.find("\x00")
    if nul >= 0:
        raise DataError("the file holds NUL bytes; it is not a CSV text file",
                        line=text.count("\n", 0, nul) + 1)
    if not text.strip():
        raise DataError("the file is empty; its first row must be a header naming the columns")
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_sniff_delimiter(first_line))
    header: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    start = 1
    try:
        for cells in reader:
            line, start = start, reader.line_num + 1
            if not any(c.strip() for c in cells):
                continue  # blank lines, before the header or between rows
            if header is None:
                header = [c.strip() for c in cells]
            else:
                rows.append((line, [unguard_cell(c) for c in cells]))
    except csv.Error as exc:
        raise DataError(f"not a readable CSV file: {exc}", line=start) from None
    if header is None:  # pragma: no cover - the emptiness check above catches it
        raise DataError("the file has no header row")
    return Table(header, rows)


def csv_text(rows: Iterable[dict], columns: Sequence[str], delimiter: str = ",") -> str:
    """Rows as CSV text (TSV with ``delimiter`` a tab), header first: None is a blank
    cell, a date ISO, text a cell no spreadsheet runs as a formula (``guard_cell``)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n", delimiter=delimiter)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
    return buf.getvalue()


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return guard_cell(str(value))
