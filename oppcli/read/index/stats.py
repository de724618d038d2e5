"""The stat data the records kept whole (``kept.py``) were built from, read on its own:
the replay key's walk compares it with the files' in its own process, before the report
needs it, so this module imports nothing of opp's models.

Also the parts the index's copies are written in (its files table's, ``db.py``, and the
records', ``kept.py``): a length, a CRC and a marshal body each.
"""

from __future__ import annotations

import marshal
import os
import stat as stat_module
import struct
import zlib
from collections.abc import Sequence
from itertools import repeat, starmap
from operator import itemgetter
from typing import Any, BinaryIO, NamedTuple

RECORDS_MAGIC = b"opp-records 4\n"
# a file's stat data as kept: mode, size, mtime, ctime (ns), inode; 40 bytes a file, the
# files' one after the other (4 MB at 100,000: read at once, compared 64 files at a time)
STAT = struct.Struct("<qqqqQ")
STATED = itemgetter(2, 3, 4, 5, 6)  # of the stat data ``outputs.taken`` lends
MISSING = ("", "", -1, 0, 0, 0, 0)  # a file gone, as lent
UNTRUSTED = STAT.pack(-2, 0, 0, 0, 0)  # kept for a file too recent to trust: no file's
_RUN = 64  # files compared at once


def write_part(fh: BinaryIO, value: Any) -> None:
    """One part of a copy: its length, its CRC, then its marshal body."""
    write_raw(fh, marshal.dumps(value))


def write_raw(fh: BinaryIO, body: bytes) -> None:
    """One part of a copy of these bytes: their length, their CRC, then them."""
    fh.write(len(body).to_bytes(4, "big") + zlib.crc32(body).to_bytes(4, "big"))
    fh.write(body)


def read_part(fh: BinaryIO, end: int) -> Any:
    """The next part ``write_part`` wrote, in a file of ``end`` bytes; ``ValueError`` when
    it is cut short, its length runs past the file (a damaged length asks for no more
    memory than the file holds) or its CRC does not hold."""
    return marshal.loads(read_raw(fh, end))


def read_raw(fh: BinaryIO, end: int) -> bytes:
    """The bytes of the next part (``write_raw``), checked as ``read_part`` checks them."""
    size, crc = _part_head(fh, end)
    body = fh.read(size)
    if len(body) != size or zlib.crc32(body) != crc:
        raise ValueError("damaged")
    return body


def skip_part(fh: BinaryIO, end: int) -> None:
    """Past the next part, unread."""
    fh.seek(_part_head(fh, end)[0], os.SEEK_CUR)


def _part_head(fh: BinaryIO, end: int) -> tuple[int, int]:
    """The length and CRC of the next part; ``ValueError`` when it runs past the file."""
    head = fh.read(8)
    size = int.from_bytes(head[:4], "big")
    if len(head) != 8 or size > end - fh.tell():
        raise ValueError("cut short")
    return size, int.from_bytes(head[4:], "big")


class Head(NamedTuple):
    """The start of the records' copy: its head (generation, settings blob, account
    names, record width, token), its files' names and their stat data."""

    head: tuple
    files: list[str]
    stats: bytes


def read_head(fh: BinaryIO) -> Head | None:
    """The head of the records' copy open in ``fh``; None when it is none (or damaged)."""
    found = _read_head(fh)
    if found is None:
        return None
    head, names, stats = found
    return Head(head, names.split("\n") if names else [], stats)  # (one text written)


def _read_head(fh: BinaryIO) -> tuple[tuple, str, bytes] | None:
    """The head, the files' names as one text, and their stat data."""
    try:
        end = os.fstat(fh.fileno()).st_size
        if fh.read(len(RECORDS_MAGIC)) != RECORDS_MAGIC:
            return None
        head, names, stats = read_part(fh, end), read_part(fh, end), read_part(fh, end)
    except (OSError, ValueError, EOFError, TypeError):
        return None
    if type(names) is not str:
        return None
    count = names.count("\n") + 1 if names else 0
    if type(head) is not tuple or len(head) != 5 or type(head[2]) is not dict or \
            type(stats) is not bytes or len(stats) != STAT.size * count:
        return None
    return head, names, stats


def peek(path: str) -> Head | None:
    """The head of the records' copy at ``path``, None when there is none."""
    try:
        with open_copy(path) as fh:
            return read_head(fh)
    except OSError:
        return None


