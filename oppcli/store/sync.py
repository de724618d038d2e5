"""Team sync through a git remote: ``opp sync``, the merge driver's I/O, conflicts.

This is the storage layer's remote half (``store.py`` is the local one): it alone
runs fetch, merge and push, reads the three versions git hands to the merge
driver, and keeps the conflict records. The decisions are ``merge.py``'s.

How a conflict travels: git runs the driver (``opp merge-driver``) for every
opportunity, catalog and settings file both sides changed. The driver writes a
valid merged file that takes ours for each conflicting field, records the
conflicts in ``.git/opp-conflicts/<path>.json`` and exits 1, so that git keeps
the path unmerged (base, ours and theirs stay in the index as stages 1, 2, 3)
and the merge stops. ``opp resolve`` merges the three stages again with the
user's choice, stages the file once nothing is left in it, and commits the
merge once no path is left; ``opp sync`` then pushes. A plain ``git pull``
goes through the same driver, so the same commands settle it.
"""

from __future__ import annotations

import hashlib
import json
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..domain import merge
from ..domain.settings import Settings
from ..errors import DataError, NotFound, RepoError, UsageError
from . import mergestate, yamlio
from .files import SETTINGS_FILE, atomic_write, read_data_file
from .git import git, one_line
from .repo import Repo

CONFLICTS_DIR = "opp-conflicts"
SYNC_ROUNDS = 5
SHOWN = 3  # conflicts spelled out in one message; 'opp conflicts' lists them all


class SyncConflict(RepoError):
    """The merge stopped on conflicts; the message names them and how to settle them."""


# ---------------------------------------------------------------- small git helpers


def unmerged(root: Path) -> dict[str, set[int]]:
    """Paths git holds unmerged (from the top of the work tree) and their stages."""
    out = git(root, "ls-files", "-u", "-z", "--full-name").stdout
    paths: dict[str, set[int]] = {}
    for entry in filter(None, out.split("\0")):
        meta, path = entry.split("\t", 1)
        paths.setdefault(path, set()).add(int(meta.split()[2]))
    return paths


def _show(top: Path, stage: int, path: str) -> bytes | None:
    """A stage of an unmerged path (1 base, 2 ours, 3 theirs), or None when absent."""
    proc = subprocess.run(["git", "show", f":{stage}:{path}"], cwd=top, capture_output=True)
    return proc.stdout if proc.returncode == 0 else None


# ---------------------------------------------------------------- conflict records


def _records_dir(git_dir: Path) -> Path:
    return git_dir / CONFLICTS_DIR


def record_path(git_dir: Path, path: str) -> Path:
    return _records_dir(git_dir) / (path.replace("/", "__") + ".json")


def clear_records(git_dir: Path) -> None:
    shutil.rmtree(_records_dir(git_dir), ignore_errors=True)


def read_record(git_dir: Path, path: str) -> dict | None:
    try:
        return json.loads(record_path(git_dir, path).read_bytes())
    except (OSError, ValueError):
        return None


def record_bytes(record: dict) -> bytes:
    return json.dumps(record, indent=1, ensure_ascii=False).encode()


def _write_record(git_dir: Path, path: str, record: dict | None) -> None:
    target = record_path(git_dir, path)
    if record is None:
        target.unlink(missing_ok=True)
        return
    atomic_write(target, record_bytes(record))


def _log_resolution(git_dir: Path, line: str, log: str = "resolved.log") -> None:
    folder = _records_dir(git_dir)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / log, "a", encoding="utf-8") as fh:
        fh.write(one_line(line, 200 if log == "resolved.log" else 2000) + "\n")


def _log_settled(git_dir: Path, path: str, fields: list[str], how: str) -> None:
    """What a settlement decided, for tools (the timeline): the merge commit gets an
    ``Opp-Settled: <path> <field>[,<field>…] <ours|theirs|value>`` trailer per line;
    ``*`` stands for the whole file."""
    _log_resolution(git_dir, f"{path} {','.join(fields) or '*'} {how}", "settled.log")


# ---------------------------------------------------------------- reading the three versions


def parse_version(data: bytes | None, path: str) -> Any:
    """Parsed YAML, ``None`` for an absent or empty file; ``DataError`` when unreadable."""
    if not data or not data.strip():
        return None
    return yamlio.quick_load(data, path)[0]  # a file opp wrote: read quickly


