"""``opp backtest PERIOD``: how good the forecast was. What ``opp forecast`` said, the day
before the period began, for the deals closing in it (their weighted amount, with the
probabilities of then), against what was won with a close date in the period, as of its
last day (or today, while it runs). Only a tool that keeps the whole history can say.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from ..domain.money import ZERO, money_str
from ..domain.quotas import Period, day_before
from ..domain.records import Record
from ..domain.stays import ratio
from ..errors import RepoError
from ..read.history import commit_as_of
from ..read.source import of
from ..store.repo import Repo
from .common import iso_day
from .forecast import forecast_weighted

BACKTEST_BY = ("owner", "stage")


@dataclass
class BacktestRow:
    group: str
    currency: str
    forecast: Decimal = ZERO
    won: Decimal = ZERO
    forecast_count: int = 0
    won_count: int = 0

    @property
    def error(self) -> Decimal:
        return self.won - self.forecast

    def as_dict(self) -> dict[str, Any]:
        return {"group": self.group, "currency": self.currency,
                "forecast": money_str(self.forecast), "won": money_str(self.won),
                "error": money_str(self.error), "error_pct": ratio(self.error, self.forecast),
                "forecast_count": self.forecast_count, "won_count": self.won_count}


@dataclass(frozen=True)
class Backtest:
    period: Period
    as_of: date  # the day the forecast is read as of: the day before the period
    won_as_of: date  # the day what was won is read as of
    by: str | None
    rows: list[BacktestRow]
    totals: list[BacktestRow]
    history_starts_later: bool = False  # no commit before the period: nothing forecast

    def as_dict(self) -> dict[str, Any]:
        totals = []
        for t in self.totals:
            d = t.as_dict()
            d.pop("group")
            totals.append(d)
        return {"period": self.period.name, "as_of": iso_day(self.as_of),
                "won_as_of": iso_day(self.won_as_of), "by": self.by,
                "rows": [r.as_dict() for r in self.rows], "totals": totals}


def backtest(before: Sequence[Record], after: Sequence[Record], p: Period, as_of: date,
             won_as_of: date, by: str | None = None, history_starts_later: bool = False
             ) -> Backtest:
    """``before``: the deals as of the day before the period; ``after``: as of its last
    day (or today). A deal's group (its owner or stage) is the one it had before the
    period when it was open then, else its own at the end."""
    rows: dict[tuple[str, str], BacktestRow] = {}
    group_of: dict[str, str] = {}

    def row(group: str, currency: str) -> BacktestRow:
        return rows.get((group, currency)) or rows.setdefault(
            (group, currency), BacktestRow(group, currency))

    def group(r: Record) -> str:
        if by is None:
            return p.name
        return r.owner if by == "owner" else r.stage

    for r in before:
        if r.status == "open" and r.close_date is not None and p.start <= r.close_date <= p.end:
            g = group_of[r.id] = group(r)
            cell = row(g, r.currency)
            cell.forecast += forecast_weighted(r)
            cell.forecast_count += 1
    for r in after:
        if r.status == "won" and r.close_date is not None and p.start <= r.close_date <= p.end:
            cell = row(group_of.get(r.id) or group(r), r.currency)
            cell.won += r.amount
            cell.won_count += 1
    totals: dict[str, BacktestRow] = {}
    for cell in rows.values():
        t = totals.get(cell.currency) or totals.setdefault(cell.currency,
                                                           BacktestRow("", cell.currency))
        t.forecast += cell.forecast
        t.won += cell.won
        t.forecast_count += cell.forecast_count
        t.won_count += cell.won_count
    ordered = sorted(rows.values(), key=lambda c: (c.group.casefold(), c.group, c.currency))
    return Backtest(p, as_of, won_as_of, by, ordered, [totals[c] for c in sorted(totals)],
                    history_starts_later)


def read_backtest(repo: Repo, p: Period, today: date, by: str | None = None) -> Backtest:
    """The backtest of a period over the data repo's history: the repo as of the day before
    the period (nothing forecast when its history starts later) and as of its end."""
    as_of = day_before(p)
    won_as_of = min(p.end, today)
    before, later = _records_as_of(repo, as_of), False
    if before is None:
        before, later = [], True
    after = _records_as_of(repo, None if won_as_of >= today else won_as_of) or []
    return backtest(before, after, p, as_of, won_as_of, by, later)


def _records_as_of(repo: Repo, day: date | None) -> list[Record] | None:
    """The records as of the end of ``day`` (today's files for None); None when the
    history starts later."""
    if day is not None:
        try:
            commit_as_of(repo, day)
        except RepoError:
            return None
    return of(repo, day).records()
