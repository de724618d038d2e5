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

No I/O here: ``oppcli.sync`` reads the files and git, this module only decides.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, cast

from ..errors import RuleError
from .mergefold import fold_twins
from .money import CENT, ZERO, line_total
from .quotas import quota_order

if TYPE_CHECKING:
    from pydantic import BaseModel

    from .model import Opportunity


OPPORTUNITY, CATALOG, SETTINGS = "opportunity", "catalog", "settings"
ACCOUNT = "account"  # accounts/<id>.yaml: fields, aliases (as words) and people (by id)
QUOTAS = "quotas"  # quotas.yaml: quotas matched by owner (any case), period and currency
SIDES = ("ours", "theirs")


class _Missing:
    """An absent key or item (removed, or never there)."""

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()


@dataclass(frozen=True)
class Conflict:
    """One place where both sides changed the same thing differently.

    ``path`` leads from the top of the document to the value: field names, and
    for panel items the item's id (or SKU); ``()`` is the whole file. A value of
    ``None`` for an item means the item is removed on that side.
    """

    path: tuple
    base: Any
    ours: Any
    theirs: Any
    rule: str | None = None  # why the sides cannot both stand (a rule they break together)
    fields: tuple = ()  # the fields the rule ties to this one: settled with it, from one side
    shown: dict | None = None  # base/ours/theirs in words, where values say too little

    @property
    def field(self) -> str:
        return ".".join(str(p) for p in self.path)

    def value(self, side: str) -> Any:
        return {"base": self.base, "ours": self.ours, "theirs": self.theirs}[side]


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


# ---------------------------------------------------------------- equality and keys