def header_of(data: bytes | None) -> str:
    """The leading comment lines of a file (e.g. a schema line), kept by the merge."""
    lines = []
    for line in (data or b"").decode("utf-8", "replace").splitlines(keepends=True):
        if not line.startswith("#"):
            break
        lines.append(line if line.endswith("\n") else line + "\n")
    return "".join(lines)


def _settings_near(worktree: Path, path: str) -> Settings:
    """The settings of the data repo holding ``path`` (as the work tree has them now)."""
    folder = (worktree / path).parent
    if merge.kind_of(path) == merge.OPPORTUNITY:
        folder = folder.parent
    return _settings_of(folder, SETTINGS_FILE)


def _settings_of(top: Path, path: str) -> Settings:
    """The settings file ``path`` under ``top`` as it stands (the default settings when
    it cannot be read or does not hold)."""
    from pydantic import ValidationError

    from ..domain.model import settings_from

    try:
        raw = read_data_file(top, path, yamlio.MAX_FILE_BYTES) or b""
        # read quickly when opp wrote it (load's answer either way): no PyYAML import
        return settings_from(yamlio.quick_load(raw, path)[0])
    except (OSError, DataError, ValidationError, ValueError):
        return Settings()


def _merge_files(kind: str, path: str, base: bytes | None, ours: bytes | None,
                 theirs: bytes | None, worktree: Path, **settle: Any) -> merge.Merged:
    try:
        b = parse_version(base, path)
    except DataError:
        b = None  # an unreadable base only makes more conflicts
    sides = {}
    for side, raw in (("ours", ours), ("theirs", theirs)):
        try:
            sides[side] = parse_version(raw, path)
        except DataError as exc:
            sides[side] = exc
    bad = {side: exc for side, exc in sides.items() if isinstance(exc, DataError)}
    if bad:
        shown = {"base": "", **{side: "not readable" if side in bad else "readable"
                                for side in sides}}
        rule = "; ".join(f"{side}: {exc}" for side, exc in bad.items())
        ident = (Path(path).stem if kind == merge.OPPORTUNITY else None)
        readable = [d for d in sides.values() if isinstance(d, dict)]
        name = readable[0].get("name") if readable and ident else None
        return merge.Merged(None, [merge.Conflict((), None, "the whole file", "the whole file",
                                                  rule=f"not readable as YAML ({rule})",
                                                  shown=shown)], id=ident,
                            name=name if isinstance(name, str) else None)
    o, t = sides["ours"], sides["theirs"]
    settings = _settings_near(worktree, path) if kind == merge.OPPORTUNITY else None
    return merge.merge_document(kind, b, o, t, settings=settings, **settle)


def _render(merged: merge.Merged, ours: bytes | None) -> bytes:
    return (header_of(ours) + yamlio.dump(merged.data)).encode("utf-8")


def _record(path: str, kind: str, merged: merge.Merged, written: bytes,
            choices: list) -> dict:
    data = merged.data or {}
    is_opp = kind == merge.OPPORTUNITY
    return {
        "path": path, "kind": kind,
        "id": (data.get("id") or merged.id or Path(path).stem) if is_opp else None,
        "name": (data.get("name") or merged.name) if is_opp else None,
        "whole_file": merged.whole_file,
        "conflicts": [{"field": c.field, "path": merge.plain(list(c.path)),
                       "base": merge.plain(c.base), "ours": merge.plain(c.ours),
                       "theirs": merge.plain(c.theirs), "item": merge.is_item(c),
                       "rule": c.rule, "fields": list(c.fields),
                       "shown": c.shown or {
                           side: merge.describe(c.value(side), item=merge.is_item(c))
                           for side in ("base", "ours", "theirs")}}
                      for c in merged.conflicts],
        "choices": choices,
        "written": hashlib.sha256(written).hexdigest(),
    }


# ---------------------------------------------------------------- the merge driver


UNREADABLE = b"\0 over the size limit, or not a regular file\n"  # not YAML: a whole conflict


def _driver_input(path: Path) -> bytes | None:
    """One of the versions git hands the driver (its temporary files), read by the one
    careful reader: bounded, never through a link. A version over the size limit reads
    as not YAML, which makes the file one whole conflict."""
    try:
        return read_data_file(path.parent, path.name, yamlio.MAX_FILE_BYTES)
    except DataError:
        return UNREADABLE


