"""Locales, by Babel: which tags opp takes (``it``, ``en``, ``de_CH``…), dates written
a language's way, and the numbers and dates of a European sheet read back.

Showing money is ``money.money_human``; this module reads what people wrote. Babel is
imported inside the functions (a command printing JSON never loads it). Pure: no
files of opp's, no environment.
"""

from __future__ import annotations

import functools
import re
from datetime import date, datetime
from decimal import Decimal

from .money import CLASSIC, plain

LOCALE_PATTERN = r"^[A-Za-z]{2,3}([_-][A-Za-z0-9]{2,8}){0,2}$"

# --date-format: the orders a sheet writes its dates in, as strptime formats
DATE_FORMATS = {"DD/MM/YYYY": "%d/%m/%Y", "MM/DD/YYYY": "%m/%d/%Y", "YYYY-MM-DD": "%Y-%m-%d",
                "DD.MM.YYYY": "%d.%m.%Y"}

# Currency signs a cell may carry around its number: symbols and ISO codes
_SIGN = r"(?:[A-Z]{3}|[€$£¥₣₤₹]|Fr\.?|CHF)"
_CURRENCY = re.compile(rf"^\s*{_SIGN}?\s*(.*?)\s*{_SIGN}?\s*$")
_SPACE = re.compile(r"[ \u00a0\u202f\u2009]")
# opp's own plain number (CSV, TSV): digits, a dot, exactly two decimals, no grouping.
# Never a grouped number where a dot groups digits (groups have three), so read as is.
_MACHINE = re.compile(r"[+-]?[0-9]+\.[0-9]{2}")
# a number written with a decimal point (1,234.50 or 1234.5): a file of another locale
_POINT = re.compile(r"[+-]?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)\.[0-9]+")
# a number written with a decimal comma (12.500,00 or 900,00), in a locale of the point
_COMMA = re.compile(r"[+-]?(?:[0-9]{1,3}(?:\.[0-9]{3})+|[0-9]+),[0-9]+")


# Codes Babel lists among territories that are no ISO 3166 country: regions (EU,
# Eurozone, UN, Outlying Oceania), islands with codes of their own only in Unicode's
# data, pseudo-locales and the unknown region ZZ. Kosovo's XK, used by the EU, stays.
_NOT_COUNTRIES = frozenset({"AC", "CP", "CQ", "DG", "EA", "EU", "EZ", "IC", "QO", "TA", "UN",
                            "XA", "XB", "ZZ"})
# ISO 4217 codes that are no money: XXX "no currency", XTS for tests
_NOT_MONEY = frozenset({"XXX", "XTS"})
# what people write for a code that is another: the United Kingdom, Greece (its VAT prefix)
_COUNTRY_HINTS = {"UK": "GB", "EL": "GR"}


@functools.cache
def countries() -> frozenset[str]:
    """The ISO 3166 alpha-2 country codes (Babel's territories)."""
    from babel import Locale

    return frozenset(code for code in map(str, Locale("en").territories)
                     if len(code) == 2 and code.isalpha()) - _NOT_COUNTRIES


@functools.cache
def country_names() -> dict[str, str]:
    """Countries' names (case-folded) in English, Italian, German, French and Spanish,
    each to its code: an account list's "Paese" column says "Italia"."""
    from babel import Locale

    valid = countries()
    names: dict[str, str] = {}
    for language in ("en", "it", "de", "fr", "es"):
        for code, name in Locale(language).territories.items():
            if code in valid:
                names.setdefault(" ".join(name.casefold().split()), code)
    return names


@functools.cache
def currencies() -> frozenset[str]:
    """The ISO 4217 currency codes (Babel's, past ones too: old files may hold ITL)."""
    from babel.numbers import list_currencies

    return frozenset(list_currencies()) - _NOT_MONEY


def check_country(text: str) -> str:
    """An ISO 3166 alpha-2 country code, upper-case (``it`` is ``IT``); ``ValueError``
    naming the code and how to write one otherwise."""
    code = str(text).strip().upper()
    if code in COMMON_COUNTRIES or code in countries():
        return code
    named = country_names().get(" ".join(str(text).casefold().split())) if len(code) > 2 \
        else None
    if named:  # "Italia", "Germany", "Svizzera": the country's name in a usual language
        return named
    hint = f" (did you mean {_COUNTRY_HINTS[code]}?)" if code in _COUNTRY_HINTS else ""
    raise ValueError(f"country '{text}' is not an ISO 3166 country code{hint}; write its two "
                     "letters, such as IT, DE, FR, GB or US, or its name (Italia, Germany)")


