"""Reading the data repo's history from git: the repo as of a day, and what changed
in a window of days.

Whatever the size of the history, a handful of git processes do the work:
``git log`` lists the commits (with ``--raw``: every changed file's old and new
blob ids), ``git ls-tree -r`` lists a commit's files, and one ``git cat-file
--batch`` reads every blob needed. Files are parsed and checked by the same code
as today's files (``store.Repo``), against the settings of their own time, and
each blob is parsed once.

History here is the first-parent history of HEAD: the branch as it evolved in
this clone, a merge (``opp sync``) counting as one change at the time it was made.
A commit's day is its committer date in its own time zone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from pathlib import Path
from typing import Any, NoReturn

from ..domain.records import Commit, Record, Step, named, record
from ..domain.settings import Settings
from ..errors import DataError, RepoError, UsageError
from ..store import yamlio
from ..store.files import ACCOUNTS_DIR, OPPORTUNITIES_DIR, SETTINGS_FILE
from ..store.git import git, git_raw
from ..store.git import read_blobs as store_read_blobs
from ..store.repo import Repo
from .index import db, worktree
from .index.accounts import names as account_names
from .index.entry import make_record

_PATHS = (SETTINGS_FILE, OPPORTUNITIES_DIR)


def _git(root: Path, *args: str, input: bytes | None = None) -> bytes:
    return git_raw(root, *args, input=input)


def _text(data: bytes) -> str:
    return data.decode("utf-8", "replace")


def read_blobs(root: Path, blob_ids: Iterable[str]) -> dict[str, bytes]:
    """The contents of many blobs, read by one ``git cat-file --batch`` (store.read_blobs);
    a blob git does not have is an error here: history must be complete."""
    found = store_read_blobs(root, sorted(set(blob_ids)))
    missing = [b for b, data in found.items() if data is None]
    if missing:
        raise RepoError(f"git cannot read blob {missing[0]}; is the repository complete? "
                        "try: git fsck")
    return found  # type: ignore[return-value]  # no None left: ``missing`` refused them


def _is_null(blob: str) -> bool:
    return set(blob) == {"0"}


def _opportunity_path(path: str) -> bool:
    """``opportunities/<id>.yaml``: the files ``Repo.ids`` counts."""
    folder, _, name = path.partition("/")
    return (folder == OPPORTUNITIES_DIR and "/" not in name and name.endswith(".yaml")
            and not name.startswith("."))


# ---------------------------------------------------------------- a commit's files


class Snapshot(Repo):
    """The data repo as it was at one commit: read-only, its files git blobs.

    It is a ``Repo`` for reading: ``settings``, ``ids``, ``load``, ``records`` work
    as on today's files, with the same checks, and errors name the commit too.
    """

    def __init__(self, root: Path, commit: Commit, files: dict[str, str],
                 blobs: dict[str, bytes], where: str | None = None):
        super().__init__(root)
        self.commit = commit
        self.files = files  # relpath -> blob id
        self.blobs = blobs  # blob id -> bytes
        self.where = where or f"commit {commit.sha[:10]} of {commit.at.date()}"

    @staticmethod
    def path_key(opp_id: str) -> str:
        return f"{OPPORTUNITIES_DIR}/{opp_id}.yaml"

    def here(self, exc: DataError) -> DataError:
        """``exc`` saying which commit the file is of."""
        return DataError(f"{exc.message} (in {self.where})", exc.path, exc.line, exc.column)

    def read_yaml(self, relpath: str, *, required: bool = True):
        blob = self.files.get(relpath)
        if blob is None:
            if required:
                raise DataError("file is missing", relpath)
            return None, None
        if blob not in self.blobs:
            self.read(blob)
        return yamlio.load(self.blobs[blob], relpath)

    def read(self, *blob_ids: str) -> dict[str, bytes]:
        """These blobs' bytes, read from git (one ``cat-file``) unless already here."""
        missing = [b for b in blob_ids if b not in self.blobs]
        if missing:
            self.blobs.update(read_blobs(self.root, missing))
        return {b: self.blobs[b] for b in blob_ids}

    def settings_bytes(self) -> bytes | None:
        blob = self.files.get(SETTINGS_FILE)
        return self.read(blob)[blob] if blob else None

    def settings_from_bytes(self, data: bytes):
        return self.settings

    @cached_property
    def settings(self):
        try:
            # Repo's own cached_property body, run on this snapshot (mypy sees no .func)
            return Repo.settings.func(self)  # type: ignore[attr-defined]
        except DataError as exc:
            raise self.here(exc) from None

    past = True

    def account_ids(self) -> list[str]:
        return sorted(p[len(ACCOUNTS_DIR) + 1:-5] for p in self.files
                      if p.startswith(f"{ACCOUNTS_DIR}/") and p.endswith(".yaml")
                      and p.count("/") == 1)

    def ids(self) -> list[str]:
        prefix = len(OPPORTUNITIES_DIR) + 1
        return sorted(p[prefix:-5] for p in self.files if _opportunity_path(p))

    # override: a plain set where Repo answers with its lazy view of the disk; both serve `in`
    def taken_ids(self) -> set[str]:  # type: ignore[override]
        return set(self.ids())

    def load(self, opp_id: str):
        result = self.load_errors(f"{OPPORTUNITIES_DIR}/{opp_id}.yaml")
        if isinstance(result, list):
            raise self.here(result[0])
        return result

    def transaction(self, subject: str = "") -> NoReturn:
        raise RepoError("the data repo as of a past day is read-only")

    def change(self, ref: str, kind: str, action: str = "") -> NoReturn:
        raise RepoError("the data repo as of a past day is read-only")


