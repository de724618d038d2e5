"""The working tree's records kept whole between reports (``.git/opp-index.records``).

At 100,000 files a report after one change used to build 100,000 records again from the
files table (~0.4 s). The records are kept instead, as rows, each with the stat data
of the file it was built from; a report compares that stat data with the files' (in C,
a tuple against a tuple) and builds again only the records of the files that differ,
are new or are gone.

It is a cache of facts: a file with this stat data gives this record under these
settings and these account names. So:

- it belongs to one SQLite file of the index (its random generation, which a new format
  or a new version of the parsing code changes) and to one ``opp.yaml`` content:
  anything else and it is not used;
- it records the account names it was built with: the records of a customer whose
  account was added, renamed or removed since are built again;
- stat data younger than 3 seconds (racy-clean, as for the files table) is never kept:
  such a file's record is built again (from the files table) at each report until the
  records are kept again (past 1 % of the files, at least 32, changed);
- it holds valid records only: it is written by a report that read every file without
  an error;
- damaged, cut short or foreign, it is ignored (a CRC covers each part);
- its rows are pickles (``ROWS`` a part) read by an unpickler that knows two classes,
  ``Decimal`` and ``date``: a part naming any other is refused unread, so a copy never
  runs code; a part of anything but rows of the record's width is not used either.
"""

from __future__ import annotations

import gc
import io
import os
import pickle
from collections.abc import Iterable
from itertools import repeat
from typing import TYPE_CHECKING, Any, BinaryIO, NamedTuple

