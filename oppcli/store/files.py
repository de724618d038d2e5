"""Files of the data repo: where they live, how they are read (bounded, never through a
link, never waiting on a FIFO) and written (atomically, permissions kept).
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import DataError, NotFound, RepoError, RuleError

if TYPE_CHECKING:
    from .repo import Repo

SETTINGS_FILE = "opp.yaml"


CATALOG_FILE = "catalog.yaml"
QUOTAS_FILE = "quotas.yaml"


OPPORTUNITIES_DIR = "opportunities"


ACCOUNTS_DIR = "accounts"  # one file per account: the customers, partners, competitors


DOCUMENTS_DIR = "documents"


MAX_FILE_BYTES = 8 * 1024 * 1024  # the largest data file opp reads


def git_text(path: Path) -> str:
    """A file of git's own (HEAD, a ref, commondir, a ``.git`` file naming the git
    folder), as text: its bytes decoded as file names are, whatever the locale."""
    return os.fsdecode(path.read_bytes()).strip()


def atomic_write(path: Path, data: bytes, fsync: bool = True) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        mode = stat.S_IMODE(os.lstat(path).st_mode)  # keep the file's permissions (x bit)
    except OSError:
        mode = None
    try:
        with open(tmp, "wb") as fh:
            if mode is not None:
                os.fchmod(fh.fileno(), mode)
            fh.write(data)
            if fsync:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.filename is None:
            exc.filename = str(path)  # a failed write names no file: say which
        raise


def prune_empty(root: Path, folder: Path) -> None:
    """Remove ``folder`` and its parents below ``root`` while they are empty (git keeps no
    empty folders, so a deleted document must not leave one behind)."""
    while folder != root and root in folder.parents:
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent


# Paths reach git on stdin, NUL-separated, never as arguments: an import of many
# thousand files would exceed the system's argument-length limit.
MANY_PATHS = 100


PATHSPEC_STDIN = ("--pathspec-from-file=-", "--pathspec-file-nul")


def pathspec(paths: list[str]) -> str:
    return "".join(f"{p}\0" for p in paths)


def check_relpath(relpath: str) -> None:
    parts = relpath.split("/")
    if (not relpath or relpath.startswith("/") or "\\" in relpath or "\0" in relpath
            or any(p in ("", ".", "..") for p in parts) or parts[0] == ".git"):
        raise RepoError(f"refusing to write {relpath!r}: not a plain path inside the data "
                        "repo")


def check_paths(root: Path, relpaths) -> None:
    """Refuse to write anywhere but inside the data repo: every path must be plain
    (no ``..``, not absolute, not in .git) and no folder on the way a symbolic link
    (which could lead anywhere) or something else than a folder."""
    seen: set[str] = set()
    for relpath in relpaths:
        check_relpath(relpath)
        parts = relpath.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            folder = "/".join(parts[:i])
            if folder in seen:
                continue
            try:
                mode = os.lstat(root / folder).st_mode
            except FileNotFoundError:
                break
            except OSError as exc:
                raise RepoError(f"cannot write {relpath}: {folder}: {exc.strerror}") from None
            if stat.S_ISLNK(mode):
                raise RepoError(f"refusing to write {relpath}: {folder} is a symbolic link; "
                                "opp writes only inside the data repo (replace the link by "
                                "a folder)")
            if not stat.S_ISDIR(mode):
                raise RepoError(f"cannot write {relpath}: {folder} is not a folder")
            seen.add(folder)


def kind(mode: int) -> str:
    return ("a folder" if stat.S_ISDIR(mode) else
            "a FIFO (named pipe)" if stat.S_ISFIFO(mode) else
            "a character device" if stat.S_ISCHR(mode) else
            "a block device" if stat.S_ISBLK(mode) else
            "a socket" if stat.S_ISSOCK(mode) else "a symbolic link" if stat.S_ISLNK(mode)
            else "not a regular file")


def read_plain(path: str | Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a regular file, read through no symbolic link (at its last step),
    never waiting on a FIFO, at most ``limit`` bytes; ``OSError`` otherwise (for
    fast paths that hand any trouble to the careful ``read_data_file``)."""
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            raise OSError(errno.EINVAL, "not a regular file of bounded size", str(path))
        return _read_to_end(fd, limit, path)
    finally:
        os.close(fd)


def _read_to_end(fd: int, limit: int, path: str | Path) -> bytes:
    """The rest of an open file, at most ``limit`` bytes; ``OSError`` (EFBIG) when it
    grew past them while being read."""
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = os.read(fd, min(1 << 20, limit + 1 - size))
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            raise OSError(errno.EFBIG, "file grew past its limit", str(path))


