"""Reports replayed: the bytes a report printed, kept under a key of everything it
depends on, and printed again while none of that has changed (#25).

A report run by a script or a CI job (stdout not a terminal) is keyed by its command
line, the environment that shapes it (``OPP_*``, ``GIT_*``, locale, time zone, today's
date), opp's own code, git's HEAD and configuration, and the stat data (size, times,
inode, mode) of every file of the data repo outside ``.git`` and ``documents/``. The
key is taken BEFORE the report reads anything, so a file written while it runs makes
the key stale, never the answer wrong. As with the index, stat data younger than
``RACY_SECONDS`` is not trusted: such a run is not kept, because a second write within
the file system's clock tick could leave the same stat data behind. A symbolic link, an
unfinished change (opp's journal) or a data repo below the top of its git work tree
turns the replay off for that run: the careful path handles them.

Replaying needs none of opp's other modules: ``opp pipeline --format json`` of an
unchanged repo costs a Python start, one ``stat`` per file and one read. The answer is
always the one the full run gives; ``tests/read/test_outputs.py`` checks it after each
kind of change. ``OPP_NO_INDEX`` turns this cache off with the index.
"""

from __future__ import annotations

import hashlib
import io
import marshal
import os
import stat as stat_module
import sys
import time
from datetime import date
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from .index import stats

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

COMMANDS = frozenset({"pipeline", "forecast", "list", "changes", "agenda", "insights", "backtest",
                      "attainment"})
RACY_SECONDS = 3  # as the index: stat data younger than this is not trusted
KEPT = 64  # entries kept per repo; the least recently used go first
LARGEST = 128 << 20  # bytes of output kept at most (stdout and stderr each)
KEPT_BYTES = 256 << 20  # bytes kept in all (the least recently used go first)
CHUNK = 1 << 20  # a replay copies this many bytes at a time
_NO_SIZE = b"0" * 20 + b"\n"  # room for the size of stdout's part, written at the end
FOLDER = "opp-outputs"
SKIPPED = frozenset({".git", "documents"})
_ENV_NAMES = frozenset({"LANG", "LANGUAGE", "TZ", "HOME", "USER", "LOGNAME", "EMAIL",
                        "COLUMNS", "LINES", "NO_COLOR", "CLICOLOR", "CLICOLOR_FORCE", "TERM",
                        "PAGER", "XDG_CONFIG_HOME"})
_FORMAT = b"opp-outputs 1\n"
# the folders whose stat data the walk lends the report: the deals', and the accounts'
# (the signature of the directory of accounts, read_directory in read/index/accounts.py)
DEALS = "opportunities/"
SHARED = (DEALS, "accounts/")

# folder path -> {name: (folder, name, mode, size, mtime, ctime, inode)} of each entry
# of the opportunities folder, as the key's walk saw it (before the report reads
# anything); ``taken`` hands it to the report once, which then need not stat each file
# a second time. The tuples are the ones the key hashes (not ``os.stat_result``s, which
# take twice the memory: 64 MB at 100,000 files)
_seen: dict[str, dict[str, tuple]] = {}
_ordered: dict[str, Ordered] = {}  # folder path -> what the key's walk found, in order


class Key(NamedTuple):
    folder: Path  # where the repo's entries live
    digest: str
    trusted: bool  # False: some stat data is too recent to trust; the run is not kept


class Unsure(Exception):
    """This run cannot be keyed safely; it runs (and is kept) the usual way."""


def command_of(argv: list[str]) -> tuple[str | None, str | None]:
    """(the subcommand, the ``--repo`` value) of a command line; (None, None) when it
    asks for help, or when its global options are beyond this simple reading."""
    repo: str | None = None
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg in ("-q", "--quiet"):
            i += 1
        elif arg == "--repo" and i + 1 < len(argv):
            repo, i = argv[i + 1], i + 2
        elif arg.startswith("--repo="):
            repo, i = arg[len("--repo="):], i + 1
        elif arg.startswith("-"):
            return None, None
        else:
            if "--help" in argv or "-h" in argv:
                return None, None
            return arg, repo
    return None, None


