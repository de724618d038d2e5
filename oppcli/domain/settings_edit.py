"""Reading and changing the settings (opp.yaml, R2, R3, R16) by key, as pure functions.

A key names a setting with dots: ``currency``, ``locale``, ``default_stage``,
``modules.catalog``, ``activity_types``, ``roles.contacts``, ``stages``,
``stages.proposal``, ``stages.proposal.probability``. A stage is named by its id
or its label. Every change returns new, validated ``Settings`` or raises an
``OppError`` saying why; ``breakages`` says which opportunities a change would
break, so that the command can refuse it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from ..errors import NotFound, RuleError, UsageError
from .categories import CATEGORIES
from .checks import Problem, problems
from .l10n import check_currency, check_locale
from .model import Opportunity, settings_from
from .settings import Settings
from .stages import near, resolve_stage

LISTS = {"activity_types": ("activity_types",), "lost_reasons": ("lost_reasons",),
         "roles.contacts": ("roles", "contacts"), "roles.partners": ("roles", "partners"),
         "roles.competitors": ("roles", "competitors")}
SCALARS = ("currency", "locale", "default_stage", "modules.catalog", "modules.quotes")
STAGE_FIELDS = ("label", "probability", "kind", "position", "category")
KINDS = ("open", "won", "lost")
_TRUE, _FALSE = ("true", "yes", "on", "1"), ("false", "no", "off", "0")


def keys(settings: Settings) -> list[str]:
    """Every key ``get`` takes, in file order."""
    out = ["currency", "locale", "stages"]
    for stage in settings.stages:
        out += [f"stages.{stage.id}"] + [f"stages.{stage.id}.{f}" for f in STAGE_FIELDS]
    out += ["default_stage", "activity_types", "roles", "roles.contacts", "roles.partners",
            "roles.competitors", "lost_reasons", "modules", "modules.catalog",
            "modules.quotes"]
    return out


def parse_key(settings: Settings, key: str) -> tuple[str, ...]:
    """A key as a path: ('stages', 'proposal', 'probability'); the stage by id or label."""
    parts = key.strip().split(".")
    head = parts[0].strip().lower().replace("-", "_")
    rest = [p.strip() for p in parts[1:]]
    if head == "stages" and rest:
        stage = resolve_stage(settings, rest[0])
        if len(rest) == 1:
            return ("stages", stage.id)
        field = rest[1].lower()
        if len(rest) == 2 and field in STAGE_FIELDS:
            return ("stages", stage.id, field)
    elif head in ("roles", "modules") and len(rest) <= 1:
        path = (head, *(r.lower() for r in rest))
        if ".".join(path) in keys(settings):
            return path
    elif not rest and head in ("currency", "locale", "default_stage", "activity_types",
                               "lost_reasons", "stages"):
        return (head,)
    choices = [k for k in keys(settings) if not k.startswith("stages.")]
    raise UsageError(f"unknown setting '{key}'{near(key, keys(settings))}; settings are: "
                     f"{', '.join(choices)}, stages.STAGE.{{{','.join(STAGE_FIELDS)}}}")


def dotted(path: tuple[str, ...]) -> str:
    return ".".join(path)


def get(settings: Settings, path: tuple[str, ...] = ()) -> Any:
    """The value at ``path`` as plain JSON data (the whole settings for ())."""
    data = settings.as_data()
    if path[:1] == ("stages",) and len(path) > 1:
        index = next(i for i, s in enumerate(data["stages"]) if s["id"] == path[1])
        if len(path) == 3:
            if path[2] == "position":
                return index + 1
            # a closed stage has no category: its deals are closed, or left out
            return data["stages"][index].get(path[2])
        return data["stages"][index]
    for part in path:
        data = data[part]
    return data


def _validated(data: dict) -> Settings:
    from pydantic import ValidationError

    try:
        return settings_from(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        message = err["msg"].removeprefix("Value error, ")
        raise RuleError(f"opp.yaml would not hold: {where + ': ' if where else ''}{message}"
                        ) from None


def _bool(text: str, key: str) -> bool:
    word = text.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise UsageError(f"{key} is true or false, not '{text}'")


# What a closed stage's probability is: reports count a won deal whole and a lost one
# not at all, whatever a hand-edited opp.yaml says; opp config keeps the two in step.
CERTAIN = {"won": 100, "lost": 0}


def _certain(stage: dict) -> None:
    certain = CERTAIN.get(stage["kind"])
    if certain is not None and stage["probability"] != certain:
        raise RuleError(f"stage '{stage['id']}' is {stage['kind']}: its probability is "
                        f"{certain} (reports count a {stage['kind']} deal "
                        f"{'whole' if certain else 'not at all'}), not {stage['probability']}")


def _category(stage: dict, text: str, key: str) -> str | None:
    """A stage's forecast category from ``text`` ('none': the default's again)."""
    word = text.strip().lower().replace("-", "_").replace(" ", "_")
    if word in ("none", ""):
        return None
    if word not in CATEGORIES:
        raise UsageError(f"{key} is one of {', '.join(CATEGORIES)} or none, not '{text}'")
    if stage["kind"] in CERTAIN:
        raise RuleError(f"stage '{stage['id']}' is {stage['kind']}: its deals are "
                        f"{'closed' if stage['kind'] == 'won' else 'left out of the forecast'}"
                        ", it has no forecast category")
    return word


def _int(text: str, key: str, low: int, high: int) -> int:
    word = text.strip()
    if not re.fullmatch(r"\d+", word) or not low <= int(word) <= high:
        raise UsageError(f"{key} is a whole number from {low} to {high}, not '{text}'")
    return int(word)


def _word(text: str, key: str, limit: int = 100) -> str:
    word = text.strip()
    if not word or re.search(r"[\x00-\x1f\x7f]", word) or len(word) > limit:
        raise UsageError(f"{key} needs one line of text (up to {limit} characters), "
                         f"not '{text}'")
    return word


def set_value(settings: Settings, path: tuple[str, ...], text: str) -> Settings:
    """The settings with the scalar at ``path`` set from ``text``."""
    key = dotted(path)
    data = settings.as_data()
    if path == ("currency",):
        try:
            data["currency"] = check_currency(text)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    elif path == ("locale",):
        try:
            data["locale"] = check_locale(text)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    elif path == ("default_stage",):
        data["default_stage"] = resolve_stage(settings, text).id
    elif path[0] == "modules" and len(path) == 2:
        data["modules"][path[1]] = _bool(text, key)
    elif path[0] == "stages" and len(path) == 3:
        stages = data["stages"]
        index = next(i for i, s in enumerate(stages) if s["id"] == path[1])
        field = path[2]
        if field == "probability":
            stages[index]["probability"] = _int(text, key, 0, 100)
            _certain(stages[index])
        elif field == "label":
            stages[index]["label"] = _word(text, key, 500)
        elif field == "kind":
            kind = text.strip().lower()
            if kind not in KINDS:
                raise UsageError(f"{key} is one of {', '.join(KINDS)}, not '{text}'")
            stages[index]["kind"] = kind
            if kind in CERTAIN:  # a won stage is certain, a lost one hopeless
                stages[index]["probability"] = CERTAIN[kind]
                stages[index]["category"] = None  # its deals are closed, or left out
        elif field == "category":
            stages[index]["category"] = _category(stages[index], text, key)
        else:  # position
            stages.insert(_int(text, key, 1, len(stages)) - 1, stages.pop(index))
    elif path[0] == "stages":
        raise UsageError("set a stage one field at a time: opp config set "
                         f"stages.STAGE.{{{','.join(STAGE_FIELDS)}}} VALUE; add or remove "
                         "stages with: opp config add|remove stages ID")
    elif key in LISTS:
        raise UsageError(f"{key} is a list; change it with: opp config add {key} VALUE, "
                         f"opp config remove {key} VALUE")
    else:  # roles, modules
        parts = ", ".join(k for k in keys(settings) if k.startswith(key + "."))
        raise UsageError(f"{key} holds {parts}; change one of them")
    return _validated(data)


def _list_at(data: dict, key: str) -> list:
    node: Any = data
    for part in LISTS[key]:
        node = node[part]
    return node


def add(settings: Settings, path: tuple[str, ...], value: str, *,
        label: str | None = None, probability: str | None = None,
        kind: str | None = None, before: str | None = None,
        after: str | None = None) -> Settings:
    """The settings with ``value`` added to a list, or a new stage (id ``value``)."""
    key = dotted(path)
    data = settings.as_data()
    if path == ("stages",):
        return _add_stage(settings, data, value, label, probability, kind, before, after)
    if any(o is not None for o in (label, probability, kind, before, after)):
        raise UsageError("--label, --probability, --kind, --before and --after are for "
                         "adding a stage: opp config add stages ID …")
    if key not in LISTS:
        raise UsageError(f"{key} is not a list; lists are: {', '.join(LISTS)}, stages")
    word = _word(value, key)
    items = _list_at(data, key)
    existing = next((i for i in items if i.casefold() == word.casefold()), None)
    if existing is not None:
        raise RuleError(f"'{existing}' is already in {key}")
    items.append(word)
    return _validated(data)


def _add_stage(settings: Settings, data: dict, stage_id: str, label: str | None,
               probability: str | None, kind: str | None, before: str | None,
               after: str | None) -> Settings:
    sid = stage_id.strip()
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,63}", sid):
        raise UsageError(f"'{stage_id}' is not a stage id; use lower-case letters, digits, "
                         "'-' and '_', e.g. demo or on-hold")
    if any(s.id == sid for s in settings.stages):
        raise RuleError(f"stage '{sid}' already exists; change it with: "
                        f"opp config set stages.{sid}.label|probability|kind VALUE")
    kind = (kind or "open").strip().lower()
    if kind not in KINDS:
        raise UsageError(f"--kind is one of {', '.join(KINDS)}, not '{kind}'")
    if probability is None and kind not in CERTAIN:
        raise UsageError("a new stage needs its --probability (0-100)")
    if before is not None and after is not None:
        raise UsageError("give --before or --after, not both")
    stage = {"id": sid,
             "label": _word(label, "--label", 500) if label is not None
             else sid.replace("-", " ").replace("_", " ").capitalize(),
             "probability": CERTAIN[kind] if probability is None
             else _int(probability, "--probability", 0, 100), "kind": kind}
    _certain(stage)
    stages = data["stages"]
    anchor_ref = before if before is not None else after
    if anchor_ref is not None:
        anchor = resolve_stage(settings, anchor_ref).id
        index = next(i for i, s in enumerate(stages) if s["id"] == anchor)
        stages.insert(index if before is not None else index + 1, stage)
    elif kind == "open":  # open stages come before the closing ones
        last_open = max((i for i, s in enumerate(stages) if s["kind"] == "open"), default=-1)
        stages.insert(last_open + 1, stage)
    else:
        stages.append(stage)
    return _validated(data)


def remove(settings: Settings, path: tuple[str, ...], value: str) -> tuple[Settings, str]:
    """The settings without ``value`` (a list item, or a stage by id or label), and the
    exact value removed."""
    key = dotted(path)
    data = settings.as_data()
    if path == ("stages",):
        stage = resolve_stage(settings, value)
        if stage.id == settings.default_stage:
            raise RuleError(f"stage '{stage.id}' is the default_stage; choose another one "
                            "first: opp config set default_stage STAGE")
        data["stages"] = [s for s in data["stages"] if s["id"] != stage.id]
        return _validated(data), stage.id
    if key not in LISTS:
        raise UsageError(f"{key} is not a list; lists are: {', '.join(LISTS)}, stages")
    items = _list_at(data, key)
    existing = next((i for i in items if i.casefold() == value.strip().casefold()), None)
    if existing is None:
        raise NotFound(f"'{value}' is not in {key}{near(value, items)}; it has: "
                       f"{', '.join(items) or 'nothing'}")
    items.remove(existing)
    return _validated(data), existing


def breakages(opportunities: Iterable[Opportunity], old: Settings, new: Settings
              ) -> list[tuple[Opportunity, Problem]]:
    """Each rule an opportunity holds under ``old`` and breaks under ``new``; problems
    it already had are not the change's doing."""
    kinds = {s.id: s.kind for s in old.stages}
    moved = {s.id: (kinds[s.id], s.kind) for s in new.stages
             if s.id in kinds and kinds[s.id] != s.kind}
    out = []
    for opp in opportunities:
        had = {p.loc for p in problems(opp, old)}
        out += [(opp, p) for p in problems(opp, new) if p.loc not in had]
        if opp.stage in moved and ("stage",) not in had:
            # a deal closes (or opens) by a command that dates it, never by a setting
            was, now = moved[opp.stage]
            out.append((opp, Problem(("stage",), f"stage '{opp.stage}' would turn it from "
                                                 f"{was} to {now}")))
    return out


def refusal(broken: list[tuple[Opportunity, Problem]]) -> RuleError:
    """Why a change that breaks opportunities is refused, naming them."""
    ids = sorted({opp.id for opp, _ in broken})
    shown = ", ".join(ids[:5]) + (f" and {len(ids) - 5} more" if len(ids) > 5 else "")
    many = f"{len(ids)} opportunit{'y' if len(ids) == 1 else 'ies'} ({shown})"
    if all(p.loc == ("stage",) for _, p in broken):
        stages = sorted({opp.stage for opp, _ in broken})
        return RuleError(f"stage '{', '.join(stages)}' is where {many} "
                         f"{'is' if len(ids) == 1 else 'are'}; move "
                         f"{'it' if len(ids) == 1 else 'them'} to another stage first "
                         "(opp stage ID STAGE)")
    opp, problem = broken[0]
    return RuleError(f"refused: it would break {many}, e.g. {opp.id}: {problem.message}")
