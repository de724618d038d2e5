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


def parse_date(value: str) -> date:
    """A calendar date written YYYY-MM-DD; ``ValueError`` saying what is wrong."""
    text = str(value).strip()
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise ValueError(f"'{text}' is not a date; write it as YYYY-MM-DD, e.g. 2026-12-31")
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"'{text}' is not a real date ({exc})") from None


class _Date(click.ParamType):
    name = "date"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        try:
            return parse_date(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


DATE = _Date()


class _Currency(click.ParamType):
    name = "currency"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> str:
        text = str(value).strip().upper()
        if not re.fullmatch(r"[A-Z]{3}", text):
            self.fail(f"'{value}' is not a currency code; use three letters such as EUR or USD",
                      param, ctx)
        return text


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
