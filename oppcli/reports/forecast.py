"""The forecast (R18): expected revenue of open and won deals per close period, owner
or stage, as amount and weighted amount, with the objective beside them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from operator import attrgetter
from typing import Any

from ..domain.categories import CLOSED, GROUPS
from ..domain.money import ZERO, money_str, weighted
from ..domain.records import Record
from .common import Sum, currencies_of, iso_day, money_fields
from .common import sums as sums_by

FORECAST_BY = ("month", "quarter", "owner", "stage", "category", "customer")


UNSCHEDULED = "unscheduled"


def period(day: date, by: str) -> str:
    """The close period of a day: ``2026-11`` by month, ``2026-Q4`` by quarter."""
    if by == "quarter":
        return f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}"
    return f"{day.year:04d}-{day.month:02d}"


def forecast_weighted(r: Record, probabilities: Mapping[str, Decimal] | None = None
                      ) -> Decimal:
    """What a deal is expected to bring: a won one all of it, an open one its amount x
    stage probability (rounded per opportunity), a lost one nothing. ``probabilities``
    (stage id -> percent, exact) replace the stages' configured ones."""
    if r.status == "won":
        return r.amount
    if r.status == "lost":
        return ZERO
    if probabilities is not None and r.stage in probabilities:
        return weighted(r.amount, probabilities[r.stage])
    return weighted(r.amount, r.probability)


@dataclass(frozen=True)
class ForecastRow:
    """One group (a period, an owner or a stage) in one currency."""

    group: str
    currency: str
    count: int
    amount: Decimal
    weighted: Decimal
    objective: Decimal
    objective_count: int
    customer_id: str | None = None  # by customer: the account's id (None for text)
    by_customer: bool = False

    def as_dict(self) -> dict[str, Any]:
        ids = {"customer_id": self.customer_id} if self.by_customer else {}
        return {"group": self.group, **ids, "currency": self.currency, "count": self.count,
                **money_fields(self, ("amount", "weighted", "objective")),
                "objective_count": self.objective_count}


@dataclass(frozen=True)
class ForecastTotal:
    currency: str
    count: int
    amount: Decimal
    weighted: Decimal
    objective: Decimal
    objective_count: int

    def as_dict(self) -> dict[str, Any]:
        return {"currency": self.currency, "count": self.count,
                **money_fields(self, ("amount", "weighted", "objective")),
                "objective_count": self.objective_count}


@dataclass(frozen=True)
class Forecast:
    by: str
    rows: list[ForecastRow]
    totals: list[ForecastTotal]
    start: date | None = None
    end: date | None = None
    unscheduled_left_out: int = 0  # open deals without a close date outside a window

    def cumulative(self, currency: str) -> dict[str, Decimal]:
        """Salesforce's cumulative totals of a forecast by category (amounts, not
        weighted): commit forecast = closed + commit, best case forecast = that +
        best_case, open pipeline = pipeline + best_case + commit."""
        amount = {r.group: r.amount for r in self.rows if r.currency == currency}
        closed, commit, best, pipe = (amount.get(g, ZERO) for g in
                                      (CLOSED, "commit", "best_case", "pipeline"))
        return {"commit_forecast": closed + commit,
                "best_case_forecast": closed + commit + best,
                "open_pipeline": pipe + best + commit}

    def as_dict(self) -> dict[str, Any]:
        totals = [t.as_dict() for t in self.totals]
        if self.by == "category":
            for t in totals:
                t["cumulative"] = {k: money_str(v)
                                   for k, v in self.cumulative(t["currency"]).items()}
        return {"by": self.by, "from": iso_day(self.start), "to": iso_day(self.end),
                "rows": [r.as_dict() for r in self.rows], "totals": totals,
                "unscheduled_left_out": self.unscheduled_left_out}


def _in_window(records: Sequence[Record], start: date | None, end: date | None
               ) -> tuple[list[Record], int]:
    """The deals a forecast counts (open and won, closing in the window), and how many
    unscheduled deals a window left out."""
    windowed = start is not None or end is not None
    chosen: list[Record] = []
    left_out = 0
    for r in records:
        if r.status == "lost":
            continue
        if r.close_date is None:
            if windowed:
                left_out += 1
                continue
        elif (start and r.close_date < start) or (end and r.close_date > end):
            continue
        chosen.append(r)
    return chosen, left_out


_CURRENCY, _CLOSE = attrgetter("currency"), attrgetter("close_date")


def _groups(chosen: Sequence[Record], by: str) -> Iterable[str]:
    """The group of each record: its owner, customer, stage, category, or close period."""
    if by in ("owner", "customer", "stage"):
        return map(attrgetter(by), chosen)
    if by == "category":
        return (category or "pipeline" for category in map(attrgetter("category"), chosen))
    days = list(map(_CLOSE, chosen))  # a few hundred close dates among many deals
    named = {day: UNSCHEDULED if day is None else period(day, by) for day in set(days)}
    return map(named.__getitem__, days)


def forecast(records: Sequence[Record], by: str = "month", *, start: date | None = None,
             end: date | None = None, default_currency: str = "EUR",
             probabilities: Mapping[str, Decimal] | None = None) -> Forecast:
    """Expected revenue of open and won deals, grouped by close period, owner or stage.

    Won deals count at 100 %, open ones at their stage probability, lost ones not at
    all. Open deals without a close date form the group ``unscheduled``. By category,
    the groups are ``closed`` (won), ``commit``, ``best_case``, ``pipeline``, ``omitted``. ``start``
    and ``end`` (inclusive) keep the deals whose close date falls in that window;
    an unscheduled deal is not expected in any window, so a window leaves those
    out and counts them in ``unscheduled_left_out`` instead of hiding them silently.
    """
    if by not in FORECAST_BY:
        raise ValueError(f"forecast by {by!r}: expected one of {', '.join(FORECAST_BY)}")
    chosen, left_out = _in_window(records, start, end)
    account_ids = {r.customer: r.customer_id for r in chosen} if by == "customer" else {}

    ranks = {r.stage: r.stage_rank for r in chosen}

    def order(group: str) -> tuple:
        if by in ("owner", "customer"):
            return (group.casefold(), group)
        if by == "stage":
            return (ranks[group], group)
        if by == "category":
            return (GROUPS.index(group) if group in GROUPS else len(GROUPS), group)
        return (group == UNSCHEDULED, group)

    sums = sums_by(chosen, zip(_groups(chosen, by), map(_CURRENCY, chosen), strict=True),
                   probabilities)
    totals = {c: Sum() for c in currencies_of(chosen, default_currency)}
    for (_, currency), cell in sums.items():
        totals[currency].merge(cell)
    rows = [ForecastRow(group=g, currency=c, **s.fields(), customer_id=account_ids.get(g),
                        by_customer=by == "customer")
            for (g, c), s in sorted(sums.items(), key=lambda kv: (order(kv[0][0]), kv[0][1]))]
    return Forecast(by, rows, [ForecastTotal(currency=c, **s.fields())
                               for c, s in totals.items()], start, end, left_out)
