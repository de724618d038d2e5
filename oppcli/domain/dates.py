"""Dates as people write them: the one parser behind every DATE option.

A day is ``YYYY-MM-DD``, ``today``, ``yesterday``, ``tomorrow``, a signed offset
from today (``-7d``, ``+2w``, ``-3m``, ``+1y``: days, weeks, calendar months, years)
or ``N days ago`` (weeks, months, years). The bound of a window also takes a period,
``2026``, ``2026-11`` or ``2026-Q4``: its first day for a start (``--from``,
``--since``), its last day for an end (``--to``, ``--until``, ``--as-of``).

Calendar months and years keep the day of the month, clamped to the month's last
day: 2027-01-31 + 1 month is 2027-02-28, 2028-02-29 - 1 year is 2027-02-28. Pure:
"today" is given by the caller (``env.today()``, which honours ``OPP_TODAY``).
"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta
from typing import Literal

Bound = Literal["day", "start", "end"]

DAY_FORMS = ("YYYY-MM-DD, today, yesterday, tomorrow, an offset such as -7d, +2w, -3m "
             "or +1y, or '7 days ago' (weeks, months, years too)")
PERIOD_FORMS = "a period 2026, 2026-11 or 2026-Q4"

_WORDS = {"today": 0, "yesterday": -1, "tomorrow": 1}
_OFFSET = re.compile(r"([+-])(\d{1,6})([dwmy])")
_AGO = re.compile(r"(\d{1,6})\s+(day|week|month|year)s?\s+ago")
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}")
_YEAR = re.compile(r"(\d{4})")
_MONTH = re.compile(r"(\d{4})-(\d{2})")
_QUARTER = re.compile(r"(\d{4})-[qQ]([1-4])")


def add_months(day: date, months: int) -> date:
    """``day`` moved by whole calendar months, its day clamped to the month's end."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    if not 1 <= year <= 9999:
        raise ValueError("falls outside the years 1 to 9999")
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def shift(day: date, count: int, unit: str) -> date:
    """``day`` moved by ``count`` units: d(ays), w(eeks), m(onths), y(ears)."""
    try:
        if unit == "d":
            return day + timedelta(days=count)
        if unit == "w":
            return day + timedelta(weeks=count)
    except OverflowError:
        raise ValueError("falls outside the years 1 to 9999") from None
    return add_months(day, count * (12 if unit == "y" else 1))


def period_bounds(text: str) -> tuple[date, date] | None:
    """The first and last day of a period ``2026``, ``2026-11`` or ``2026-Q4``; None
    when ``text`` is not one; ``ValueError`` for a month or year that does not exist."""
    text = text.strip()
    if m := _YEAR.fullmatch(text):
        year = int(m[1])
        if year < 1:
            raise ValueError("there is no year 0")
        return date(year, 1, 1), date(year, 12, 31)
    if m := _MONTH.fullmatch(text):
        year, month = int(m[1]), int(m[2])
        if not (1 <= month <= 12 and year >= 1):
            raise ValueError(f"there is no month {m[2]}" if year else "there is no year 0")
        return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
    if m := _QUARTER.fullmatch(text):
        year, last = int(m[1]), 3 * int(m[2])
        if year < 1:
            raise ValueError("there is no year 0")
        return date(year, last - 2, 1), date(year, last, calendar.monthrange(year, last)[1])
    return None


def parse_day(text: str, today: date, bound: Bound = "day") -> date:
    """The day ``text`` names, relative forms counted from ``today``; with ``bound``
    'start' or 'end', a period's first or last day too. ``ValueError`` naming the
    accepted forms otherwise."""
    raw = str(text).strip()
    word = " ".join(raw.lower().split())
    forms = DAY_FORMS if bound == "day" else f"{DAY_FORMS}, or {PERIOD_FORMS}"
    try:
        if word in _WORDS:
            return today + timedelta(days=_WORDS[word])
        if m := _OFFSET.fullmatch(word):
            count = int(m[2])
            return shift(today, -count if m[1] == "-" else count, m[3])
        if m := _AGO.fullmatch(word):
            return shift(today, -int(m[1]), m[2][0])
        if _ISO.fullmatch(word):
            try:
                return date.fromisoformat(word)
            except ValueError as exc:
                raise ValueError(f"'{raw}' is not a real date ({exc}); write it as {forms}") \
                    from None
        if bound != "day":
            found = period_bounds(word)
            if found is not None:
                return found[0] if bound == "start" else found[1]
    except ValueError as exc:
        if str(exc).startswith("'"):
            raise
        raise ValueError(f"'{raw}' is not a date ({exc}); write it as {forms}") from None
    raise ValueError(f"'{raw}' is not a date; write it as {forms}")
