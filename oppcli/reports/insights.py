"""``opp insights``: what the history says about how deals move. Per stage, how many
of the deals closed in a window passed through it, and how many of those were won
(its conversion) and how long a stay there lasts; per currency the sales cycle, the
win rate, the average won amount and the velocity; per owner what was won and lost.

Everything is counted exactly (whole days, Decimal money) and rounded once, at the
end: rates to 4 places, days to one decimal, money to the cent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ..domain.money import CENT, ZERO, money_str
from ..domain.settings import Stage
from ..domain.stays import DealPath, DealState, days_number, mean, median, ratio
from ..errors import UsageError
from ..read.deal_history import deal_paths
from ..read.index.accounts import customer_query
from ..read.source import WorkingTree
from ..store.repo import Repo
from .common import CustomerMatch, iso_day, matches


@dataclass
class StageRow:
    stage: Stage
    entered: int = 0
    won: int = 0
    lost: int = 0
    days: list[int] = field(default_factory=list)  # whole days of each stay ended in the window

    @property
    def conversion(self) -> float | None:
        return ratio(self.won, self.won + self.lost)

    def as_dict(self) -> dict[str, Any]:
        return {"stage": self.stage.id, "stage_label": self.stage.label,
                "entered": self.entered, "won": self.won, "lost": self.lost,
                "conversion": self.conversion, "stays": len(self.days),
                "median_days": days_number(median(self.days)),
                "mean_days": days_number(mean(self.days))}


@dataclass
class CycleRow:
    currency: str
    won_days: list[int] = field(default_factory=list)
    lost_days: list[int] = field(default_factory=list)
    won_amount: Decimal = ZERO
    open_count: int = 0

    @property
    def won_count(self) -> int:
        return len(self.won_days)

    @property
    def lost_count(self) -> int:
        return len(self.lost_days)

    @property
    def average_won(self) -> Decimal | None:
        if not self.won_days:
            return None
        return (self.won_amount / self.won_count).quantize(CENT, ROUND_HALF_UP)

    @property
    def velocity(self) -> Decimal | None:
        """open deals x win rate x average won / median days to win: money per day,
        computed exactly and rounded once to the cent; None when a factor is unknown."""
        days = median(self.won_days)
        if not self.won_days or not days:
            return None
        exact = (Decimal(self.open_count) * self.won_count / (self.won_count + self.lost_count)
                 * self.won_amount / self.won_count / days)
        return exact.quantize(CENT, ROUND_HALF_UP)

    def as_dict(self) -> dict[str, Any]:
        won_count, lost_count = self.won_count, self.lost_count
        return {"currency": self.currency, "won_count": won_count, "lost_count": lost_count,
                "win_rate": ratio(won_count, won_count + lost_count),
                "won_median_days": days_number(median(self.won_days)),
                "lost_median_days": days_number(median(self.lost_days)),
                "won_mean_days": days_number(mean(self.won_days)),
                "won_amount": money_str(self.won_amount),
                "average_won": _money(self.average_won),
                "open_count": self.open_count, "velocity": _money(self.velocity)}


@dataclass
class OwnerRow:
    owner: str
    currency: str
    won_count: int = 0
    lost_count: int = 0
    won_amount: Decimal = ZERO

    def as_dict(self) -> dict[str, Any]:
        return {"owner": self.owner, "currency": self.currency, "won_count": self.won_count,
                "lost_count": self.lost_count,
                "win_rate": ratio(self.won_count, self.won_count + self.lost_count),
                "won_amount": money_str(self.won_amount)}


def _money(value: Decimal | None) -> str | None:
    return None if value is None else money_str(value)


@dataclass(frozen=True)
class Insights:
    since: date
    until: date
    stages: list[StageRow]
    cycle: list[CycleRow]
    owners: list[OwnerRow]
    deals: int  # deals of the history that the filters kept

    def as_dict(self) -> dict[str, Any]:
        return {"since": iso_day(self.since), "until": iso_day(self.until),
                "stages": [s.as_dict() for s in self.stages],
                "cycle": [c.as_dict() for c in self.cycle],
                "owners": [o.as_dict() for o in self.owners]}

    def conversion(self, stage_id: str) -> tuple[float | None, int]:
        """(conversion, closed deals that passed through the stage)."""
        for row in self.stages:
            if row.stage.id == stage_id:
                return row.conversion, row.won + row.lost
        return None, 0


def closed_in(state: DealState | None, since: date, until: date) -> bool:
    return (state is not None and state.status != "open" and state.close_date is not None
            and since <= state.close_date <= until)


def cycle_days(path: DealPath, state: DealState) -> int:
    """Days from the deal's creation commit to its close date; 0 for a deal that came in
    (imported) already closed on an earlier day."""
    assert state.close_date is not None
    return max(0, (state.close_date - path.created).days)


def insights(paths: Sequence[DealPath], stages: Sequence[Stage], since: date,
             until: date, *, owner: str | None = None, customer: CustomerMatch = None,
             default_currency: str = "EUR") -> Insights:
    """The insights of the window [since, until] over the deals' paths (``stays.fold``),
    each deal as it stood at the end of ``until``; ``owner``/``customer`` filter on that."""
    rows = {s.id: StageRow(s) for s in stages if s.kind == "open"}
    cycles: dict[str, CycleRow] = {}
    owners: dict[tuple[str, str], OwnerRow] = {}
    kept = 0
    for path in paths:
        state = path.state_on(until)
        # a DealState has the owner, customer and stage that matches reads
        if state is None or not matches(state, owner=owner, customer=customer):  # type: ignore[arg-type]
            continue
        kept += 1
        stays = path.stays_until(until)
        for stay in stays:
            row = rows.get(stay.stage)
            if row is not None and stay.end is not None and since <= stay.end <= until:
                row.days.append((stay.end - stay.start).days)
        if state.status != "open" and not closed_in(state, since, until):
            continue
        cycle = cycles.get(state.currency) or cycles.setdefault(
            state.currency, CycleRow(state.currency))
        if state.status == "open":
            cycle.open_count += 1
            continue
        won = state.status == "won"
        for stage_id in {s.stage for s in stays}:
            row = rows.get(stage_id)
            if row is not None:
                row.entered += 1
                row.won += won
                row.lost += not won
        days = cycle_days(path, state)
        who = owners.get((state.owner, state.currency)) or owners.setdefault(
            (state.owner, state.currency), OwnerRow(state.owner, state.currency))
        if won:
            cycle.won_days.append(days)
            cycle.won_amount += state.amount
            who.won_count += 1
            who.won_amount += state.amount
        else:
            cycle.lost_days.append(days)
            who.lost_count += 1
    if not cycles:
        cycles[default_currency] = CycleRow(default_currency)
    return Insights(since, until, list(rows.values()),
                    [cycles[c] for c in sorted(cycles)],
                    sorted(owners.values(), key=lambda o: (o.owner.casefold(), o.owner,
                                                           o.currency)), kept)


DEFAULT_DAYS = 365


def window(since: date | None, until: date | None, today: date) -> tuple[date, date]:
    """[since, until]: by default the last 365 days, ending today."""
    until = until or today
    since = since or until - timedelta(days=DEFAULT_DAYS)
    if until < since:
        raise UsageError(f"--until {until} is before --since {since}")
    return since, until


def read_insights(repo: Repo, since: date | None, until: date | None, today: date, *,
                  owner: str | None = None, customer: str | None = None) -> Insights:
    """The insights of the data repo's whole history, with today's ``opp.yaml``."""
    since, until = window(since, until, today)
    settings = WorkingTree(repo).settings()
    return insights(deal_paths(repo, settings), settings.stages, since, until, owner=owner,
                    customer=customer_query(repo, customer),
                    default_currency=settings.currency)


MIN_CLOSED = 5  # closed deals a stage needs before its conversion replaces its probability


@dataclass(frozen=True)
class StageProbability:
    """The probability a forecast weights a stage's open deals by, and where it is from."""

    stage: Stage
    percent: Decimal  # exact: the conversion x 100, or the configured probability
    source: str  # history | settings
    closed: int  # closed deals of the window that passed through the stage

    def as_dict(self) -> dict[str, Any]:
        number = self.percent.quantize(Decimal("0.01"), ROUND_HALF_UP)
        if self.source == "history":
            why = f"{self.closed} closed deals passed through it"
        else:
            why = (f"only {self.closed} closed deal{'' if self.closed == 1 else 's'} passed "
                   f"through it (fewer than {MIN_CLOSED}): its probability in opp.yaml")
        return {"stage": self.stage.id, "probability": days_number(number, 2),
                "from": self.source, "closed": self.closed, "why": why}


@dataclass(frozen=True)
class Calibration:
    since: date
    until: date
    stages: list[StageProbability]

    def percents(self) -> dict[str, Decimal]:
        return {s.stage.id: s.percent for s in self.stages}

    def as_dict(self) -> dict[str, Any]:
        return {"source": "history", "since": iso_day(self.since),
                "until": iso_day(self.until), "stages": [s.as_dict() for s in self.stages]}


def calibrate(report: Insights) -> Calibration:
    """Each open stage's probability: its conversion over the window when at least
    MIN_CLOSED closed deals passed through it, else its configured probability."""
    out = []
    for row in report.stages:
        closed = row.won + row.lost
        if closed >= MIN_CLOSED:
            out.append(StageProbability(row.stage, Decimal(row.won) * 100 / closed, "history",
                                        closed))
        else:
            out.append(StageProbability(row.stage, Decimal(row.stage.probability), "settings",
                                        closed))
    return Calibration(report.since, report.until, out)


def history_probabilities(repo: Repo, since: date | None, until: date | None,
                          today: date) -> Calibration:
    """``calibrate`` over the whole team's history of the window."""
    return calibrate(read_insights(repo, since, until, today))