def _root(repo_arg: str | None) -> Path:
    given = repo_arg or os.environ.get("OPP_REPO", "").strip()
    if given:
        root = Path(given).expanduser().resolve()
        if not _holds_settings(root):
            raise Unsure
        return root
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if _holds_settings(folder):
            return folder
    raise Unsure


def _holds_settings(folder: Path) -> bool:
    """Whether ``folder`` has an ``opp.yaml``; one that is no regular file (a link) is
    left to the careful path, which refuses it, naming it."""
    try:
        mode = os.lstat(folder / "opp.yaml").st_mode
    except OSError:
        return False
    if not stat_module.S_ISREG(mode):
        raise Unsure
    return True


class Ordered:
    """The deals' folder as a key taken in the kept records' order saw it: the kept
    files after the parent's share (``rest``), their stat data (``taken``, of
    ``stats.in_order``), the names the folder listed, and the walk's entries of those
    neither kept nor shared (new files, a stray one…)."""

    def __init__(self, rest: Sequence[str]):
        self.rest = rest
        self.taken = stats.InOrder(b"", [], 0)
        self.listed: list[str] = []
        self.others: list[tuple] = []


def _walk(folder: str, rel: str, out: list[tuple], newest: list[int],
          seen: dict[str, dict[str, tuple]] | None = None,
          ordered: Ordered | None = None, only: list[str] | None = None) -> None:
    """Every file below ``folder`` as (folder, name, mode, size, mtime, ctime, inode),
    ``folder`` relative, in the order the folders list them; ``newest`` receives the
    latest time seen. A link stops it (``Unsure``). ``seen[F]`` receives the stat data
    of each entry of each folder F of ``SHARED`` in that form (a folder's as mode alone:
    the report only needs to know it is no file). The tuple shares the folder's and the
    name's strings: memory. ``ordered``: the deals' folder is only listed, and its kept
    files after the share taken in their order, into it (``key_of`` walks the others
    then). ``only``: these names of ``folder`` rather than all it lists."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        # in the folder's own order, not sorted (30 ms at 100,000 names): an unchanged
        # folder lists the same order again, and a folder that lists another order can
        # only make the key miss, never match another state
        names = os.listdir(fd) if only is None else only
        if not rel:
            names = [name for name in names if name not in SKIPPED]
        elif ordered is not None and rel == DEALS:
            ordered.listed = names
            try:
                ordered.taken = stats.in_order(fd, ordered.rest)
            except stats.NoFile:
                raise Unsure from None  # a link, a folder where a deal was: not keyed
            newest[0] = max(newest[0], ordered.taken.newest)
            return
        # per file, at 100,000 files: the type by a mask and the newest time by two
        # comparisons (no calls), the lent entries kept by a dict made in C afterwards
        stat, append, is_dir, kind, regular = os.stat, out.append, stat_module.S_ISDIR, \
            stat_module.S_IFMT(0o177777), stat_module.S_IFREG  # the mask of the type bits
        top = newest[0]
        lend = None
        if rel in SHARED and seen is not None:
            lend = seen[rel] = {}
        first = len(out)
        for name in names:
            info = stat(name, dir_fd=fd, follow_symlinks=False)
            mode = info.st_mode
            if mode & kind == regular:
                mtime, ctime = info.st_mtime_ns, info.st_ctime_ns
                append((rel, name, mode, info.st_size, mtime, ctime, info.st_ino))
                if mtime > top:
                    top = mtime
                if ctime > top:
                    top = ctime
            elif is_dir(mode):
                if lend is not None:
                    _lend(lend, out[first:])
                    lend[name] = (rel, name, mode, 0, 0, 0, 0)
                newest[0] = top
                _walk(os.path.join(folder, name), f"{rel}{name}/", out, newest, seen, ordered)
                top = newest[0]
                first = len(out)
            else:
                raise Unsure  # a link (its target is not in its stat data), a FIFO…
        if lend is not None:
            _lend(lend, out[first:])
        newest[0] = top
    finally:
        os.close(fd)


def _lend(lend: dict[str, tuple], entries: list[tuple]) -> None:
    """The walk's entries of files lent by name, the dict built in C (no Python loop)."""
    lend.update(zip(map(itemgetter(1), entries), entries, strict=True))


