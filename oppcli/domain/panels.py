"""The panels of an opportunity: relations, activities, documents and notes (R1, R2, R17).

Pure functions over models: each takes an opportunity and returns the changed one
with the item it touched, or raises an ``OppError`` saying why and what to do.

- Every item has a short random id (``ids.new_item_id``), unique within its panel,
  so that edits, removals and merges name it without ambiguity; commands accept
  any unique prefix of it.
- Roles and activity types come from ``opp.yaml`` (R2); an unknown one is refused
  with the valid list.
- R17: contacts, partners and competitors of a closed opportunity are read-only;
  activities, documents and notes stay open to change.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from ..errors import NotFound, RuleError, UsageError
from . import ids
from .accounts import Directory, normalise
from .addresses import check_email
from .model import Activity, Competitor, Contact, Document, Note, Opportunity, Partner
from .settings import Settings
from .stages import ensure_open, near

if TYPE_CHECKING:
    from pydantic import BaseModel

RELATIONS = ("contacts", "partners", "competitors")
"""Panels that a closed opportunity keeps read-only (R17)."""

PANELS = (*RELATIONS, "activities", "documents", "notes")
WORD = {"contacts": "contact", "partners": "partner", "competitors": "competitor",
        "activities": "activity", "documents": "document", "notes": "note"}
MODEL: dict[str, type[BaseModel]] = {
    "contacts": Contact, "partners": Partner, "competitors": Competitor,
    "activities": Activity, "documents": Document, "notes": Note}

DOCUMENTS_DIR = "documents"
LARGE_DOCUMENT = 10 * 1024 * 1024
"""Files above this size are refused unless asked for (--large): git keeps them forever."""


# ---------------------------------------------------------------- lookups


def choose(value: str, choices: Sequence[str], what: str, setting: str) -> str:
    """A value of a configured list (a role, an activity type), case-insensitive (R2)."""
    key = value.strip().casefold()
    for choice in choices:
        if choice.casefold() == key:
            return choice
    valid = ", ".join(choices) or "none"
    raise NotFound(f"unknown {what} '{value}'{near(key, choices)}; valid ones: {valid} "
                   f"(set them in opp.yaml under {setting})")


def label(panel: str, item: Any) -> str:
    """An item in a few words, for messages, lists and commit subjects."""
    if panel == "contacts":
        return f"{item.name} ({item.role})"
    if panel == "partners":
        return f"{item.account} ({item.role})"
    if panel == "competitors":
        return item.account + (f" ({item.role})" if item.role else "")
    if panel == "activities":
        state = "done" if item.done else "to do"
        return f"{item.type} \"{item.subject}\" on {item.date} ({state})"
    if panel == "documents":
        return f"\"{item.title}\" ({PurePosixPath(item.path).name}, {human_size(item.size)})"
    return f"\"{excerpt(item.text)}\""


def excerpt(text: str, limit: int = 50) -> str:
    """The start of a text on one line."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def human_size(size: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size} bytes" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size} bytes"  # pragma: no cover


def find_item(opp: Opportunity, panel: str, ref: str) -> Any:
    """An item of a panel by its id or a unique prefix of it."""
    items = getattr(opp, panel)
    what = WORD[panel]
    key = ref.strip().casefold()
    if not key:
        raise UsageError(f"the {what} id is empty")
    exact = [item for item in items if item.id == key]
    if exact:
        return exact[0]
    matches = [item for item in items if item.id.startswith(key)]
    if len(matches) == 1:
        return matches[0]
    if matches:
        shown = ", ".join(f"{item.id} {label(panel, item)}" for item in matches[:10])
        raise UsageError(f"'{ref}' matches {len(matches)} {panel} of {opp.id}: {shown}; "
                         "type more of the id")
    have = "; ".join(f"{item.id} {label(panel, item)}" for item in items[:10])
    have = f"it has: {have}" if items else f"it has no {panel}"
    raise NotFound(f"no {what} '{ref}' on {opp.id}; {have} (see: opp {_command(panel)} list "
                   f"{opp.id})")


def _command(panel: str) -> str:
    return "doc" if panel == "documents" else WORD[panel]


# ---------------------------------------------------------------- building items


