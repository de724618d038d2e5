"""The semantic three-way merge of opp's files, as pure functions over parsed data.

Git merges line by line; two salespeople changing one deal would collide on lines
that have nothing to do with each other. Here a merge works on the data instead:

- a field changed on one side only takes that side; changed on both sides to the
  same value is fine; changed on both sides to different values is a conflict;
- panel items (products, quotes and their lines, contacts, partners, competitors,
  activities, documents, notes) are matched by ``id``, catalog products by SKU,
  stages by id, lists of words (activity types, roles, lost reasons) by the word:
  an item added on either side is kept, removed on one side and untouched on the
  other is removed, changed on both sides is merged field by field inside it;
  removed on one side and changed on the other is a conflict;
- order is stable: ours' order, with theirs' additions placed after the item
  they follow on their side;
- a partner, competitor or contact both sides added for one party is listed once
  (``mergefold``): the base's entry or the smaller id kept, its blanks filled;
- what the rules derive is recomputed, never merged (R6, R10, R12, R14): line
  totals, quote totals, and the amount when products or an accepted quote drive it
  (a superseded quote, R15a, drives nothing);
- the result must pass the model and ``rules.problems``; a field that breaks them
  becomes a conflict (taking ours). When ours' value of that field alone does not
  mend it (Bob added a product while Alice closed the deal by accepting a quote,
  R14), the fields the rules tie together (stage, amount, products, quotes…) are
  taken from one side as a group: one conflict names the field, the rule, and what
  each side did, in words. When even that fails the whole file is one conflict,
  still naming the deal and the rule.

A conflict never loses a side: the merged document takes ours for the conflicting
field and the ``Conflict`` keeps base, ours and theirs. ``choices`` (a side or a
value per conflict path) and ``default`` (one side for every conflict) settle
conflicts in a second run over the same three versions: that is ``opp resolve``.

No I/O here: ``store.sync`` reads the files and git, this module only decides. Its
parts: ``mergebase`` (what they share), ``mergevalues`` (the generic merge of values),
``mergefold`` (parties added twice), ``mergewords`` (what a side did, in words).
"""


from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from ..errors import RuleError
from .mergebase import (
    ACCOUNT,
    CATALOG,
    MISSING,
    OPPORTUNITY,
    QUOTAS,
    SETTINGS,
    SIDES,
    Conflict,
    describe,
    describe_key,
    is_item,
    kind_of,
    plain,
    same,
    value_at,
)
from .mergefold import fold_twins
from .mergevalues import Merger, merge_values, or_none
from .mergewords import rule_words, state_words, summarize
from .money import CENT, ZERO, line_total
from .quotas import quota_order
from .settings import Settings

if TYPE_CHECKING:
    from pydantic import BaseModel

    from .model import Opportunity

__all__ = [  # the merge's front: its parts' names that callers use, with its own
    "ACCOUNT",
    "CATALOG",
    "COUPLED",
    "MISSING",
    "OPPORTUNITY",
    "QUOTAS",
    "SETTINGS",
    "SIDES",
    "WHOLE_FILE",
    "Conflict",
    "MergeRefused",
    "Merged",
    "check",
    "describe",
    "describe_key",
    "is_item",
    "kind_of",
    "merge_document",
    "merge_values",
    "normalize",
    "plain",
    "same",
    "state_words",
    "summarize",
    "value_at",
]


@dataclass
class Merged:
    """The merged document (``None`` when the whole file is in conflict) and what is left."""

    data: dict | None
    conflicts: list[Conflict] = field(default_factory=list)
    id: str | None = None  # the opportunity's id and name (from the sides), for messages
    name: str | None = None

    @property
    def whole_file(self) -> bool:
        return self.data is None


WHOLE_FILE = Conflict((), None, "the whole file", "the whole file")

COUPLED = ("stage", "amount", "amount_source", "close_date", "lost_reason", "products", "quotes")
"""An opportunity's fields that the rules tie together (R4-R7, R14, R17a): when a merge
of them breaks a rule, they are taken from one side as a group."""


class MergeRefused(RuleError):
    """The chosen settlement breaks a rule; the message says which and what to do."""



# ---------------------------------------------------------------- the three kinds of file


def _model(kind: str) -> type[BaseModel]:
    from .model import Account, Catalog, Opportunity, Quotas, SettingsFile

    models: dict[str, type[BaseModel]] = {OPPORTUNITY: Opportunity, CATALOG: Catalog,
                                          SETTINGS: SettingsFile, ACCOUNT: Account,
                                          QUOTAS: Quotas}
    return models[kind]


def _copied(data: Any) -> Any:
    """A copy of parsed data (dicts, lists and immutable scalars) that shares no dict or
    list with ``data``: what ``copy.deepcopy`` gives for such data, several times faster
    (a deal of 30,000 notes is copied twice by each merge)."""
    kind = type(data)
    if kind is dict:
        return {key: _copied(value) for key, value in data.items()}
    if kind is list:
        return [_copied(value) for value in data]
    if kind in (str, int, bool, Decimal, date, datetime, float) or data is None:
        return data
    return copy.deepcopy(data)  # anything else, the careful way


