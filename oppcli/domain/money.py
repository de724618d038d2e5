"""Exact money arithmetic: parsing with a dot, half-up rounding to cents, printing.

Every amount in opp is a ``Decimal``; binary floating point never touches money.
Parsing functions raise ``ValueError`` with a message fit for a user, so that the
command line can turn it into a one-line usage error.
"""

from __future__ import annotations

import decimal
import re
from collections.abc import Callable
from contextvars import ContextVar
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
HUNDRED = Decimal(100)
# The largest amount opp stores: a trillion minus a cent. With quantities up to a
# billion and 60 significant digits of working precision, no total of any size
# of repo can overflow or lose a cent.
MAX_MONEY = Decimal("999999999999.99")
MAX_QUANTITY = Decimal("1000000000")
decimal.getcontext().prec = 60

_PLAIN = re.compile(r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$")  # ASCII digits only


def parse_decimal(text: str, what: str = "value", *, places: int | None = None,
                  minimum: Decimal | None = None, maximum: Decimal | None = None,
                  positive: bool = False) -> Decimal:
    """Parse a plain decimal written with a dot (``12.50``), refusing everything else.

    Commas, thousands separators, exponents, NaN and infinities are refused with a
    message that says how to write the number instead.
    """
    raw = str(text).strip()
    if not raw:
        raise ValueError(f"{what} is empty; write a number such as 12.50")
    if not _PLAIN.match(raw):
        if re.fullmatch(r"[+-]?[0-9]{1,3},[0-9]{3}", raw):
            whole, part = raw.split(",")
            raise ValueError(f"{what} '{raw}' is ambiguous; write {whole}{part} if the comma "
                             f"separates thousands, or {whole}.{part.rstrip('0') or '0'} if it "
                             "is a decimal comma (opp takes a dot for decimals)")
        if re.fullmatch(r"[+-]?[0-9]+,[0-9]+", raw):
            raise ValueError(f"{what} '{raw}' uses a comma; write decimals with a dot: "
                             f"{raw.replace(',', '.')}")
        if re.fullmatch(r"[+-]?[0-9]{1,3}([,.' ][0-9]{3})+([.,][0-9]+)?", raw):
            raise ValueError(f"{what} '{raw}' has a thousands separator; write it without one, "
                             "with a dot for decimals, e.g. 1234.50")
        if any(c.isdigit() and not c.isascii() for c in raw):  # Arabic-Indic, full-width…
            raise ValueError(f"{what} '{raw}' holds digits other than 0-9; write it with the "
                             "digits 0-9 and a dot, e.g. 12.50")
        raise ValueError(f"{what} '{raw}' is not a number; write it with digits and a dot, "
                         "e.g. 12.50")
    try:
        value = Decimal(raw)
    except InvalidOperation:  # pragma: no cover - the pattern already guards this
        raise ValueError(f"{what} '{raw}' is not a number") from None
    if value.is_zero():
        value = value.copy_abs()  # -0 is 0: stored as 0.00, never -0.00
    if places is not None:
        exponent = value.as_tuple().exponent
        if isinstance(exponent, int) and -exponent > places:
            raise ValueError(f"{what} '{raw}' has more than {places} decimals")
    if positive and value <= 0:
        raise ValueError(f"{what} must be greater than zero, not {raw}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{what} must be at least {minimum}, not {raw}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{what} must be at most {maximum}, not {raw}")
    return value


def parse_money(text: str, what: str = "amount") -> Decimal:
    """A non-negative amount with at most two decimals, returned with exactly two."""
    return cents(parse_decimal(text, what, places=2, minimum=Decimal(0), maximum=MAX_MONEY))


def number_as_text(value: object, key: str | None = None, *, money: bool = True) -> str:
    """Why a number stored as text is refused, and how to write it. ``amount: "1000"`` is a
    string to YAML, so to the JSON Schema and the editors that check a file with it; opp
    reads it the same way rather than take it for 1000 (``key``: the field, for the hint
    ``amount: 1000.00``; ``money``: written with two decimals)."""
    name = f"{key}: " if key else ""
    example = f"{name}{'1250.00' if money else '3'}"
    if isinstance(value, bool):
        return f"{str(value).lower()} is not a number; write digits, e.g. {example}"
    how = " (in quotes), not a number; write it without quotes"
    try:
        number = parse_decimal(str(value))
    except ValueError:
        # 12,50 and 1.234,50 are decimal commas; 1,000 could be a thousand or one
        comma = re.fullmatch(r"(\d{1,3}(?:\.\d{3})+|\d+),(\d+)", str(value).strip())
        if comma is None or (len(comma[2]) == 3 and "." not in comma[1]):
            return (f'"{value}" is text, not a number; write digits with a dot for decimals '
                    f"and no quotes, e.g. {example}")
        number = Decimal(f"{comma[1].replace('.', '')}.{comma[2]}")
        how = ", not a number; write decimals with a dot and no quotes"
    shown = str(cents(number)) if money else plain(number)
    return f'"{value}" is text{how}: {name}{shown}'


def cents(value: Decimal) -> Decimal:
    """Round half-up to the cent: the one rounding rule of opp (R10)."""
    if not isinstance(value, Decimal):
        value = Decimal(value)
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def line_total(quantity: Decimal, unit_price: Decimal, discount: Decimal) -> Decimal:
    """quantity x unit price x (1 - discount/100), rounded half-up to cents (R10)."""
    return cents(quantity * unit_price * (1 - discount / HUNDRED))


def weighted(amount: Decimal, probability: Decimal | int) -> Decimal:
    """The amount weighted by a stage probability in percent, rounded to cents."""
    return cents(amount * Decimal(probability) / HUNDRED)


def plain(value: Decimal) -> str:
    """A decimal as plain text without exponent or trailing zeros: 2, 1.5, 12.5."""
    value = Decimal(value)
    if value == value.to_integral_value():
        return str(value.quantize(Decimal(1)))
    return format(value.normalize(), "f")


def money_str(value: Decimal) -> str:
    """Money as the exact string of JSON and CSV output: ``2400.30``."""
    return str(cents(value))


# The locale of what people read (tables, text, Markdown, the dashboard): the command
# line sets it for the length of one command (``speaking``), JSON and CSV never read it.
# It holds a locale tag, or a function giving one the first time money is shown, so that
# a command printing only JSON never looks the locale up.
_LOCALE: ContextVar[str | Callable[[], str]] = ContextVar("opp_locale", default="en")
CLASSIC = "en"  # the default locale: opp's own look, 1,234.50 EUR and ISO dates


def speaking(locale: str | Callable[[], str]) -> Callable[[], None]:
    """Show money to people in ``locale`` until the returned function is called."""
    token = _LOCALE.set(locale)
    return lambda: _LOCALE.reset(token)


def human_locale() -> str:
    """The locale money is shown in now (``speaking``), ``en`` by default."""
    value = _LOCALE.get()
    if callable(value):
        value = value()
        _LOCALE.set(value)
    return value


def _spaces(text: str) -> str:
    # Babel writes no-break spaces (1.234,50\u00a0€, 1\u202f234,50): plain spaces read the
    # same in a terminal and let grep and scripts find "1.234,50 €"
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def money_human(value: Decimal, currency: str | None = None, locale: str | None = None) -> str:
    """Money for people: thousands separators, two decimals, currency after. In
    ``locale`` (default: ``human_locale()``): ``en`` keeps opp's classic 1,234.50 EUR;
    any other is Babel's (it: 1.234,50 €, de_CH: CHF 1'234.50), always two decimals."""
    locale = locale or human_locale()
    if locale == CLASSIC:
        text = f"{cents(value):,.2f}"
        return f"{text} {currency}" if currency else text
    from babel.numbers import format_currency, format_decimal

    if currency:
        return _spaces(format_currency(cents(value), currency, locale=locale,
                                       currency_digits=False))
    return _spaces(format_decimal(cents(value), format="#,##0.00", locale=locale))


def fixed_human(value: Decimal, locale: str | None = None) -> str:
    """A figure already rounded (a percentage, a mean of days) for people, its decimals
    as they are: ``63.2`` in ``en``, ``63,2`` in ``it``."""
    locale = locale or human_locale()
    if value.is_zero():
        value = abs(value)  # -0.0 (a tiny negative error, rounded) is 0.0
    if locale == CLASSIC:
        return format(value, "f")  # 1E+1 as 10
    from babel.numbers import format_decimal

    places = max(0, -int(value.as_tuple().exponent))  # finite: an int
    pattern = "#,##0" + ("." + "0" * places if places else "")
    return _spaces(format_decimal(value, format=pattern, locale=locale))


def number_human(value: Decimal, locale: str | None = None) -> str:
    """A quantity or percentage for people: ``plain`` in ``en``, Babel's digits
    (1,5 in it) in any other locale, every decimal kept."""
    locale = locale or human_locale()
    if locale == CLASSIC:
        return plain(value)
    from babel.numbers import format_decimal

    return _spaces(format_decimal(Decimal(plain(value)), format="#,##0.##########",
                                  locale=locale))


# "At most two decimals" for a number that reaches the validator as a binary float.
# 'multipleOf: 0.01' alone is right for validators that compute in decimal (the YAML
# language server) but wrong in those that divide floats (python-jsonschema, and so
# check-jsonschema; ajv by default): 1200.10 / 0.01 gives 120009.99999999999, and
# about one two-decimal value in seven is refused. A quotient x / d rounds to the
# integer n exactly when the relative errors of x and d differ by less than half an
# ulp of n; 0.01 and the two doubles next to 1/300 have errors far enough apart that
# for every x one of the three quotients is exact (checked for every value from 0.00
# to 19,999,999.99 and for a billion random ones up to 2**53 cents; the tests repeat
# it on a sample). The extra divisors let through only multiples of 1/300 that no
# one types (they need 16 significant digits), so 1.001 or 12.345 are still refused.
CENT_DIVISORS = (0.01, 0.003333333333333333, 0.0033333333333333335)
MONEY_SCHEMA: dict[str, Any] = {
    "$comment": "Money: a number >= 0 with at most two decimals. multipleOf 0.01 for "
                "validators that compute in decimal; the two divisors next to 1/300 "
                "absorb binary-float rounding in validators that divide floats "
                "(see oppcli/domain/money.py).",
    "type": "number",
    "minimum": 0,
    "maximum": 999999999999.99,
    "anyOf": [{"multipleOf": d} for d in CENT_DIVISORS],
}