def run_merge_driver(base: Path, ours: Path, theirs: Path, path: str) -> int:
    """``git merge`` calls this for each opp file both sides changed (see module doc).

    Writes the result over ``ours``; 0 when clean, 1 when conflicts are left (git
    then keeps the path unmerged). Never writes conflict markers into YAML.
    """
    kind = merge.kind_of(path)
    raw = [_driver_input(p) for p in (base, ours, theirs)]
    where = git(Path.cwd(), "rev-parse", "--absolute-git-dir", "--show-toplevel").stdout
    git_dir, worktree = (Path(line) for line in where.splitlines()[:2])
    if kind is None:
        # only opp's files are routed here; anything else keeps git's own text merge
        return git(worktree, "merge-file", "-L", "ours", "-L", "base", "-L", "theirs",
                   str(ours), str(base), str(theirs), check=False).returncode and 1
    outcome = driver_outcome(kind, path, raw, worktree)
    if outcome.written is not None:
        atomic_write(ours, outcome.written)
    _write_record(git_dir, path, outcome.record)
    if outcome.said:
        print(outcome.said, file=sys.stderr)
    return outcome.code


@dataclass
class Outcome:
    """What the merge driver does for one file: its exit code, the merged bytes written
    over ours (None: ours stays), the conflict record (None: none is kept) and the line
    it says."""

    code: int
    written: bytes | None
    record: dict | None
    said: str | None


def driver_outcome(kind: str, path: str, raw: Sequence[bytes | None],
                   worktree: Path) -> Outcome:
    """The merge driver's answer for the versions ``raw`` (base, ours, theirs, as
    ``_driver_input`` reads them) of ``path``, with the settings ``worktree`` holds now.
    Writes nothing: the driver, or ``opp sync`` ahead of git (``premerge.py``), does."""
    base_raw, ours_raw, theirs_raw = raw
    merged = _merge_files(kind, path, base_raw, ours_raw, theirs_raw, worktree)
    written = None if merged.whole_file else _render(merged, ours_raw)
    if not merged.conflicts:
        return Outcome(0, written, None, None)
    record = _record(path, kind, merged, ours_raw or b"" if written is None else written, [])
    first = record["conflicts"][0]
    return Outcome(1, written, record, f"opp: {_one(record, first, 'here', 'there')}; "
                                       f"settle it with: {_command(record, first)}")


# ---------------------------------------------------------------- words


def _who(record: dict) -> str:
    if record.get("id"):
        return f"{record['id']} {record.get('name') or ''}".strip()
    return f"{record['path']} ({record['name']})" if record.get("name") else record["path"]


def _ref_word(record: dict) -> str:
    if record.get("id"):
        return record["id"]
    words: dict[Any, str] = {merge.CATALOG: "catalog", merge.SETTINGS: "settings",
                             merge.QUOTAS: "quotas"}
    return words.get(record.get("kind"), record["path"])


def _value(entry: dict, side: str) -> str:
    shown = entry.get("shown") or {}
    return shown.get(side) or merge.describe(entry.get(side), item=entry.get("item", False))


def _fields_word(entry: dict) -> str:
    """The conflict's field, with the fields a rule ties to it: 'products (with stage…)'."""
    tied = entry.get("fields") or []
    return entry["field"] + (f" (with {', '.join(tied)})" if tied else "")


def _one(record: dict, entry: dict, here: str, there: str) -> str:
    if record.get("whole_file") or not entry.get("field"):
        if entry.get("ours") in GIT_STATES:
            return f"{_who(record)}: {entry['ours']} {here} and {entry['theirs']} {there}"
        words = f"{_who(record)}: the file cannot be merged field by field"
        if entry.get("rule"):
            words += (f" ({entry['rule']}): {_value(entry, 'ours')} {here}, "
                      f"{_value(entry, 'theirs')} {there}")
        return words
    if entry.get("rule"):
        return (f"{_who(record)}: {_fields_word(entry)} cannot take both sides: "
                f"{_value(entry, 'ours')} {here}, {_value(entry, 'theirs')} {there}, "
                f"and {entry['rule']}")
    return (f"{_who(record)}: {entry['field']} is {_value(entry, 'ours')} {here} and "
            f"{_value(entry, 'theirs')} {there} (was {_value(entry, 'base')})")


def _command(record: dict, entry: dict) -> str:
    ref = _ref_word(record)
    if record.get("whole_file") or not entry.get("field"):
        return f"opp resolve {ref} --ours (or --theirs)"
    single = not (entry.get("item") or entry.get("rule") or entry.get("fields")
                  or isinstance(entry.get("ours"), (dict, list))
                  or isinstance(entry.get("theirs"), (dict, list)))
    extra = ", or --value VALUE" if single else ""
    # a quota's field names its owner and period: 'quotas.Bob Rossi 2026-Q4 EUR.amount'
    return f"opp resolve {ref} {shlex.quote(entry['field'])} --ours (or --theirs{extra})"


