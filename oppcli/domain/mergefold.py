"""Twins a merge would make, folded: a deal lists an organisation once among its partners
and once among its competitors, and a person once among its contacts (#20).

Alice and Bob each add Globex as a partner of one deal: two entries with two item ids,
which the item-by-item merge (``merge.py``) would keep both of. Here the merged panels
are read again: two entries naming one party (as ``panels.same_party`` tells: the same
account id, the same person id, or texts equal once case, punctuation and legal forms
are left out) where neither side had them both are folded into one, as ``opp init
--upgrade`` folds a first-round file's twins:

- the entry kept is the one in the base, else the one with the smaller item id, so the
  result is the same whichever clone merges;
- a field empty on one entry takes the other's value; a field both set alike stays;
- a field both set differently (a partner's role, a contact's e-mail) is settled as a
  field changed on both sides is: by the base where one side kept it, else it is a
  conflict at ``(panel, kept id, field)``, settled by ``opp resolve`` like any other.

Twins a side already had (a hand edit) are left as they are, for ``opp validate`` to
report. So is an entry naming an account by id next to one naming it as text: telling
them apart needs the accounts, and this module reads no file.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Settle = Callable[[Any, Any, Any, tuple], Any]
"""How a field both entries set differently is settled: (base, ours, theirs, path) ->
the value (``merge._Merger.value``: a choice, the base, or a recorded conflict)."""

PANELS = ("contacts", "partners", "competitors")


def fold_twins(data: dict, base: dict, ours: dict, theirs: dict, settle: Settle) -> None:
    """Fold, in place in the merged opportunity ``data``, the partners, competitors and
    contacts that name one party twice where neither ``ours`` nor ``theirs`` did."""
    for panel in PANELS:
        merged = data.get(panel)
        if not isinstance(merged, list) or len(merged) < 2:
            continue
        was, mine, yours = (_items(doc.get(panel)) for doc in (base, ours, theirs))
        if any(len(side) == len(merged) and list(side.values()) == merged
               for side in (mine, yours)):
            continue  # one side's list as it was: no twin the merge made
        data[panel] = _folded(panel, merged, was, mine, yours, settle)


def _items(value: Any) -> dict[str, dict]:
    if not isinstance(value, list):
        return {}
    return {x["id"]: x for x in value if isinstance(x, dict) and isinstance(x.get("id"), str)}


def _folded(panel: str, merged: list, base: dict, ours: dict, theirs: dict,
            settle: Settle) -> list:
    from .panels import same_party

    kept: list[tuple[Any, Any]] = []  # (the merged entry, its model or None)
    for raw in merged:
        item = _model(panel, raw)
        at = None if item is None else next(
            (n for n, (k, m) in enumerate(kept) if m is not None
             and same_party(panel, m, item) and _made(panel, k["id"], raw["id"], ours, theirs)),
            None)
        if at is None:
            kept.append((raw, item))
            continue
        first = kept[at][0]
        keep, other = sorted((first, raw), key=lambda x: (x["id"] not in base, x["id"]))
        one = _fold(panel, keep, other, base, ours, theirs, settle)
        kept[at] = (one, _model(panel, one) or kept[at][1])
    return [k for k, _ in kept]


def _model(panel: str, raw: Any) -> Any:
    """The entry as its model, or None when it is not valid (the merge's check says why)."""
    from pydantic import ValidationError

    from .panels import MODEL

    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
        return None
    try:
        return MODEL[panel].model_validate(raw)
    except (ValidationError, ValueError, TypeError):
        return None


def _made(panel: str, a: str, b: str, ours: dict, theirs: dict) -> bool:
    """Whether two entries naming one party are twins only in the merge: no side had
    both naming one party (a twin a side had is left for ``opp validate``)."""
    from .panels import same_party

    for side in (ours, theirs):
        if a in side and b in side:
            one, two = _model(panel, side[a]), _model(panel, side[b])
            if one is None or two is None or same_party(panel, one, two):
                return False
    return True


def _fold(panel: str, keep: dict, other: dict, base: dict, ours: dict, theirs: dict,
          settle: Settle) -> dict:
    """One entry from two naming one party: ``keep``'s id and values, its empty fields
    filled from ``other``, a field both set differently settled by ``settle`` with the
    value each side brought."""
    def rank(x: dict) -> int:  # which side brought the entry: ours first, then shared
        return (x["id"] in ours) - (x["id"] in theirs)
    mine, yours = (keep, other) if rank(keep) >= rank(other) else (other, keep)
    was = base.get(keep["id"], {})
    out = dict(keep)
    for name in [*keep, *(k for k in other if k not in keep)]:
        if name == "id":
            continue
        a, b = mine.get(name), yours.get(name)
        if a is None or b is None:
            out[name] = a if b is None else b
        elif a == b or (name == _NAMED[panel] and _alike(panel, mine, yours)):
            out[name] = keep[name]  # one party however spelt: the kept entry's spelling
        else:
            out[name] = settle(was.get(name), a, b, (panel, keep["id"], name))
    return out


def _alike(panel: str, a: dict, b: dict) -> bool:
    """Whether two entries spell their party alike (case, punctuation, legal forms aside)."""
    from .panels import party

    one, two = _model(panel, a), _model(panel, b)
    return one is not None and two is not None and party(panel, one) == party(panel, two)


_NAMED = {"contacts": "name", "partners": "account", "competitors": "account"}
"""The field naming the party: two spellings of one party are no conflict."""
