"""Stages (R16, R17, R17a): finding one by id or label, and what a stage asks of a deal.

A closed deal (won or lost) is read-only but for notes, documents and activities
(``ensure_open``); a closed one has a close date; only a lost one has a lost reason.
These functions read the settings, pydantic or plain, and never parse a file.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING

from ..errors import NotFound, RuleError

if TYPE_CHECKING:  # annotations only: reports read stages without pydantic
    from .model import Opportunity
    from .settings import Settings, Stage


def stage_problems(stage: str, close_date: date | None, lost_reason: str | None,
                   settings) -> list[tuple[tuple, str]]:
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

    choices = list(choices)
    match = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    if not match and len(word) >= 3:
        match = [c for c in choices if word.casefold() in c.casefold()]
    return f" (did you mean '{match[0]}'?)" if len(match) == 1 else ""


def loose_key(text: str) -> str:
    """Letters and digits only, case-folded: 'GTX Pro', 'GTXPro' and 'gtx-pro' match."""

    return re.sub(r"[\W_]+", "", text.casefold())


def resolve_stage(settings, text: str):
    """A stage of the settings (pydantic or plain) by id or label, case-insensitive, else
    loosely when that names one stage ('Closed Won', 'closedwon' find closed-won) (R16)."""

    key = text.strip().casefold()
    for stage in settings.stages:
        if key in (stage.id.casefold(), stage.label.casefold()):
            return stage
    loose = [s for s in settings.stages if loose_key(text) in (loose_key(s.id), loose_key(s.label))]
    if len(loose) == 1:
        return loose[0]
    ids_ = [s.id for s in settings.stages]
    raise NotFound(f"unknown stage '{text}'{near(key, ids_)}; stages are: {', '.join(ids_)}")


def stage_of(opp: Opportunity, settings: Settings) -> Stage:
    """The opportunity's stage; ``RuleError`` when the settings no longer have it."""
    try:
        return settings.stage(opp.stage)
    except KeyError:
        raise RuleError(f"opportunity {opp.id} is at stage '{opp.stage}', which opp.yaml does "
                        f"not define; add it to opp.yaml or move the opportunity") from None


def status(opp: Opportunity, settings: Settings) -> str:
    """open, won or lost: the kind of the opportunity's stage."""
    return stage_of(opp, settings).kind


def first_stage(settings: Settings, kind: str) -> Stage:
    return next(s for s in settings.stages if s.kind == kind)


def ensure_open(opp: Opportunity, settings: Settings, doing: str = "change it") -> None:
    """R17: a closed opportunity is read-only (but for notes, activities, documents)."""
    kind = status(opp, settings)
    if kind != "open":
        when = f" on {opp.close_date}" if opp.close_date else ""
        raise RuleError(f"opportunity {opp.id} is closed ({kind}{when}); reopen it before you "
                        f"{doing}: opp reopen {opp.id}")
