"""What ``opp sync`` is doing, on disk (``.git/opp-merge``), and the repair of a sync
that died halfway.

``opp sync`` writes the marker when it starts (``syncing``), rewrites it with the two
heads and their base just before ``git merge`` (``merging``), and turns it into
``stopped`` only when that merge stopped on conflicts that git holds as unmerged paths.
The marker is removed when the sync ends. So:

- ``stopped`` with ``MERGE_HEAD`` naming its ``theirs`` and HEAD its ``ours``: a merge
  opp itself left for ``opp resolve``; the one merge ``opp sync`` may conclude, once
  every conflict is settled;
- ``syncing`` or ``merging``: the opp that wrote it died (SIGKILL, a full disk, a
  power cut). The next opp that takes the repo lock (every change, every sync) repairs
  it before anything else: holding the lock proves that the dead opp and every git
  it started are gone (``git.for_git``). The repair removes the lock files its gits
  left (made after the marker and held open by no process), git's ``.merge_file_*``
  temporary files, and, when the merge was not committed, takes it back: every path
  the merge could touch gets HEAD's version in the index and the work tree again, and
  git's merge state goes. Nothing committed is touched; the next sync merges anew;
- ``MERGE_HEAD`` without a marker (a merge of git's own, killed or failed): ``opp
  sync`` never commits it, and says how to recover (``sync.py``).
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..errors import OppError, RepoError, UsageError
from .files import PATHSPEC_STDIN, atomic_write, pathspec
from .git import INDEX_LOCK_HELP, git, git_raw
from .journal import held_open

MARKER = "opp-merge"
SYNCING, MERGING, STOPPED = "syncing", "merging", "stopped"
CONFLICTS_DIR = "opp-conflicts"  # sync.py's conflict records
PREMERGE_DIR = "opp-premerge"  # premerge.py's merges made ahead of git's, for one merge
MERGE_FILES = ("MERGE_HEAD", "MERGE_MSG", "MERGE_MODE", "AUTO_MERGE", "ORIG_HEAD.lock")


@dataclass
class Marker:
    state: str
    pid: int
    ours: str = ""
    theirs: str = ""
    base: str = ""
    since: int = 0  # when the sync began, on the file system's clock (ns)


def read(git_dir: Path) -> Marker | None:
    path = git_dir / MARKER
    try:
        data = json.loads(path.read_bytes()[:65536])
        since = os.stat(path).st_mtime_ns if data.get("state") == SYNCING else data["since"]
        return Marker(str(data["state"]), int(data["pid"]), str(data.get("ours", "")),
                      str(data.get("theirs", "")), str(data.get("base", "")), int(since))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return Marker(SYNCING, 0, since=0)  # unreadable: repair as a dead sync


def write(git_dir: Path, marker: Marker) -> Marker:
    """Write the marker whole (fsynced); a ``syncing`` one takes its time from the file."""
    atomic_write(git_dir / MARKER, json.dumps(asdict(marker)).encode())
    if marker.state == SYNCING:
        marker.since = os.stat(git_dir / MARKER).st_mtime_ns
        atomic_write(git_dir / MARKER, json.dumps(asdict(marker)).encode())
    return marker


def begin(git_dir: Path) -> Marker:
    return write(git_dir, Marker(SYNCING, os.getpid()))


def clear(git_dir: Path) -> None:
    """The sync is over (or repaired): its marker goes, and the merges made for it."""
    (git_dir / MARKER).unlink(missing_ok=True)
    clear_premerge(git_dir)


def clear_premerge(git_dir: Path) -> None:
    """The merges made ahead of git's (premerge.py) go: they serve one git merge."""
    if (git_dir / PREMERGE_DIR).exists():
        import shutil  # only after a sync: a change does without (#25)

        shutil.rmtree(git_dir / PREMERGE_DIR, ignore_errors=True)


def merge_head(git_dir: Path) -> str | None:
    try:
        return (git_dir / "MERGE_HEAD").read_text(encoding="ascii", errors="replace"
                                                  ).split()[0]
    except (OSError, IndexError):
        return None


def waiting(git_dir: Path) -> str | None:
    """What to do with a merge whose conflicts are all settled but not committed (an opp
    resolve killed before its commit, say), in words; None when no merge waits."""
    theirs = merge_head(git_dir)
    if theirs is None:
        return None
    marker = read(git_dir)
    if marker is not None and marker.state == STOPPED and marker.theirs == theirs:
        return "a merge waits to be committed: run opp sync (it commits the merge and pushes it)"
    return "a merge waits to be committed: git commit, then opp sync"


def refuse_index_lock(git_dir: Path) -> None:
    """A ``.git/index.lock`` opp cannot prove its own: never worked around."""
    if os.path.lexists(git_dir / "index.lock"):
        raise RepoError(INDEX_LOCK_HELP)