def _git_state(git_dir: Path) -> list[str]:
    """HEAD as it resolves, the stat data of the configuration opp reads, and that of
    what changes the history git shows of HEAD (a shallow boundary, grafts, replace
    refs: reports of the history, and the agenda's last touches, depend on it)."""
    if (git_dir / "opp-journal").exists():
        raise Unsure  # a change is under way or was interrupted: Repo.find settles it
    head = (git_dir / "HEAD").read_text(errors="replace").strip()
    parts = [head]
    if head.startswith("ref: "):
        ref = git_dir / head[5:]
        parts.append(ref.read_text(errors="replace").strip() if ref.is_file() else "-")
    home = Path(os.environ.get("HOME", "~")).expanduser()
    xdg = Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config")
    for path in (git_dir / "packed-refs", git_dir / "config", git_dir / "MERGE_HEAD",
                 home / ".gitconfig", xdg / "git" / "config", git_dir / "shallow",
                 git_dir / "info" / "grafts", git_dir / "refs" / "replace",
                 git_dir / "reftable"):
        try:
            info = os.stat(path)
            parts.append(f"{path}:{info.st_size}:{info.st_mtime_ns}:{info.st_ctime_ns}")
        except OSError:
            parts.append(f"{path}:-")
    return parts


def _code() -> list[str]:
    """opp's own code: a changed module makes every kept output stale."""
    here = Path(__file__).resolve().parents[1]
    out = []
    for folder, _dirs, files in sorted(os.walk(here)):
        for name in sorted(files):
            if name.endswith(".py"):
                info = os.stat(os.path.join(folder, name))
                out.append(f"{folder}/{name}:{info.st_size}:{info.st_mtime_ns}")
    return out


def wanted(argv: list[str]) -> bool:
    """Whether this command line is a report this cache serves."""
    if os.environ.get("OPP_NO_INDEX", "") not in ("", "0") or os.isatty(1):
        return False
    return command_of(argv)[0] in COMMANDS


def root_of(argv: list[str]) -> str:
    """The data repo of this command line; ``Unsure`` when it cannot be keyed."""
    root = _root(command_of(argv)[1])
    if not (root / ".git").is_dir():
        raise Unsure
    return str(root)


def key_of(argv: list[str], share: Sequence[str] = (),
           shared: Callable[[], tuple[bytes, int, int]] | None = None,
           rest: Sequence[str] = ()) -> Key | None:
    """The key of this command line, or None when it is not a report this cache serves
    or cannot be keyed safely. ``share``: the first kept files of the deals' folder,
    whose stat data another process takes meanwhile (``read/ahead.py``); ``shared``
    gives their digest, newest time and how many are there (``shared_of``), which by
    default this process takes itself; ``rest``: the kept files after them, whose stat
    data this process takes in their order (``stats.in_order``: what it found is
    ``taken_in_order()``'s), the deals' folder only listed."""
    if not wanted(argv):
        return None
    try:
        root = Path(root_of(argv))
        git_dir = root / ".git"
        files: list[tuple] = []
        newest = [0]
        seen: dict[str, dict[str, tuple]] = {}
        ordered = Ordered(rest) if share else None
        _walk(str(root), "", files, newest, seen, ordered)
        today = os.environ.get("OPP_TODAY", "").strip() or date.today().isoformat()
        env = sorted(f"{k}={v}" for k, v in os.environ.items()
                     if k.startswith(("OPP_", "GIT_", "LC_")) or k in _ENV_NAMES)
        parts = [_FORMAT.decode(), repr(argv), str(root), os.getcwd(), today,
                 str(os.isatty(2)), *env, *_git_state(git_dir), *_code()]
        digest = hashlib.sha256("\n".join(parts).encode("utf-8", "surrogateescape"))
        if ordered is not None:
            shared_digest, top, there = shared() if shared is not None else \
                shared_of(share, share_in_order(str(root), share))
            newest[0] = max(newest[0], top)
            _others(str(root), ordered, share, there, newest)
            digest.update(shared_digest)
            digest.update(_names_digest(ordered.rest))
            digest.update(ordered.taken.packed)
            files += ordered.others
    except (Unsure, OSError, ValueError):
        return None
    for rel, lent in seen.items():
        _seen[os.path.join(str(root), rel[:-1])] = lent
    if ordered is not None:
        _ordered[os.path.join(str(root), DEALS[:-1])] = ordered
    digest.update(marshal.dumps(files))
    trusted = newest[0] < time.time_ns() - RACY_SECONDS * 1_000_000_000
    return Key(git_dir / FOLDER, digest.hexdigest(), trusted)


