"""Country and currency codes are ISO's (Babel's lists), not any two or three letters."""

from __future__ import annotations

import re

import pytest
from babel import Locale

from oppcli.domain import l10n
from oppcli.domain.l10n import check_country, check_currency, countries, currencies
from oppcli.domain.model import Account, settings_from


def test_the_lists_are_iso_3166_and_iso_4217():
    assert {"IT", "DE", "GB", "US", "CH", "GR", "XK"} <= countries()
    assert not {"ZZ", "EU", "EZ", "UN", "QO", "XA", "XB", "UK", "EL", "001"} & countries()
    assert 245 <= len(countries()) <= 255
    assert {"EUR", "USD", "GBP", "CHF", "JPY", "ITL"} <= currencies()  # ITL: old files
    assert not {"XXX", "XTS", "ABC", "EURO"} & currencies()


def test_the_codes_checked_without_babel_are_babels():
    """The common codes a change checks without loading Babel's data (#25) are in its
    lists: the answer is the one the lists give."""
    assert currencies() >= l10n.COMMON_CURRENCIES
    assert countries() >= l10n.COMMON_COUNTRIES
    for tag in l10n.COMMON_LOCALES:
        assert str(Locale.parse(tag)) == tag and re.fullmatch(l10n.LOCALE_PATTERN, tag)


@pytest.mark.parametrize("code", ["ABC", "XXX", "XTS", "EU", "EURO", ""])
def test_a_currency_that_is_no_code_is_named(code):
    with pytest.raises(ValueError, match=f"currency '{code}' is not an ISO 4217 currency code"):
        check_currency(code)


def test_codes_are_written_upper_case():
    assert check_currency(" usd ") == "USD" and check_country("it") == "IT"


def test_the_models_check_the_codes_of_files():
    assert settings_from({"currency": "USD"}).currency == "USD"
    with pytest.raises(ValueError, match="'ABC' is not an ISO 4217"):
        settings_from({"currency": "ABC"})
    with pytest.raises(ValueError, match="'ZZ' is not an ISO 3166"):
        Account.model_validate({"id": "ab12cd34", "name": "Delta", "country": "ZZ"})
    assert Account.model_validate({"id": "ab12cd34", "name": "Delta",
                                   "country": "IT"}).country == "IT"
