"""Opportunities as small plain records: what reports need, and nothing else.

A ``Record`` is built once from an ``Opportunity`` and the ``Settings`` in force
(its stage's label, order, kind and probability are resolved here), so that the
reports in ``reports.py`` work on plain frozen values: no YAML, no pydantic, no
settings lookups. The store hands them out (``Repo.records``); a later index
keyed by git blob id may cache them without the reports noticing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NamedTuple, overload

if TYPE_CHECKING:
    from .model import Opportunity, Settings, Stage


@dataclass(frozen=True)
class StageInfo:
    """A stage of ``opp.yaml`` (R16): its place in the order is its index in the list."""

    id: str
    label: str
    probability: int
    kind: str  # open | won | lost


@dataclass(frozen=True)
class PlainModules:
    catalog: bool = True
    quotes: bool = True


@dataclass(frozen=True)
class PlainSettings:
    """What reports and lists need of ``opp.yaml``: its currency, stages and modules."""

    currency: str
    stages: tuple[StageInfo, ...]
    modules: PlainModules = PlainModules()

    def stage(self, stage_id: str) -> StageInfo:
        """The stage with this id; ``KeyError`` when there is none."""
        for s in self.stages:
            if s.id == stage_id:
                return s
        raise KeyError(stage_id)

    def as_dict(self) -> dict[str, Any]:
        return {"currency": self.currency,
                "stages": [[s.id, s.label, s.probability, s.kind] for s in self.stages],
                "modules": [self.modules.catalog, self.modules.quotes]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PlainSettings:
        return cls(data["currency"], tuple(StageInfo(*s) for s in data["stages"]),
                   PlainModules(*data["modules"]))


def plain_settings(settings: Settings | PlainSettings) -> PlainSettings:
    """The plain view of a (pydantic) ``Settings``."""
    if isinstance(settings, PlainSettings):
        return settings
    return PlainSettings(settings.currency, tuple(stages(settings)),
                         PlainModules(settings.modules.catalog, settings.modules.quotes))


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


def stages(settings: Settings | PlainSettings) -> list[StageInfo]:
    """The stages of the settings, in their order."""
    return [StageInfo(s.id, s.label, s.probability, s.kind) for s in settings.stages]


def record(opp: Opportunity, settings: Settings | PlainSettings) -> Record:
    """The record of a valid opportunity (its stage is one of the settings')."""
    listed: Sequence[Stage | StageInfo] = settings.stages
    rank, stage = next((i, s) for i, s in enumerate(listed) if s.id == opp.stage)
    return Record(id=opp.id, name=opp.name, customer=opp.customer, owner=opp.owner,
                  stage=opp.stage, stage_label=stage.label, stage_rank=rank, status=stage.kind,
                  probability=stage.probability, amount=opp.amount, objective=opp.objective,
                  currency=opp.currency, close_date=opp.close_date, created=opp.created,
                  amount_source=opp.amount_source, ref=opp.ref)


def summary(r: Record) -> dict[str, Any]:
    """The row of ``opp list --format json`` (the same as ``views.summary``)."""
    from .money import money_str

    return {"id": r.id, "name": r.name, "customer": r.customer, "stage": r.stage,
            "stage_label": r.stage_label, "status": r.status, "probability": r.probability,
            "amount": money_str(r.amount), "amount_source": r.amount_source,
            "objective": None if r.objective is None else money_str(r.objective),
            "currency": r.currency,
            "close_date": None if r.close_date is None else r.close_date.isoformat(),
            "owner": r.owner, "ref": r.ref}


# ---------------------------------------------------------------- rules that read the settings


def stage_problems(stage: str, close_date: date | None, lost_reason: str | None,
                   settings: Settings | PlainSettings) -> list[tuple[tuple, str]]:
    """The rules of a stored opportunity that depend on the settings' stages, as
    (loc, message) in file order: its stage exists, a closed one has a close date,
    only a lost one has a lost reason (R16, R17, R17a). ``rules.problems`` starts
    with these; the index applies them at read time, so that a change of
    ``opp.yaml`` never needs a file parsed again."""
    out: list[tuple[tuple, str]] = []
    try:
        kind = settings.stage(stage).kind
    except KeyError:
        out.append((("stage",), f"unknown stage '{stage}'; stages are: "
                                f"{', '.join(s.id for s in settings.stages)}"))
        kind = None
    if kind in ("won", "lost") and close_date is None:
        out.append((("close_date",), f"a {kind} opportunity needs its close date"))
    if lost_reason is not None and kind not in ("lost", None):
        out.append((("lost_reason",), "only a lost opportunity has a lost reason"))
    return out


def near(word: str, choices: Iterable[str]) -> str:
    """' (did you mean X?)' when one of the choices is close to ``word``, or is the only
    one holding it ('won' -> 'closed-won')."""
    import difflib

    choices = list(choices)
    match = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    if not match and len(word) >= 3:
        match = [c for c in choices if word.casefold() in c.casefold()]
    return f" (did you mean '{match[0]}'?)" if len(match) == 1 else ""


def loose_key(text: str) -> str:
    """Letters and digits only, case-folded: 'GTX Pro', 'GTXPro' and 'gtx-pro' match."""
    import re

    return re.sub(r"[\W_]+", "", text.casefold())


@overload
def resolve_stage(settings: Settings, text: str) -> Stage: ...
@overload
def resolve_stage(settings: PlainSettings, text: str) -> StageInfo: ...
def resolve_stage(settings: Settings | PlainSettings, text: str) -> Stage | StageInfo:
    """A stage of the settings (pydantic or plain) by id or label, case-insensitive, else
    loosely when that names one stage ('Closed Won', 'closedwon' find closed-won) (R16)."""
    from .errors import NotFound

    key = text.strip().casefold()
    listed: Sequence[Stage | StageInfo] = settings.stages
    for stage in listed:
        if key in (stage.id.casefold(), stage.label.casefold()):
            return stage
    loose = [s for s in listed if loose_key(text) in (loose_key(s.id), loose_key(s.label))]
    if len(loose) == 1:
        return loose[0]
    ids_ = [s.id for s in settings.stages]
    raise NotFound(f"unknown stage '{text}'{near(key, ids_)}; stages are: {', '.join(ids_)}")