def _others(root: str, ordered: Ordered, share: Sequence[str], shared: int,
            newest: list[int]) -> None:
    """The entries of the deals' folder neither kept nor shared, walked (into
    ``ordered.others``). The folder listed as many names as the kept and shared files
    found there, the usual case, and there are none; else they are looked for by name."""
    found = len(ordered.rest) - len(ordered.taken.gone) + shared
    if len(ordered.listed) == found:
        return
    known = set(ordered.rest)
    known.update(share)
    others = [name for name in ordered.listed if name not in known]
    if others:
        _walk(os.path.join(root, DEALS[:-1]), DEALS, ordered.others, newest, only=others)


def _names_digest(names: Sequence[str]) -> bytes:
    return hashlib.sha256("\n".join(names).encode("utf-8", "surrogateescape")).digest()


def share_in_order(root: str, names: Sequence[str]) -> stats.InOrder:
    """The stat data of these kept files of the deals' folder, in their order;
    ``Unsure`` when one is no regular file (a link, a folder…)."""
    fd = os.open(os.path.join(root, DEALS), os.O_RDONLY | os.O_DIRECTORY)
    try:
        return stats.in_order(fd, names)
    except stats.NoFile:
        raise Unsure from None
    finally:
        os.close(fd)


def shared_of(names: Sequence[str], taken: stats.InOrder) -> tuple[bytes, int, int]:
    """What the key needs of a share (these kept files, ``share_in_order``): the digest
    of their names and stat data, the newest time, and how many files are there."""
    return (hashlib.sha256(_names_digest(names) + taken.packed).digest(), taken.newest,
            len(names) - len(taken.gone))


def taken_in_order(folder: str) -> Ordered | None:
    """What the key found of ``folder`` (the deals') taken in the kept records' order
    (``key_of``'s ``rest``), once; None when it was walked the usual way."""
    return _ordered.pop(folder, None)


def lend(seen: dict[str, dict[str, tuple]]) -> None:
    """Lend the stat data of these folders (a key taken in another process)."""
    _seen.update(seen)


def lent_all() -> dict[str, dict[str, tuple]]:
    """Everything lent, taken back (to send to the process that takes the key's place)."""
    out = dict(_seen)
    _seen.clear()
    return out


def taken(folder: str) -> dict[str, tuple] | None:
    """The stat data (folder, name, mode, size, mtime, ctime, inode) of each entry of
    ``folder`` (the opportunities or the accounts folder) as this process's key saw
    it, once; None when the key did not walk it. Taken before the report reads
    anything, it serves the report's own check of each file: a file written since only
    makes that stat data stale, as with a stat taken just before reading."""
    return _seen.pop(folder, None)


def replay(key: Key) -> bool:
    """Print what the report of this key printed before; False (nothing printed) when
    no such output is kept. Copied a piece at a time: a long output is never held whole."""
    path = key.folder / key.digest
    try:
        with open(path, "rb") as fh:
            head = fh.readline(32)
            size = os.fstat(fh.fileno()).st_size - len(head)
            if not head.endswith(b"\n") or not head[:-1].isdigit() or int(head) > size:
                return False
            fh.seek(len(head) + int(head))
            err = fh.read()
            os.utime(path)  # recently used
            write_all(2, err)
            fh.seek(len(head))
            left = int(head)
            while left:
                chunk = fh.read(min(left, CHUNK))
                if not chunk:  # cut short under us (it never is: files are replaced whole)
                    break
                write_all(1, chunk)
                left -= len(chunk)
    except OSError:
        return False
    return True


