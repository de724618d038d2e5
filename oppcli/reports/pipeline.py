"""The pipeline (R18, R19): per stage the count, amount, weighted amount and objective of
open deals, and per currency the open, won and lost totals with the win rate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..domain.money import money_str
from ..domain.records import Record
from ..domain.settings import Stage
from .common import Sum, cells, currencies_of, money_fields, percent_words, rate


@dataclass(frozen=True)
class PipelineRow:
    """One stage in one currency."""

    stage: Stage
    currency: str
    count: int
    amount: Decimal
    weighted: Decimal  # amount x stage probability, rounded per opportunity
    objective: Decimal  # sum of the objectives that are set
    objective_count: int  # how many of the opportunities have one

    def as_dict(self) -> dict[str, Any]:
        return {"stage": self.stage.id, "stage_label": self.stage.label,
                "kind": self.stage.kind, "probability": self.stage.probability,
                "currency": self.currency, "count": self.count,
                **money_fields(self, ("amount", "weighted", "objective")),
                "objective_count": self.objective_count}


@dataclass(frozen=True)
class PipelineTotal:
    """The totals of one currency: open, won and lost, and the win rate (R19)."""

    currency: str
    open_count: int
    open_amount: Decimal
    open_weighted: Decimal
    open_objective: Decimal
    won_count: int
    won_amount: Decimal
    lost_count: int
    lost_amount: Decimal

    @property
    def win_rate(self) -> float | None:
        """won / (won + lost) by count, 0..1 rounded to 4 places; None with none closed."""
        return rate(self.won_count, self.won_count + self.lost_count)

    def win_rate_words(self, none: str = "-") -> str:
        return percent_words(self.won_count, self.won_count + self.lost_count, none)

    def as_dict(self) -> dict[str, Any]:
        return {"currency": self.currency, "open_count": self.open_count,
                **money_fields(self, ("open_amount", "open_weighted", "open_objective")),
                "won_count": self.won_count, "won_amount": money_str(self.won_amount),
                "lost_count": self.lost_count, "lost_amount": money_str(self.lost_amount),
                "win_rate": self.win_rate}


@dataclass(frozen=True)
class Pipeline:
    rows: list[PipelineRow]
    totals: list[PipelineTotal]

    def as_dict(self) -> dict[str, Any]:
        return {"rows": [r.as_dict() for r in self.rows],
                "totals": [t.as_dict() for t in self.totals]}


def pipeline(records: Sequence[Record], stages: Sequence[Stage],
             default_currency: str = "EUR") -> Pipeline:
    """Per stage (in stage order) and currency: count, amount, weighted, objective;
    per currency: open, won and lost totals and the win rate (R18, R19).

    Every stage of ``stages`` gets a row in every currency present, empty ones
    included, so that the shape of the funnel (and a dashboard's columns) stays put.
    A record whose stage is not in ``stages`` still gets its row, after them.
    """
    order = list(stages)
    known = {s.id for s in order}
    extra = sorted({(r.stage_rank, r.stage): r for r in records if r.stage not in known}.items())
    order += [Stage(r.stage, r.stage_label, r.probability, r.status) for _, r in extra]
    currencies = currencies_of(records, default_currency)

    sums = {(s.id, c): Sum() for s in order for c in currencies}
    # per currency and status (open, won, lost) too: each record is added once, to its
    # (stage, currency, status) cell (a won deal is certain, a lost one gone), and the
    # cells add up to both
    by_status = {(c, k): Sum() for c in currencies for k in ("open", "won", "lost")}
    for (stage, currency, status), cell in cells(records).items():
        sums[(stage, currency)].merge(cell)
        by_status[(currency, status)].merge(cell)
    rows = [PipelineRow(stage=s, currency=c, **sums[(s.id, c)].fields())
            for s in order for c in currencies]

    totals = []
    for c in currencies:
        open_, won, lost = (by_status[(c, k)] for k in ("open", "won", "lost"))
        totals.append(PipelineTotal(
            currency=c, open_count=open_.count, open_amount=open_.amount,
            open_weighted=open_.weighted, open_objective=open_.objective,
            won_count=won.count, won_amount=won.amount,
            lost_count=lost.count, lost_amount=lost.amount))
    return Pipeline(rows, totals)