def normalize(kind: str, data: Any) -> Any:
    """The data as its model writes it (every field, exact types), or as given if invalid."""
    if not isinstance(data, dict):
        return data
    from pydantic import ValidationError

    try:
        return _model(kind).model_validate(data).model_dump(mode="python")
    except (ValidationError, ValueError, TypeError, ArithmeticError):
        return data


def _dec(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _settle_opportunity(data: dict) -> None:
    """Recompute what the rules derive: line totals (R10), quote totals (R12), the amount
    from the products (R4, R6) or from the accepted quote (R14)."""

    def retotal(lines: Any) -> Decimal:
        total = ZERO
        for line in lines if isinstance(lines, list) else []:
            if isinstance(line, dict) and {"quantity", "unit_price"} <= line.keys():
                line["total"] = line_total(_dec(line["quantity"]), _dec(line["unit_price"]),
                                           _dec(line.get("discount", 0)))
                total += line["total"]
        return total

    try:
        products_total = retotal(data.get("products"))
        accepted = []
        for quote in data.get("quotes") or []:
            if isinstance(quote, dict):
                quote["total"] = retotal(quote.get("lines"))
                if quote.get("status") == "accepted":
                    accepted.append(quote)
        source = data.get("amount_source")
        if source == "quote":
            if len(accepted) == 1:
                data["amount"] = accepted[0]["total"]
        elif data.get("products"):
            data["amount_source"], data["amount"] = "products", products_total.quantize(CENT)
        elif source == "products":
            data["amount_source"], data["amount"] = "manual", ZERO
    except (ArithmeticError, ValueError, TypeError, KeyError):
        pass  # malformed lines: the validation below reports the file


def _derived(kind: str, data: dict, conflict: Conflict, sides: tuple) -> bool:
    """Whether the conflict is about a value the rules recompute (so not a conflict)."""
    if kind != OPPORTUNITY:
        return False
    path = conflict.path
    if path and path[-1] == "total" and path[0] in ("products", "quotes"):
        return True
    if path == ("amount",):
        # a true conflict only when someone typed it and it is still typed
        return data.get("amount_source") in ("products", "quote") or all(
            side.get("amount_source") != "manual" for side in sides)
    if path == ("amount_source",):
        return "quote" not in (conflict.ours, conflict.theirs, data.get("amount_source"))
    return False


def _settle(kind: str, data: dict) -> None:
    if kind == OPPORTUNITY:
        _settle_opportunity(data)
    elif kind == CATALOG and isinstance(data.get("products"), list):
        # the catalog commands keep it sorted by SKU: so does the merge
        data["products"].sort(key=lambda p: str(p.get("sku", "")).casefold()
                              if isinstance(p, dict) else "")
    elif kind == QUOTAS and isinstance(data.get("quotas"), list):
        # as opp quota set writes them: by owner, then period
        data["quotas"].sort(key=lambda q: quota_order(q) if isinstance(q, dict) else ())


def check(kind: str, data: dict, settings: Any = None, stages_from: tuple = ()
          ) -> tuple[Any, list[tuple[str, str]]]:
    """(model or None, [(top-level field or '', message)]): what keeps ``data`` from
    being stored. An opportunity's stage that only this merge's settings lack is fine
    when one side had it (opp.yaml is merged on its own)."""
    from pydantic import ValidationError

    try:
        model = _model(kind).model_validate(data)
    except ValidationError as exc:
        out = []
        for err in exc.errors():
            loc = err["loc"]
            where = ".".join(str(p) for p in loc)
            msg = err["msg"].removeprefix("Value error, ")
            out.append((str(loc[0]) if loc else "", f"{where}: {msg}" if where else msg))
        return None, out
    if kind != OPPORTUNITY:
        return model, []
    from .checks import problems

    opp = cast("Opportunity", model)  # the model of an OPPORTUNITY file
    found = []
    for problem in problems(opp, settings or Settings()):
        if problem.loc == ("stage",) and opp.stage in stages_from:
            continue
        found.append((str(problem.loc[0]) if problem.loc else "", problem.message))
    return model, found


def merge_document(kind: str, base: Any, ours: Any, theirs: Any, *, settings: Any = None,
                   choices: dict[tuple, tuple[str, Any]] | None = None,
                   default: str | None = None, pending: Any = ()) -> Merged:
    """Merge three versions of one opp file (parsed YAML; ``base`` None when absent).

    The result always passes the model and the rules, or is a whole-file conflict
    (``data`` None). With ``choices``/``default`` (settling conflicts), a settlement
    that cannot pass raises ``MergeRefused`` instead, saying why. ``pending`` are the
    paths of conflicts still to settle (a rule conflict stays one until chosen).
    """
    choices = dict(choices or {})
    b = normalize(kind, base if base is not None else {})
    o, t = normalize(kind, ours), normalize(kind, theirs)
    ident = _identity(kind, o, t)
    if not (isinstance(o, dict) and isinstance(t, dict)):
        return Merged(None, [WHOLE_FILE], **ident)
    bd = b if isinstance(b, dict) else {}
    merger = Merger(choices, default)
    # settling recomputes values in place: work on a copy, never on the sides
    data = _copied(merger.mapping(bd, o, t, ()))
    if kind == OPPORTUNITY:  # a party both sides added to a panel is listed once
        fold_twins(data, bd, o, t, merger.value)
    _settle(kind, data)
    conflicts = [c for c in merger.conflicts if not _derived(kind, data, c, (o, t))]
    stages_from = tuple(x.get("stage") for x in (o, t) if isinstance(x.get("stage"), str))

    chosen = {p[0] for p in choices if p}
    # fields the rules tie to a settled one follow the side it was settled with
    picked = {how for how, _ in choices.values() if how in SIDES}
    side = default or (picked.pop() if len(picked) == 1 else "ours")
    model, errors = check(kind, data, settings, stages_from)
    broken = list(errors)  # what the plain merge breaks: the rule the conflict names
    merged_data = _copied(data)
    data, model, errors, taken = _mend(kind, data, model, errors, t if side == "theirs" else o,
                                       chosen, settings, stages_from)
    order = {f: i for i, f in enumerate(_model(kind).model_fields)}
    group = tuple(sorted(taken, key=lambda f: order.get(f, len(order))))
    first = [f for f, _ in broken if f in group]
    primary = first[0] if first else (group[0] if group else None)
    waiting = primary is not None and (primary,) in set(map(tuple, pending)) \
        and primary not in chosen
    if waiting and side != "ours" and default is None:
        # that conflict is still to settle: ours for now, whatever settled the others
        data, model, errors, taken = _mend(kind, _copied(merged_data), *check(
            kind, merged_data, settings, stages_from), o, chosen, settings, stages_from)
        group = tuple(sorted(taken, key=lambda f: order.get(f, len(order))))
    rule = rule_words(kind, broken, bd, o, t, settings)
    if errors:
        if choices or default:
            raise MergeRefused(errors[0][1])
        shown = {"base": "", **{s_: summarize(kind, bd, doc, settings)
                               for s_, doc in (("ours", o), ("theirs", t))}}
        return Merged(None, [Conflict((), None, "the whole file", "the whole file",
                                      rule=rule, shown=shown)], **ident)
    if group and primary is not None:
        had = [c for c in conflicts if c.path[:1] and c.path[0] in group]
        conflicts = [c for c in conflicts if not (c.path[:1] and c.path[0] in group)]
        if default is None and (had or not choices or waiting):
            words: dict[str, str] | None = None
            if kind == OPPORTUNITY:
                words = {"base": state_words(bd, settings),
                         **{s_: summarize(kind, bd, doc, settings, group)
                            for s_, doc in (("ours", o), ("theirs", t))}}
            conflicts.append(Conflict((primary,), or_none(bd.get(primary, MISSING)),
                                      or_none(o.get(primary, MISSING)),
                                      or_none(t.get(primary, MISSING)), rule=rule,
                                      fields=tuple(f for f in group if f != primary),
                                      shown=words))
    conflicts.sort(key=lambda c: (order.get(c.path[0], len(order)) if c.path else -1))
    return Merged(model.model_dump(mode="python"), conflicts, **ident)


def _mend(kind: str, data: dict, model: Any, errors: list, side_doc: dict, chosen: set,
          settings: Any, stages_from: tuple) -> tuple[dict, Any, list, list[str]]:
    """Take fields whole from ``side_doc`` until ``data`` passes the rules: the fields
    named by the problems, then (an opportunity) every field the rules tie together,
    then (a rule over the whole file) every field. Never a field in ``chosen``.
    Returns (data, model, errors left, the fields taken)."""
    taken: list[str] = []
    steps = ("fields", "coupled", "everything") if kind == OPPORTUNITY else ("fields",
                                                                               "everything")
    for step in steps:
        if not errors:
            break
        named = {f for f, _ in errors if f}
        if step == "fields":
            fields = named
        elif step == "coupled":  # the rules tie these: take them all from one side
            fields = named | {k for k in COUPLED
                              if not same(data.get(k, MISSING), side_doc.get(k, MISSING))}
        elif any(not f for f, _ in errors):  # a rule over the whole file (settings)
            fields = {k for k in {*data, *side_doc}
                      if not same(data.get(k, MISSING), side_doc.get(k, MISSING))}
        else:
            break
        fields -= chosen
        if not fields:
            continue
        for f in sorted(fields):
            value = side_doc.get(f, MISSING)
            if value is MISSING:
                data.pop(f, None)
            else:
                data[f] = _copied(value)
        taken += [f for f in sorted(fields) if f not in taken]
        _settle(kind, data)
        model, errors = check(kind, data, settings, stages_from)
    return data, model, errors, taken


def _identity(kind: str, ours: Any, theirs: Any) -> dict:
    """The id and name of the opportunity being merged (ours first), for messages."""
    if kind != OPPORTUNITY:
        return {}
    for doc in (ours, theirs):
        if isinstance(doc, dict) and doc.get("id"):
            name = doc.get("name")
            return {"id": str(doc["id"]), "name": str(name) if name else None}
    return {}
