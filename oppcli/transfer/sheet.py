"""Sheets in and out: a CSV file read into a header and rows (its encoding found by its
BOM or named, its delimiter sniffed or named, its cells guarded against spreadsheet
formulas), and rows written back as CSV. xlsx files are ``workbook.py``'s.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Union

from ..domain.money import plain
from ..errors import DataError, UsageError

# A cell as read: text, or a number or date a spreadsheet typed as such (xlsx)
Cell = Union[str, Decimal, date]  # noqa: UP007 - a runtime alias, for Python 3.10


def cell_text(cell: Cell) -> str:
    """A cell as text: a typed date in ISO, a typed number plain (1234.5)."""
    if isinstance(cell, str):
        return cell
    if isinstance(cell, date):
        return cell.isoformat()
    return plain(cell)


def header_key(text: str) -> str:
    """A column name compared loosely: case, spaces, '_', '-' and punctuation ignored."""
    return " ".join(re.sub(r"[\W_]+", " ", text.casefold()).split())


def header_of(cells: Sequence[Cell]) -> list[str]:
    """A spreadsheet's row as a header: its cells as text, the blank ones at its end
    dropped."""
    header = [str(c).strip() for c in cells]
    while header and not header[-1]:
        header.pop()
    return header


@dataclass
class Table:
    """A sheet read: its header and its data rows with the line (the row of an xlsx
    sheet) each starts on; cells are text, or typed numbers and dates from an xlsx.
    From an xlsx, also the name of the sheet read and every sheet of the file with the
    cells of its header (for another sheet: of its first non-blank row, and of the rows
    below a title down to a header): what a message names when this sheet is not the one
    meant."""

    header: list[str]
    rows: list[tuple[int, list[Cell]]]
    sheet: str | None = None
    sheets: tuple[tuple[str, tuple[str, ...]], ...] = ()
    header_line: int = 1  # the header's line: later after blank lines or a title above it

    def place(self, index: int, line: int) -> str | None:
        """Where a cell is, the spreadsheet's way (``cell C2 of sheet 'Listino'``); None
        for a CSV file, whose messages give the line and the column's name."""
        if self.sheet is None:
            return None
        letters = ""
        number = index + 1
        while number:
            number, rest = divmod(number - 1, 26)
            letters = chr(ord("A") + rest) + letters
        return f"cell {letters}{line} of sheet '{self.sheet}'"


def drop_footer(table: Table, marker: str) -> tuple[Table, list[int]]:
    """``table`` without the footer a tool writes under its data (Salesforce: "Grand
    Totals (3 records)", "Confidential Information - Do Not Distribute", its copyright),
    and the lines it held. The footer is the last row whose one cell starts with
    ``marker``, the one-cell rows just above it and every row below it, all of one cell;
    a file without such an end is returned whole."""
    def one_cell(cells: list[Cell]) -> str | None:
        texts = [t for t in (cell_text(c).strip() for c in cells) if t]
        return texts[0] if len(texts) == 1 else None

    rows = table.rows
    marks = [i for i, (_, cells) in enumerate(rows)
             if (one_cell(cells) or "").casefold().startswith(marker.casefold())]
    if not marks or any(one_cell(cells) is None for _, cells in rows[marks[-1]:]):
        return table, []
    start = marks[-1]
    while start > 0 and one_cell(rows[start - 1][1]) is not None:
        start -= 1
    return replace(table, rows=rows[:start]), [line for line, _ in rows[start:]]


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


# A file that starts with one of these says its own encoding, whatever --encoding says
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF32_LE, "utf-32"),
         (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"))


def decode(data: bytes, encoding: str | None = None) -> str:
    """The text of a sheet's bytes: by its BOM (UTF-8, UTF-16, UTF-32), else in
    ``encoding`` (any Python codec name), else UTF-8. A byte the encoding has no
    character for: ``DataError`` naming its line and the option to use."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            encoding = codec
            break
    name = encoding or "utf-8"
    try:
        codec_name = codecs.lookup(name).name
    except LookupError:
        raise UsageError(f"--encoding {name}: no such encoding; use e.g. utf-8, cp1252 "
                         "(Excel on Windows) or latin-1") from None
    try:
        return data.decode("utf-8-sig" if codec_name == "utf-8" else name)
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        other = "cp1252" if codec_name not in ("cp1252",) else "latin-1"
        shown = "UTF-8" if codec_name == "utf-8" else name
        raise DataError(f"not valid {shown} (byte 0x{data[exc.start]:02x}); a file saved by "
                        f"Excel on Windows is often cp1252: import it with --encoding {other}",
                        line=line) from None


def check_delimiter(text: str) -> str:
    """A --delimiter value: one character, or 'tab'; ``UsageError`` otherwise."""
    value = {"tab": "\t", "\\t": "\t"}.get(text.lower(), text)
    if len(value) != 1 or value in "\"\r\n" or value.isalnum():
        raise UsageError(f"--delimiter '{text}' is not one character such as , ; | or tab")
    return value


def read_csv(data: bytes, *, encoding: str | None = None,
             delimiter: str | None = None) -> Table:
    """Parse CSV bytes (first row a header; ``decode`` finds the text), split at
    ``delimiter`` or the one the header shows; ``DataError`` with the line when the file
    cannot be read as CSV at all."""
    text = decode(data, encoding)
    nul = text.find("\x00")
    if nul >= 0:
        raise DataError("the file holds NUL bytes; it is not a CSV text file",
                        line=text.count("\n", 0, nul) + 1)
    if not text.strip():
        raise DataError("the file is empty; its first row must be a header naming the columns")
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""),
                        delimiter=delimiter or _sniff_delimiter(first_line))
    header: list[str] | None = None
    rows: list[tuple[int, list[Cell]]] = []
    start = header_line = 1
    try:
        for cells in reader:
            line, start = start, reader.line_num + 1
            if not any(c.strip() for c in cells):
                continue  # blank lines, before the header or between rows
            if header is None:
                header, header_line = [c.strip() for c in cells], line
            else:
                rows.append((line, [unguard_cell(c) for c in cells]))
    except csv.Error as exc:
        raise DataError(f"not a readable CSV file: {exc}", line=start) from None
    if header is None:  # pragma: no cover - the emptiness check above catches it
        raise DataError("the file has no header row")
    return Table(header, rows, header_line=header_line)


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
