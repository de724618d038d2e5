"""The journal of the change in progress: every change is all or nothing, even when opp
is killed halfway through it (``kill -9``, the out-of-memory killer, a closed laptop).

``store.Transaction.commit`` calls three hooks:

- ``begin(repo, previous, message)`` before its first file write. It writes
  ``.git/opp-journal`` whole (a temporary file, fsynced, renamed into place): the
  commit HEAD is at, the commit message the change is about to make, the bytes every
  file of the change had before (or that it did not exist), and who writes it (pid,
  the process's start time and the boot id, so a reused pid is never mistaken for it);
- ``end(repo)`` after the commit: removes it;
- ``rollback(repo, exc)`` when the change fails in this very process: the same repair
  as below, at once.

``recover(repo)`` runs whenever opp takes the repo lock (so before every change), and a
read that finds a journal takes the lock first to run it (``settle(repo)``), so nobody
reads a half-made change. Holding the lock proves that the writer of the journal is
gone, and with it every git it started: git runs with the lock's descriptor inherited
(``for_git``), and the kernel keeps an ``flock`` until the last process holding it
exits. opp's own lock needs no repair: the kernel frees it when its holders die.
Recovery then looks at HEAD:

- still the journal's commit: the change never committed. Every journaled file gets
  its previous bytes back (a file the change created is deleted) and its index entry
  is reset to HEAD;
- moved to a commit whose parent is the journal's commit and whose message is the
  change's: the change is in; nothing to undo;
- moved otherwise: someone took over with git since; the files are left as they are.

Either way the leftovers of the killed process go with the journal: its temporary
files, and git's own lock files (``index.lock``, the branch's ref lock…) that a git it
started left behind: only those made after the journal began and that no process
holds open, since a live git of the user's may be holding one.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import time
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from ..errors import RepoError
from .files import PATHSPEC_STDIN, atomic_write, check_relpath, git_text, pathspec, prune_empty
from .git import CHILD_ENV, git

if TYPE_CHECKING:
    from .repo import Repo

JOURNAL = "opp-journal"


MAGIC = b"opp-journal 1\n"


class Entry:
    """A journal as read back: who wrote it, from which commit, and the files before."""

    def __init__(self, header: dict, body: bytes, written: int = 0):
        self.written = written  # the journal file's time (ns), on the file system's clock
        self.pid: int = header["pid"]
        self.start: str | None = header.get("start")
        self.boot: str | None = header.get("boot")
        self.time: float = header["time"]
        self.head: str | None = header["head"]
        self.message: str = header["message"]
        self.files: list[tuple[str, bytes | None]] = []
        pos = 0
        for relpath, size in header["files"]:
            if size is None:
                self.files.append((relpath, None))
            else:
                self.files.append((relpath, body[pos:pos + size]))
                pos += size


def _start_time(pid: int) -> str | None:
    """The start time of process ``pid`` (clock ticks since boot), None when there is no
    such process or no /proc to ask."""
    try:
        data = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return None
    fields = data[data.rindex(b")") + 2:].split()
    return fields[19].decode() if len(fields) > 19 else None


def _boot_id() -> str | None:
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_bytes()
        return boot.decode("ascii", "replace").strip() or None
    except OSError:
        return None


def identity() -> dict[str, Any]:
    """This process, as the journal records it."""
    return {"pid": os.getpid(), "start": _start_time(os.getpid()), "boot": _boot_id()}


def alive(entry: Entry) -> bool:
    """Whether the process that wrote ``entry`` still runs (this one excepted: a journal
    it left is one it failed to repair, and it holds the lock now)."""
    if entry.pid == os.getpid() and entry.start == _start_time(entry.pid):
        return False
    boot = _boot_id()
    if entry.boot and boot and entry.boot != boot:
        return False  # written before a reboot
    if os.path.isdir("/proc/self"):
        start = _start_time(entry.pid)
        return start is not None and start == entry.start
    try:  # no /proc: a pid that exists counts as alive
        os.kill(entry.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _path(repo: Repo) -> Path:
    return repo.git_dir / JOURNAL


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def head(repo: Repo) -> str | None:
    """The commit HEAD is at; None on a branch without commits yet. Read from the ref's
    own file when it has one (a loose ref wins over packed ones in git too), else asked
    of git (packed refs, other ref stores)."""

    git_dir = repo.git_dir
    try:
        text = git_text(git_dir / "HEAD")
    except OSError:
        text = ""
    if text.startswith("ref: refs/") and ".." not in text:
        for base in (git_dir, _common_dir(git_dir)):
            try:
                value = git_text(base / text[5:])
            except OSError:
                continue
            if len(value) in (40, 64) and all(c in "0123456789abcdef" for c in value):
                return value
    out = git(repo.root, "rev-parse", "-q", "--verify", "HEAD^{commit}", check=False)
    return out.stdout.strip() or None if out.returncode == 0 else None


def _common_dir(git_dir: Path) -> Path:
    """The folder of the refs and objects a linked worktree shares with its repo."""
    try:
        return (git_dir / git_text(git_dir / "commondir")).resolve()
    except OSError:
        return git_dir


def begin(repo: Repo, previous: dict[str, bytes | None], message: str) -> None:
    """Journal a change before its first write: the files as they were, HEAD, the
    commit message to come. Nothing is written to the work tree when this fails."""
    files = list(previous.items())
    body = b"".join(data for _, data in files if data is not None)
    header = {**identity(), "time": time.time(), "head": head(repo), "message": message,
              "files": [[p, None if d is None else len(d)] for p, d in files],
              "sha256": hashlib.sha256(body).hexdigest()}
    path = _path(repo)
    tmp = path.with_name(JOURNAL + ".tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(MAGIC + json.dumps(header, ensure_ascii=False).encode("utf-8") + b"\n")
            fh.write(body)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
        raise RepoError(f"cannot write the journal of the change (.git/{JOURNAL}): "
                        f"{exc.strerror or exc}; nothing was changed") from None
    _fsync_dir(path.parent)


def end(repo: Repo) -> None:
    """The change is committed: its journal goes."""
    try:
        _path(repo).unlink(missing_ok=True)
    except OSError:
        pass  # the next change finds the commit made and removes it


def read(repo: Repo) -> Entry | None:
    """The journal left in ``repo``, or None; ``RepoError`` when it is damaged."""
    try:
        data = _path(repo).read_bytes()
        written = os.stat(_path(repo)).st_mtime_ns
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise RepoError(f"cannot read .git/{JOURNAL}: {exc.strerror}") from None
    try:
        if not data.startswith(MAGIC):
            raise ValueError("not an opp journal")
        end_of_header = data.index(b"\n", len(MAGIC))
        header = json.loads(data[len(MAGIC):end_of_header])
        body = data[end_of_header + 1:]
        if hashlib.sha256(body).hexdigest() != header["sha256"]:
            raise ValueError("its checksum does not match")
        entry = Entry(header, body, written)
        for relpath, _ in entry.files:
            check_relpath(relpath)
    except (ValueError, KeyError, TypeError, RepoError) as exc:
        raise RepoError(f".git/{JOURNAL} (the record of an interrupted change) is damaged "
                        f"({exc}); check the files with git status and git diff, then "
                        f"remove it: rm .git/{JOURNAL}") from None
    return entry


def settle(repo: Repo) -> None:
    """Before reading: a journal means a change is under way or was interrupted; wait
    for the lock (which repairs an interrupted one), unless this process runs inside
    that change (a git hook of it)."""
    if os.environ.get(CHILD_ENV):
        return
    git_dir = _find_git_dir(repo.root)
    if git_dir is not None and not (git_dir / JOURNAL).exists():
        return
    if git_dir is None and not _path(repo).exists():
        return
    with repo.lock():
        pass


def _find_git_dir(root: Path) -> Path | None:
    """The git folder of the work tree holding ``root``, found without running git."""
    for folder in (root, *root.parents):
        dot_git = folder / ".git"
        if dot_git.is_dir():
            return dot_git
        if dot_git.is_file():
            try:
                text = git_text(dot_git)
                return (folder / text.split(":", 1)[1].strip()).resolve()
            except (OSError, IndexError):
                return None
    return None


def rollback(repo: Repo, exc: BaseException) -> BaseException:
    """After ``exc`` broke a change in this process: undo its writes now, and return the
    error to raise (``exc`` itself, or a ``RepoError`` saying what failed when it was
    the file system's refusal). When the undo cannot finish either, the journal stays
    and the next opp command finishes it."""
    problem = None
    try:
        recover(repo, own=True)
    except Exception as failure:  # keep the first error; the journal stays for later
        problem = getattr(failure, "message", None) or str(failure)
    if isinstance(exc, OSError):
        where = _relative(repo.root, exc.filename) if exc.filename else "the data repo"
        message = f"cannot write {where}: {exc.strerror or exc}"
        if problem is None:
            return RepoError(f"{message}; nothing was changed")
        return RepoError(f"{message}; opp could not undo its partial writes yet "
                         f"({problem}); the next opp command will")
    if problem is not None and isinstance(exc, RepoError):
        return RepoError(f"{exc.message}; opp could not undo its partial writes yet "
                         f"({problem}); the next opp command will")
    return exc


def _relative(root: Path, filename: Any) -> str:
    path = Path(os.fsdecode(filename))
    try:
        rel = path.relative_to(root)
    except ValueError:
        return str(path)
    name = rel.name
    if name.startswith(".") and name.endswith(".tmp"):  # the temporary file of a write
        name = name[1:].rsplit(".", 2)[0]
    return (rel.parent / name).as_posix()


def recover(repo: Repo, own: bool = False) -> str | None:
    """Finish the story of a journal left in ``repo``; call it holding the repo lock.

    Returns what happened: None (no journal), "rolled back", "committed" or "moved".
    ``own``: the journal is this process's, whose change just failed.
    """
    path = _path(repo)
    entry = read(repo)
    if entry is None:
        try:
            path.with_name(JOURNAL + ".tmp").unlink(missing_ok=True)  # begun, never used
        except OSError:
            pass
        return None
    if not own and alive(entry):
        raise RepoError(f"opp (process {entry.pid}) is in the middle of a change here, yet "
                        "the repo lock is free (was .git/opp.lock removed?); let it finish, "
                        "then try again")
    _remove_leftovers(repo, entry)
    now = head(repo)
    if now == entry.head:
        _restore(repo, entry)
        outcome = "rolled back"
    elif now is not None and _is_the_change(repo.root, now, entry):
        outcome = "committed"
    else:
        outcome = "moved"
    try:
        path.unlink(missing_ok=True)
    except OSError as exc:
        raise RepoError(f"cannot remove .git/{JOURNAL}: {exc.strerror}") from None
    _fsync_dir(path.parent)
    return outcome


def _is_the_change(root: Path, commit: str, entry: Entry) -> bool:
    """Whether ``commit`` is the one the journaled change made."""

    out = git(root, "log", "-1", "--format=%P%x00%B", commit, check=False)
    if out.returncode != 0:
        return False
    parents, _, message = out.stdout.partition("\0")
    first = parents.split()[0] if parents.split() else None
    return first == entry.head and message.strip() == entry.message.strip()


def _restore(repo: Repo, entry: Entry) -> None:
    """Every journaled file back to its bytes before the change, its index entry too."""

    root = repo.root
    for relpath, before in entry.files:
        target = root / relpath
        if before is None:
            if os.path.lexists(target) and not target.is_dir():
                target.unlink()
                prune_empty(root, target.parent)
        elif _regular_bytes(target) != before:
            atomic_write(target, before)
    relpaths = [relpath for relpath, _ in entry.files]
    staged = git(root, "diff", "--cached", "--name-only", "--no-renames", "--relative", "-z",
                 check=False)
    if staged.returncode == 0 and not set(staged.stdout.split("\0")) & set(relpaths):
        return  # the index was never touched: leave it (no write, even on a full disk)
    paths = pathspec(relpaths)
    if entry.head:
        git(root, "reset", "-q", *PATHSPEC_STDIN, input=paths)
    else:
        git(root, "rm", "-q", "--cached", "--ignore-unmatch", *PATHSPEC_STDIN, input=paths)


def _regular_bytes(path: Path) -> bytes | None:
    try:
        st = os.lstat(path)
        if not stat.S_ISREG(st.st_mode):
            return None
        return path.read_bytes()
    except OSError:
        return None


def _remove_leftovers(repo: Repo, entry: Entry) -> None:
    """The temporary files of the process that wrote ``entry`` and the lock files its
    gits left behind."""
    for relpath, _ in entry.files:
        target = repo.root / relpath
        tmp = target.with_name(f".{target.name}.{entry.pid}.tmp")
        try:
            if stat.S_ISREG(os.lstat(tmp).st_mode):
                tmp.unlink()
        except OSError:
            pass
    try:
        (repo.git_dir / f"opp-marks.{entry.pid}").unlink(missing_ok=True)
    except OSError:
        pass
    for lock in _git_locks(repo.git_dir):
        try:
            st = os.lstat(lock)
        except OSError:
            continue
        # made after the journal (same clock: the file system's), so by a git of the
        # change, and held by no live process
        if (stat.S_ISREG(st.st_mode) and st.st_mtime_ns >= entry.written
                and not held_open(lock)):
            try:
                lock.unlink()
            except OSError:
                pass


def _git_locks(git_dir: Path) -> list[Path]:
    """The lock files a git killed in the middle of a commit may leave."""
    common = _common_dir(git_dir)
    locks = [git_dir / "index.lock", git_dir / "HEAD.lock", common / "packed-refs.lock",
             *git_dir.glob("next-index-*.lock")]
    try:
        text = git_text(git_dir / "HEAD")
    except OSError:
        text = ""
    if text.startswith("ref: refs/"):
        ref = PurePosixPath(text[5:])
        if ".." not in ref.parts:
            locks.append(common / f"{ref}.lock")
    return locks


def held_open(path: Path) -> bool:
    """Whether any process has ``path`` open (a live git writing it); False when /proc
    cannot tell."""
    target = os.path.realpath(path)
    try:
        pids = [p for p in os.listdir("/proc") if p.isdigit()]
    except OSError:
        return False
    for pid in pids:
        folder = f"/proc/{pid}/fd"
        try:
            fds = os.listdir(folder)
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"{folder}/{fd}") == target:
                    return True
            except OSError:
                continue
    return False


_OPERATIONS = (
    ("rebase-merge", "a git rebase is in progress",
     "finish it (git rebase --continue) or give it up (git rebase --abort)"),
    ("rebase-apply/applying", "a git am is in progress",
     "finish it (git am --continue) or give it up (git am --abort)"),
    ("rebase-apply", "a git rebase is in progress",
     "finish it (git rebase --continue) or give it up (git rebase --abort)"),
    ("CHERRY_PICK_HEAD", "a git cherry-pick is in progress",
     "finish it (git cherry-pick --continue) or give it up (git cherry-pick --abort)"),
    ("REVERT_HEAD", "a git revert is in progress",
     "finish it (git revert --continue) or give it up (git revert --abort)"),
    ("sequencer", "a git cherry-pick or revert is in progress",
     "finish it (git cherry-pick --continue) or give it up (git cherry-pick --abort)"),
    ("BISECT_LOG", "a git bisect is in progress", "end it first: git bisect reset"),
)


def refuse_git_operation(git_dir: Path) -> None:
    """No opp change in the middle of a git operation (its commit would land inside a
    rebase, a cherry-pick…) nor on a detached HEAD, where a commit belongs to no branch
    and is easily lost. (A merge is ``store.refuse_during_merge``'s.)"""
    for name, what, how in _OPERATIONS:
        if os.path.lexists(git_dir / name):
            raise RepoError(f"{what} in this repo; {how}, then run opp again")
    try:
        text = git_text(git_dir / "HEAD")
    except OSError:
        return
    if not text.startswith("ref:"):
        raise RepoError(f"HEAD is detached (at {text[:8]}): a change would be a commit on no "
                        "branch, easily lost; switch to a branch first (git switch BRANCH; "
                        "git switch -c NEW-BRANCH keeps what HEAD points at)")