# ---------------------------------------------------------------- as of a day


def _commits(repo: Repo) -> list[Commit]:
    """The first-parent history of HEAD, newest first."""
    out = _git(repo.root, "log", "--first-parent", "--format=%H%x1f%cI%x1f%an%x1f%s", "HEAD")
    commits = []
    for line in _text(out).splitlines():
        sha, at, author, subject = (line.split("\x1f", 3) + ["", "", ""])[:4]
        commits.append(Commit(sha, datetime.fromisoformat(at), author, subject))
    return commits


def commit_as_of(repo: Repo, day: date) -> Commit:
    """The last commit dated on or before the end of ``day``; refuses when there is none."""
    commits = _commits(repo)
    for commit in commits:
        if commit.at.date() <= day:
            return commit
    first = min(c.at.date() for c in commits)
    raise RepoError(f"the data repo has no commit on or before {day}: its history starts "
                    f"on {first}; give --as-of {first} or later")


def snapshot(repo: Repo, day: date) -> Snapshot:
    """The data repo as it was at its last commit dated on or before ``day``: its
    files and settings of then, not today's data filtered."""
    commit = commit_as_of(repo, day)
    listing = _git(repo.root, "ls-tree", "-r", "-z", commit.sha, "--", *_PATHS, ACCOUNTS_DIR)
    files: dict[str, str] = {}
    for entry in filter(None, listing.split(b"\0")):
        meta, _, path = entry.partition(b"\t")
        kind, blob = meta.split()[1:3]
        if kind == b"blob":
            files[_text(path)] = _text(blob)
    if SETTINGS_FILE not in files:
        raise RepoError(f"on {day} (commit {commit.sha[:10]} of {commit.at.date()}) the data "
                        f"repo had no {SETTINGS_FILE} yet; give a later --as-of")

    # with the index, a blob is read only when the index lacks it
    wanted = [b for p, b in files.items()
              if p == SETTINGS_FILE or p.startswith(f"{ACCOUNTS_DIR}/")
              or (_opportunity_path(p) and not db.enabled())]
    return Snapshot(repo.root, commit, files, read_blobs(repo.root, wanted))


# ---------------------------------------------------------------- what changed


@dataclass(frozen=True)
class _FileChange:
    commit: Commit
    path: str
    old: str | None  # blob ids; None when the file did not exist on that side
    new: str | None
    settings_before: str | None
    settings_after: str | None


def _log_raw(repo: Repo) -> list[tuple[Commit, list[tuple[str, str, str]]]]:
    """Oldest first: each first-parent commit touching the data, with its files'
    (path, old blob, new blob)."""
    out = _git(repo.root, "log", "-z", "--first-parent", "-m", "--raw", "--no-renames",
               "--no-abbrev", "--relative", "--format=%x1e%H%x1f%cI%x1f%an%x1f%s", "HEAD",
               "--", *_PATHS)
    result = []
    for chunk in out.split(b"\x1e"):
        if not chunk.strip():
            continue
        header, _, raw = chunk.partition(b"\0")
        sha, at, author, subject = (_text(header).split("\x1f", 3) + ["", "", ""])[:4]
        commit = Commit(sha.strip(), datetime.fromisoformat(at), author, subject)
        tokens = [t for t in raw.lstrip(b"\n").split(b"\0") if t]
        files = []
        for meta, path in zip(tokens[0::2], tokens[1::2], strict=False):
            fields = _text(meta).split()
            files.append((_text(path), fields[2], fields[3]))
        result.append((commit, files))
    result.reverse()
    return result


