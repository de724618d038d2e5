"""Quotas as pure values (#23): periods read by the one date parser, the order of
``quotas.yaml``, and its three-way merge quota by quota."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from decimal import Decimal as D

import pytest

from oppcli.domain import merge, mergecheck
from oppcli.domain.quotas import Quota, period, quota_for, sort_quotas
from oppcli.errors import UsageError


@pytest.mark.parametrize("text, name, start, end, kind", [
    ("2026-11", "2026-11", date(2026, 11, 1), date(2026, 11, 30), "month"),
    ("2028-02", "2028-02", date(2028, 2, 1), date(2028, 2, 29), "month"),
    (" 2026-q4 ", "2026-Q4", date(2026, 10, 1), date(2026, 12, 31), "quarter"),
    ("2026-Q1", "2026-Q1", date(2026, 1, 1), date(2026, 3, 31), "quarter"),
    ("2026", "2026", date(2026, 1, 1), date(2026, 12, 31), "year"),
])
def test_a_period_is_a_month_a_quarter_or_a_year(text, name, start, end, kind):
    p = period(text)
    assert (p.name, p.start, p.end, p.kind) == (name, start, end, kind)


@pytest.mark.parametrize("text", ["2026-13", "2026-00", "0000", "0000-Q1", "2026-Q5",
                                  "26-11", "2026-11-01", "today", "", "2026-1"])
def test_what_is_not_a_period_is_refused_naming_the_forms(text):
    with pytest.raises(UsageError) as exc:
        period(text)
    assert str(exc.value) == (f"'{text}' is not a period; give a month (2026-11), "
                              "a quarter (2026-Q4), a year (2026)")


def test_the_kinds_asked_for_are_the_only_ones_taken():
    with pytest.raises(UsageError, match=r"^'2026' is not a period; give a month \(2026-11\), "
                                         r"a quarter \(2026-Q4\)$"):
        period("2026", ("month", "quarter"))
    assert period("2026-Q2", ("month", "quarter")).months() == ["2026-04", "2026-05", "2026-06"]


def test_quotas_sort_by_owner_then_period_a_quarter_before_its_months():
    quotas = [Quota("bob", "2026-11", D("1"), "EUR"), Quota("Ann", "2027-01", D("1"), "EUR"),
              Quota("ann", "2026-Q4", D("1"), "USD"), Quota("ann", "2026-10", D("1"), "EUR"),
              Quota("ann", "2026-Q4", D("1"), "EUR")]
    assert [(q.owner, q.period, q.currency) for q in sort_quotas(quotas)] == [
        ("Ann", "2027-01", "EUR"), ("ann", "2026-Q4", "EUR"), ("ann", "2026-Q4", "USD"),
        ("ann", "2026-10", "EUR"), ("bob", "2026-11", "EUR")]


def q(owner: str, name: str, amount: str, currency: str = "EUR") -> dict:
    return {"owner": owner, "period": name, "amount": D(amount), "currency": currency}


def doc(*quotas: dict) -> dict:
    return {"quotas": list(quotas)}


def test_quotas_yaml_is_a_kind_of_its_own():
    assert merge.kind_of("quotas.yaml") == merge.QUOTAS
    assert merge.kind_of("crm/quotas.yaml") == merge.QUOTAS


def test_quotas_added_changed_and_removed_on_two_sides_all_survive():
    base = doc(q("ann", "2026-Q4", "100"), q("carol", "2026-11", "50"))
    ours = doc(q("ann", "2026-Q4", "100"), q("bob", "2026-11", "30"))  # carol removed
    theirs = doc(q("ann", "2026-Q4", "120"), q("carol", "2026-11", "50"),
                 q("ann", "2026-11", "40"), q("ann", "2026-Q4", "9", "USD"))
    merged = merge.merge_document(merge.QUOTAS, base, ours, theirs)
    assert merged.conflicts == []
    assert [(x["owner"], x["period"], x["amount"], x["currency"])
            for x in merged.data["quotas"]] == [
        ("ann", "2026-Q4", D("120.00"), "EUR"), ("ann", "2026-Q4", D("9.00"), "USD"),
        ("ann", "2026-11", D("40.00"), "EUR"), ("bob", "2026-11", D("30.00"), "EUR")]
    assert mergecheck.lost(merge.QUOTAS, base, ours, theirs, merged.data) == []
    kept_ours = mergecheck.lost(merge.QUOTAS, base, ours, theirs, ours)
    assert kept_ours and "ann 2026-Q4 EUR" in kept_ours[0]


def test_an_owner_matches_in_any_case():
    base = doc(q("ann", "2026-Q4", "100"))
    merged = merge.merge_document(merge.QUOTAS, base, doc(q("ann", "2026-Q4", "110")),
                                  doc(q("Ann", "2026-Q4", "100")))
    assert merged.conflicts == []
    assert [(x["owner"], x["amount"]) for x in merged.data["quotas"]] == [("Ann", D("110.00"))]


def test_one_quota_set_to_two_values_is_a_conflict_settled_by_a_choice():
    base = doc(q("ann", "2026-Q4", "100"))
    ours, theirs = doc(q("ann", "2026-Q4", "125")), doc(q("ann", "2026-Q4", "120"))
    merged = merge.merge_document(merge.QUOTAS, base, ours, theirs)
    (conflict,) = merged.conflicts
    assert conflict.path == ("quotas", "ann 2026-Q4 EUR", "amount")
    assert (conflict.base, conflict.ours, conflict.theirs) == (D("100.00"), D("125.00"),
                                                               D("120.00"))
    assert merged.data["quotas"][0]["amount"] == D("125.00")  # ours for now
    settled = merge.merge_document(merge.QUOTAS, base, ours, theirs,
                                   choices={conflict.path: ("value", D("121"))})
    assert settled.conflicts == [] and settled.data["quotas"][0]["amount"] == D("121.00")
    assert merge.value_at(settled.data, conflict.path) == D("121.00")
    assert mergecheck.lost(merge.QUOTAS, base, ours, theirs, settled.data) == []


def test_a_quota_removed_on_one_side_and_changed_on_the_other_is_a_conflict():
    base = doc(q("ann", "2026-Q4", "100"))
    merged = merge.merge_document(merge.QUOTAS, base, doc(), doc(q("ann", "2026-Q4", "120")))
    (conflict,) = merged.conflicts
    assert conflict.path == ("quotas", "ann 2026-Q4 EUR") and conflict.ours is None
    assert merge.is_item(conflict)


# ---------------------------------------------------------------- which quota a period has


def quota_of(period_name: str, amount: str, owner: str = "Bob", currency: str = "EUR") -> Quota:
    return Quota(owner, period_name, Decimal(amount), currency)


def test_a_year_adds_up_its_quarters_each_its_own_quota_else_its_months():
    quotas = [quota_of("2026-Q4", "5000"), quota_of("2026-12", "1000"),  # Q4 has its own: 5000
              quota_of("2026-01", "100"), quota_of("2026-02", "200"),  # Q1 from its months: 300
              quota_of("2026-Q2", "700"),  # Q2: 700; Q3: none
              quota_of("2026-Q3", "9", currency="USD"), quota_of("2026-Q3", "8", owner="Carol")]
    assert quota_for(quotas, "bob", period("2026"), "EUR") == Decimal("6000.00")  # 5000+300+700
    assert quota_for(quotas, "Bob", period("2026-Q4"), "EUR") == Decimal("5000")
    assert quota_for(quotas, "Bob", period("2026-Q1"), "EUR") == Decimal("300.00")
    assert quota_for(quotas, "Bob", period("2026-Q3"), "EUR") is None
    assert quota_for(quotas, "Bob", period("2026-12"), "EUR") == Decimal("1000")
    assert quota_for(quotas, "Bob", period("2026-11"), "EUR") is None  # Q4's is not split
    assert quota_for(quotas, "Bob", period("2026"), "USD") == Decimal("9.00")
    assert quota_for(quotas, "Bob", period("2027"), "EUR") is None


def test_a_year_with_only_a_month_of_one_quarter():
    quotas = [quota_of("2026-12", "1000")]
    assert quota_for(quotas, "Bob", period("2026"), "EUR") == Decimal("1000.00")
