"""Money: exact decimals, a dot only, half-up per line (R10)."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oppcli.domain import money


@pytest.mark.parametrize("text, expected", [
    ("12.50", Decimal("12.50")), ("12.5", Decimal("12.50")), ("0", Decimal("0.00")),
    ("1200", Decimal("1200.00")), (" 7 ", Decimal("7.00")), (".5", Decimal("0.50")),
])
def test_parse_money(text, expected):
    value = money.parse_money(text)
    assert value == expected and str(value) == str(expected)


@pytest.mark.parametrize("text, words", [
    ("12,50", "use a dot"), ("1,234.50", "thousands separator"), ("1.234,50", "thousands"),
    ("abc", "not a number"), ("-5", "at least 0"), ("1e3", "not a number"),
    ("NaN", "not a number"), ("Infinity", "not a number"), ("", "empty"),
    ("12.505", "more than 2 decimals"), ("€12", "not a number"),
])
def test_parse_money_refuses(text, words):
    with pytest.raises(ValueError, match=words.replace("use a dot", "with a dot")):
        money.parse_money(text)


def test_half_up_not_bankers():
    assert money.cents(Decimal("0.125")) == Decimal("0.13")
    assert money.cents(Decimal("0.135")) == Decimal("0.14")
    assert money.cents(Decimal("2.675")) == Decimal("2.68")  # a float would say 2.67


def test_line_total_rounds_per_line():
    # 3 x 0.335 = 1.005 -> 1.01 per line; two lines give 2.02, not round(2.010) = 2.01
    line = money.line_total(Decimal(3), Decimal("0.335"), Decimal(0))
    assert line == Decimal("1.01")
    assert money.line_total(Decimal(2), Decimal("1200.00"), Decimal(10)) == Decimal("2160.00")
    assert money.line_total(Decimal("1.5"), Decimal("99.99"), Decimal("12.5")) == Decimal("131.24")


def test_formatting():
    assert money.money_human(Decimal("1234567.5"), "EUR") == "1,234,567.50 EUR"
    assert money.money_str(Decimal("2400.3")) == "2400.30"
    assert money.plain(Decimal("2.000")) == "2"
    assert money.plain(Decimal("100")) == "100"
    assert money.plain(Decimal("12.50")) == "12.5"
    assert money.weighted(Decimal("1000.01"), 25) == Decimal("250.00")


cents_values = st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False,
                           allow_infinity=False)


@given(cents_values)
def test_money_round_trips_through_text(value):
    assert money.parse_money(money.money_str(value)) == value


@given(st.decimals(min_value=0, max_value=10**6, places=4), cents_values,
       st.decimals(min_value=0, max_value=100, places=2))
def test_line_total_is_exact_cents(qty, price, discount):
    total = money.line_total(qty, price, discount)
    assert total == total.quantize(Decimal("0.01"))
    exact = qty * price * (1 - discount / 100)
    assert abs(total - exact) <= Decimal("0.005")