def same(a: Any, b: Any) -> bool:
    """Equality of parsed values, telling booleans apart from numbers (True != 1 here)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, (dict, list)) or isinstance(b, (dict, list)):
        return False
    if a is MISSING or b is MISSING:
        return a is b
    try:
        return (type(a) is type(b) and a == b) or (
            isinstance(a, (int, Decimal)) and isinstance(b, (int, Decimal)) and a == b)
    except (TypeError, InvalidOperation):
        return False


_SCALARS = (str, int, Decimal, date, datetime)


def key_of(lists: list[list]) -> Callable[[Any], Any] | None:
    """How to match the items of these lists, or None to treat them as one value.

    Dicts with an ``id`` match by id, dicts with a ``sku`` by SKU (case-insensitive,
    as the catalog compares them), quotas by owner (case-insensitive), period and
    currency, plain words by themselves. Duplicates on any
    side make matching ambiguous: then the list is one value.
    """
    items = [x for lst in lists for x in lst]
    if not items:
        return None
    # the key an item is matched by, one per kind of list: a lambda each reads best here
    key: Callable[[Any], Any] | None = None
    if all(isinstance(x, dict) and isinstance(x.get("id"), str) for x in items):
        key = lambda x: x["id"]  # noqa: E731  (a key per kind of list)
    elif all(isinstance(x, dict) and isinstance(x.get("sku"), str) for x in items):
        key = lambda x: x["sku"].casefold()  # noqa: E731  (a key per kind of list)
    elif all(isinstance(x, dict) and isinstance(x.get("owner"), str)
             and isinstance(x.get("period"), str) for x in items):
        key = lambda x: (x["owner"].casefold(), x["period"],  # noqa: E731  (as above)
                         str(x.get("currency") or ""))
    elif all(isinstance(x, _SCALARS) and not isinstance(x, bool) for x in items):
        key = lambda x: ("word", type(x).__name__, x)  # noqa: E731  (a key per kind of list)
    if key is None:
        return None
    for lst in lists:
        keys = [key(x) for x in lst]
        if len(set(keys)) != len(keys):
            return None
    return key


def describe_key(item: Any) -> Any:
    """The name of an item in a conflict path: its id, its SKU, or a quota's owner,
    period and currency (``ann 2026-Q4 EUR``)."""
    if isinstance(item, dict):
        if not (item.get("id") or item.get("sku")) and "owner" in item and "period" in item:
            return " ".join(str(item[k]) for k in ("owner", "period", "currency") if item.get(k))
        return item.get("id") or item.get("sku")
    return item


# ---------------------------------------------------------------- the generic merge


class _Merger:
    def __init__(self, choices: dict[tuple, tuple[str, Any]], default: str | None):
        self.choices = choices
        self.default = default
        self.conflicts: list[Conflict] = []

    def conflict(self, path: tuple, base: Any, ours: Any, theirs: Any) -> Any:
        """A true conflict: settled by a choice or the default side, else ours, recorded."""
        side = self.default
        if side is None:
            self.conflicts.append(Conflict(path, _none(base), _none(ours), _none(theirs)))
            side = "ours"
        return ours if side == "ours" else theirs

    def value(self, base: Any, ours: Any, theirs: Any, path: tuple) -> Any:
        if path in self.choices:
            how, chosen = self.choices[path]
            return ours if how == "ours" else theirs if how == "theirs" else chosen
        if same(ours, theirs):
            return ours
        if same(base, ours):
            return theirs
        if same(base, theirs):
            return ours
        if isinstance(ours, dict) and isinstance(theirs, dict):
            return self.mapping(base if isinstance(base, dict) else {}, ours, theirs, path)
        if isinstance(ours, list) and isinstance(theirs, list):
            base_list = base if isinstance(base, list) else []
            key = key_of([base_list, ours, theirs])
            if key is not None:
                return self.items(base_list, ours, theirs, key, path)
        return self.conflict(path, base, ours, theirs)

    def mapping(self, base: dict, ours: dict, theirs: dict, path: tuple) -> dict:
        out = {}
        for k in [*ours, *(k for k in theirs if k not in ours)]:
            v = self.value(base.get(k, MISSING), ours.get(k, MISSING), theirs.get(k, MISSING),
                           (*path, k))
            if v is not MISSING:
                out[k] = v
        return out

    def items(self, base: list, ours: list, theirs: list, key: Callable, path: tuple) -> list:
        b = {key(x): x for x in base}
        o = {key(x): x for x in ours}
        t = {key(x): x for x in theirs}
        merged: dict[Any, Any] = {}
        for k in [*o, *(k for k in t if k not in o)]:
            label = describe_key(o.get(k, t.get(k)))
            v = self.value(b.get(k, MISSING), o.get(k, MISSING), t.get(k, MISSING),
                           (*path, label))
            if v is not MISSING:
                merged[k] = v
        return [merged[k] for k in _order(b, o, t, merged)]


def _order(b: dict, o: dict, t: dict, merged: dict) -> list:
    """Ours' order; theirs' additions after the item they follow on their side (past the
    items ours added there). A linked list keyed by item: linear, not quadratic, in the
    number of items (30,000 notes merge in a blink)."""
    head = object()
    nxt: dict[Any, Any] = {}
    last = head
    placed = set()
    for k in o:
        if k in merged:
            nxt[last] = k
            last = k
            placed.add(k)
    nxt[last] = None
    ours_added = {k for k in o if k not in b}
    anchor: Any = head
    for k in t:
        if k in placed:
            anchor = k
            continue
        if k not in merged:
            continue
        node = anchor
        while nxt.get(node) is not None and nxt[node] in ours_added:
            node = nxt[node]
        nxt[k], nxt[node] = nxt.get(node), k
        placed.add(k)
        anchor = k
    order = []
    node = nxt.get(head)
    while node is not None:
        order.append(node)
        node = nxt.get(node)
    return order + [k for k in merged if k not in placed]  # on neither list: none today


def _none(value: Any) -> Any:
    return None if value is MISSING else value


def merge_values(base: Any, ours: Any, theirs: Any, *,
                 choices: dict[tuple, tuple[str, Any]] | None = None,
                 default: str | None = None) -> tuple[Any, list[Conflict]]:
    """Three-way merge of any parsed YAML value: (merged value, conflicts)."""
    merger = _Merger(choices or {}, default)
    result = merger.value(base, ours, theirs, ())
    return result, merger.conflicts


# ---------------------------------------------------------------- the three kinds of file


def _model(kind: str) -> type[BaseModel]:
    from .model import Account, Catalog, Opportunity, Quotas, Settings

    models: dict[str, type[BaseModel]] = {OPPORTUNITY: Opportunity, CATALOG: Catalog,
                                          SETTINGS: Settings, ACCOUNT: Account,
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
    from .model import Settings

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
    merger = _Merger(choices, default)
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
    rule = _rule_words(kind, broken, bd, o, t, settings)
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
            conflicts.append(Conflict((primary,), _none(bd.get(primary, MISSING)),
                                      _none(o.get(primary, MISSING)),
                                      _none(t.get(primary, MISSING)), rule=rule,
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


def _stage_kind(stage: Any, settings: Any) -> str | None:
    from .model import Settings

    try:
        return (settings or Settings()).stage(stage).kind
    except (KeyError, TypeError):
        return None


def _rule_words(kind: str, broken: list, base: dict, ours: dict, theirs: dict,
                settings: Any) -> str | None:
    """The rule a merge breaks, in words: the first problem found, and R17 when one
    side closed the deal while the other changed it."""
    if not broken:
        return None
    words = broken[0][1]
    if kind == OPPORTUNITY:
        closing = [_stage_kind(doc.get("stage"), settings) for doc in (ours, theirs)]
        if _stage_kind(base.get("stage"), settings) in ("open", None) and \
                any(k in ("won", "lost") for k in closing):
            words += "; a closed opportunity is read-only until reopened (R17)"
    return words


def state_words(doc: Any, settings: Any = None) -> str:
    """An opportunity's deal fields in a few words: stage, amount, products."""
    if not isinstance(doc, dict) or not doc:
        return "(none)"
    products = [p for p in doc.get("products") or [] if isinstance(p, dict)]
    amount = doc.get("amount")
    words = [str(doc.get("stage") or "?")]
    if amount is not None:
        words.append(f"amount {plain(amount)}")
    words.append(f"{len(products)} product{'s' if len(products) != 1 else ''}")
    return ", ".join(words)


