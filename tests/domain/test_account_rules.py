"""Accounts as rules (#20): how names compare, how ACCOUNT resolves, VAT numbers."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import depth
from oppcli.domain.accounts import (
    CustomerQuery,
    Directory,
    normalise,
    pick,
    refuse_duplicate_vat,
)
from oppcli.domain.vat import check_vat, country_code
from oppcli.errors import NotFound, RuleError


def directory(*accounts: tuple) -> Directory:
    return Directory.of({"id": i, "name": n, "aliases": list(a), "vat": v}
                        for i, n, a, v in accounts)


@pytest.mark.parametrize("spelling", ["ACME S.r.l.", "Acme srl", "acme", "Acme SpA",
                                      "ACME, S.p.A.", "Acme Inc.", "Acme Ltd", "Acme GmbH",
                                      "  Acme s. r. l. ", "Àcme"])
def test_spellings_of_one_company_share_a_key(spelling):
    assert normalise(spelling) == "acme"


def test_a_legal_form_alone_stays_a_name():
    assert normalise("S.p.A.") == "spa" and normalise("Acme Corp") == "acme corp"


def test_resolving_by_id_prefix_name_and_alias():
    d = directory(("4k7qz2ma", "ACME S.r.l.", ["Acme Italia"], None),
                  ("9x1bbbbb", "Globex", [], None))
    for query in ("4k7qz2ma", "4k7q", "acme srl", "ACME", "acme italia", "Acme-Italia"):
        assert d.resolve(query).id == "4k7qz2ma", query
    assert d.resolve("globex inc").id == "9x1bbbbb"
    with pytest.raises(NotFound, match="no account 'Initech'"):
        d.resolve("Initech")


def test_an_ambiguous_name_lists_the_candidates():
    d = directory(("4k7qz2ma", "Acme", [], None), ("9x1bbbbb", "Acme Holding", ["ACME"], None))
    with pytest.raises(NotFound) as exc:
        d.resolve("acme")
    assert "4k7qz2ma (Acme)" in exc.value.message and "9x1bbbbb (Acme Holding)" in \
        exc.value.message


def test_pick_refuses_a_near_name_unless_told_to_create():
    d = directory(("4k7qz2ma", "Acme Corp", [], None))
    with pytest.raises(RuleError, match="Acme Corp.* close"):
        pick(d, "Acme")
    with pytest.raises(RuleError, match="close"):
        pick(d, "Acme Crop")
    assert pick(d, "Acme", create=True).entry is None
    with pytest.raises(NotFound, match="--no-create"):
        pick(d, "Initech", create=False)
    assert pick(d, "Initech").entry is None
    assert pick(d, "acme corp.", create=False).entry.id == "4k7qz2ma"
    # numbers differ: not a typo
    d = directory(("4k7qz2ma", "Customer 12", [], None))
    assert pick(d, "Customer 13").entry is None


@pytest.mark.parametrize("vat, compact", [("IT12345670157", "IT12345670157"),
                                          ("12345670157", "IT12345670157"),
                                          ("it 123 456 70157", "IT12345670157"),
                                          ("DE136695976", "DE136695976")])
def test_valid_vat_numbers(vat, compact):
    assert check_vat(vat) == compact


@pytest.mark.parametrize("vat", ["IT12345670158", "01234567897", "IT0123", "DE123",
                                 "12345", "FR00000000000", "XX123", "ZZ12345678", "EU123456"])
def test_invalid_vat_numbers_are_named(vat):
    with pytest.raises(RuleError, match="VAT number"):
        check_vat(vat)


def test_a_vat_number_without_a_country_prefix_says_which_prefixes_exist():
    with pytest.raises(RuleError, match="'XX123' starts with 'XX', which is no country prefix"):
        check_vat("XX123")
    assert check_vat("EL094259216") == "EL094259216"  # Greece's VAT prefix is EL
    assert check_vat("GB980780684") == "GB980780684"  # a country outside the EU


def test_country_codes_are_iso_3166():
    assert country_code("it") == "IT" and country_code(" gb ") == "GB"
    assert country_code("XK") == "XK"  # Kosovo, as the EU writes it
    for code in ("ZZ", "EU", "UN", "QQ", "XA"):
        with pytest.raises(RuleError, match=f"country '{code}' is not an ISO 3166"):
            country_code(code)
    with pytest.raises(RuleError, match="did you mean GB"):
        country_code("UK")


def test_a_duplicate_vat_number_names_the_other_account():
    d = directory(("4k7qz2ma", "Acme", [], "IT12345670157"))
    with pytest.raises(RuleError, match="4k7qz2ma \\(Acme\\)"):
        refuse_duplicate_vat(d, "IT12345670157", "9x1bbbbb")
    refuse_duplicate_vat(d, "IT12345670157", "4k7qz2ma")  # itself


def test_customer_query_matches_accounts_and_text():
    d = directory(("4k7qz2ma", "ACME S.r.l.", ["Acme Italia"], None))
    query = CustomerQuery("acme italia", d)
    assert query("ACME S.r.l.", "4k7qz2ma")
    assert query("Acme srl", None)  # a customer still text, spelt otherwise
    assert not query("Globex", "9x1bbbbb")


words = st.text(st.sampled_from("abcdefg XYZ"), min_size=1, max_size=12).filter(str.strip)


@settings(max_examples=depth(150), deadline=None)
@given(name=words, suffix=st.sampled_from(["", " S.r.l.", " srl", " SpA", " Inc.", " GmbH"]),
       case=st.sampled_from([str.upper, str.lower, str.title]))
def test_a_name_resolves_whatever_its_case_and_legal_form(name, suffix, case):
    key = normalise(name)
    if key in {"srl", "spa", "inc", "gmbh"} or not key:
        return
    d = directory(("4k7qz2ma", name, [], None))
    assert d.resolve(case(name) + suffix).id == "4k7qz2ma"


def test_a_kept_directory_resolves_and_names_as_the_directory_it_was_kept_from():
    whole = directory(("a1b2c3d4", "Acme S.r.l.", ("ACME",), "IT00743110157"),
                      ("e5f6g7h8", "Beta GmbH", (), None))
    kept = Directory.of_keys(whole.heads(), whole.keys(), dict)
    assert kept.names() == whole.names() == {"a1b2c3d4": "Acme S.r.l.",
                                            "e5f6g7h8": "Beta GmbH"}
    assert kept.by_key.keys() == whole.by_key.keys()
    assert [e.id for e in kept.by_key["acme"]] == ["a1b2c3d4"]
