"""What a side of a merge did, in words, for the conflicts ``opp sync`` and ``opp
resolve`` show: "closed won by quote q1 (2500.00), added product SRV x5", a deal's state
in a few words, and the rule a merge breaks.

Pure: no I/O; the settings (for stage kinds) are given.
"""

from __future__ import annotations

from typing import Any

from .mergebase import MISSING, OPPORTUNITY, describe, plain, same
from .settings import Settings


def stage_kind(stage: Any, settings: Any) -> str | None:
    try:
        return (settings or Settings()).stage(stage).kind
    except (KeyError, TypeError):
        return None


def rule_words(kind: str, broken: list, base: dict, ours: dict, theirs: dict,
                settings: Any) -> str | None:
    """The rule a merge breaks, in words: the first problem found, and R17 when one
    side closed the deal while the other changed it."""
    if not broken:
        return None
    words = broken[0][1]
    if kind == OPPORTUNITY:
        closing = [stage_kind(doc.get("stage"), settings) for doc in (ours, theirs)]
        if stage_kind(base.get("stage"), settings) in ("open", None) and \
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
    side_kind = stage_kind(side.get("stage"), settings)
    for k in keys:
        if k in skip:
            continue
        old, new = base.get(k, MISSING), side.get(k, MISSING)
        if k == "stage":
            if side_kind == "won":
                parts.append(f"closed won {plain(side.get('close_date')) or ''}".rstrip())
            elif side_kind == "lost":
                reason = side.get("lost_reason")
                parts.append("closed lost" + (f" ({reason})" if reason else ""))
            elif stage_kind(old, settings) in ("won", "lost"):
                parts.append(f"reopened at {new}")
            else:
                parts.append(f"stage {describe(old)} → {describe(new)}".replace("'", ""))
        elif k in ("amount_source", "lost_reason") or (
                k == "close_date" and "stage" in keys and side_kind in ("won", "lost")):
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
