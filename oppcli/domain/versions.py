"""What changed between two versions of an opportunity file, as the timeline lists it:
a field's old and new value in words, a panel item added, removed or changed, named
the way people know it (a product by its SKU, a contact by name).

Pure: parsed YAML in, lists of ``{"field", "old", "new"[, "item"]}`` out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

_SKIP_AT_CREATION = ("id", "created", "amount_source")


@dataclass(frozen=True)
class Broken:
    """A version of the file that is not readable YAML (a bad hand edit was committed)."""

    message: str


def value_text(value: Any) -> str | None:
    """A stored value as the text the timeline shows (decimals exact, dates ISO)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, (str, int)):
        return str(value)
    return json.dumps(value, default=str, ensure_ascii=False, sort_keys=True)


def _g(item: dict, key: str) -> str:
    return value_text(item.get(key)) or ""


def excerpt(text: str, limit: int) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def describe(panel: str, item: dict) -> str:
    """An item of a panel, as stored, in a few words."""
    if panel in ("products", "quotes.lines"):
        what = _g(item, "sku") if panel == "products" else (_g(item, "sku")
                                                            or _g(item, "description"))
        if panel == "products":
            what += f" {_g(item, 'name')}"
        words = f"{what} x{_g(item, 'quantity')} at {_g(item, 'unit_price')}"
        if item.get("discount"):
            words += f" -{_g(item, 'discount')}%"
        return f"{words} = {_g(item, 'total')}"
    if panel == "quotes":
        return f"quote {_g(item, 'id')} ({_g(item, 'status')}, {_g(item, 'total')})"
    if panel in ("contacts", "partners", "competitors"):
        name = _g(item, "name") if panel == "contacts" else _g(item, "account")
        return name + (f" ({_g(item, 'role')})" if item.get("role") else "")
    if panel == "activities":
        words = f"{_g(item, 'type')} \"{_g(item, 'subject')}\" on {_g(item, 'date')}"
        return words + (" (done)" if item.get("done") else "")
    if panel == "documents":
        return f"\"{_g(item, 'title')}\" ({_g(item, 'path')}, {_g(item, 'size')} bytes)"
    if panel == "notes":
        return f"{_g(item, 'author')}: \"{excerpt(_g(item, 'text'), 60)}\""
    return _g(item, "id")


def item_name(panel: str, item: dict) -> str:
    """The short name of an item, to say which one a field change is about."""
    if panel == "products":
        return _g(item, "sku")
    if panel == "quotes":
        return f"quote {_g(item, 'id')}"
    if panel == "quotes.lines":
        return _g(item, "sku") or excerpt(_g(item, "description"), 30)
    if panel == "contacts":
        return _g(item, "name")
    if panel in ("partners", "competitors"):
        return _g(item, "account")
    if panel == "activities":
        return _g(item, "subject")
    if panel == "documents":
        return _g(item, "title")
    if panel == "notes":
        return excerpt(_g(item, "text"), 30)
    return _g(item, "id")


def _items(value: Any) -> list[dict] | None:
    """The value as a panel (a list of mappings with ids), or None when it is not one."""
    if not isinstance(value, list):
        return None
    if all(isinstance(i, dict) and isinstance(i.get("id"), str) for i in value):
        return value
    return None


def _panel_changes(field: str, old: list[dict], new: list[dict], owner: str = ""
                   ) -> list[dict]:
    old_by = {i["id"]: i for i in old}
    new_by = {i["id"]: i for i in new}
    out = []

    def change(old_text, new_text, item_id, item, sub=""):
        name = item_name(field, item)
        out.append({"field": f"{field}.{sub}" if sub else field, "old": old_text,
                    "new": new_text, "item": item_id,
                    "label": f"{owner} {name}".strip() if owner else name})

    for item_id, item in old_by.items():
        if item_id not in new_by:
            change(describe(field, item), None, item_id, item)
    for item_id, item in new_by.items():
        before = old_by.get(item_id)
        if before is None:
            change(None, describe(field, item), item_id, item)
            continue
        for key in [*item, *(k for k in before if k not in item)]:
            if key == "id" or before.get(key) == item.get(key):
                continue
            old_list, new_list = _items(before.get(key)), _items(item.get(key))
            if old_list is not None and new_list is not None:
                out += _panel_changes(f"{field}.{key}", old_list, new_list,
                                      owner=item_name(field, item))
            else:
                change(value_text(before.get(key)), value_text(item.get(key)), item_id, item,
                       key)
    return out


def diff(old: dict | None, new: dict | None) -> list[dict]:
    """The changes from one version of an opportunity file to the next, in file order:
    ``{"field", "old", "new"}``, plus ``item`` and ``label`` for an item of a panel.

    Works on the parsed YAML, not the model, so that a version broken by hand still
    reads; a panel item added or removed is one change whose old/new describes it."""
    from ..domain.model import Opportunity

    creating = not old
    old, new = old or {}, new or {}
    keys = list(dict.fromkeys([*Opportunity.model_fields, *new, *old]))
    out: list[dict] = []
    for key in keys:
        if key in (_SKIP_AT_CREATION if creating else ()):
            continue
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        old_list, new_list = _items(a if a is not None else []), _items(b if b is not None
                                                                        else [])
        if old_list is not None and new_list is not None and (isinstance(a, list)
                                                              or isinstance(b, list)):
            out += _panel_changes(key, old_list, new_list)
        else:
            out.append({"field": key, "old": value_text(a), "new": value_text(b)})
    return out


def compare(old: Any, new: Any) -> list[dict]:
    """``diff`` between two versions; a version that is not readable YAML is one change
    of the pseudo-field ``file``, since its fields cannot be told."""
    if isinstance(old, Broken) or isinstance(new, Broken):
        def state(version: Any) -> str | None:
            if isinstance(version, Broken):
                return f"unreadable ({version.message})"
            return None if version is None else "readable"
        return [{"field": "file", "old": state(old), "new": state(new)}]
    return diff(old, new)