def _line_words(line: dict) -> str:
    what = line.get("sku") or line.get("description") or line.get("id")
    qty = line.get("quantity")
    return f"{what} x{plain(qty)}" if qty is not None else str(what)


_ITEM_WORDS = {"products": "product", "quotes": "quote", "contacts": "contact",
               "partners": "partner", "competitors": "competitor", "activities": "activity",
               "documents": "document", "notes": "note"}


def summarize(kind: str, base: Any, side: Any, settings: Any = None,
              fields: tuple | None = None) -> str:
    """What one side changed since the base, in words ("closed won by quote q1 (2500.00),
    added product SRV x5"), over ``fields`` (default: all)."""
    if not isinstance(side, dict):
        return "not readable as YAML" if side is not None else "deleted"
    base = base if isinstance(base, dict) else {}
    keys = [k for k in (fields or dict.fromkeys([*side, *base]))
            if not same(base.get(k, MISSING), side.get(k, MISSING))]
    if not keys:
        return "no change"
    if kind != OPPORTUNITY:
        return "changed " + ", ".join(str(k) for k in keys)
    parts: list[str] = []
    skip: set = set()
    said: set = set()  # items already told (the accepted quote)
    was = {q.get("id"): q.get("status") for q in base.get("quotes") or [] if isinstance(q, dict)}
    superseded = []  # R15a: reopening supersedes the accepted quote; said after the stage
    for quote in side.get("quotes") or []:
        if not isinstance(quote, dict) or quote.get("status") == was.get(quote.get("id")):
            continue
        if quote.get("status") == "accepted":
            parts.append(f"closed won by quote {quote.get('id')} "
                         f"({plain(quote.get('total'))})")
            skip |= {"stage", "amount", "amount_source", "close_date", "products"}
            said.add(quote.get("id"))
        elif quote.get("status") == "superseded" and was.get(quote.get("id")) == "accepted":
            superseded.append(f"quote {quote.get('id')} superseded")
            said.add(quote.get("id"))
    stage_kind = _stage_kind(side.get("stage"), settings)
    for k in keys:
        if k in skip:
            continue
        old, new = base.get(k, MISSING), side.get(k, MISSING)
        if k == "stage":
            if stage_kind == "won":
                parts.append(f"closed won {plain(side.get('close_date')) or ''}".rstrip())
            elif stage_kind == "lost":
                reason = side.get("lost_reason")
                parts.append("closed lost" + (f" ({reason})" if reason else ""))
            elif _stage_kind(old, settings) in ("won", "lost"):
                parts.append(f"reopened at {new}")
            else:
                parts.append(f"stage {describe(old)} → {describe(new)}".replace("'", ""))
        elif k in ("amount_source", "lost_reason") or (
                k == "close_date" and "stage" in keys and stage_kind in ("won", "lost")):
            continue  # said with the stage or the products
        elif k == "amount" and side.get("amount_source") != "manual":
            continue  # derived: said by the products or the quote
        elif k in _ITEM_WORDS and isinstance(new, list):
            parts += _item_words(k, old if isinstance(old, list) else [], new, said)
        else:
            parts.append(f"{k} {describe(old)} → {describe(new)}")
    return ", ".join(parts + superseded) or "no change"