@dataclass(frozen=True)
class Skipped:
    """An invalid version of an opportunity file that ``steps`` stepped over."""

    path: str
    commit: Commit
    message: str  # what is wrong with it
    mended: bool  # True: a later commit of the window mended it; False: it came before
    record: Record | None = None  # the deal as known on the valid side, for filters

    def __post_init__(self) -> None:  # the commit is named already
        object.__setattr__(self, "message", re.sub(
            r" \(in (?:the parent of )?commit [0-9a-f]+(?: of [0-9-]+)?\)$", "", self.message))

    def words(self) -> str:
        what = (f"the invalid version of {self.path} made by commit {self.commit.sha[:10]} "
                f"of {self.commit.at.date()}")
        if self.mended:
            return f"skipped {what} ({self.message}); a later commit mended it"
        return (f"left out the change of {self.path} by commit {self.commit.sha[:10]} of "
                f"{self.commit.at.date()}: the version before it is invalid "
                f"({self.message})")

    def as_dict(self) -> dict:
        return {"path": self.path, "commit": self.commit.sha, "message": self.message,
                "mended": self.mended}


_UNKNOWN = object()  # the record before an invalid version nobody can read either


# The records before and after each change share their state (what is held over an
# invalid version, what was skipped): one loop, about 45 lines.
def steps(repo: Repo, since: date, until: date | None = None,
          skipped: list[Skipped] | None = None) -> list[Step]:
    """Every opportunity file changed by a commit dated in [since, until] (whole days),
    oldest first: its record before the commit (its first parent) and after it, each
    read with the settings of its own side.

    A version that is invalid and mended by a later commit of the window (a hand edit
    gone wrong, then reverted) is stepped over: one step goes from the version before
    it to the one after, dated by the mending commit. A change from a version that was
    invalid before the window starts is left out, as nobody can say what it moved.
    Both go to ``skipped``, for the reader to be told. An invalid version at the end of
    the window is refused (``DataError``, naming the file and the commit), as every
    report refuses a state it cannot read."""
    if until is not None and until < since:
        raise UsageError(f"--until {until} is before --since {since}")
    changed, window_settings = _changed_files(repo, since, until)
    reader = _reader_for(repo, changed, window_settings)
    last = {c.path: i for i, c in enumerate(changed)}
    held: dict[str, Any] = {}  # path -> the record before an invalid version
    gone: list[Skipped] = []
    out = []
    before: Any  # a record, None (no file) or _UNKNOWN
    for i, c in enumerate(changed):
        unknown: DataError | None = None
        if c.path in held:
            before = held.pop(c.path)
        else:
            try:
                before = reader.record(c.path, c.old, c.settings_before, c.commit, before=True)
            except DataError as exc:  # invalid since before the window
                before, unknown = _UNKNOWN, exc
        try:
            after = reader.record(c.path, c.new, c.settings_after, c.commit, before=False)
        except DataError as exc:
            if last[c.path] == i:
                # its last version: fine when only opp.yaml was wrong, and mended since
                if window_settings in (None, c.settings_after):
                    raise
                try:
                    after = reader.record(c.path, c.new, window_settings, c.commit,
                                          before=False)
                except DataError:
                    raise exc from None
            else:
                held[c.path] = before
                if before is not _UNKNOWN:
                    gone.append(Skipped(c.path, c.commit, exc.message, True, before))
                elif unknown is not None:
                    gone.append(Skipped(c.path, c.commit, unknown.message, False))
                continue
        if unknown is not None:
            gone.append(Skipped(c.path, c.commit, unknown.message, False, after))
        if before is not _UNKNOWN and (before is not None or after is not None):
            out.append(Step(c.commit, before, after))
    if skipped is not None:
        skipped.extend(gone)
    return out


def _changed_files(repo: Repo, since: date, until: date | None
                   ) -> tuple[list[_FileChange], str | None]:
    """One pass over ``git log --raw``: every opportunity file changed in the window, with
    opp.yaml's blob on each side of its commit, and opp.yaml's blob as the window leaves
    it."""
    changed: list[_FileChange] = []
    settings_blob: str | None = None
    window_settings: str | None = None
    for commit, files in _log_raw(repo):
        settings_then = settings_blob
        for path, _old, new in files:
            if path == SETTINGS_FILE:
                settings_blob = None if _is_null(new) else new
        day = commit.at.date()
        if day < since or (until is not None and day > until):
            continue
        window_settings = settings_blob  # opp.yaml as the window leaves it
        for path, old, new in files:
            if _opportunity_path(path):
                changed.append(_FileChange(commit, path, None if _is_null(old) else old,
                                           None if _is_null(new) else new,
                                           settings_then, settings_blob))
    return changed, window_settings


