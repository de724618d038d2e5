"""The timeline of an opportunity (R20): who changed what and when, with its activities.

The change record is the git history of the opportunity's file, followed across
renames: every commit that touched it becomes a ``change`` entry with its author,
time (the author date), subject, and the fields that changed, old -> new, found by
parsing the file before and after the commit. Activities and notes of the
opportunity join the list at their own dates (kinds ``activity`` and ``note``).

Decisions:

- Each commit is compared with its (first) parent's version of the file, so
  changes made on two clones and merged read as the two changes they were. A merge
  commit is listed for what the merge decided: the values it settled in a conflict
  (opp's ``Opp-Settled`` trailers, else its ``Opp-Resolved`` ones), old (its first
  parent) -> new, flagged as such with both sides' values, whichever side won; and
  any value it brought or made (differing from a parent's) that differs from what
  the timeline has shown so far (changes of two branches interleave by date, so
  the last one shown need not be the one the merge kept). A merge that left the
  file as both parents had it decides nothing. So the timeline always ends on the
  file as it is: the last value shown for each field is the file's.
- The commit that added an activity or a note that is still there does not list
  that addition: the activity or note is its own entry, which names the commit
  (``commit``). A commit whose only change was that addition is therefore not
  listed twice; later edits of the item are listed as changes. An item that was
  removed and added again (undo, redo) keeps every change, so the story reads.
- An activity has a date, not a time: ``at`` is the start of its day (local
  time). It is listed there, except that an activity recorded on its own day is
  listed where the commit that recorded it stands (after that day's earlier
  changes), and nothing is listed before the commit that created the opportunity.
- A deleted opportunity's timeline (its full id given) ends with its deletion.
- Changes keep git's order (its history, not the dates written in commits, which
  rebases and clocks can skew); activities and notes are slotted in between them
  by time.
- Git runs three times whatever the length of the history: ``rev-parse`` (is there
  any history?), one ``git log`` and one ``git cat-file --batch`` for every version.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from ..domain.merge import merge_values
from ..domain.versions import Broken, compare, excerpt
from ..env import today
from ..errors import DataError
from ..store.files import OPPORTUNITIES_DIR
from ..store.git import git, read_blobs
from .index.accounts import names as account_names

if TYPE_CHECKING:
    from ..store.repo import Repo

OWN_ENTRIES = ("activities", "notes")
"""Panels whose items are entries of their own in the timeline."""

_NULL_BLOB = "0" * 40

# ---------------------------------------------------------------- reading git


@dataclass
class Revision:
    """One commit that touched the file, with the file's data after it and in each parent
    (``None`` where the file is absent, ``Broken`` where it is not readable YAML)."""

    commit: str
    author: str
    email: str
    at: datetime
    subject: str
    action: str | None
    before: list[Any]
    after: Any
    settled: list[str] | None = None  # a merge's settled fields of this file ('*': all)
    merge: bool = False


_FORMAT = ("%x1e%H%x1f%an%x1f%ae%x1f%aI%x1f%s%x1f"
           "%(trailers:key=Opp-Action,valueonly,separator=%x2C)%x1f%P%x1f"
           "%(trailers:key=Opp-Settled,valueonly,separator=%x1d)%x1f"
           "%(trailers:key=Opp-Resolved,valueonly,separator=%x1d)")


def parse_log(text: str) -> list[dict]:
    """The records of ``git log --follow -c --raw -z --no-abbrev --format=_FORMAT``:
    header fields and, per commit, the blob ids before (one per parent) and after,
    the path after it (and ``source``, the path before a rename), the parents and
    the ``Opp-Settled``/``Opp-Resolved`` trailers. A merge that left the file as one
    of its parents had it has no blob ids (``before``/``after`` None): git lists every
    merge when following a file, so those are kept for the caller to read."""
    records = []
    for chunk in text.split("\x1e")[1:]:
        header, _, rest = chunk.partition("\0")
        commit, author, email, at, subject, action, *extra = header.split("\x1f")
        parents = extra[0].split() if extra else []
        settled = [t.strip() for t in extra[1].split("\x1d") if t.strip()] if len(extra) > 1 \
            else []
        resolved = [t.strip() for t in extra[2].split("\x1d") if t.strip()] if len(extra) > 2 \
            else []
        tokens = rest.lstrip("\n").split("\0")
        blobs = path = source = None
        copied = False
        i = 0
        while i < len(tokens):
            token = tokens[i].lstrip("\n")
            i += 1
            if not token.startswith(":"):
                continue
            colons = len(token) - len(token.lstrip(":"))
            fields = token[colons:].split(" ")
            paths: list[str] = []
            if colons == 1:  # :old new oldsha newsha status
                shas, status = fields[2:4], fields[4]
                count = 2 if status[:1] in ("R", "C") else 1
            else:  # a merge: n parents' modes, the result's, n+1 shas, statuses
                shas, status = fields[colons + 1: 2 * colons + 2], fields[-1]
                count = 1
            paths, i = tokens[i:i + count], i + count
            if blobs is None:  # the followed file is the only path; keep the first anyway
                blobs = [None if s == _NULL_BLOB else s for s in shas]
                path = paths[-1] if paths else None
                source = paths[0] if len(paths) == 2 else None
                copied = status[:1] == "C"
        if blobs is None and len(parents) < 2:
            continue
        records.append({"commit": commit, "author": author, "email": email,
                        "at": datetime.fromisoformat(at), "subject": subject,
                        "action": action.strip() or None,
                        "before": blobs[:-1] if blobs else None,
                        "after": blobs[-1] if blobs else None, "path": path,
                        "source": source, "parents": parents, "settled": settled,
                        "resolved": resolved})
        if copied:
            # --follow finds copies too (it looks for the file's source among every file
            # of the commit): a new deal "copied" from a similar one that stays is created
            # here; the older records are the other deal's story
            records[-1].update(before=[None], source=None)
            break
    return records


def _parse(data: bytes | None, where: str) -> Any:
    if data is None:
        return None
    from ..store import yamlio

    try:
        loaded, _ = yamlio.load(data, where)
    except DataError as exc:
        return Broken(str(exc))
    return loaded


def history(repo: Repo, opp_id: str) -> list[Revision]:
    """Every commit that touched ``opportunities/<id>.yaml`` (following renames), newest
    first, each with the file's data before and after; and every merge whose result
    may matter to the story (git lists them all when following a file)."""

    relpath = f"{OPPORTUNITIES_DIR}/{opp_id}.yaml"
    has_head = git(repo.root, "rev-parse", "-q", "--verify", "HEAD", check=False)
    if has_head.returncode != 0:
        return []
    out = git(repo.root, "log", "--follow", "-c", "--raw", "-z", "--no-abbrev",
              "--no-color", f"--format={_FORMAT}", "--", relpath).stdout
    records = parse_log(out)
    # the path of the file at each commit: git's (from the top) once a change names it
    current = f"./{relpath}"
    for r in records:
        if r["path"]:
            current = r["path"]
        r["at_path"] = current
        if r["source"]:
            current = r["source"]
        r["settled_here"] = settled_fields(r, opp_id) if len(r["parents"]) > 1 else None
        if r["after"] is None and r["before"] is None:  # a merge git gave no blobs for
            r["after"] = f"{r['commit']}:{current}"
            r["before"] = [f"{p}:{current}" for p in r["parents"]]
    names = [b for r in records for b in (*r["before"], r["after"]) if b]
    blobs = read_blobs(repo.root, names)
    parsed: dict[bytes, Any] = {}

    def data(name: str | None) -> Any:
        raw = blobs.get(name) if name else None
        if raw is None:
            return None
        if raw not in parsed:  # many names (merges) hold the same bytes: parse once
            parsed[raw] = _parse(raw, relpath)
        return parsed[raw]

    return [Revision(r["commit"], r["author"], r["email"], r["at"], r["subject"], r["action"],
                     [data(b) for b in r["before"]],
                     data(r["after"]), r["settled_here"], len(r["parents"]) > 1
                     or len(r["before"]) > 1)
            for r in records]


def settled_fields(record: dict, opp_id: str) -> list[str] | None:
    """The fields of ``opportunities/<opp_id>.yaml`` a merge settled in conflicts, from
    its ``Opp-Settled`` trailers (else, for merges of older opp versions, its
    ``Opp-Resolved`` ones): field paths as opp conflicts names them, '*' for the whole
    file; None when it settled nothing there."""

    name = f"opportunities/{opp_id}.yaml"
    out: list[str] = []
    for line in record.get("settled") or []:
        parts = line.split(" ")
        if len(parts) >= 3 and (parts[0] == name or parts[0].endswith("/" + name)):
            out += parts[1].split(",")
    if not out and not record.get("settled"):
        for line in record.get("resolved") or []:
            if line.startswith(f"{opp_id} "):
                found = re.search(r": (\S+) set to ", line)
                if found:
                    out.append(found.group(1))
            elif name in line and "(whole file)" in line:
                out.append("*")
    return out or None


# ---------------------------------------------------------------- the timeline


def _local(moment: datetime) -> datetime:
    """An aware time: a naive one is taken as local time (UTC where the OS cannot say)."""
    if moment.tzinfo:
        return moment
    try:
        return moment.astimezone()
    except (OverflowError, ValueError, OSError):  # years the OS clock cannot place
        return moment.replace(tzinfo=timezone.utc)


def build(revisions: list[Revision], opp: Any, today: date) -> list[dict]:
    """The timeline, oldest first: changes from ``revisions`` (newest first, as git
    lists them) and the activities and notes of ``opp`` (the opportunity now); an
    activity not done and dated after ``today`` is planned."""
    present = {(panel, item.id) for panel in OWN_ENTRIES for item in getattr(opp, panel)}
    computed = _computed(revisions)

    def ref(change: dict) -> tuple:
        return change["field"], change.get("item")

    # the commit that added an activity or note still there, when only one did: the
    # item's own entry stands for it (one added, removed and added again keeps them all)
    additions: dict[tuple, list[Revision]] = {}
    for rev, changes in computed:
        for c in changes:
            if c["old"] is None and ref(c) in present:
                additions.setdefault(ref(c), []).append(rev)
    added_by = {key: revs[0] for key, revs in additions.items() if len(revs) == 1}
    changes_: list[tuple[datetime, dict]] = []
    for rev, changes in computed:
        kept = [c for c in changes if not (c["old"] is None and added_by.get(ref(c)) is rev)]
        if changes and not kept:
            continue  # it only added what is listed as its own entry
        entry: dict[str, Any] = {
            "at": rev.at.isoformat(), "author": rev.author, "kind": "change",
            "summary": rev.subject, "changes": kept, "commit": rev.commit,
            "action": rev.action}
        if rev.merge:
            entry["merge"] = True
            entry["resolution"] = any(c.get("conflict") for c in kept)
        if rev.after is None and not rev.merge:
            entry["deleted"] = True
        changes_.append((rev.at, entry))
    # nothing before the opportunity was created
    start = changes_[0][0] if changes_ else None
    own = _own_entries(opp, added_by, today)
    placed = []
    for _, entry, place in own:
        if start is not None and place < start:
            place = start
        placed.append((place, entry))
    placed.sort(key=lambda e: e[0])
    return _interleave(changes_, placed)


def _computed(revisions: list[Revision]) -> list[tuple[Revision, list[dict]]]:
    """Each revision (oldest first) with its changes: one pass, as each depends on the one
    before (merges, settled conflicts, undone changes)."""
    computed: list[tuple[Revision, list[dict]]] = []
    shown: Any = None  # the file as the changes listed so far tell it
    for rev in reversed(revisions):
        parent = rev.before[0] if rev.before else None
        if rev.merge:
            changes = _merge_changes(rev, shown)
            shown = _told_merge(rev, shown)
            if changes:
                computed.append((rev, changes))
            continue
        if rev.after is None and isinstance(parent, dict):
            changes = [{"field": "file", "old": "present", "new": None}]  # deleted
        else:
            changes = compare(parent, rev.after)
        shown = _told(parent, rev.after, shown)
        computed.append((rev, changes))
    return computed


def _own_entries(opp: Any, added_by: dict[tuple, Revision], today: date
                 ) -> list[tuple[datetime, dict, datetime]]:
    """The activities' and notes' own entries: (when, entry, where it is placed)."""
    own: list[tuple[datetime, dict, datetime]] = []
    for activity in opp.activities:
        by = added_by.get(("activities", activity.id))
        at = _local(datetime.combine(activity.date, time()))
        place = at
        if by is not None and _local(by.at).date() == activity.date:
            place = by.at  # recorded on its day: where the commit that recorded it is
        state = "done" if activity.done else ("planned" if activity.date > today
                                              else "to do")
        own.append((at, {
            "at": at.isoformat(), "author": activity.author or (by.author if by else None),
            "kind": "activity", "summary": f"{activity.type}: {activity.subject} ({state})",
            "changes": [], "commit": by.commit if by else None, "item": activity.id,
            "type": activity.type, "subject": activity.subject,
            "date": activity.date.isoformat(), "done": activity.done,
            "notes": activity.notes}, place))
    for note in opp.notes:
        by = added_by.get(("notes", note.id))
        at = _local(note.date)
        own.append((at, {
            "at": at.isoformat(), "author": note.author, "kind": "note",
            "summary": excerpt(note.text, 80), "changes": [],
            "commit": by.commit if by else None, "item": note.id, "text": note.text}, at))
    return own


def _told(parent: Any, after: Any, shown: Any) -> Any:
    """The file as the timeline tells it once a commit's change (parent -> after) is
    listed: what the commit changed, over what was told before."""
    if not (isinstance(parent, dict) and isinstance(after, dict) and isinstance(shown, dict)):
        return after

    told, _ = merge_values(parent, shown, after, default="theirs")
    return told


def _settled(change: dict, fields: list[str]) -> bool:
    """Whether a change is about one of the fields a merge settled (conflict paths)."""
    top, item = change["field"].split(".")[0], change.get("item")
    for path in fields:
        parts = path.split(".")
        if path == "*" or (parts[0] == top and (len(parts) == 1 or item is None
                                               or item in parts)):
            return True
    return False


def _merge_changes(rev: Revision, shown: Any) -> list[dict]:
    """What a merge decided: the conflicts it settled (old: its first parent's value;
    ``conflict``, ``ours``, ``theirs``), then the values it brought or made (those
    differing from a parent) that differ from what the timeline told before it. A
    merge that left the file as both parents had it decides nothing here, even when
    the timeline has told changes of a branch it does not hold yet."""
    after = rev.after
    if after is None and shown is None:
        return []
    out: list[dict] = []
    settled_keys: set = set()
    if rev.settled and len(rev.before) > 1 \
            and (rev.before[0] is None) != (rev.before[1] is None):
        # deleted on one side, changed on the other: the file itself was the question
        def state(version: Any) -> str:
            return "deleted" if version is None else "present"
        out.append({"field": "file", "old": state(rev.before[0]), "new": state(after),
                    "conflict": True, "ours": state(rev.before[0]),
                    "theirs": state(rev.before[1])})
    elif rev.settled and len(rev.before) > 1:
        ours, theirs = rev.before[0], rev.before[1]
        from_theirs = {_ref(c): c for c in compare(theirs, after)}
        for c in compare(ours, after):
            if _settled(c, rev.settled):
                other = from_theirs.get(_ref(c))
                out.append({**c, "conflict": True, "ours": c["old"],
                            "theirs": other["old"] if other else c["new"]})
                settled_keys.add(_ref(c))
        for key, c in from_theirs.items():  # kept ours: the merge equals its first parent
            if key not in settled_keys and _settled(c, rev.settled):
                out.append({**c, "old": c["new"], "conflict": True, "ours": c["new"],
                            "theirs": c["old"]})
                settled_keys.add(key)
    if after is None:
        if all(parent is None for parent in rev.before):
            return out
        return out + [{"field": "file", "old": "present", "new": None}]
    made = {_ref(c) for parent in rev.before for c in compare(parent, after)}
    for c in compare(shown, after) if shown is not None else compare(None, after):
        if _ref(c) not in settled_keys and _ref(c) in made:
            out.append(c)
    return out


def _told_merge(rev: Revision, shown: Any) -> Any:
    """The file as the timeline tells it after a merge: what the merge holds where it
    differs from a parent, what was told before elsewhere."""
    told = shown
    for parent in rev.before:
        told = _told(parent, rev.after, told)
    return told


def _ref(change: dict) -> tuple:
    return change["field"], change.get("item")


def _interleave(changes: list[tuple[datetime, dict]], own: list[tuple[datetime, dict]]
                ) -> list[dict]:
    """Changes in history order, with activities and notes slotted in by time: a change
    never moves ahead of one git made before it, even when their dates disagree."""
    out, i, j = [], 0, 0
    while i < len(changes) or j < len(own):
        if j == len(own) or (i < len(changes) and changes[i][0] <= own[j][0]):
            out.append(changes[i][1])
            i += 1
        else:
            out.append(own[j][1])
            j += 1
    return out


def timeline(repo: Repo, opp_id: str, warn: Callable[[str], None] | None = None) -> list[dict]:
    """``opp timeline``: the opportunity's story, oldest first (the JSON of the contract).

    The story is in git: a file that is invalid now (a hand edit gone wrong, the very
    thing one looks back for) still has it, with the activities and notes of its last
    valid version, and ``warn`` says so."""

    revisions = history(repo, opp_id)
    named(revisions, account_names(repo))
    try:
        current = repo.load(opp_id)
    except DataError as exc:
        current = _last_version(revisions)
        if warn is not None:
            warn(f"{exc}; activities and notes are shown as its last valid commit has them "
                 "(opp validate lists what to fix)")
    return build(revisions, current, today())


def named(revisions: list[Revision], names: dict[str, str]) -> None:
    """The story tells customers and partners by their accounts' names, not their ids
    (#20): each version's account ids are replaced, in place, by today's names."""
    if not names:
        return
    for rev in revisions:
        for data in (*rev.before, rev.after):
            if not isinstance(data, dict):
                continue
            if isinstance(data.get("customer"), str) and data["customer"] in names:
                data["customer"] = names[data["customer"]]
            for panel in ("partners", "competitors"):
                for item in data.get(panel) or []:
                    if isinstance(item, dict) and item.get("account") in names:
                        item["account"] = names[item["account"]]


def _last_version(revisions: list) -> Any:
    """The newest version of the history that is a valid opportunity (its activities and
    notes), else none of either."""

    from pydantic import ValidationError

    from ..domain.model import Opportunity

    for rev in revisions:  # newest first
        if isinstance(rev.after, dict):
            try:
                return Opportunity.model_validate(rev.after)
            except (ValidationError, ValueError):
                continue
    return SimpleNamespace(activities=[], notes=[])


def deleted_timeline(repo: Repo, ref: str) -> list[dict] | None:
    """The story of an opportunity whose file is gone (``ref`` its full id), ending with
    its deletion; None when ``ref`` names no file the history holds."""


    opp_id = ref.strip().casefold()
    if not re.fullmatch(r"[0-9a-z]{4,32}", opp_id):
        return None
    revisions = history(repo, opp_id)
    if not any(not rev.merge for rev in revisions):
        return None
    return build(revisions, _last_version(revisions), today())