def _build(panel: str, data: dict) -> Any:
    """The item model from plain values; a ``UsageError`` naming the bad field."""
    from pydantic import ValidationError

    try:
        return MODEL[panel].model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or WORD[panel]
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "missing" or (err["type"].endswith("_type") and
                                        data.get(where) is None):
            message = "is required and cannot be cleared"
        raise UsageError(f"{WORD[panel]} {where.replace('_', ' ')}: {message}") from None


def _needed(settings: Settings | None, panel: str) -> Settings:
    """The settings, which relations and activities need (notes and documents do not)."""
    if settings is None:
        raise TypeError(f"the {panel} panel needs the settings")  # a caller's bug
    return settings


def _checked(panel: str, settings: Settings | None, fields: dict) -> dict:
    """The fields with roles and types in their configured spelling; refuses unknown ones."""
    out = dict(fields)
    if out.get("role") is not None:
        out["role"] = choose(out["role"], getattr(_needed(settings, panel).roles, panel),
                             f"{WORD[panel]} role", f"roles.{panel}")
    if out.get("type") is not None:
        out["type"] = choose(out["type"], _needed(settings, panel).activity_types,
                             "activity type", "activity_types")
    if out.get("email") is not None:
        out["email"] = check_email(out["email"])
    return out


def _guard(opp: Opportunity, settings: Settings | None, panel: str) -> None:
    if panel in RELATIONS:
        ensure_open(opp, _needed(settings, panel), f"change its {panel}")


def _check_activity(activity: Activity, today: date) -> None:
    if activity.done and activity.date > today:
        raise UsageError(f"an activity dated {activity.date} is in the future and cannot be "
                         f"done yet (today is {today}); give its real date with --date")


def party(panel: str, item: Any, directory: Directory | None = None) -> str:
    """Whom a relation names, as one key: a contact's person (by id, else by name); a
    partner's or competitor's organisation, by account: an id, or a text naming an
    account by name or alias, is that account's id; other text is its normalised name
    (case, punctuation and legal forms ignored), so 'ACME S.r.l.' and 'Acme SpA' are one."""
    if panel == "contacts":
        return " ".join(item.name.casefold().split())
    entry = directory.named(item.account) if directory is not None else None
    return f"account {entry.id}" if entry is not None else normalise(item.account)


def same_party(panel: str, a: Any, b: Any, directory: Directory | None = None) -> bool:
    """Whether two relations name one party, whatever their roles (so the second is
    refused: a deal lists an organisation, or a person, once per panel)."""
    if panel == "contacts" and a.person and a.person == b.person:
        return True
    return party(panel, a, directory) == party(panel, b, directory)


def twins(opp: Opportunity, directory: Directory | None = None
          ) -> list[tuple[str, int, Any, Any]]:
    """Relations that name a party an earlier entry of their panel names (a hand edit,
    or two clones adding one partner): (panel, index, the entry, the earlier one)."""
    out = []
    for panel in RELATIONS:
        items = getattr(opp, panel)
        for i, item in enumerate(items):
            first = next((o for o in items[:i] if same_party(panel, o, item, directory)), None)
            if first is not None:
                out.append((panel, i, item, first))
    return out


def fold_twins(opp: Opportunity, directory: Directory | None = None
               ) -> tuple[Opportunity, list[str]]:
    """The deal naming each party once per relation panel (a file of a first-round opp
    listed one partner once per role; ``opp init --upgrade`` mends it): the first entry
    kept, its empty fields filled from the later ones and their notes added to its own.
    Returns it and, in words, each entry folded and what of it was not kept (a second
    e-mail, other products: git history has them)."""
    update: dict[str, list] = {}
    words = []
    for panel in RELATIONS:
        kept: list = []
        for item in getattr(opp, panel):
            at = next((n for n, k in enumerate(kept) if same_party(panel, k, item, directory)),
                      None)
            if at is None:
                kept.append(item)
                continue
            fill, lost = _fold(kept[at], item)
            kept[at] = kept[at].model_copy(update=fill)
            shown = item if directory is None else _named(item, directory)
            words.append(f"{WORD[panel]} {label(panel, shown)} [{item.id}] folded into "
                         f"[{kept[at].id}]" + (f"; not kept: {', '.join(lost)}" if lost
                                               else ""))
        if len(kept) != len(getattr(opp, panel)):
            update[panel] = kept
    return (opp.model_copy(update=update) if update else opp), words