def _reader_for(repo: Repo, changed: list[_FileChange], window_settings: str | None
                ) -> _Reader:
    """A reader of the blobs the changes need: parsed ones from the index when it is
    on (git reads only the others)."""
    opp_blobs = {b for c in changed for b in (c.old, c.new) if b}
    settings_blobs = {b for c in changed for b in (c.settings_before, c.settings_after) if b}
    settings_blobs |= {window_settings} if window_settings else set()
    if db.enabled():
        blobs = read_blobs(repo.root, settings_blobs)
        entries = worktree.entries_for(repo, opp_blobs,
                                       lambda wanted: read_blobs(repo.root, wanted))
        return _Reader(repo.root, blobs, entries, db.for_repo(repo), account_names(repo))
    return _Reader(repo.root, read_blobs(repo.root, opp_blobs | settings_blobs),
                   names=account_names(repo))


class _Reader:
    """Records from blobs, each (file blob, settings blob) pair parsed once."""

    def __init__(self, root: Path, blobs: dict[str, bytes], entries: dict | None = None,
                 index=None, names: dict[str, str] | None = None):
        self.root = root
        self.names = names or {}  # account id -> name (today's): customers show names
        self.blobs = blobs
        self.entries = entries  # blob -> index.Entry, when the index is used
        self.index = index
        self.settings: dict[str, Settings] = {}
        self.records: dict[tuple[str, str, str], Record] = {}

    def record(self, path: str, blob: str | None, settings_blob: str | None,
               commit: Commit, *, before: bool) -> Record | None:
        if blob is None:
            return None
        where = (f"the parent of commit {commit.sha[:10]}" if before
                 else f"commit {commit.sha[:10]} of {commit.at.date()}")
        if settings_blob is None:
            raise DataError(f"{SETTINGS_FILE} is missing (in {where})", path)
        key = (path, blob, settings_blob)
        if key not in self.records and self.entries is not None:
            view = Snapshot(self.root, commit, {SETTINGS_FILE: settings_blob}, self.blobs, where)
            view.__dict__["_index"] = self.index
            if settings_blob not in self.settings:
                self.settings[settings_blob] = worktree.report_settings(view)
            plain = self.settings[settings_blob]
            try:
                self.records[key] = make_record(
                    self.entries[blob], path[len(OPPORTUNITIES_DIR) + 1:-5], path, plain)
            except DataError as exc:
                raise view.here(exc) from None
        if key not in self.records:
            view = Snapshot(self.root, commit, {SETTINGS_FILE: settings_blob, path: blob},
                            self.blobs, where)
            if settings_blob not in self.settings:
                self.settings[settings_blob] = view.settings
            view.__dict__["settings"] = self.settings[settings_blob]
            opp = view.load(path[len(OPPORTUNITIES_DIR) + 1:-5])
            self.records[key] = record(opp, self.settings[settings_blob])
        return named(self.records[key], self.names)


# ---------------------------------------------------------------- where today's files stand


def head(repo: Repo) -> Commit:
    """The commit HEAD points at: what today's files were last committed as."""
    out = _text(_git(repo.root, "log", "-1", "--format=%H%x1f%cI%x1f%an%x1f%s", "HEAD"))
    sha, at, author, subject = (out.rstrip("\n").split("\x1f", 3) + ["", "", ""])[:4]
    return Commit(sha, datetime.fromisoformat(at), author, subject)


def uncommitted(repo: Repo) -> int:
    """How many data files (settings and opportunities) differ from HEAD: edited, added
    or deleted and not committed yet, so a reader of a report knows it is not only HEAD."""
    out = _git(repo.root, "status", "--porcelain", "--untracked-files=all", "--", *_PATHS)
    return sum(1 for line in out.splitlines() if line.strip())  # a rename is one line


def before_closing(repo: Repo, opp_id: str, open_stages: set[str],
                   depth: int = 50) -> tuple[str, date | None] | None:
    """The last open stage the opportunity had and its expected close date then, read
    from its file's recent history (newest first; at most ``depth`` commits, three git
    processes at most); None when none is found. ``opp reopen`` returns a deal there
    rather than to a guessed stage and an empty close date."""

    path = f"{OPPORTUNITIES_DIR}/{opp_id}.yaml"
    shas = git(repo.root, "log", "-n", str(depth), "--format=%H", "--", path,
               check=False).stdout.split()
    blobs = store_read_blobs(repo.root, [f"{sha}:./{path}" for sha in shas])
    for sha in shas:
        data = blobs.get(f"{sha}:./{path}")
        if not data:
            continue
        try:
            loaded, _ = yamlio.load(data, path)
        except DataError:
            continue
        if loaded.get("stage") in open_stages:
            expected = loaded.get("close_date")
            return loaded["stage"], expected if type(expected) is date else None
    return None
