"""The one date parser (domain.dates): ISO days, words, offsets, 'N units ago',
periods as window bounds; month ends, leap days and year ends."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import depth
from oppcli.domain.dates import add_months, parse_day, period_bounds

TODAY = date(2026, 11, 26)


@pytest.mark.parametrize("text, expected", [
    ("2026-03-01", date(2026, 3, 1)),
    ("today", TODAY), ("Today", TODAY), (" yesterday ", date(2026, 11, 25)),
    ("tomorrow", date(2026, 11, 27)),
    ("-7d", date(2026, 11, 19)), ("+7d", date(2026, 12, 3)), ("+2w", date(2026, 12, 10)),
    ("-3m", date(2026, 8, 26)), ("+1y", date(2027, 11, 26)), ("-0d", TODAY),
    ("7 days ago", date(2026, 11, 19)), ("1 day ago", date(2026, 11, 25)),
    ("2 weeks ago", date(2026, 11, 12)), ("3 months ago", date(2026, 8, 26)),
    ("1 year ago", date(2025, 11, 26)), ("0 days ago", TODAY),
    ("10  Days   AGO", date(2026, 11, 16)),
])
def test_days(text, expected):
    assert parse_day(text, TODAY) == expected


@pytest.mark.parametrize("today, text, expected", [
    (date(2027, 1, 31), "+1m", date(2027, 2, 28)),   # clamped at the month's end
    (date(2028, 1, 31), "+1m", date(2028, 2, 29)),   # a leap year
    (date(2028, 2, 29), "+1y", date(2029, 2, 28)),   # a leap day, a year on
    (date(2028, 2, 29), "-1y", date(2027, 2, 28)),
    (date(2028, 2, 29), "4 years ago", date(2024, 2, 29)),
    (date(2026, 3, 31), "1 month ago", date(2026, 2, 28)),
    (date(2026, 5, 31), "-1m", date(2026, 4, 30)),
    (date(2026, 12, 31), "+1d", date(2027, 1, 1)),    # year ends
    (date(2027, 1, 1), "yesterday", date(2026, 12, 31)),
    (date(2026, 12, 15), "+1m", date(2027, 1, 15)),
    (date(2027, 1, 15), "-1m", date(2026, 12, 15)),
    (date(2026, 12, 31), "-12m", date(2025, 12, 31)),
    (date(2028, 2, 28), "+1d", date(2028, 2, 29)),
    (date(2026, 12, 28), "+1w", date(2027, 1, 4)),
])
def test_month_ends_leap_days_and_year_ends(today, text, expected):
    assert parse_day(text, today) == expected


@pytest.mark.parametrize("text, first, last", [
    ("2026", date(2026, 1, 1), date(2026, 12, 31)),
    ("2026-11", date(2026, 11, 1), date(2026, 11, 30)),
    ("2028-02", date(2028, 2, 1), date(2028, 2, 29)),
    ("2027-02", date(2027, 2, 1), date(2027, 2, 28)),
    ("2026-Q1", date(2026, 1, 1), date(2026, 3, 31)),
    ("2026-Q2", date(2026, 4, 1), date(2026, 6, 30)),
    ("2026-q3", date(2026, 7, 1), date(2026, 9, 30)),
    ("2026-Q4", date(2026, 10, 1), date(2026, 12, 31)),
])
def test_periods_are_window_bounds(text, first, last):
    assert period_bounds(text) == (first, last)
    assert parse_day(text, TODAY, "start") == first
    assert parse_day(text, TODAY, "end") == last
    # a plain day is the same day for either bound
    assert parse_day("2026-11-05", TODAY, "start") == parse_day("2026-11-05", TODAY, "end")


@pytest.mark.parametrize("text", ["2026", "2026-11", "2026-Q4"])
def test_a_period_is_not_a_day(text):
    with pytest.raises(ValueError, match="is not a date; write it as YYYY-MM-DD"):
        parse_day(text, TODAY)


@pytest.mark.parametrize("text", [
    "", "soon", "7d", "+7", "+7x", "-3 m", "2026-13-01", "2026-02-30", "26-11-01",
    "2026-11-1", "7 days", "days ago", "-1 days ago", "2026-Q5", "2026-Q0", "2026-13",
    "next week", "1e3d", "+9999999d", "2026/11/01",
])
def test_refusals_name_the_forms(text):
    with pytest.raises(ValueError) as info:
        parse_day(text, TODAY, "end")
    message = str(info.value)
    assert message.startswith("'")
    assert "is not a" in message and "YYYY-MM-DD" in message and "2026-Q4" in message


def test_far_offsets_are_refused_not_crashing():
    with pytest.raises(ValueError, match="falls outside the years"):
        parse_day("+9000y", TODAY)
    with pytest.raises(ValueError, match="falls outside the years"):
        parse_day("-999999d", TODAY)


days = st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31))


@settings(max_examples=depth(200), deadline=None)
@given(days, st.integers(0, 600))
def test_day_offsets_are_exact(today, n):
    assert parse_day(f"-{n}d", today) == today - timedelta(days=n)
    assert parse_day(f"{n} days ago", today) == parse_day(f"-{n}d", today)
    assert parse_day(f"+{n}w", today) == today + timedelta(weeks=n)


@settings(max_examples=depth(200), deadline=None)
@given(days, st.integers(-240, 240))
def test_months_keep_the_day_or_clamp_to_the_month_end(today, n):
    moved = add_months(today, n)
    assert (moved.year * 12 + moved.month) - (today.year * 12 + today.month) == n
    assert moved.day == today.day or (moved.day < today.day
                                      and (moved + timedelta(days=1)).day == 1)
    assert parse_day(f"{'+' if n >= 0 else '-'}{abs(n)}m", today) == moved
    assert parse_day(f"{'+' if n >= 0 else '-'}{abs(n)}y", today) == add_months(today, 12 * n)


@settings(max_examples=depth(200), deadline=None)
@given(days)
def test_periods_cover_the_day(day):
    for text in (f"{day.year}", f"{day:%Y-%m}", f"{day.year}-Q{(day.month - 1) // 3 + 1}"):
        first, last = period_bounds(text)
        assert first <= day <= last
        assert first.day == 1 and (last + timedelta(days=1)).day == 1
    assert parse_day(day.isoformat(), TODAY) == day
