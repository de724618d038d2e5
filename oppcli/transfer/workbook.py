"""Spreadsheets (xlsx) in and out, by openpyxl: a sheet read into the same ``Table`` as a
CSV file (its typed numbers and dates kept as typed, its rows numbered as the
spreadsheet numbers them), and rows written as one sheet with typed cells.

openpyxl is imported inside the functions: only a command reading or writing an xlsx
loads it.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from shlex import quote

from ..errors import DataError, UsageError
from .sheet import Cell, Table, header_of, read_csv

MONEY_FORMAT = "#,##0.00"
DATE_FORMAT = "yyyy-mm-dd"
XLSX_MAGIC = b"PK\x03\x04"  # an xlsx is a zip archive


def is_xlsx(name: str, data: bytes) -> bool:
    """Whether a file is a spreadsheet: by its name, or its bytes when read from stdin."""
    return name.lower().endswith((".xlsx", ".xlsm")) or data.startswith(XLSX_MAGIC)


def _cell(value: object) -> Cell:
    """A cell of openpyxl as opp reads it: a number as the Decimal a spreadsheet shows
    (15 significant digits: 1220.0000000000002 is 1220), a date or time as its day,
    anything else as text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(format(value, ".15g"))
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return str(value)


def read_xlsx(data: bytes, sheet: str | None = None) -> Table:
    """The first sheet (or ``sheet``) of an xlsx file: its first non-blank row the
    header, every other non-blank row with its spreadsheet row number. Formulas give the
    value the spreadsheet last computed."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise DataError(f"not a readable xlsx file ({exc}); save it again from the "
                        "spreadsheet as .xlsx, or export it as CSV") from None
    try:
        # a name as typed, else with case and spaces at the ends ignored, as Excel names
        # sheets (it allows no two names differing in case only)
        named = [n for n in book.sheetnames if n == sheet] or [
            n for n in book.sheetnames if sheet is not None
            and n.strip().casefold() == sheet.strip().casefold()]
        if sheet is None:
            page = book.worksheets[0]
        elif len(named) == 1:
            page = book[named[0]]
        else:
            raise UsageError(f"--sheet {sheet}: the file has no such sheet; its sheets are: "
                             f"{', '.join(book.sheetnames)}")
        header: list[str] | None = None
        header_line = 1
        rows: list[tuple[int, list[Cell]]] = []
        for number, values in enumerate(page.iter_rows(values_only=True), 1):
            cells = [_cell(v) for v in values]
            if not _filled(cells):
                continue
            if header is None:
                header, header_line = header_of(cells), number
            else:
                rows.append((number, cells))
        sheets = tuple((p.title, tuple(header or []) if p.title == page.title
                        else tuple(_top_cells(p))) for p in book.worksheets)
    finally:
        book.close()
    if not header:
        others = [name for name, first in sheets if first]
        raise DataError(f"sheet '{page.title}' is empty; "
                        + (f"the file's sheets are {', '.join(n for n, _ in sheets)}: name "
                           f"the one to read with --sheet NAME (e.g. --sheet "
                           f"{quote(others[0])})" if others else
                           "its first row must be a header naming the columns"))
    return Table(header, rows, page.title, sheets, header_line)


def _filled(cells: list[Cell]) -> bool:
    return any(c.strip() if isinstance(c, str) else True for c in cells)


def _top_cells(page, within: int = 50, titles: int = 10) -> list[str]:
    """The cells of a sheet's first non-blank row (among its first ``within``) and, when
    that row is a title (two cells or fewer), of the rows below it within its first
    ``titles``, down to the first row of more cells: where a header opp reads may
    stand, as ``columns.below_title`` looks for it."""
    found: list[str] = []
    for number, values in enumerate(page.iter_rows(max_row=within, values_only=True), 1):
        cells = [_cell(v) for v in values]
        if not _filled(cells):
            continue
        found += header_of(cells)
        if sum(1 for c in cells if _filled([c])) > 2 or number >= titles:
            break
    return found


def xlsx_bytes(rows: Iterable[dict], columns: Sequence[str], money: Sequence[str] = (),
               dates: Sequence[str] = (), title: str = "opp") -> bytes:
    """Rows as one sheet: the ``money`` columns as numbers shown with two decimals, the
    ``dates`` columns as dates, every other cell as text (never a formula)."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import TYPE_STRING

    book = Workbook()
    page = book.active
    page.title = title
    page.append(list(columns))
    for r, row in enumerate(rows, 2):
        for c, name in enumerate(columns, 1):
            value = row.get(name)
            if value is None or value == "":
                continue
            cell = page.cell(row=r, column=c)
            if name in money:
                cell.value = Decimal(value)
                cell.number_format = MONEY_FORMAT
            elif name in dates:
                cell.value = value if isinstance(value, date) else date.fromisoformat(value)
                cell.number_format = DATE_FORMAT
            else:
                cell.value = str(value)
                cell.data_type = TYPE_STRING  # '=…' stays text: no formula ever runs
    page.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def read_sheet(name: str, data: bytes, *, encoding: str | None = None,
               delimiter: str | None = None, sheet: str | None = None) -> Table:
    """A CSV or xlsx file read into a ``Table`` (xlsx by its name or its bytes);
    --encoding and --delimiter are for CSV, --sheet for xlsx."""
    if is_xlsx(name, data):
        if delimiter or encoding:
            raise UsageError(f"{name} is an xlsx file: --delimiter and --encoding are for CSV "
                             "files")
        return read_xlsx(data, sheet)
    if sheet:
        raise UsageError(f"--sheet {sheet}: {name} is a CSV file, which has one sheet")
    return read_csv(data, encoding=encoding, delimiter=delimiter)
