"""Periods (a month, a quarter, a year) and sales quotas per owner and period
(``quotas.yaml``): pure values and rules; storage reads and writes the file."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from ..errors import RuleError, UsageError
from .dates import period_bounds
from .money import MAX_MONEY, cents


@dataclass(frozen=True)
class Period:
    name: str  # 2026-11, 2026-Q4, 2026
    start: date
    end: date

    @property
    def kind(self) -> str:
        return "quarter" if "Q" in self.name else ("month" if "-" in self.name else "year")

    def months(self) -> list[str]:
        """The months of the period, as their names."""
        out, day = [], self.start
        while day <= self.end:
            out.append(f"{day.year:04d}-{day.month:02d}")
            day = date(day.year + day.month // 12, day.month % 12 + 1, 1)
        return out


def period(text: str, kinds: tuple[str, ...] = ("month", "quarter", "year")) -> Period:
    """``2026-11``, ``2026-Q4`` or ``2026`` (those of ``kinds``), read by the one date
    parser (``dates.period_bounds``); ``UsageError`` naming the forms otherwise."""
    raw = str(text).strip().upper()
    forms = {"month": "2026-11", "quarter": "2026-Q4", "year": "2026"}
    hint = ", ".join(f"a {k} ({forms[k]})" for k in kinds)
    try:
        bounds = period_bounds(raw)
    except ValueError:
        bounds = None  # a month 13, a year 0: not a period either
    kind = "quarter" if "Q" in raw else ("month" if "-" in raw else "year")
    if bounds is None or kind not in kinds:
        raise UsageError(f"'{text}' is not a period; give {hint}")
    start, end = bounds
    name = {"month": f"{start.year:04d}-{start.month:02d}",
            "quarter": f"{start.year:04d}-Q{(start.month + 2) // 3}",
            "year": f"{start.year:04d}"}[kind]
    return Period(name, start, end)


def quota_order(quota: dict) -> tuple:
    """Where a quota goes in ``quotas.yaml``: by owner, then by the first day of the
    period (a quarter before its months), then currency. Any value sorts, so a merge
    can order a file before checking it."""
    owner, name = str(quota.get("owner", "")), str(quota.get("period", ""))
    try:
        start = period(name).start
    except UsageError:
        start = date.min
    return (owner.casefold(), owner, start, "Q" not in name, name, str(quota.get("currency", "")))


def day_before(p: Period) -> date:
    return p.start - timedelta(days=1)


@dataclass(frozen=True)
class Quota:
    owner: str
    period: str  # a month or a quarter
    amount: Decimal
    currency: str

    def key(self) -> tuple[str, str, str]:
        return (self.owner.casefold(), self.period, self.currency)

    def as_dict(self) -> dict:
        return {"owner": self.owner, "period": self.period, "amount": str(cents(self.amount)),
                "currency": self.currency}


def set_quota(quotas: list[Quota], new: Quota) -> tuple[list[Quota], Quota | None]:
    """The quotas with ``new`` set (replacing the one of the same owner, period and
    currency), and the one it replaced."""
    if new.amount < 0 or new.amount > MAX_MONEY:
        raise RuleError(f"a quota is between 0.00 and {MAX_MONEY}, not {new.amount}")
    old = next((q for q in quotas if q.key() == new.key()), None)
    rest = [q for q in quotas if q.key() != new.key()]
    return sort_quotas([*rest, new]), old


def remove_quota(quotas: list[Quota], owner: str, period_name: str) -> tuple[list[Quota],
                                                                             list[Quota]]:
    """The quotas without the owner's for the period (each currency), and those removed;
    ``RuleError`` when there is none."""
    gone = [q for q in quotas if q.owner.casefold() == owner.casefold()
            and q.period == period_name]
    if not gone:
        raise RuleError(f"{owner} has no quota for {period_name}; see: opp quota list")
    return [q for q in quotas if q not in gone], gone


def sort_quotas(quotas: list[Quota]) -> list[Quota]:
    """By owner, then by the first day of the period (a quarter before its months)."""
    return sorted(quotas, key=lambda q: quota_order(q.as_dict()))


def quota_for(quotas: list[Quota], owner: str, p: Period, currency: str) -> Decimal | None:
    """The owner's quota for a period in a currency: the quota of the period itself, else
    the sum of its parts': a quarter adds up its months', a year its quarters' (each
    quarter its own quota, else its months'); None when none is set. A larger period's
    quota never serves a smaller one (it is never split)."""
    mine = {q.period: q.amount for q in quotas
            if q.owner.casefold() == owner.casefold() and q.currency == currency}
    if p.name in mine:
        return mine[p.name]
    months = p.months()
    if p.kind == "quarter":
        return _total([mine.get(m) for m in months])
    if p.kind == "year":
        return _total([mine.get(f"{p.name}-Q{i + 1}", _total([mine.get(m) for m in
                                                            months[3 * i:3 * i + 3]]))
                       for i in range(4)])
    return None


def _total(parts: list[Decimal | None]) -> Decimal | None:
    """The sum of the parts that are set; None when none is."""
    found = [x for x in parts if x is not None]
    return sum(found, Decimal("0.00")) if found else None