GIT_STATES = ("changed", "deleted", "added", "absent")


def _git_level(path: str, stages: set[int], top: Path | None = None) -> dict:
    """A conflict git found without opp's driver (e.g. changed here, deleted there)."""
    def state(stage: int) -> str:
        if stage not in stages:
            return "deleted" if 1 in stages else "absent"
        return "changed" if 1 in stages else "added"
    kind = merge.kind_of(path)
    ident = Path(path).stem if kind == merge.OPPORTUNITY else None
    name = None
    if kind in (merge.OPPORTUNITY, merge.ACCOUNT) and top is not None:
        for stage in (2, 3, 1):  # the deal's (account's) name, from a side that has it
            try:
                data = parse_version(_show(top, stage, path), path) if stage in stages else None
            except DataError:
                data = None
            if isinstance(data, dict) and isinstance(data.get("name"), str):
                name = data["name"]
                break
    base = "present" if 1 in stages else "absent"  # the file in the merge base
    return {"path": path, "kind": kind, "id": ident, "name": name, "whole_file": True,
            "conflicts": [{"field": "", "path": [], "base": base, "ours": state(2),
                           "theirs": state(3), "item": False,
                           "shown": {"base": base, "ours": state(2), "theirs": state(3)}}],
            "choices": []}


def pending(repo: Repo) -> list[dict]:
    """Every conflict left: one record per unmerged path, in path order."""
    out = []
    paths = unmerged(repo.root)
    top = repo.place[1] if paths else None
    for path, stages in sorted(paths.items()):
        record = read_record(repo.git_dir, path)
        out.append(record if record and record.get("conflicts")
                   else _git_level(path, stages, top))
    return out


def conflict_rows(repo: Repo) -> list[dict]:
    """``opp conflicts`` rows: path, id, name, field, base, ours, theirs (JSON data)."""
    rows = []
    for record in pending(repo):
        for entry in record["conflicts"]:
            rows.append({"path": record["path"], "id": record.get("id"),
                         "name": record.get("name"), "field": entry["field"] or None,
                         "fields": entry.get("fields") or [], "rule": entry.get("rule"),
                         "base": entry["base"], "ours": entry["ours"],
                         "theirs": entry["theirs"], "resolve": _command(record, entry),
                         "shown": {side: _value(entry, side)
                                   for side in ("base", "ours", "theirs")}})
    return rows


def conflict_message(records: list[dict], here: str, there: str, after: str) -> str:
    """One line naming the conflicts (the first few in full) and how to settle them."""
    entries = [(r, e) for r in records for e in r["conflicts"]]
    shown = "; ".join(_one(r, e, here, there) for r, e in entries[:SHOWN])
    more = f"; and {len(entries) - SHOWN} more" if len(entries) > SHOWN else ""
    first = _command(*entries[0])
    count = f"{len(entries)} conflict{'s' if len(entries) > 1 else ''}"
    return (f"{count}: {shown}{more}. Settle each with one command, e.g. {first}; "
            f"'opp conflicts' lists them; then {after}")


# ---------------------------------------------------------------- settling conflicts


def _match(repo: Repo, ref: str) -> tuple[str, set[int], dict | None]:
    """The unmerged path an id (prefix), 'catalog', 'settings', 'quotas' or a path names."""
    paths = unmerged(repo.root)
    if not paths:
        raise NotFound("there is no conflict to settle; "
                       + (mergestate.waiting(repo.git_dir) or "see: git status"))
    key = ref.strip().strip("/")
    records = {p: read_record(repo.git_dir, p) for p in paths}

    def ident(path: str) -> str | None:
        rec = records[path]
        if rec and rec.get("id"):
            return rec["id"]
        return Path(path).stem if merge.kind_of(path) == merge.OPPORTUNITY else None

    words = {"catalog": merge.CATALOG, "settings": merge.SETTINGS, "opp.yaml": merge.SETTINGS,
             "catalog.yaml": merge.CATALOG, "quotas": merge.QUOTAS,
             "quotas.yaml": merge.QUOTAS}
    exact = [p for p in paths if p == key or p.endswith("/" + key)]
    if not exact and key.casefold() in words:
        exact = [p for p in paths if merge.kind_of(p) == words[key.casefold()]]
    if not exact:
        exact = [p for p in paths if (ident(p) or "").startswith(key.casefold())]
    if len(exact) == 1:
        path = exact[0]
        return path, paths[path], records[path]
    listed = ", ".join(ident(p) or p for p in sorted(paths))
    if not exact:
        raise NotFound(f"no conflict on '{ref}'; conflicts are on: {listed} (see: opp conflicts)")
    raise UsageError(f"'{ref}' names {len(exact)} conflicted files: "
                     f"{', '.join(ident(p) or p for p in exact)}; type more of it")


