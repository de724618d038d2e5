"""Pipeline, forecast and changes over plain records (R18, R19).

Pure functions: ``records.Record`` values in, report values out; no files, no git,
no YAML, no terminal. Every row and every total carries one currency: money of
different currencies is never added together.

Weighted amount (a decision R18 leaves open): each opportunity's amount times its
stage probability, exact, rounded half-up to the cent *per opportunity*; a row's
weighted amount is the sum of those rounded values. So a row is always the sum of
the deals a reader can check one by one (the same choice as product lines, R10),
and weighted never exceeds amount.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .money import ZERO, money_str, weighted
from .records import Record, StageInfo

# ---------------------------------------------------------------- selecting


def select(records: Iterable[Record], *, owner: str | None = None,
           customer: str | None = None, stage: str | None = None) -> list[Record]:
    """The records a report covers: ``owner`` equal (case-insensitive), ``customer``
    contained in the customer's name (case-insensitive), ``stage`` the stage id;
    the same matching as ``opp list``."""
    return [r for r in records if matches(r, owner=owner, customer=customer, stage=stage)]


def matches(r: Record, *, owner: str | None = None, customer: str | None = None,
            stage: str | None = None) -> bool:
    if owner and owner.casefold() != r.owner.casefold():
        return False
    if customer and customer.casefold() not in r.customer.casefold():
        return False
    return not stage or r.stage == stage


def _currencies(records: Sequence[Record], default_currency: str) -> list[str]:
    """The currencies present, sorted; the default one alone when there are no records,
    so that an empty report still says which money it counts."""
    return sorted({r.currency for r in records}) or [default_currency]


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def percent_words(part: int, whole: int, none: str = "-") -> str:
    """``part/whole`` for people: a percentage to one decimal, rounded half-up once from
    the exact ratio (4238/6711 is 63.2 %, not the 63.1 % of a rounded 0.6315)."""
    if not whole:
        return none
    value = (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), ROUND_HALF_UP)
    return f"{value} %"


class _Sum:
    """count, amount, weighted and objective of some records of one currency."""

    def __init__(self) -> None:
        self.count = 0
        self.amount = ZERO
        self.weighted = ZERO
        self.objective = ZERO
        self.objective_count = 0

    def add(self, r: Record, weighted_amount: Decimal) -> None:
        self.count += 1
        self.amount += r.amount
        self.weighted += weighted_amount
        if r.objective is not None:
            self.objective += r.objective
            self.objective_count += 1

    def merge(self, other: _Sum) -> None:
        """Add another sum's records (exact: money adds within 60 digits)."""
        self.count += other.count
        self.amount += other.amount
        self.weighted += other.weighted
        self.objective += other.objective
        self.objective_count += other.objective_count

    def fields(self) -> dict[str, Any]:
        return {"count": self.count, "amount": self.amount, "weighted": self.weighted,
                "objective": self.objective, "objective_count": self.objective_count}


def _money_fields(row: Any, names: Sequence[str]) -> dict[str, Any]:
    return {n: money_str(getattr(row, n)) for n in names}


# ---------------------------------------------------------------- pipeline (R18, R19)