# What names the party (told apart loosely) and its role (shown in the fold's words).
_IDENTITY = {"account", "name", "person", "role"}


def _fold(first: Any, twin: Any) -> tuple[dict[str, Any], list[str]]:
    """The fields ``first`` takes from its ``twin`` (its blanks, and the twin's notes
    after its own), and those of the twin's values it cannot hold, in words."""
    fill: dict[str, Any] = {}
    lost: list[str] = []
    for key, value in twin.model_dump(exclude={"id"}).items():
        have = getattr(first, key)
        if value is None or value == have:
            continue
        if have is None:
            fill[key] = value
        elif key == "notes":
            fill[key] = f"{have}\n\n{value}"
        elif key not in _IDENTITY:
            lost.append(f"{key} '{value}'")
    return fill, lost


def _refuse_twin(opp: Opportunity, panel: str, item: Any, directory: Directory | None,
                 then: str) -> None:
    twin = next((i for i in getattr(opp, panel)
                 if i.id != item.id and same_party(panel, i, item, directory)), None)
    if twin is not None:
        shown = label(panel, twin if directory is None else _named(twin, directory))
        raise RuleError(f"{opp.id} already has {WORD[panel]} {shown} [{twin.id}]; "
                        + then.format(id=opp.id, item=twin.id, word=WORD[panel]))


def _named(item: Any, directory: Directory) -> Any:
    """A partner or competitor with its account's name (for messages)."""
    account = getattr(item, "account", None)
    if account is None:
        return item
    return item.model_copy(update={"account": directory.name_of(account)})


def add(opp: Opportunity, settings: Settings | None, panel: str, fields: dict, *,
        today: date | None = None, item_id: str | None = None,
        directory: Directory | None = None) -> tuple[Opportunity, Any]:
    """Add an item to a panel; returns the opportunity and the new item. The settings
    are needed for relations (R17, roles) and activities (types); ``directory`` (the
    accounts) tells which texts and ids name one organisation."""
    _guard(opp, settings, panel)
    items = getattr(opp, panel)
    data = {"id": item_id or ids.new_item_id({i.id for i in items}),
            **_checked(panel, settings, fields)}
    item = _build(panel, data)
    if panel == "activities":
        _check_activity(item, today or item.date)
    if panel in RELATIONS:
        _refuse_twin(opp, panel, item, directory,
                     "a deal lists each once; change its role with: opp {word} edit {id} "
                     "{item} --role ROLE" if panel != "competitors" else
                     "a deal lists each once; change it with: opp {word} edit {id} {item}")
    return opp.model_copy(update={panel: [*items, item]}), item


def edit(opp: Opportunity, settings: Settings, panel: str, ref: str, fields: dict, *,
         today: date | None = None, directory: Directory | None = None
         ) -> tuple[Opportunity, Any, Any]:
    """Change fields of an item (a field set to None is cleared); returns the
    opportunity, the item before and the item after."""
    _guard(opp, settings, panel)
    if not fields:
        raise UsageError(f"nothing to change; give at least one field of the {WORD[panel]} "
                         "to change (see --help)")
    before = find_item(opp, panel, ref)
    data = {**before.model_dump(), **_checked(panel, settings, fields)}
    after = _build(panel, data)
    if panel == "activities":
        _check_activity(after, today or after.date)
    if panel in RELATIONS:
        _refuse_twin(opp, panel, after, directory,
                     "a deal lists each once; remove one of them with: opp {word} remove "
                     "{id} {item}")
    items = [after if i.id == before.id else i for i in getattr(opp, panel)]
    return opp.model_copy(update={panel: items}), before, after


def remove(opp: Opportunity, settings: Settings, panel: str, ref: str
           ) -> tuple[Opportunity, Any]:
    """Remove an item from a panel; returns the opportunity and the removed item."""
    _guard(opp, settings, panel)
    item = find_item(opp, panel, ref)
    items = [i for i in getattr(opp, panel) if i.id != item.id]
    return opp.model_copy(update={panel: items}), item


def changed_fields(before: Any, after: Any) -> list[tuple[str, Any, Any]]:
    """(field, old, new) for every field that differs between two versions of an item."""
    old, new = before.model_dump(), after.model_dump()
    return [(k, old[k], new[k]) for k in new if k != "id" and old.get(k) != new[k]]


# ---------------------------------------------------------------- activities


