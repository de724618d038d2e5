"""What a deal's history says: its stays at each stage, folded from the versions of its
file that commits made (pure: the read layer hands the versions in).

A stay begins when a commit puts the deal at a stage (its creation commit for the
first) and ends when a later commit moves it to another stage. Dates are author days:
the day the person made the change, in their own time zone, whatever day it reached
this clone.

- A reopened deal begins a new stay at the stage it returns to.
- A deal created directly at a late stage has a stay at that stage only: the stages
  before it were never recorded.
- A change merged from another clone is the commit that made it, counted once however
  many merges carry it. A commit that leaves the stage as it found it in its parent
  (an edit of the amount on another clone, not yet aware of a move) moves nothing;
  a merge moves the deal only when it settles on a stage the history had not reached.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple


class DealState(NamedTuple):
    """What of a deal a history report needs, as one version of its file has it."""

    stage: str
    status: str  # open | won | lost (the stage's kind; open for a stage no longer known)
    owner: str
    customer: str
    currency: str
    amount: Decimal
    close_date: date | None
    category: str | None = None  # set on the deal (``opp set ID category``), else None

    @property
    def customer_id(self) -> str:
        """The customer as the file holds it: an account id, once customers are accounts
        (what ``--customer`` matches, as for records)."""
        return self.customer


class Version(NamedTuple):
    """One commit's version of one deal's file."""

    at: datetime  # the commit's author date (aware)
    seq: int  # the commit's place in the history, oldest first (ties of ``at``)
    sha: str
    merge: bool
    before: str | None  # the stage in the commit's (first) parent; None: the file was new
    state: DealState | None  # None: the file is deleted, or this version is unreadable


class Stay(NamedTuple):
    stage: str
    start: date
    end: date | None  # None: the deal is still there

    def days(self) -> int | None:
        return None if self.end is None else (self.end - self.start).days


class DealPath(NamedTuple):
    """A deal's history: when it was created, its stays and its states, oldest first."""

    id: str
    created: date  # the author day of its creation commit
    stays: tuple[Stay, ...]
    states: tuple[tuple[date, DealState | None], ...]  # (day, state from then on)

    def state_on(self, day: date) -> DealState | None:
        """The deal as its last version dated on or before ``day`` left it (None: not
        created yet, or deleted)."""
        found = None
        for when, state in self.states:
            if when > day:
                break
            found = state
        return found

    def stays_until(self, day: date) -> list[Stay]:
        """The stays begun on or before ``day``, as known that day (a stay ended later is
        still running then)."""
        return [s if s.end is None or s.end <= day else Stay(s.stage, s.start, None)
                for s in self.stays if s.start <= day]


def fold(deal_id: str, versions: Iterable[Version]) -> DealPath | None:
    """A deal's stays and states from its versions (in any order; each commit once).
    None when no version of it could be read."""
    ordered = sorted(versions, key=lambda v: (v.at, v.seq))
    seen: set[str] = set()
    stays: list[Stay] = []
    states: list[tuple[date, DealState | None]] = []
    kinds: dict[str, str] = {}  # stage -> its kind, as the versions read it
    current: str | None = None  # the stage the deal is at, as the history folds
    created: date | None = None
    for v in ordered:
        if v.sha in seen:
            continue
        seen.add(v.sha)
        day = v.at.date()
        if v.state is None:  # deleted: gone from then on, its stay left unfinished
            states.append((day, None))
            continue
        stage = v.state.stage
        kinds[stage] = v.state.status
        if created is None:
            created = day
        if current is None or (stage != current and (v.merge or v.before != stage)):
            if stays and stays[-1].end is None:
                stays[-1] = Stay(stays[-1].stage, stays[-1].start, day)
            stays.append(Stay(stage, day, None))
            current = stage
        # the other fields follow the latest version; the stage follows the moves
        state = v.state if stage == current else v.state._replace(
            stage=current, status=kinds.get(current, v.state.status))
        states.append((day, state))
    if created is None:
        return None
    return DealPath(deal_id, created, tuple(stays), tuple(states))


def median(values: list[int]) -> Decimal | None:
    """The median of whole numbers, exact (a half when their count is even)."""
    if not values:
        return None
    ordered = sorted(values)
    mid = len(ordered) // 2
    if len(ordered) % 2:
        return Decimal(ordered[mid])
    return Decimal(ordered[mid - 1] + ordered[mid]) / 2


def mean(values: list[int]) -> Decimal | None:
    return Decimal(sum(values)) / len(values) if values else None


def ratio(part: Decimal | int, whole: Decimal | int, places: int = 4) -> float | None:
    """part / whole rounded half-up once, to ``places`` decimals, as a JSON number; None
    when ``whole`` is 0."""
    if not whole:
        return None
    exact = Decimal(part) / Decimal(whole)
    return float(exact.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP))


def days_number(value: Decimal | None, places: int = 1) -> int | float | None:
    """Days for JSON: a whole number when whole, else rounded half-up to ``places``."""
    if value is None:
        return None
    if value == value.to_integral_value():
        return int(value)
    return float(value.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP))