@dataclass(frozen=True)
class PipelineRow:
    """One stage in one currency."""

    stage: StageInfo
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
                **_money_fields(self, ("amount", "weighted", "objective")),
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
        return _rate(self.won_count, self.won_count + self.lost_count)

    def win_rate_words(self, none: str = "-") -> str:
        return percent_words(self.won_count, self.won_count + self.lost_count, none)

    def as_dict(self) -> dict[str, Any]:
        return {"currency": self.currency, "open_count": self.open_count,
                **_money_fields(self, ("open_amount", "open_weighted", "open_objective")),
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


def pipeline(records: Sequence[Record], stages: Sequence[StageInfo],
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
    order += [StageInfo(r.stage, r.stage_label, r.probability, r.status) for _, r in extra]
    currencies = _currencies(records, default_currency)

    sums = {(s.id, c): _Sum() for s in order for c in currencies}
    # per currency and status (open, won, lost) too: one pass adds each record once, to
    # its (stage, currency, status) cell, and the cells add up to both
    by_status = {(c, k): _Sum() for c in currencies for k in ("open", "won", "lost")}
    cells: dict[tuple[str, str, str], _Sum] = {}
    for r in records:
        key = (r.stage, r.currency, r.status)
        cell = cells.get(key) or cells.setdefault(key, _Sum())
        cell.add(r, forecast_weighted(r))  # a won deal is certain, a lost one gone
    for (stage, currency, status), cell in cells.items():
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


# ---------------------------------------------------------------- forecast (R18)

FORECAST_BY = ("month", "quarter", "owner", "stage")
UNSCHEDULED = "unscheduled"


def period(day: date, by: str) -> str:
    """The close period of a day: ``2026-11`` by month, ``2026-Q4`` by quarter."""
    if by == "quarter":
        return f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}"
    return f"{day.year:04d}-{day.month:02d}"


def forecast_weighted(r: Record) -> Decimal:
    """What a deal is expected to bring: a won one all of it, an open one its amount x
    stage probability (rounded per opportunity), a lost one nothing."""
    if r.status == "won":
        return r.amount
    if r.status == "lost":
        return ZERO
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

    def as_dict(self) -> dict[str, Any]:
        return {"group": self.group, "currency": self.currency, "count": self.count,
                **_money_fields(self, ("amount", "weighted", "objective")),
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
                **_money_fields(self, ("amount", "weighted", "objective")),
                "objective_count": self.objective_count}


@dataclass(frozen=True)
class Forecast:
    by: str
    rows: list[ForecastRow]
    totals: list[ForecastTotal]
    start: date | None = None
    end: date | None = None
    unscheduled_left_out: int = 0  # open deals without a close date outside a window

    def as_dict(self) -> dict[str, Any]:
        return {"by": self.by, "from": _iso(self.start), "to": _iso(self.end),
                "rows": [r.as_dict() for r in self.rows],
                "totals": [t.as_dict() for t in self.totals],
                "unscheduled_left_out": self.unscheduled_left_out}


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def forecast(records: Sequence[Record], by: str = "month", *, start: date | None = None,
             end: date | None = None, default_currency: str = "EUR") -> Forecast:
    """Expected revenue of open and won deals, grouped by close period, owner or stage.

    Won deals count at 100 %, open ones at their stage probability, lost ones not at
    all. Open deals without a close date form the group ``unscheduled``. ``start``
    and ``end`` (inclusive) keep the deals whose close date falls in that window;
    an unscheduled deal is not expected in any window, so a window leaves those
    out and counts them in ``unscheduled_left_out`` instead of hiding them silently.
    """
    if by not in FORECAST_BY:
        raise ValueError(f"forecast by {by!r}: expected one of {', '.join(FORECAST_BY)}")
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

    periods: dict[date, str] = {}  # a few hundred close dates among many deals

    def group_of(r: Record) -> str:
        if by == "owner":
            return r.owner
        if by == "stage":
            return r.stage
        day = r.close_date
        if day is None:
            return UNSCHEDULED
        found = periods.get(day)
        if found is None:
            found = periods[day] = period(day, by)
        return found

    ranks = {r.stage: r.stage_rank for r in chosen}

    def order(group: str) -> tuple:
        if by == "owner":
            return (group.casefold(), group)
        if by == "stage":
            return (ranks[group], group)
        return (group == UNSCHEDULED, group)

    sums: dict[tuple[str, str], _Sum] = {}
    for r in chosen:
        key = (group_of(r), r.currency)
        cell = sums.get(key) or sums.setdefault(key, _Sum())
        cell.add(r, forecast_weighted(r))
    totals = {c: _Sum() for c in _currencies(chosen, default_currency)}
    for (_, currency), cell in sums.items():
        totals[currency].merge(cell)
    rows = [ForecastRow(group=g, currency=c, **s.fields())
            for (g, c), s in sorted(sums.items(), key=lambda kv: (order(kv[0][0]), kv[0][1]))]
    return Forecast(by, rows, [ForecastTotal(currency=c, **s.fields())
                               for c, s in totals.items()], start, end, left_out)


# ---------------------------------------------------------------- changes


@dataclass(frozen=True)
class Commit:
    """A commit of the data repo's history, as the changes report shows it."""

    sha: str
    at: datetime  # the commit date, in the committer's own time zone
    author: str
    subject: str = ""


@dataclass(frozen=True)
class Step:
    """One opportunity file across one commit: its record before and after (None when
    the file did not exist on that side)."""

    commit: Commit
    before: Record | None
    after: Record | None


CHANGE_KINDS = ("new", "deleted", "won", "lost", "reopened", "stage", "amount", "currency",
                "close_date", "owner")


@dataclass(frozen=True)
class Change:
    """One thing that moved: ``kind`` (CHANGE_KINDS), ``direction`` (forward/back for a
    stage, up/down for an amount, slipped/pulled-in/set/cleared for a close date),
    old and new values."""

    commit: Commit
    record: Record  # the deal after the change (before it, for a deleted one)
    kind: str
    direction: str | None = None
    old: Any = None
    new: Any = None

    def as_dict(self) -> dict[str, Any]:
        r = self.record
        return {"at": self.commit.at.isoformat(), "commit": self.commit.sha,
                "author": self.commit.author, "id": r.id, "name": r.name,
                "customer": r.customer, "owner": r.owner, "stage": r.stage,
                "currency": r.currency, "amount": money_str(r.amount), "kind": self.kind,
                "direction": self.direction, "old": _text(self.old), "new": _text(self.new)}


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return money_str(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _sign(old: Any, new: Any, up: str, down: str) -> str:
    return up if new > old else down


def changes_of(before: Record | None,
               after: Record | None) -> list[tuple[str, str | None, Any, Any]]:
    """What moved between two states of one deal, as (kind, direction, old, new) tuples
    in CHANGE_KINDS order. Closing and reopening are reported as won/lost/reopened;
    the close date they set or clear is part of that, not a slip. A deal that is new
    and already closed is only new here (``changes`` knows whether it closed in the
    window)."""
    if before is None:
        return [] if after is None else [("new", None, None, after.stage)]
    if after is None:
        return [("deleted", None, before.stage, None)]
    out: list[tuple[str, str | None, Any, Any]] = []
    status_changed = before.status != after.status
    if status_changed:
        kind = "reopened" if after.status == "open" else after.status
        out.append((kind, None, before.stage, after.stage))
    elif before.stage != after.stage:
        out.append(("stage", _sign(before.stage_rank, after.stage_rank, "forward", "back"),
                    before.stage, after.stage))
    if before.currency != after.currency:
        out.append(("currency", None, before.currency, after.currency))
    elif before.amount != after.amount:
        out.append(("amount", _sign(before.amount, after.amount, "up", "down"),
                    before.amount, after.amount))
    if not status_changed and before.close_date != after.close_date:
        if before.close_date is None:
            direction = "set"
        elif after.close_date is None:
            direction = "cleared"
        else:
            direction = _sign(before.close_date, after.close_date, "slipped", "pulled-in")
        out.append(("close_date", direction, before.close_date, after.close_date))
    if before.owner != after.owner:
        out.append(("owner", None, before.owner, after.owner))
    return out


def _closed_within(r: Record | None, since: date, until: date | None) -> bool:
    return (r is not None and r.status != "open" and r.close_date is not None
            and since <= r.close_date and (until is None or r.close_date <= until))


@dataclass(frozen=True)
class ChangeTotal:
    """What moved in one currency over the window."""

    currency: str
    new_count: int = 0
    new_amount: Decimal = ZERO
    won_count: int = 0
    won_amount: Decimal = ZERO
    lost_count: int = 0
    lost_amount: Decimal = ZERO
    reopened_count: int = 0
    deleted_count: int = 0
    forward_count: int = 0
    back_count: int = 0
    slipped_count: int = 0
    pulled_in_count: int = 0
    amount_change: Decimal = ZERO  # the net of the amount changes (up minus down)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            out[name] = money_str(value) if isinstance(value, Decimal) else value
        return out


@dataclass(frozen=True)
class Changes:
    since: date
    until: date | None
    changes: list[Change]
    totals: list[ChangeTotal]
    commits: int = 0  # commits in the window that touched opportunities
    skipped: list[Any] = field(default_factory=list)  # invalid versions stepped over

    def as_dict(self) -> dict[str, Any]:
        return {"since": self.since.isoformat(), "until": _iso(self.until),
                "commits": self.commits, "changes": [c.as_dict() for c in self.changes],
                "totals": [t.as_dict() for t in self.totals],
                "skipped": [s.as_dict() for s in self.skipped]}


def changes(steps: Iterable[Step], since: date, until: date | None = None, *,
            owner: str | None = None, customer: str | None = None,
            skipped: Sequence[Any] = ()) -> Changes:
    """Every move of every step, oldest first, and per currency how many deals are new,
    won, lost, moved forward or back, slipped… A deal matches ``owner``/``customer``
    when it did so before or after the step. ``skipped``: the invalid versions the
    steps went over (``history.Skipped``), whose commits are of the window too."""
    out: list[Change] = []
    commits: set[str] = {s.commit.sha for s in skipped}
    skipped = [s for s in skipped if s.record is None or
               matches(s.record, owner=owner, customer=customer)]
    for step in steps:
        commits.add(step.commit.sha)
        sides = [r for r in (step.before, step.after) if r is not None]
        if not any(matches(r, owner=owner, customer=customer) for r in sides):
            continue
        record = sides[-1]  # after, or before for a deleted deal
        for kind, direction, old, new in changes_of(step.before, step.after):
            out.append(Change(step.commit, record, kind, direction, old, new))
        if (step.before is None and step.after is not None
                and _closed_within(step.after, since, until)):
            # created closed (imported, or typed in after the fact): won or lost in the
            # window only when it closed in the window
            out.append(Change(step.commit, record, step.after.status, None, None,
                              step.after.stage))

    counts: dict[str, dict[str, Any]] = {}
    for c in out:
        t = counts.setdefault(c.record.currency, {})

        def bump(name: str, amount: Decimal | None = None, t: dict[str, Any] = t) -> None:
            t[f"{name}_count"] = t.get(f"{name}_count", 0) + 1
            if amount is not None:
                t[f"{name}_amount"] = t.get(f"{name}_amount", ZERO) + amount

        if c.kind in ("new", "won", "lost"):
            bump(c.kind, c.record.amount)
        elif c.kind in ("reopened", "deleted"):
            bump(c.kind)
        elif c.kind == "stage" and c.direction is not None:  # always set for a stage
            bump(c.direction)
        elif c.kind == "close_date" and c.direction in ("slipped", "pulled-in"):
            bump(c.direction.replace("-", "_"))
        elif c.kind == "amount":
            t["amount_change"] = t.get("amount_change", ZERO) + c.new - c.old
    totals = [ChangeTotal(currency=cur, **counts[cur]) for cur in sorted(counts)]
    return Changes(since, until, out, totals, len(commits), list(skipped))
