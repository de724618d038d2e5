"""Which quota a period has: its own, else the sum of its parts' (worked by hand)."""

from __future__ import annotations

from decimal import Decimal

from oppcli.domain.quotas import Quota, period, quota_for


def q(period_name: str, amount: str, owner: str = "Bob", currency: str = "EUR") -> Quota:
    return Quota(owner, period_name, Decimal(amount), currency)


def test_a_year_adds_up_its_quarters_each_its_own_quota_else_its_months():
    quotas = [q("2026-Q4", "5000"), q("2026-12", "1000"),  # Q4 has its own: 5000
              q("2026-01", "100"), q("2026-02", "200"),  # Q1 from its months: 300
              q("2026-Q2", "700"),  # Q2: 700; Q3: none
              q("2026-Q3", "9", currency="USD"), q("2026-Q3", "8", owner="Carol")]
    assert quota_for(quotas, "bob", period("2026"), "EUR") == Decimal("6000.00")  # 5000+300+700
    assert quota_for(quotas, "Bob", period("2026-Q4"), "EUR") == Decimal("5000")
    assert quota_for(quotas, "Bob", period("2026-Q1"), "EUR") == Decimal("300.00")
    assert quota_for(quotas, "Bob", period("2026-Q3"), "EUR") is None
    assert quota_for(quotas, "Bob", period("2026-12"), "EUR") == Decimal("1000")
    assert quota_for(quotas, "Bob", period("2026-11"), "EUR") is None  # Q4's is not split
    assert quota_for(quotas, "Bob", period("2026"), "USD") == Decimal("9.00")
    assert quota_for(quotas, "Bob", period("2027"), "EUR") is None


def test_a_year_with_only_a_month_of_one_quarter():
    assert quota_for([q("2026-12", "1000")], "Bob", period("2026"), "EUR") == Decimal("1000.00")
