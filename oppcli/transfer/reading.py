"""How the numbers and dates of a sheet are written: plain (``1234.50``, ``2027-01-15``)
unless a locale or a date format says otherwise (``1.234,50``, ``15/01/2027`` in it).

Without a locale an ambiguous number (``1.234``, ``1,234``) is refused, never guessed.
A cell a spreadsheet typed (a number, a date) is taken as typed, whatever the locale.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from ..domain.l10n import DATE_FORMATS, currency_named, date_order, parse_date, parse_number
from ..domain.money import cents, parse_decimal, parse_money, plain
from ..errors import UsageError

_GROUPED = re.compile(r"[+-]?[0-9]{1,3}(\.[0-9]{3})+")
_EUROPEAN = re.compile(r"[0-9],[0-9]|€")
_US = re.compile(r"[^0-9,.]*[0-9]{1,3}(,[0-9]{3})+\.[0-9]+[^0-9,.]*")  # $12,500.00
_ISO = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\b.*")
_DATE = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})(?:[ T][0-9]{2}:[0-9]{2}"
                   r"(?::[0-9]{2}(?:\.[0-9]+)?)?(?:Z|[+-][0-9]{2}:?[0-9]{2})?)?")


def parse_day(text: str, what: str) -> date:
    """YYYY-MM-DD; a time after it (as HubSpot writes) is allowed and dropped."""
    match = _DATE.fullmatch(text)
    if not match:
        raise ValueError(f"{what} '{text}' is not a date; write it as YYYY-MM-DD, e.g. "
                         "2026-12-31")
    try:
        return date.fromisoformat(match.group(1))
    except ValueError as exc:
        raise ValueError(f"{what} '{text}' is not a real date ({exc})") from None


def check_date_format(text: str) -> str:
    """A --date-format value, one of ``DATE_FORMATS`` (case ignored)."""
    value = text.strip().upper()
    if value not in DATE_FORMATS:
        raise UsageError(f"--date-format '{text}' is not one opp reads; use one of: "
                         f"{', '.join(DATE_FORMATS)}")
    return value


@dataclass(frozen=True)
class Reading:
    """The way a sheet writes numbers (``locale``: None for a plain dot) and dates
    (``date_format``: None for ISO only). ISO dates are always read."""

    locale: str | None = None
    date_format: str | None = None

    @classmethod
    def of(cls, locale: str | None, date_format: str | None) -> Reading:
        """Dates in ``date_format``, else in the order ``locale`` writes them."""
        if date_format is None and locale is not None:
            date_format = date_order(locale)
        return cls(locale, date_format)

    def money(self, cell: str | Decimal | date, what: str, where: str | None = None
              ) -> Decimal:
        """Money: a typed number as typed; text plain, or the locale's way. At most two
        decimals: opp rounds what it computes (R10), never a number it reads. ``where``
        is a typed cell's place in its spreadsheet, for messages."""
        if isinstance(cell, date):
            raise ValueError(f"{what} is a date ({cell}), not an amount")
        if isinstance(cell, Decimal):
            if _decimals(cell) > 2 and cell >= 0:
                at = f" ({where})" if where else ""
                raise ValueError(f"{what}{at} holds {plain(cell)} (the sheet may show it "
                                 f"rounded): money has at most 2 decimals, and {NO_ROUNDING}; "
                                 f"make the cell {cents(cell)} in the sheet")
            return parse_money(plain(cell), what)
        if self.locale is None:
            if _GROUPED.fullmatch(cell.strip()):
                raise ValueError(f"{what} '{cell.strip()}' is ambiguous: a dot grouping "
                                 "thousands, or three decimals? Write it without grouping "
                                 "(1234), or import with --locale it if the file writes "
                                 "1.234,50")
            try:
                _in_cents(parse_decimal(cell, what), cell, what)
                return parse_money(cell, what)
            except ValueError as exc:
                if _US.fullmatch(cell.strip()):
                    raise ValueError(f"{exc}; a file written the US way (1,234.50) imports "
                                     "with --locale en") from None
                if not _EUROPEAN.search(cell):
                    raise
                raise ValueError(f"{exc}; a file written the European way (1.234,50) "
                                 "imports with --locale it") from None
        number = parse_number(cell, what, self.locale)
        _in_cents(number, cell, what)
        try:
            return cents(parse_money(plain(number), what))
        except ValueError as exc:  # say it as the file writes it: '12,345', not '12.345'
            raise ValueError(str(exc).replace(f"'{plain(number)}'", f"'{cell.strip()}'")
                             ) from None

    def currency(self, cell: str | Decimal | date, what: str) -> str | None:
        """The currency an amount's text names beside its number (``USD 485,000.00``,
        ``$12,500.00`` in en_US), read with the locale; None for a typed cell, a bare
        number or no locale. ``ValueError`` for three letters no currency has."""
        if not isinstance(cell, str) or self.locale is None:
            return None
        try:
            return currency_named(cell, self.locale)
        except ValueError as exc:
            raise ValueError(f"{what} {exc}") from None

    def day(self, cell: str | Decimal | date, what: str) -> date:
        """A date: a typed date as typed; text in ISO, or in ``date_format``."""
        if isinstance(cell, date):
            return cell
        if isinstance(cell, Decimal):
            raise ValueError(f"{what} is a number ({plain(cell)}), not a date; format the "
                             "cells as dates, or write them as YYYY-MM-DD")
        if self.date_format is None or self.date_format == "YYYY-MM-DD" or _ISO.fullmatch(cell):
            return parse_day(cell, what)
        return parse_date(cell, what, self.date_format)


NO_ROUNDING = "opp rounds only the totals it computes, never a number it reads"


def _decimals(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _in_cents(number: Decimal, cell: str, what: str) -> None:
    """Refuses an amount read from text ``cell`` with more than two decimals, naming it
    as the file writes it ('12,345' in it)."""
    if _decimals(number) > 2 and number >= 0:
        raise ValueError(f"{what} '{cell.strip()}' has more than 2 decimals: {NO_ROUNDING}; "
                         "round it to cents in the file")


PLAIN = Reading()  # plain numbers and ISO dates: a sheet without a locale
