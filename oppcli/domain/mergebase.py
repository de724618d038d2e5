"""What every part of the three-way merge shares (``merge.py`` is its front): the
kinds of file, the absent value, a conflict, equality of parsed values, where a value
sits in a document, and values in a few words for messages and JSON.

Pure: no I/O, no model.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

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



def describe_key(item: Any) -> Any:
    """The name of an item in a conflict path: its id, its SKU, or a quota's owner,
    period and currency (``ann 2026-Q4 EUR``)."""
    if isinstance(item, dict):
        if not (item.get("id") or item.get("sku")) and "owner" in item and "period" in item:
            return " ".join(str(item[k]) for k in ("owner", "period", "currency") if item.get(k))
        return item.get("id") or item.get("sku")
    return item



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