def _parse_value(kind: str, path: tuple, text: str, settings: Any) -> Any:
    """A value for ``--value`` ('none' clears) as text, which the model reads as in a file
    (the command line passes the parser of the command that sets the field)."""
    return None if text.strip().casefold() in ("none", "null", "") else text.strip()


def resolve(repo: Repo, ref: str, field: str | None, side: str | None,
            value: str | None, parse: Callable[[str, tuple, str, Any], Any] = _parse_value
            ) -> list[str]:
    """Settle one conflict (``field``) or all of a file's, keeping ``side`` or ``value``.

    ``parse(kind, path, text, settings)`` turns a ``value`` into the field's type.
    Stages the file when nothing is left in it and commits the merge when nothing
    is left at all. Returns what happened, in words.
    """
    if (side is None) == (value is None):
        raise UsageError("give one of --ours, --theirs or --value to say what to keep")
    if value is not None and not field:
        raise UsageError("--value sets one field: give the FIELD too (see: opp conflicts)")
    with repo.lock():
        path, stages, record = _match(repo, ref)
        top = repo.place[1]
        messages: list[str] = []
        if record is None or record.get("whole_file") or not record.get("conflicts"):
            if field or value is not None:
                raise UsageError(f"{path} is in conflict as a whole file: keep one side with "
                                 f"opp resolve {ref} --ours (or --theirs)")
            assert side is not None  # no value, so a side was given (checked above)
            kept = "version" if _take_side(repo.place[1], path, stages, side) else "deletion"
            messages.append(f"{path}: kept the {kept} of {side}")
            _log_resolution(repo.git_dir, f"{path} (whole file) {side}")
            _log_settled(repo.git_dir, path, [], side)
        else:
            messages += _resolve_fields(repo, top, path, record, field, side, value, parse)
        left = unmerged(repo.root)
        if left:
            messages.append(f"{len(left)} file(s) still in conflict; see: opp conflicts")
        else:
            messages.append(finish_merge(repo))
        return messages


def _take_side(top: Path, path: str, stages: set[int], side: str) -> bool:
    """Settle a whole file with one side's version (``path`` from the work tree's top
    ``top``); False when that side deleted it."""
    stage = 2 if side == "ours" else 3
    if stage in stages:
        git(top, "checkout", f"--{side}", "--", path)
        git(top, "add", "--", path)
        return True
    git(top, "rm", "-q", "--", path)
    return False


def _resolve_fields(repo: Repo, top: Path, path: str, record: dict, field: str | None,
                    side: str | None, value: str | None, parse: Callable) -> list[str]:
    try:
        current = read_data_file(top, path, yamlio.MAX_FILE_BYTES) or b""
    except DataError as exc:
        raise RepoError(str(exc)) from None
    if hashlib.sha256(current).hexdigest() != record.get("written"):
        raise RepoError(f"{path} was edited since the merge; keep your edit with "
                        f"'git add {path}' (then opp sync), or drop it with "
                        f"'git checkout -m {path}' and settle with opp resolve")
    entries = record["conflicts"]
    stored, kind = record.get("choices", []), record["kind"]
    settings = _settings_for(top, path, record) if field or stored else None
    entry = _entry_for(record, field, value) if field else None
    choices = mergestate.typed_choices(stored, kind, settings, parse,
                                       but=entry["path"] if entry else None)
    default = None
    if entry is not None:
        typed = None if value is None else parse(kind, tuple(entry["path"]), value, settings)
        choices.append((entry["path"], side or "value", typed))
        settled = [entry]
    else:
        default = side
        settled = list(entries)
    b, o, t = (_show(top, s, path) for s in (1, 2, 3))
    merged = _merge_files(kind, path, b, o, t, top,
                          choices={tuple(c[0]): (c[1], c[2]) for c in choices},
                          default=default, pending=[tuple(e["path"]) for e in entries])
    if merged.whole_file:
        raise RepoError(f"{path} can no longer be merged field by field; keep one side with "
                        f"opp resolve {_ref_word(record)} --ours (or --theirs)")
    written = _render(merged, o)
    atomic_write(top / path, written)
    words = _settled_words(repo, path, record, merged, settled, side)
    for line in words:
        _log_resolution(repo.git_dir, line)
    if merged.conflicts:
        new = _record(path, kind, merged, written,
                      [[c[0], c[1], merge.plain(c[2])] for c in choices])
        new["id"], new["name"] = new["id"] or record.get("id"), new["name"] or record.get("name")
        _write_record(repo.git_dir, path, new)
        return words + [f"{_who(new)} still has {len(merged.conflicts)} conflict(s): "
                        + ", ".join(c.field or "the whole file" for c in merged.conflicts)]
    _write_record(repo.git_dir, path, None)
    git(top, "add", "--", path)
    return words


