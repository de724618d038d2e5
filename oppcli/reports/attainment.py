"""``opp attainment PERIOD``: per owner and currency, the quota, what was won, the gap
and the attainment, the open amounts closing in the period per forecast category, and
the coverage of the gap by them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..domain.money import ZERO, money_str
from ..domain.quotas import Period, Quota, quota_for
from ..domain.records import Record
from ..domain.stays import ratio
from ..read.source import WorkingTree
from ..store.repo import Repo
from ..store.shared_files import stored_quotas

OPEN_CATEGORIES = ("commit", "best_case", "pipeline")


@dataclass
class AttainmentRow:
    owner: str
    currency: str
    quota: Decimal | None = None
    won: Decimal = ZERO
    won_count: int = 0
    commit: Decimal = ZERO
    best_case: Decimal = ZERO
    pipeline: Decimal = ZERO
    omitted: Decimal = ZERO

    @property
    def gap(self) -> Decimal | None:
        return None if self.quota is None else max(self.quota - self.won, ZERO)

    @property
    def open_amount(self) -> Decimal:
        return self.commit + self.best_case + self.pipeline

    @property
    def attainment(self) -> float | None:
        return None if self.quota is None else ratio(self.won, self.quota)

    @property
    def coverage(self) -> float | None:
        """(commit + best_case + pipeline) / gap; None when there is no gap."""
        gap = self.gap
        return ratio(self.open_amount, gap) if gap else None

    def as_dict(self) -> dict[str, Any]:
        gap = self.gap
        return {"owner": self.owner, "currency": self.currency,
                "quota": None if self.quota is None else money_str(self.quota),
                "won": money_str(self.won), "gap": None if gap is None else money_str(gap),
                "attainment": self.attainment, "commit": money_str(self.commit),
                "best_case": money_str(self.best_case), "pipeline": money_str(self.pipeline),
                "coverage": self.coverage, "won_count": self.won_count,
                "omitted": money_str(self.omitted)}


@dataclass(frozen=True)
class Attainment:
    period: Period
    rows: list[AttainmentRow]

    def as_dict(self) -> dict[str, Any]:
        return {"period": self.period.name, "from": self.period.start.isoformat(),
                "to": self.period.end.isoformat(), "rows": [r.as_dict() for r in self.rows]}


def attainment(records: Sequence[Record], quotas: Sequence[Quota], p: Period) -> Attainment:
    """Per owner and currency with a quota or deals in the period (won, or open closing
    in it): the figures of ``AttainmentRow``. Owners match case-insensitively; a quota
    names them as written there."""
    rows: dict[tuple[str, str], AttainmentRow] = {}

    def row(owner: str, currency: str) -> AttainmentRow:
        key = (owner.casefold(), currency)
        return rows.get(key) or rows.setdefault(key, AttainmentRow(owner, currency))

    periods = {p.name, *p.months(), *(f"{p.name}-Q{i}" for i in range(1, 5))}
    for q in quotas:
        if q.period in periods:
            row(q.owner, q.currency)
    for r in records:
        if r.close_date is None or not p.start <= r.close_date <= p.end:
            continue
        if r.status == "won":
            cell = row(r.owner, r.currency)
            cell.won += r.amount
            cell.won_count += 1
        elif r.status == "open":
            cell = row(r.owner, r.currency)
            category = r.category or "pipeline"
            setattr(cell, category, getattr(cell, category) + r.amount)
    for cell in rows.values():
        cell.quota = quota_for(list(quotas), cell.owner, p, cell.currency)
    ordered = sorted(rows.values(), key=lambda c: (c.owner.casefold(), c.owner, c.currency))
    return Attainment(p, ordered)


def read_attainment(repo: Repo, p: Period) -> Attainment:
    """The attainment of today's deals against ``quotas.yaml``."""
    return attainment(WorkingTree(repo).records(), stored_quotas(repo), p)
