"""VAT numbers and countries of accounts: the Italian partita IVA checksum, EU formats
by prefix and other countries' where python-stdnum knows them; ISO 3166 country codes.

Pure; stdnum is imported when a VAT number is checked.
"""

from __future__ import annotations

import re

from ..errors import RuleError
from .l10n import check_country, countries


def check_vat(value: str) -> str:
    """The VAT number in its compact form with its country prefix (IT12345670157), or
    ``RuleError`` naming it: the Italian partita IVA checksum (11 digits alone are
    Italian), EU formats by prefix (python-stdnum), other countries' where stdnum knows
    them."""
    from stdnum.exceptions import ValidationError
    from stdnum.util import get_cc_module

    compact = re.sub(r"[\s.\-/]+", "", value).upper()
    if re.fullmatch(r"[0-9]{11}", compact):
        compact = "IT" + compact
    if not re.fullmatch(r"[A-Z]{2}[0-9A-Z+*]{2,14}", compact):
        raise RuleError(f"VAT number '{value}' is not one: write its country prefix and "
                        "number, e.g. IT12345670157")
    country = compact[:2]
    cc = {"EL": "gr"}.get(country, country.lower())
    from stdnum.eu import vat as eu_vat

    if cc not in eu_vat.MEMBER_STATES and country not in countries():
        raise RuleError(f"VAT number '{value}' starts with '{country}', which is no country "
                        "prefix; write the number after its country's, such as IT, DE, FR "
                        "or EL (Greece), e.g. IT12345670157")
    try:
        if cc in eu_vat.MEMBER_STATES:
            eu_vat.validate(compact)
        else:
            module = get_cc_module(cc, "vat")
            if module is not None:
                module.validate(compact[2:])
    except ValidationError as exc:
        raise RuleError(f"VAT number '{value}' is not valid "
                        f"({str(exc).lower().rstrip('.')}); "
                        "check its digits") from None
    return compact


def country_code(value: str) -> str:
    """An account's country, ISO 3166 alpha-2 (``it`` is ``IT``); ``RuleError`` naming
    the code otherwise."""
    try:
        return check_country(value)
    except ValueError as exc:
        raise RuleError(str(exc)) from None
