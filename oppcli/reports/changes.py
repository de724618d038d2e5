"""``opp changes``: what moved in the pipeline in a window, from the git history."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from ..domain.money import ZERO, money_str
from ..domain.records import Commit, Record, Step
from .common import CustomerMatch, iso_day, matches

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


def changes_of(before: Record | None, after: Record | None) -> list[tuple]:
    """What moved between two states of one deal, as (kind, direction, old, new) tuples
    in CHANGE_KINDS order. Closing and reopening are reported as won/lost/reopened;
    the close date they set or clear is part of that, not a slip. A deal that is new
    and already closed is only new here (``changes`` knows whether it closed in the
    window)."""
    if before is None:
        return [] if after is None else [("new", None, None, after.stage)]
    if after is None:
        return [("deleted", None, before.stage, None)]
    out: list[tuple] = []
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
        return {"since": self.since.isoformat(), "until": iso_day(self.until),
                "commits": self.commits, "changes": [c.as_dict() for c in self.changes],
                "totals": [t.as_dict() for t in self.totals],
                "skipped": [s.as_dict() for s in self.skipped]}


def changes(steps: Iterable[Step], since: date, until: date | None = None, *,
            owner: str | None = None, customer: CustomerMatch = None,
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
        record = step.after or step.before
        assert record is not None  # a step has a side (``sides`` above)
        for kind, direction, old, new in changes_of(step.before, step.after):
            out.append(Change(step.commit, record, kind, direction, old, new))
        if step.before is None and step.after is not None and \
                _closed_within(step.after, since, until):
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
        elif c.kind == "stage" and c.direction:
            bump(c.direction)
        elif c.kind == "close_date" and c.direction in ("slipped", "pulled-in"):
            bump(c.direction.replace("-", "_"))
        elif c.kind == "amount":
            t["amount_change"] = t.get("amount_change", ZERO) + c.new - c.old
    totals = [ChangeTotal(currency=cur, **counts[cur]) for cur in sorted(counts)]
    return Changes(since, until, out, totals, len(commits), list(skipped))