def line_of(root: Path, relpath: str, value: str) -> int | None:
    """The line of a data file where ``value`` first appears (None when it does not, or
    the file cannot be read as a data file)."""
    try:
        data = read_data_file(root, relpath, MAX_FILE_BYTES)
    except (DataError, NotFound, OSError):
        return None
    text = (data or b"").decode("utf-8", "replace")
    at = text.find(value)
    return None if at < 0 else text.count("\n", 0, at) + 1


def read_data_file(root: Path, relpath: str, limit: int, error=DataError) -> bytes | None:
    """The bytes of a file of the data repo, or None when it does not exist.

    Only a regular file is read: a symbolic link (which could point anywhere, say
    /etc/passwd), a folder, a FIFO (opened without blocking, so it never hangs), a
    device or a socket is refused, as is a file over ``limit`` bytes, before reading
    it; a folder on the way that is a link too. ``error`` is the exception raised:
    ``DataError(message, relpath)`` for data files, ``RepoError`` for writes.
    """
    def refuse(message: str):
        return error(message, relpath) if error is DataError else error(f"{relpath}: {message}")

    parts = relpath.split("/")
    for i in range(1, len(parts)):
        try:
            mode = os.lstat(root.joinpath(*parts[:i])).st_mode
        except OSError:
            break
        if stat.S_ISLNK(mode):
            raise refuse(f"{'/'.join(parts[:i])} is a symbolic link; opp reads only files "
                         "inside the data repo")
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(root / relpath, flags)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise refuse("is a symbolic link; opp reads only regular files inside the data "
                         "repo (a link could point anywhere)") from None
        try:  # a socket cannot even be opened: say what it is
            mode = os.lstat(root / relpath).st_mode
        except OSError:
            mode = stat.S_IFREG
        if not stat.S_ISREG(mode):
            raise refuse(f"is {kind(mode)}, not a regular file") from None
        raise refuse(f"cannot read: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise refuse(f"is {kind(info.st_mode)}, not a regular file")
        if info.st_size > limit:
            raise refuse(f"file is larger than {_size(limit)}")
        return _read_to_end(fd, limit, relpath)
    except OSError as exc:
        if exc.errno == errno.EFBIG:  # it grew while being read
            raise refuse(f"file is larger than {_size(limit)}") from None
        raise refuse(f"cannot read: {exc.strerror}") from None
    finally:
        os.close(fd)


def _size(limit: int) -> str:
    return f"{limit // (1024 * 1024)} MB" if limit >= 1024 * 1024 else f"{limit} bytes"


def read_regular_file(path: str | Path, check_size=None) -> bytes:
    """The bytes of a regular file (a symlink is followed: its content is what is read).

    Folders, devices, FIFOs, sockets and missing paths are refused with a message
    naming what the path is. The file is opened without blocking (a FIFO never
    hangs) and checked on the open descriptor, so it cannot be swapped in between.
    ``check_size(size)`` may refuse by raising, before anything is read.
    """
    shown = str(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        dangling = os.path.islink(path)
        raise NotFound(f"{shown}: " + ("a symlink to a missing file" if dangling else
                                      "no such file")) from None
    except IsADirectoryError:
        raise RuleError(f"{shown} is a folder; attach files one by one "
                        "(or an archive of the folder)") from None
    except PermissionError:
        raise RuleError(f"{shown}: permission denied; opp cannot read it") from None
    except OSError as exc:
        try:  # a socket cannot even be opened: say what it is
            socket = stat.S_ISSOCK(os.stat(path).st_mode)
        except OSError:
            socket = False
        if socket:
            raise RuleError(f"{shown} is a socket; only regular files can be attached") from None
        raise RuleError(f"{shown}: cannot open it ({exc.strerror})") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = ("a folder" if stat.S_ISDIR(info.st_mode) else
                    "a FIFO (named pipe)" if stat.S_ISFIFO(info.st_mode) else
                    "a character device" if stat.S_ISCHR(info.st_mode) else
                    "a block device" if stat.S_ISBLK(info.st_mode) else
                    "a socket" if stat.S_ISSOCK(info.st_mode) else "not a regular file")
            hint = ("attach files one by one (or an archive of the folder)"
                    if stat.S_ISDIR(info.st_mode) else "only regular files can be attached")
            raise RuleError(f"{shown} is {kind}; {hint}")
        if check_size is not None:
            check_size(info.st_size)
        chunks: list[bytes] = []
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
    except OSError as exc:
        raise RuleError(f"{shown}: cannot read it ({exc.strerror})") from None
    finally:
        os.close(fd)


def files_in(repo: Repo, relfolder: str) -> set[str]:
    """The paths (relative to the repo) of the entries of a folder; empty when it is missing."""
    try:
        return {f"{relfolder}/{name}" for name in os.listdir(repo.root / relfolder)}
    except (FileNotFoundError, NotADirectoryError):
        return set()