def _leftover_locks(git_dir: Path) -> list[Path]:
    """Lock files a killed git of a sync may leave: the index, HEAD, refs (the branch,
    the remote-tracking refs a fetch updates), packed-refs."""
    found = [git_dir / "index.lock", git_dir / "HEAD.lock", git_dir / "packed-refs.lock",
             git_dir / "ORIG_HEAD.lock", git_dir / "MERGE_HEAD.lock"]
    refs = git_dir / "refs"
    for folder, _, names in os.walk(refs):
        found += [Path(folder) / n for n in names if n.endswith(".lock")]
    return found


def _remove_leftovers(git_dir: Path, top: Path, since: int) -> None:
    # git's temporary copies for the driver, and the driver's own half-written result
    litter = [*top.glob(".merge_file_*"), *top.glob("..merge_file_*.tmp")]
    for lock in [*_leftover_locks(git_dir), *litter]:
        try:
            st = os.lstat(lock)
        except OSError:
            continue
        if stat.S_ISREG(st.st_mode) and st.st_mtime_ns >= since and not held_open(lock):
            try:
                lock.unlink()
            except OSError:
                pass


def _paths(top: Path, ours: str, theirs: str) -> list[str]:
    """Every path the merge of ``theirs`` into ``ours`` could have touched."""
    base = git(top, "merge-base", ours, theirs, check=False).stdout.strip() or ours
    names: set[str] = set()
    for a, b in ((base, theirs), (ours, theirs)):
        out = git_raw(top, "diff", "--name-only", "--no-renames", "-z", a, b)
        names |= {p for p in out.decode("utf-8", "surrogateescape").split("\0") if p}
    return sorted(names)


def take_back(git_dir: Path, top: Path, ours: str, theirs: str) -> None:
    """Undo a merge that was not committed: the paths it could touch get ``ours``'s
    version in the index and the work tree; git's merge state goes."""
    paths = _paths(top, ours, theirs) if theirs else []
    if paths:
        spec = pathspec(paths).encode("utf-8", "surrogateescape")
        git_raw(top, "reset", "-q", ours, *PATHSPEC_STDIN, input=spec)
        present = set(git_raw(top, "ls-tree", "-r", "-z", "--name-only", ours
                              ).decode("utf-8", "surrogateescape").split("\0"))
        kept = [p for p in paths if p in present]
        if kept:
            git_raw(top, "checkout", "-q", ours, *PATHSPEC_STDIN,
                    input=pathspec(kept).encode("utf-8", "surrogateescape"))
        for p in paths:
            if p not in present:
                target = top / p
                if os.path.lexists(target) and not os.path.isdir(target):
                    target.unlink()
    for name in MERGE_FILES:
        (git_dir / name).unlink(missing_ok=True)


def _parents(top: Path, commit: str) -> list[str]:
    if not commit:
        return []
    return git(top, "rev-list", "--parents", "-n", "1", commit, check=False).stdout.split()[1:]


def recover(git_dir: Path, root: Path) -> str | None:
    """Repair a sync that died (see the module doc); called with the repo lock held.
    Returns what was done, in words, or None."""
    marker = read(git_dir)
    if marker is None:
        return None
    head_merge = merge_head(git_dir)
    if marker.state == STOPPED:
        if head_merge is None:
            clear(git_dir)  # settled or given up with git meanwhile
        return None
    top = Path(git(root, "rev-parse", "--show-toplevel", check=False).stdout.strip() or root)
    _remove_leftovers(git_dir, top, marker.since)
    refuse_index_lock(git_dir)  # still held by a live git: not ours to remove
    said = None
    head = git(top, "rev-parse", "-q", "--verify", "HEAD", check=False).stdout.strip()
    if marker.state == MERGING and marker.ours and head == marker.ours:
        take_back(git_dir, top, marker.ours, marker.theirs)
        said = "a sync killed in the middle of its merge was taken back; merging anew"
    elif marker.state == MERGING and marker.ours and head_merge == marker.theirs and \
            _parents(top, head) == [marker.ours, marker.theirs]:
        # git committed the merge and was killed before it removed MERGE_HEAD: the
        # merge is whole (its index and files are the commit's); only git's state goes
        for name in MERGE_FILES:
            (git_dir / name).unlink(missing_ok=True)
        said = "a sync killed just after committing its merge: the merge is kept"
    if head == marker.ours:
        import shutil  # only to repair a killed sync: a change does without (#25)

        shutil.rmtree(git_dir / CONFLICTS_DIR, ignore_errors=True)
    clear(git_dir)
    return said


def typed_choices(stored: list, kind: str, settings: Any,
                  parse: Callable[[str, tuple, str, Any], Any], but: list | None = None
                  ) -> list[tuple]:
    """The choices a conflict record keeps, typed again: JSON holds a value chosen with
    --value as plain text (2750.50, an ISO date, a stage id), which the field's parser
    reads as it read the words given; a choice on the field ``but`` is dropped (it is
    being chosen anew)."""
    out = []
    for path, how, value, *_ in stored:
        if but is not None and list(path) == list(but):
            continue
        if how == "value" and value is not None:
            try:
                value = parse(kind, tuple(path), str(value), settings)
            except OppError as exc:
                raise UsageError(f"the value chosen before for {path[-1]} ({value}) no longer "
                                 f"reads: {exc.message}; choose it again with --value") from None
        out.append((path, how, value))
    return out