def _item_words(panel: str, old: list, new: list,
                said: set | frozenset = frozenset()) -> list[str]:
    word = _ITEM_WORDS[panel]
    before = {x.get("id"): x for x in old if isinstance(x, dict) and x.get("id") not in said}
    after = {x.get("id"): x for x in new if isinstance(x, dict) and x.get("id") not in said}

    def name(item: dict) -> str:
        if panel == "products":
            return _line_words(item)
        if panel == "quotes":
            return f"{item.get('id')} ({item.get('status')})"
        return describe(item)
    out = [f"added {word} {name(x)}" for k, x in after.items() if k not in before]
    out += [f"removed {word} {name(x)}" for k, x in before.items() if k not in after]
    out += [f"changed {word} {name(x)}" for k, x in after.items()
            if k in before and not same(before[k], x)]
    return out


def value_at(data: Any, path: tuple) -> Any:
    """The value at a conflict path in a document (``MISSING`` when not there)."""
    for part in path:
        if isinstance(data, dict):
            data = data.get(part, MISSING)
        elif isinstance(data, list):
            data = next((x for x in data if isinstance(x, dict) and (
                x.get("id") == part or str(x.get("sku", "")).casefold() == str(part).casefold()
                or ("owner" in x and describe_key(x) == part))), MISSING)
        else:
            return MISSING
    return data


def kind_of(path: str) -> str | None:
    """Which opp file a repo path is: an opportunity, an account, the catalog, the
    settings, the quotas, or None."""
    parts = path.replace("\\", "/").split("/")
    if parts[-1] == "opp.yaml":
        return SETTINGS
    if parts[-1] == "catalog.yaml":
        return CATALOG
    if parts[-1] == "quotas.yaml":
        return QUOTAS
    if len(parts) >= 2 and parts[-2] == "opportunities" and parts[-1].endswith(".yaml"):
        return OPPORTUNITY
    if len(parts) >= 2 and parts[-2] == "accounts" and parts[-1].endswith(".yaml"):
        return ACCOUNT
    return None


# ---------------------------------------------------------------- words for people and JSON


def plain(value: Any) -> Any:
    """A parsed value as JSON data: decimals and dates as text, the rest as is."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def describe(value: Any, *, item: bool = False, limit: int = 60) -> str:
    """A value in a few words for a message: ``2500.00``, ``'Acme'``, ``(removed)``."""
    if value is None or value is MISSING:
        return "(removed)" if item else "(none)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (Decimal, date, datetime, int)):
        return str(plain(value))
    if isinstance(value, str):
        text = " ".join(value.split())
        text = text if len(text) <= limit else text[: limit - 1] + "…"
        return f"'{text}'"
    if isinstance(value, dict):
        words = [str(value[k]) for k in ("sku", "type", "name", "account", "subject", "text",
                                         "title", "label", "status") if value.get(k)]
        text = " ".join(" ".join(words).split()) or ", ".join(f"{k}={plain(v)}" for k, v in
                                                              value.items())
        return f"[{text if len(text) <= limit else text[: limit - 1] + '…'}]"
    if isinstance(value, list):
        if not value:
            return "(empty)"
        shown = ", ".join(describe(v, limit=30) for v in value[:4])
        more = f" and {len(value) - 4} more" if len(value) > 4 else ""
        return f"{len(value)}: {shown}{more}"
    return str(value)


def is_item(conflict: Conflict) -> bool:
    """Whether the conflict is about a whole panel item (kept on one side, gone on the other)."""
    return isinstance(conflict.ours, dict) or isinstance(conflict.theirs, dict) or (
        len(conflict.path) % 2 == 0 and len(conflict.path) >= 2
        and (conflict.ours is None or conflict.theirs is None))