# Codes every Babel lists, and locale tags it knows written its way (a test holds them
# to ``currencies()``, ``countries()`` and ``check_locale``'s answer from Babel): a file
# using them is checked without loading Babel, which costs a change (``opp note``…)
# about 15 ms of its 0.2 s (#25)
COMMON_CURRENCIES = frozenset({
    "EUR", "USD", "GBP", "CHF", "JPY", "CNY", "CAD", "AUD", "NZD", "SEK", "NOK", "DKK",
    "PLN", "CZK", "HUF", "RON", "BGN", "TRY", "RUB", "INR", "BRL", "MXN", "ZAR", "SGD",
    "HKD", "KRW", "ILS", "AED", "SAR"})
COMMON_COUNTRIES = frozenset({
    "IT", "DE", "FR", "GB", "US", "ES", "PT", "NL", "BE", "LU", "AT", "CH", "IE", "DK",
    "SE", "NO", "FI", "PL", "CZ", "SK", "HU", "RO", "BG", "GR", "HR", "SI", "CA", "AU",
    "JP", "CN", "IN", "BR", "MX"})

COMMON_LOCALES = frozenset({
    "en", "en_US", "en_GB", "it", "it_IT", "it_CH", "de", "de_DE", "de_AT", "de_CH", "fr",
    "fr_FR", "fr_CH", "fr_BE", "es", "es_ES", "pt", "pt_PT", "pt_BR", "nl", "nl_NL"})


def check_currency(text: str) -> str:
    """An ISO 4217 currency code, upper-case (``eur`` is ``EUR``); ``ValueError`` naming
    the code and how to write one otherwise."""
    code = str(text).strip().upper()
    if code in COMMON_CURRENCIES or code in currencies():
        return code
    raise ValueError(f"currency '{text}' is not an ISO 4217 currency code; write its three "
                     "letters, such as EUR, USD, GBP or CHF")


def check_locale(text: str) -> str:
    """A locale tag Babel knows, written its way (``it``, ``it_CH``, ``de``);
    ``ValueError`` saying which tags exist otherwise."""
    raw = str(text).strip()
    if raw in COMMON_LOCALES:
        return raw
    from babel import Locale, UnknownLocaleError

    hint = ("use a language code such as it, en, de, fr or es, or one with a country: "
            "it_CH, en_GB")
    if not re.fullmatch(LOCALE_PATTERN, raw):
        raise ValueError(f"'{text}' is not a locale; {hint}")
    try:
        return str(Locale.parse(raw.replace("-", "_")))
    except (UnknownLocaleError, ValueError):
        raise ValueError(f"unknown locale '{text}'; {hint}") from None


def language(locale: str) -> str:
    """The language of a locale tag: ``it`` of ``it_CH``."""
    return re.split(r"[_-]", locale, maxsplit=1)[0].lower()


def day_human(day: date, locale: str) -> str:
    """A date for people: ISO in ``en`` (opp's classic), else the locale's long form
    (15 gennaio 2027)."""
    if locale == CLASSIC:
        return day.isoformat()
    from babel.dates import format_date

    return format_date(day, "long", locale=locale)


def example_number(locale: str) -> str:
    """1234.50 as ``locale`` writes it, for messages: 1.234,50 in it."""
    from babel.numbers import format_decimal

    return format_decimal(Decimal("1234.50"), format="#,##0.00", locale=locale)