def mark_done(opp: Opportunity, ref: str, *, today: date, on: date | None = None
              ) -> tuple[Opportunity, Any, Any]:
    """Mark an activity done on ``on``; a planned one (dated after today) without ``on``
    becomes done today, the day it was actually done."""
    before = find_item(opp, "activities", ref)
    when = on or (before.date if before.date <= today else today)
    after = before.model_copy(update={"done": True, "date": when})
    _check_activity(after, today)
    items = [after if i.id == before.id else i for i in opp.activities]
    return opp.model_copy(update={"activities": items}), before, after


# ---------------------------------------------------------------- notes


def add_note(opp: Opportunity, *, author: str, text: str, at: datetime,
             item_id: str | None = None) -> tuple[Opportunity, Note]:
    """A note with who wrote it and when (to the second, with the time zone)."""
    if at.tzinfo is None:
        raise ValueError("a note's time needs its time zone")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return add(opp, None, "notes",
               {"author": author, "date": at.replace(microsecond=0), "text": text},
               item_id=item_id)


# ---------------------------------------------------------------- documents


def check_document_size(size: int, name: str, large: bool) -> None:
    """Refuse a very large file unless ``large``: git keeps every version of it forever."""
    if size > LARGE_DOCUMENT and not large:
        raise RuleError(f"{name} is {human_size(size)}, over the "
                        f"{LARGE_DOCUMENT // (1024 * 1024)} MB that opp stores without asking; "
                        "git keeps it in every clone forever. Store it anyway with --large, or "
                        "keep it elsewhere (a shared drive, git LFS) and write its link in a "
                        "note")


def safe_extension(name: str) -> str:
    """The file name's extension when it is short and plain (``.pdf``), else ''."""
    suffix = PurePosixPath(name.replace("\\", "/")).suffix.lower()
    return suffix if re.fullmatch(r"\.[a-z0-9]{1,10}", suffix) else ""


def title_from(name: str) -> str:
    """A title from a file name: its last part, one line, no control characters."""
    base = PurePosixPath(name.replace("\\", "/")).name
    base = re.sub(r"[\x00-\x1f\x7f]+", " ", base).strip()
    return base[:500] or "document"


def document_folder(opp_id: str) -> str:
    return f"{DOCUMENTS_DIR}/{opp_id}"


def add_document(opp: Opportunity, *, source_name: str, title: str | None, size: int,
                 sha256: str, today: date, taken: frozenset[str] | set[str] = frozenset()
                 ) -> tuple[Opportunity, Document]:
    """List a file stored as ``documents/<ID>/<item id><.ext>``: a name opp makes (never
    user text as a path), unique in the panel and not among ``taken`` paths."""
    used = {d.id for d in opp.documents}
    folder = document_folder(opp.id)
    ext = safe_extension(source_name)
    while True:
        item_id = ids.new_item_id(used)
        path = f"{folder}/{item_id}{ext}"
        if path not in taken and not any(d.path == path for d in opp.documents):
            break
        used.add(item_id)
    fields = {"path": path, "title": title or title_from(source_name), "sha256": sha256,
              "size": size, "added": today}
    return add(opp, None, "documents", fields, item_id=item_id)


def document_path_problem(opp_id: str, path: str) -> str | None:
    """Why a document entry's path is not one of this deal's own files, or None: it must
    be a plain path under ``documents/<its own id>/`` (no ``..``, not absolute), so that
    one deal never reaches another's files, nor any file outside the repo."""
    parts = PurePosixPath(path).parts
    folder = document_folder(opp_id)
    if (not path.startswith(f"{folder}/") or ".." in parts or "." in parts
            or "\\" in path or "\0" in path or len(parts) < 3
            or path != PurePosixPath(path).as_posix()):
        return (f"document path '{path}' is not under {folder}/, where this deal's files "
                "are")
    return None


def removable_path(opp: Opportunity, document: Document) -> str | None:
    """The stored file a removed document lets go, or None when another entry still uses
    it; refuses a path outside ``documents/<ID>/`` (a hand edit, or a hostile push)."""
    path = document.path
    problem = document_path_problem(opp.id, path)
    if problem:
        raise RuleError(f"{problem}; opp removes only the deal's own files: mend the entry "
                        "by hand (opp validate names it), then commit")
    if any(d.path == path for d in opp.documents if d.id != document.id):
        return None
    return path
