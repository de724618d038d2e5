"""Argument types: money, quantities, discounts, dates, one-line text.

Each refuses bad input with a message that says how to write it correctly; click
turns the refusal into a usage error (exit 2).
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

import click

from ..domain import money, visible
from ..domain.dates import Bound, parse_day
from ..domain.l10n import check_currency
from ..env import today


class _Decimal(click.ParamType):
    def __init__(self, name: str, what: str, **limits: Any) -> None:
        self.name = name
        self.what = what
        self.limits = limits

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Decimal:
        if isinstance(value, Decimal):
            return value
        try:
            result = money.parse_decimal(value, self.what, **self.limits)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)
        return money.cents(result) if self.name == "money" else result


MONEY = _Decimal("money", "amount", places=2, minimum=Decimal(0), maximum=money.MAX_MONEY)
QUANTITY = _Decimal("quantity", "quantity", places=4, positive=True,
                    maximum=money.MAX_QUANTITY)
DISCOUNT = _Decimal("discount", "discount", places=2, minimum=Decimal(0),
                    maximum=Decimal(100))


def parse_date(value: str, bound: Bound = "day") -> date:
    """A date as every DATE option reads it (``domain.dates``): YYYY-MM-DD, today,
    yesterday, tomorrow, -7d, +2w, -3m, +1y, 'N days ago'; with ``bound`` 'start' or
    'end', a period 2026, 2026-11, 2026-Q4 too. ``ValueError`` saying what is wrong."""
    return parse_day(value, today(), bound)


class _Date(click.ParamType):
    """The one type of every DATE option; ``bound`` says whether a period is taken,
    and which of its days (start: the first, end: the last)."""

    name = "date"

    def __init__(self, bound: Bound = "day") -> None:
        self.bound = bound

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        try:
            return parse_date(value, self.bound)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


DATE = _Date()
START = _Date("start")  # --from, --since: a period's first day
END = _Date("end")  # --to, --until, --as-of: a period's last day


def me_or_name(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """An ``--owner`` filter: ``me`` is the identity opp commits as (git's user.name,
    else OPP_USER, else the OS user); any other text is itself."""
    if value is not None and value.strip().casefold() == "me":
        return ctx.find_root().obj.repo.identity.name
    return value


class _Currency(click.ParamType):
    name = "currency"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> str:
        try:
            return check_currency(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


CURRENCY = _Currency()

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")  # line breaks of any kind too


class _Line(click.ParamType):
    """One line of text: no newlines or control characters, not empty, not too long."""

    def __init__(self, name: str = "text", limit: int = 500):
        self.name = name
        self.limit = limit

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> str:
        text = str(value).strip()
        if not text:
            self.fail("cannot be empty", param, ctx)
        if _CONTROL.search(text):
            self.fail("must be one line without control characters", param, ctx)
        found = visible.problem(text)
        if found:
            self.fail(found, param, ctx)
        if len(text) > self.limit:
            self.fail(f"is longer than {self.limit} characters", param, ctx)
        return text


LINE = _Line()
WORD = _Line("word", 100)


class _Sku(click.ParamType):
    name = "sku"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> str:
        text = str(value).strip()
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", text):
            self.fail(f"'{value}' is not a valid SKU; use letters, digits, '.', '_' and '-' "
                      "(up to 64, starting with a letter or digit)", param, ctx)
        return text


SKU = _Sku()


# How a CSV file is written, for every command that reads one (opp import, opp catalog
# import, opp account import)
ENCODING_OPTION = click.option(
    "--encoding", metavar="E",
    help="The CSV file's encoding, e.g. cp1252 or latin-1 (default: UTF-8; a BOM says its "
         "own).")
DELIMITER_OPTION = click.option(
    "--delimiter", metavar="C",
    help="The CSV delimiter (default: the header's , ; or tab); 'tab' for a tab.")