def parse_number(text: str, what: str, locale: str) -> Decimal:
    """A number as written in ``locale`` (it: ``1.234,50``, ``1234,50``, ``€ 1.234,50``),
    its currency sign or code around it dropped; or plain as opp exports it (``2314.69``:
    a dot and exactly two decimals, no grouping), which no locale whose dot groups
    thousands writes, so it is never ambiguous. ``ValueError`` with an example of the
    locale's way when the grouping is wrong or the text is no number."""
    from babel.numbers import (
        NumberFormatError,
        get_decimal_symbol,
        get_group_symbol,
        parse_decimal,
    )

    raw = str(text).strip()
    match = _CURRENCY.fullmatch(raw)
    body = match.group(1) if match else raw
    if _MACHINE.fullmatch(body):
        return Decimal(body)
    group = get_group_symbol(locale)
    if _SPACE.fullmatch(group):  # fr, sv…: any space groups digits
        body = _SPACE.sub(group, body)
    try:
        value = parse_decimal(body, locale=locale, strict=True)
    except NumberFormatError:
        # Babel's own suggestions move the decimal point (2314.69: "231.469"): none here
        tip = (", or import with --locale en if the file writes 1,234.50"
               if _POINT.fullmatch(body) else
               ", or import with --locale it if the file writes 1.234,50"
               if _COMMA.fullmatch(body) and get_decimal_symbol(locale) == "." else "")
        raise ValueError(f"{what} '{raw}' is not a number written the {locale} way, such as "
                         f"{example_number(locale)}, nor plain with two decimals, such as "
                         f"1234.50{tip}") from None
    if not value.is_finite():
        raise ValueError(f"{what} '{raw}' is not a number")
    return Decimal(plain(value)) if value == value.to_integral_value() else value


# the sign itself, before a number or after one
_SIGNS = re.compile(rf"^\s*({_SIGN})\s*[-+(\d.,]|[\d.,)]\s*({_SIGN})\s*$")


def currency_named(text: str, locale: str) -> str | None:
    """The currency a number's text names beside it, as a code: ``USD 1,234.50`` USD,
    ``1.234,50 €`` EUR, ``$1,234.50`` what ``locale`` writes as ``$`` (USD in en_US);
    None for a bare number, or a sign the locale gives to no one currency;
    ``ValueError`` for three letters that are no currency's code."""
    match = _SIGNS.search(str(text))
    if match is None:
        return None
    sign = (match.group(1) or match.group(2)).rstrip(".")
    if sign in ("Fr", "CHF"):
        return "CHF"
    if re.fullmatch(r"[A-Z]{3}", sign):
        try:
            return check_currency(sign)
        except ValueError:
            raise ValueError(f"'{text}' names {sign}, which is no ISO 4217 currency code; "
                             "write the amount's code, such as EUR, USD, GBP or CHF") from None
    return _code_of_sign(sign, locale)


@functools.cache
def _code_of_sign(sign: str, locale: str) -> str | None:
    """The one currency ``locale`` writes as ``sign`` (once per import, not per cell)."""
    from babel import Locale

    codes = [code for code, shown in Locale.parse(locale).currency_symbols.items()
             if shown == sign]
    return codes[0] if len(codes) == 1 else None


def date_order(locale: str) -> str:
    """The --date-format a locale writes its short dates in: DD/MM/YYYY for it and
    fr, MM/DD/YYYY for en, DD.MM.YYYY for de."""
    from babel import Locale

    pattern = Locale.parse(locale).date_formats["short"].pattern
    day, month = pattern.find("d"), pattern.find("M")
    year = pattern.find("y")
    if 0 <= year < min(day, month):
        return "YYYY-MM-DD"
    if "." in pattern:
        return "DD.MM.YYYY"
    return "DD/MM/YYYY" if day < month else "MM/DD/YYYY"


def parse_date(text: str, what: str, date_format: str) -> date:
    """A date written as ``date_format`` (one of ``DATE_FORMATS``); a time after it, as
    spreadsheets write, is dropped. ``ValueError`` naming the format otherwise."""
    raw = str(text).strip()
    head = (raw.split(" ", 1)[0].split("T", 1)[0].rstrip(",") if date_format != "YYYY-MM-DD"
            else raw[:10])  # "1/15/2027, 10:30 AM": Salesforce's date and time
    try:
        return datetime.strptime(head, DATE_FORMATS[date_format]).date()
    except ValueError:
        example = datetime(2027, 1, 15).strftime(DATE_FORMATS[date_format])
        tip = ""
        for other in DATE_FORMATS:  # 15/01/2027 read month first: say which order reads it
            try:
                datetime.strptime(head, DATE_FORMATS[other])
            except ValueError:
                continue
            tip = f"; if the file writes dates {other}, import it with --date-format {other}"
            break
        raise ValueError(f"{what} '{raw}' is not a real date written {date_format} (e.g. "
                         f"{example}){tip}") from None