from ...domain.records import Dated, Record
from ...store.files import OPPORTUNITIES_DIR
from .entry import MARK, DatedReader
from .stats import (
    RECORDS_MAGIC,
    STAT,
    UNTRUSTED,
    Compared,
    open_copy,
    read_head,
    read_part,
    read_raw,
    skip_part,
    write_part,
    write_raw,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from .db import Index

__all__ = ["STAT", "UNTRUSTED", "Kept", "Key"]

_new = tuple.__new__
# the records are kept as pickles of their rows, ROWS a part: unpickled (Decimals and
# dates made in C) 100,000 take 0.10 s, against 0.16 s for columns of texts made into
# Decimals and dates and then zipped (2026-12-05); and a part's memo stays small
ROWS = 10_000
_VALUES = frozenset({("decimal", "Decimal"), ("datetime", "date")})


class Kept(NamedTuple):
    """The records of the working tree, in id order, with each file's name and the stat
    data (``STAT``, one after the other) of the file each record was built from (or
    ``UNTRUSTED``); ``tails`` (when asked for) the dated part of each file's entry
    (``entry.MARK`` on), "" when it has none, None when it was read the careful way;
    ``head``: what they were kept for, and a token that tells one writing of the copy
    from another; ``moved``: the positions of records whose customer's account was
    added, renamed or removed since (their stat data is ``UNTRUSTED`` here)."""

    files: list[str]
    stats: bytes
    records: list[Record]
    tails: list[str | None] | None
    head: tuple
    moved: tuple[int, ...] = ()


class Key(NamedTuple):
    """What the records depend on beyond each file: the index's generation, the blob of
    ``opp.yaml`` the settings were read from, and the account names."""

    generation: str
    settings: str
    names: dict[str, str]


def load(index: Index, key: Key, tails: bool = False) -> Kept | None:
    """The records kept for ``key`` (with their tails when asked); None when there are
    none (or they are damaged). Those ``preload`` read already, when they are these."""
    global _preloaded
    found, _preloaded = _preloaded, None
    path = str(index.records_path())
    if found is None or found[0] != path or found[1] is None or (tails and found[1].tails is None):
        found = (path, _read(path, tails))
    kept = found[1]
    if kept is None or kept.head[:2] != (key.generation, key.settings):
        return None
    if kept.head[2] != key.names:
        moved = _renamed(kept.head[2], key.names, kept.records)
        kept = kept._replace(stats=_untrusted(bytearray(kept.stats), moved), moved=moved)
    return kept


_preloaded: tuple[str, Kept | None] | None = None


def preload(path: str, tails: bool = False) -> None:
    """Read the records kept at ``path`` ahead, while the replay key's walk runs in its own
    process: ``load`` takes them if they are the ones it wants (a cache of facts, each
    checked against the files' stat data the walk took, so reading it early is safe)."""
    global _preloaded
    _preloaded = (path, _read(path, tails))


# the agenda's dated items of the preloaded tails, parsed ahead (``parse_ahead``): those
# of open deals, then those of closed ones, by tail
_ahead: tuple[dict[str, Dated], dict[str, Dated]] = ({}, {})
AHEAD_CHUNK = 2048  # records parsed ahead between two looks for the child's answer


def parse_ahead(answered: Callable[[], bool]) -> None:
    """Parse the dated items of the preloaded tails ahead, for the agenda, a chunk at a
    time while the replay key's child has not answered (the parent would only wait;
    a replay then needs none of them). The items are a pure function of the tail and of
    whether the deal is closed, so ``dated_ahead`` gives them by tail: a tail changed
    since only misses."""
    found = _preloaded[1] if _preloaded is not None else None
    if found is None or found.tails is None:
        return
    read = DatedReader().dated
    opened, closed = _ahead
    records, tails = found.records, found.tails
    try:
        for start in range(0, len(tails), AHEAD_CHUNK):
            if answered():
                return
            for i in range(start, min(start + AHEAD_CHUNK, len(tails))):
                text = tails[i]
                if text:  # most deals have no dated item ("")
                    shut = records[i].status != "open"
                    parsed = closed if shut else opened
                    if text not in parsed:  # (equal tails: four in ten at 100,000)
                        parsed[text] = read(text, shut)
    except Exception:  # a tail this opp does not read (the copy is checked later, by
        return  # load): the report reads its own tails, never a refusal from here


def dated_ahead() -> tuple[dict[str, Dated], dict[str, Dated]]:
    """The dated items ``parse_ahead`` parsed, by tail: of open deals, then of closed
    ones (empty when nothing was parsed ahead)."""
    return _ahead


def _read(path: str, tails: bool) -> Kept | None:
    try:
        with open_copy(path) as fh:
            start = read_head(fh)
            if start is None or start.head[3] != len(Record._fields):
                return None
            end = os.fstat(fh.fileno()).st_size
            records = _rows(fh, end, len(start.files))
            kept_tails = read_part(fh, end) if tails else None
            if tails and fh.read(1) != b"":
                return None
        if records is None or (kept_tails is not None and (
                type(kept_tails) is not list or len(kept_tails) != len(records))):
            return None
        return Kept(start.files, start.stats, records, kept_tails, start.head)
    # a copy cut short, damaged, or (behind a sound CRC) of values this opp does not
    # write: only slower, never a refusal
    except (OSError, ValueError, EOFError, TypeError, KeyError, IndexError, AttributeError,
            ArithmeticError, pickle.UnpicklingError):
        return None


def _rows(fh: BinaryIO, end: int, count: int) -> list[Record] | None:
    """The ``count`` records of the copy open in ``fh``, ``ROWS`` a part; None when a part
    holds anything else than rows of the record's width."""
    # 100,000 records of values that hold no other object: no cycle for the collector
    # to find, and its passes over them cost 15 % of the reading
    collecting = gc.isenabled()
    gc.disable()
    try:
        records: list[Record] = []
        width = len(Record._fields)
        for _ in range(0, count, ROWS):
            rows = _Rows(io.BytesIO(read_raw(fh, end))).load()
            if type(rows) is not list or set(map(type, rows)) - {tuple} or \
                    set(map(len, rows)) - {width}:
                return None
            # tuple.__new__ in C, row by row: Record's own __new__ is a Python call
            records += map(_new, repeat(Record), rows)
        return records if len(records) == count else None
    finally:
        if collecting:
            gc.enable()


class _Rows(pickle.Unpickler):
    """Rows of records as ``write`` keeps them: plain values, Decimals and dates, and
    nothing else (a kept copy never names another class, nor runs any code)."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _VALUES:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is no value of a record")


def tails_of(index: Index, found: Kept) -> list[str | None] | None:
    """The tails of the records ``found`` holds, read now; None when the copy was
    written again since (or cannot be read)."""
    try:
        with open_copy(index.records_path()) as fh:
            start = read_head(fh)
            if start is None or start.head[4] != found.head[4]:
                return None
            end = os.fstat(fh.fileno()).st_size
            for _ in range(0, len(start.files), ROWS):
                skip_part(fh, end)
            out = read_part(fh, end)
    except (OSError, ValueError, EOFError, TypeError):
        return None
    return out if type(out) is list and len(out) == len(found.files) else None


def _renamed(then: dict[str, str], now: dict[str, str], records: list[Record]
             ) -> tuple[int, ...]:
    """The positions of the records of a customer whose account was added, renamed or
    removed since they were kept: those are built again, the others stay (an account
    added for a new deal costs one record, not all of them)."""
    moved = {k for k in then.keys() | now.keys() if then.get(k) != now.get(k)}
    return tuple(i for i, r in enumerate(records)
                 if (r.customer if r.customer_id is None else r.customer_id) in moved)


def write(index: Index, key: Key, files: str, stats: bytes, records: list[Record],
          tails: list[str | None]) -> None:
    """Keep these records for ``key`` (atomically; ``files``: their files' names, one a
    line; ``stats``: their stat data, one after the other); best effort."""
    path = index.records_path()
    tmp = f"{path}.{os.getpid()}.tmp"
    head = (key.generation, key.settings, key.names, len(Record._fields),
            os.urandom(8).hex())
    try:
        with open(tmp, "wb") as fh:
            fh.write(RECORDS_MAGIC)
            for part in (head, files, stats):
                write_part(fh, part)
            for start in range(0, len(records), ROWS):  # a part at a time (#25: memory)
                write_raw(fh, pickle.dumps(list(map(tuple, records[start:start + ROWS])),
                                           protocol=5))
            write_part(fh, tails)
        os.replace(tmp, path)
    except (OSError, ValueError, pickle.PicklingError):  # a value that cannot be written
        try:
            os.unlink(tmp)
        except OSError:
            pass


def merged(found: Kept, compared: Compared, ids: list[str], stats: bytes | None,
           records: list[Record], tails: list[str | None]
           ) -> tuple[list[str], bytes, list[Record], list[str | None] | None]:
    """The kept files, stat data (when ``stats`` is given: to keep the records again),
    records and tails (when ``found`` has them) with those of ``ids`` (the changed and
    new files, built again) in their place, and those of the files gone left out; in
    id order."""
    size, old = STAT.size, found.stats
    all_files, all_records = found.files.copy(), found.records.copy()
    all_stats = [old[i:i + size] for i in range(0, len(old), size)] if stats is not None \
        else None
    all_tails = found.tails.copy() if found.tails is not None else None
    at = {found.records[i].id: i for i in compared.changed if i not in compared.gone}
    for k, opp_id in enumerate(ids):
        i = at.get(opp_id, len(all_files))
        if i == len(all_files):
            all_files.append(f"{opp_id}.yaml")
            all_records.append(records[k])
            for column in (all_stats, all_tails):
                if column is not None:
                    column.append(None)  # type: ignore[arg-type]  # set just below
        all_records[i] = records[k]
        if all_stats is not None:
            assert stats is not None  # (all_stats is made of it)
            all_stats[i] = stats[k * size:(k + 1) * size]
        if all_tails is not None:
            all_tails[i] = tails[k]
    if compared.new or compared.gone:
        order = sorted((i for i in range(len(all_files)) if i not in compared.gone),
                       key=lambda i: all_files[i][:-5])  # by id (a record may be None)
        all_files, all_records = _picked(all_files, order), _picked(all_records, order)
        all_stats = _picked(all_stats, order) if all_stats is not None else None
        all_tails = _picked(all_tails, order) if all_tails is not None else None
    return all_files, b"".join(all_stats or ()), all_records, all_tails


def _picked(column: list, order: list[int]) -> list:
    return list(map(column.__getitem__, order))


def trusted(stats: bytearray, recs: list[str | None]) -> bytes:
    """The stat data to keep with the records (``_stats`` in worktree.py packed it, or
    left it untrusted: too recent): none for a file read the careful way either."""
    return _untrusted(stats, [pos for pos, rec in enumerate(recs) if rec is None])


def _untrusted(stats: bytearray, positions: Iterable[int]) -> bytes:
    """The stat data with those of ``positions`` no longer trusted."""
    size = STAT.size
    for pos in positions:
        stats[pos * size:(pos + 1) * size] = UNTRUSTED
    return bytes(stats)


def tail(rec: str | None) -> str | None:
    """The dated part of a rec (from ``MARK`` on), "" when it has none (most deals: one
    string for all, #25: the memory of a cold report); None stays None."""
    if rec is None or MARK not in rec:
        return rec and ""
    return rec[rec.find(MARK):]


def stat_all(folder: str, names: Any) -> dict[str, tuple]:
    """The stat data of these names of ``folder`` (those there), as ``outputs.taken``
    lends it."""
    rel = f"{OPPORTUNITIES_DIR}/"
    out: dict[str, tuple] = {}
    try:
        dir_fd = os.open(folder, os.O_RDONLY)
    except OSError:  # no folder: no file
        return out
    try:
        for name in names:
            try:
                info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
            except OSError:
                continue
            out[name] = (rel, name, info.st_mode, info.st_size, info.st_mtime_ns,
                         info.st_ctime_ns, info.st_ino)
    finally:
        os.close(dir_fd)
    return out
