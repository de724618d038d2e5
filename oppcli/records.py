"""Opportunities as small plain records: what reports need, and nothing else.

A ``Record`` is built once from an ``Opportunity`` and the ``Settings`` in force
(its stage's label, order, kind and probability are resolved here), so that the
reports in ``reports.py`` work on plain frozen values: no YAML, no pydantic, no
settings lookups. The store hands them out (``Repo.records``); a later index
keyed by git blob id may cache them without the reports noticing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Optional


@dataclass(frozen=True)
class StageInfo:
    """A stage of ``opp.yaml`` (R16): its place in the order is its index in the list."""

    id: str
    label: str
    probability: int
    kind: str  # open | won | lost


@dataclass(frozen=True)
class Record:
    """One opportunity as the reports see it."""

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
    objective: Optional[Decimal]
    currency: str
    close_date: Optional[date]
    created: date


def stages(settings) -> list[StageInfo]:
    """The stages of the settings, in their order."""
    return [StageInfo(s.id, s.label, s.probability, s.kind) for s in settings.stages]


def record(opp, settings) -> Record:
    """The record of a valid opportunity (its stage is one of the settings')."""
    rank, stage = next((i, s) for i, s in enumerate(settings.stages) if s.id == opp.stage)
    return Record(id=opp.id, name=opp.name, customer=opp.customer, owner=opp.owner,
                  stage=opp.stage, stage_label=stage.label, stage_rank=rank, status=stage.kind,
                  probability=stage.probability, amount=opp.amount, objective=opp.objective,
                  currency=opp.currency, close_date=opp.close_date, created=opp.created)