def write_all(fd: int, data: bytes) -> None:
    """All of ``data`` to the file descriptor ``fd`` (a pipe takes a piece at a time)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def keep(folder: Path, digest: str, out: bytes, err: bytes) -> None:
    """Keep a report's output under its key (atomically), and only the last ``KEPT``."""
    try:
        folder.mkdir(exist_ok=True)
        tmp = folder / f".{digest}.{os.getpid()}"
        with open(tmp, "wb") as fh:
            fh.write(b"%d\n" % len(out) + out + err)
        os.replace(tmp, folder / digest)
    except OSError:
        return  # a cache that cannot be written is only slower
    _prune(folder)


def _prune(folder: Path) -> None:
    """Only the last ``KEPT`` outputs, ``KEPT_BYTES`` at most in all; and no copy left
    half-written by a run that was killed (a dot file older than an hour)."""
    try:
        entries = list(os.scandir(folder))
        stale = time.time() - 3600
        for e in entries:
            if e.name.startswith(".") and e.stat().st_mtime < stale:
                os.unlink(e.path)
        kept = sorted((e for e in entries if not e.name.startswith(".")),
                      key=lambda e: e.stat().st_mtime_ns, reverse=True)
        total = 0
        for i, e in enumerate(kept):
            total += e.stat().st_size
            if i >= KEPT or total > KEPT_BYTES:
                os.unlink(e.path)
    except OSError:
        pass


class Recorder:
    """Copies of what the command writes on stdout and stderr, kept when it succeeds.
    The copy of stdout goes to a file as it is written (the one kept, once complete), so
    that a long report is not held in memory twice (#25)."""

    def __init__(self, key: Key):
        self.key = key
        self.tmp = key.folder / f".{key.digest}.{os.getpid()}"
        self.file = None
        try:
            key.folder.mkdir(exist_ok=True)
            self.file = open(self.tmp, "w+b")  # noqa: SIM115 (closed by finish)
            self.file.write(_NO_SIZE)  # the size of stdout's part, once it is known
        except OSError:
            self._drop()
        self.out = _Copying(sys.stdout.buffer, self.file)
        self.err = _Copying(sys.stderr.buffer, io.BytesIO())
        self.saved = sys.stdout, sys.stderr
        sys.stdout = _tee(sys.stdout, self.out)
        sys.stderr = _tee(sys.stderr, self.err)

    def finish(self, code: int) -> None:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except (OSError, ValueError):
            code = code or 1
        sys.stdout, sys.stderr = self.saved
        err = self.err.copy
        if code != 0 or self.file is None or self.out.copy is None or err is None:
            self._drop()
            return
        try:
            self.file.write(err.getvalue())
            self.file.seek(0)
            self.file.write(b"%0*d\n" % (len(_NO_SIZE) - 1, self.out.size))
            self.file.close()
            os.replace(self.tmp, self.key.folder / self.key.digest)
        except OSError:
            self._drop()
            return
        _prune(self.key.folder)

    def _drop(self) -> None:
        if self.file is not None:
            try:
                self.file.close()
            except OSError:
                pass
            self.file = None
        try:
            os.unlink(self.tmp)
        except OSError:
            pass


class _Copying:
    """A binary stream that writes through to ``target`` and keeps a copy in ``copy`` (a
    file), up to ``LARGEST`` bytes (a larger output is not kept: ``copy`` becomes None)."""

    def __init__(self, target, copy):
        self.target = target
        self.copy = copy
        self.size = 0

    def write(self, data) -> int:
        if self.copy is not None:
            self.size += len(data)
            try:
                if self.size > LARGEST:
                    raise OSError("too long to keep")
                self.copy.write(data)
            except (OSError, ValueError):
                self.copy = None
        return self.target.write(data)

    def flush(self) -> None:
        self.target.flush()

    def __getattr__(self, name: str):
        return getattr(self.target, name)


def _tee(stream, raw: _Copying):
    return io.TextIOWrapper(raw, encoding=stream.encoding, errors=stream.errors,
                            line_buffering=stream.line_buffering, write_through=True)
