"""Opportunities as small plain records: what reports need, and nothing else.

A ``Record`` is built once from an ``Opportunity`` and the ``Settings`` in force
(its stage's label, order, kind and probability are resolved here), so that the
reports in ``reports.py`` work on plain frozen values: no YAML, no pydantic, no
settings lookups. The store hands them out (``Repo.records``); a later index
keyed by git blob id may cache them without the reports noticing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from .model import Opportunity

from .categories import deal_category, stage_category
from .money import money_str
from .settings import Settings


class Record(NamedTuple):
    """One opportunity as the reports see it: an immutable tuple with named fields (a
    frozen dataclass takes 1.6 us to build against 0.3 us: a tenth of a warm report at
    100,000 files, #9)."""

    id: str
    name: str
    customer: str
    owner: str
    stage: str
    stage_label: str
    stage_rank: int  # the stage's position in opp.yaml, 0 first
    status: str  # open | won | lost: the kind of the stage
    probability: int  # the stage's probability, 0..100
    amount: Decimal
    objective: Decimal | None
    currency: str
    close_date: date | None
    created: date
    amount_source: str = "manual"  # manual | products | quote
    ref: str | None = None
    category: str | None = None  # forecast category: the deal's own, else its stage's
    customer_id: str | None = None  # the account's id; None for a customer still text


def named(r: Record, names: dict[str, str]) -> Record:
    """The record showing its account's name (``customer`` holds an account id)."""
    name = names.get(r.customer)
    return r if name is None else r._replace(customer=name, customer_id=r.customer)


class PlannedActivity(NamedTuple):
    """An activity not done yet: planned for its day, or overdue once that day is past."""

    id: str
    type: str
    subject: str
    date: date


class SentQuote(NamedTuple):
    """A quote sent to the customer and not answered yet (status ``sent``)."""

    id: str
    sent: date
    total: Decimal


class Dated(NamedTuple):
    """What of a deal has a day, as the agenda reads it: its activities not done, the
    days of those done, and its quotes awaiting an answer."""

    planned: tuple[PlannedActivity, ...] = ()
    done_days: tuple[date, ...] = ()
    sent: tuple[SentQuote, ...] = ()


NOTHING_DATED = Dated()


def dated(opp: Opportunity, closed: bool = False) -> Dated:
    """The dated items of a valid opportunity (shared when it has none). Of a closed
    deal (``closed``), only its activities to do: it is never stale, and its quotes
    are never answered (R17)."""
    if not opp.activities and not opp.quotes:
        return NOTHING_DATED
    planned = tuple(PlannedActivity(a.id, a.type, a.subject, a.date)
                    for a in opp.activities if not a.done)
    if closed:
        return Dated(planned) if planned else NOTHING_DATED
    done = tuple(sorted({a.date for a in opp.activities if a.done}))
    sent = tuple(SentQuote(q.id, q.sent or q.created, q.total)
                 for q in opp.quotes if q.status == "sent")
    return Dated(planned, done, sent) if planned or done or sent else NOTHING_DATED


def record(opp, settings: Settings, names: dict[str, str] | None = None) -> Record:
    """The record of a valid opportunity (its stage is one of the settings'); with
    ``names`` (account id -> name), its customer shows the account's name."""
    rank, stage = next((i, s) for i, s in enumerate(settings.stages) if s.id == opp.stage)
    return Record(id=opp.id, name=opp.name, customer=opp.customer, owner=opp.owner,
                  stage=opp.stage, stage_label=stage.label, stage_rank=rank, status=stage.kind,
                  probability=stage.probability, amount=opp.amount, objective=opp.objective,
                  currency=opp.currency, close_date=opp.close_date, created=opp.created,
                  amount_source=opp.amount_source, ref=opp.ref,
                  category=deal_category(stage.kind, stage_category(stage.id, stage.kind,
                                                                    stage.category),
                                         opp.category)[0],
                  customer_id=opp.customer if names and opp.customer in names else None
                  )._replace(customer=(names or {}).get(opp.customer, opp.customer))


def summary(r: Record) -> dict[str, Any]:
    """The row of ``opp list --format json`` (the same as ``views.summary``)."""

    return {"id": r.id, "name": r.name, "customer": r.customer, "customer_id": r.customer_id,
            "stage": r.stage,
            "stage_label": r.stage_label, "status": r.status, "probability": r.probability,
            "amount": money_str(r.amount), "amount_source": r.amount_source,
            "objective": None if r.objective is None else money_str(r.objective),
            "currency": r.currency,
            "close_date": None if r.close_date is None else r.close_date.isoformat(),
            "owner": r.owner, "ref": r.ref,
            "category": r.category}  # its own, else its stage's; closed when won (#23)


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