def peek_first(path: str, part: float) -> Head | None:
    """The head of the records' copy at ``path`` with only the first ``part`` of its
    files (``first_of``) and their stat data: no string made for the others."""
    try:
        with open_copy(path) as fh:
            found = _read_head(fh)
    except OSError:
        return None
    if found is None:
        return None
    head, names, stats = found
    first = first_of(names.count("\n") + 1 if names else 0, part)
    return Head(head, names.split("\n", first)[:first] if first else [],
                stats[:first * STAT.size])


def first_of(count: int, part: float) -> int:
    """How many files the first ``part`` of ``count`` files are: one at least of two or
    more (a share, and so a key taken in the kept order, whatever the part)."""
    return max(int(count * part), 1) if count > 1 else 0


def open_copy(path: Any) -> BinaryIO:
    """One of the index's copies, opened to read; ``OSError`` when it is no regular file
    (a FIFO there would block the open, a folder the read)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        if not stat_module.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"{path}: not a regular file")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


class Compared(NamedTuple):
    """How the files stand against the kept records: the positions of those whose stat
    data differs (``gone`` among them: no longer there), and the names of files not kept
    (ids, in the folder's order)."""

    changed: list[int]
    gone: set[int]
    new: list[str]


def packed_now(lent: dict[str, tuple], files: list[str]) -> bytes | None:
    """The stat data lent of ``files``, packed one after the other (a file gone as
    ``MISSING``); None when some cannot be packed (the full way reads every file then)."""
    try:
        return b"".join(starmap(STAT.pack, map(STATED, map(lent.get, files, repeat(MISSING)))))
    except struct.error:
        return None


def compare(files: list[str], stats: bytes, packed: bytes, entries: Any) -> Compared:
    """``packed``: the stat data of ``files`` today (``packed_now``, ``packed_of``);
    ``entries``: the folder's names, a set or a dict (a file ``ID.yaml`` not kept is
    new, a kept one not among them gone)."""
    changed = changed_at(stats, packed)
    gone = {i for i in changed if files[i] not in entries}
    new: list[str] = []
    if len(entries) != len(files) - len(gone):  # another entry than the kept files
        known = set(files)
        new = [name[:-5] for name in entries if deal_file(name) and name not in known]
    return Compared(changed, gone, new)


def deal_file(name: str) -> bool:
    """Whether a name of the deals' folder is a deal's file (``ID.yaml``, not hidden)."""
    return name.endswith(".yaml") and not name.startswith(".")


def changed_at(stats: bytes, packed: bytes) -> list[int]:
    """The positions whose stat data differs between two packings of the same files."""
    size = STAT.size
    changed: list[int] = []
    if packed != stats:
        run = size * _RUN
        for start in range(0, len(packed), run):
            if packed[start:start + run] != stats[start:start + run]:
                changed.extend(at // size for at in range(start, min(start + run, len(packed)),
                                                          size)
                               if packed[at:at + size] != stats[at:at + size])
    return changed


class InOrder(NamedTuple):
    """The stat data of kept files taken in their order (``in_order``): packed one after
    the other as kept (``MISSING``'s for a file gone), the positions of the files gone,
    and the newest time seen."""

    packed: bytes
    gone: list[int]
    newest: int


class NoFile(Exception):
    """A kept file's name now names no regular file (a link, a folder…)."""


def in_order(fd: int, names: Sequence[str]) -> InOrder:
    """The stat data of these files of the folder open as ``fd``, in their order, packed
    as the kept records hold it: compared with theirs in C, with no tuple and no lookup
    by name per file (at 100,000 files, 90 ms less than a walk in the folder's order
    compared afterwards). ``NoFile`` when one is no regular file."""
    stat, pack = os.stat, STAT.pack
    parts: list[bytes] = []
    gone: list[int] = []
    add = parts.append
    kind, regular = stat_module.S_IFMT(0o177777), stat_module.S_IFREG  # the type bits' mask
    missing = STAT.pack(*STATED(MISSING))
    top = 0
    for name in names:
        try:
            info = stat(name, dir_fd=fd, follow_symlinks=False)
        except FileNotFoundError:
            gone.append(len(parts))
            add(missing)
            continue
        mode, mtime, ctime = info.st_mode, info.st_mtime_ns, info.st_ctime_ns
        if mode & kind != regular:
            raise NoFile(name)
        add(pack(mode, info.st_size, mtime, ctime, info.st_ino))
        if mtime > top:
            top = mtime
        if ctime > top:
            top = ctime
    return InOrder(b"".join(parts), gone, top)


def unpacked(folder: str, name: str, packed: bytes, at: int) -> tuple:
    """The stat data of the file at position ``at`` of ``packed``, as lent (``STATED``)."""
    return (folder, name, *STAT.unpack_from(packed, at * STAT.size))