def _entry_for(record: dict, field: str, value: str | None) -> dict:
    """The conflict of ``record`` on ``field`` (as opp set spells it too: close-date), one
    that a typed ``value`` can settle when one is given."""
    entries = record["conflicts"]
    wanted = field.strip().casefold()
    matching = [e for e in entries if e["field"].casefold() == wanted] or [
        e for e in entries if e["field"].casefold().replace("-", "_")
        == wanted.replace("-", "_")]  # close-date as opp set spells it
    if not matching:
        fields = ", ".join(e["field"] for e in entries)
        raise NotFound(f"no conflict on '{field}' in {_who(record)}; its conflicts: {fields}")
    entry = matching[0]
    if value is not None and (entry.get("item") or entry.get("rule")
                              or isinstance(entry["ours"], (dict, list))
                              or isinstance(entry["theirs"], (dict, list))):
        raise UsageError(f"{entry['field']} is not a single value; keep a side with "
                         "--ours or --theirs")
    return entry


def _settings_for(top: Path, path: str, record: dict) -> Any:
    """The settings a typed value of the conflicted file is read with."""
    if record["kind"] == merge.SETTINGS:
        return _settings_of(top, path)
    return _settings_near(top, path) if record["kind"] == merge.OPPORTUNITY else None


def _settled_words(repo: Repo, path: str, record: dict, merged: merge.Merged,
                   settled: list[dict], side: str | None) -> list[str]:
    """What settling said, a line per conflict (each also logged for opp sync)."""
    words = []
    for e in settled:
        if e.get("rule") and side:
            words.append(f"{_who(record)}: {_fields_word(e)} as {side} "
                         f"({(e.get('shown') or {}).get(side) or side})")
        else:
            now = merge.value_at(merged.data, tuple(e["path"]))
            shown = merge.describe(now, item=e.get("item", False))
            words.append(f"{_who(record)}: {e['field']} set to {shown}"
                         + (f" ({side})" if side else ""))
        _log_settled(repo.git_dir, path, [e["field"], *(e.get("fields") or [])],
                     side or "value")
    return words


def finish_merge(repo: Repo) -> str:
    """Commit the merge once every conflict is settled (or say what git waits for)."""
    git_dir = repo.git_dir
    if not (git_dir / "MERGE_HEAD").exists():
        clear_records(git_dir)
        return "every conflict is settled; continue what git was doing (e.g. git rebase " \
               "--continue)"
    try:
        text = (git_dir / "MERGE_MSG").read_text(encoding="utf-8")
    except OSError:
        text = "sync: merge\n"
    lines = [line.rstrip() for line in text.splitlines() if not line.startswith("#")]
    message = "\n".join(lines).strip() or "sync: merge"
    try:
        settled = (_records_dir(git_dir) / "resolved.log").read_text(encoding="utf-8")
    except OSError:
        settled = ""
    trailers = "".join(f"Opp-Resolved: {line}\n" for line in settled.splitlines() if line)
    try:
        decided = (_records_dir(git_dir) / "settled.log").read_text(encoding="utf-8")
    except OSError:
        decided = ""
    trailers += "".join(f"Opp-Settled: {line}\n" for line in decided.splitlines() if line)
    if trailers:
        last = message.split("\n\n")[-1]
        glue = "\n" if last.startswith("Opp-Action:") else "\n\n"
        message += glue + trailers.rstrip("\n")
    git(repo.root, "commit", "-q", "--no-edit", "-F", "-", input=message + "\n",
        env=repo.identity.env())
    clear_records(git_dir)
    mergestate.clear(git_dir)
    return "merge committed; run opp sync to share it"
