"""Records of the working tree and of past commits, from the index: a file whose stat
data the index trusts is not read at all; one it does not is read, hashed, and parsed
only when its blob is new.
"""

from __future__ import annotations

import gc
import os
import sqlite3
import stat as stat_module
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from ...domain.records import (
    NOTHING_DATED,
    Dated,
    Record,
    dated,
    record,
)
from ...domain.settings import Settings
from ...errors import DataError
from ...store.files import MAX_FILE_BYTES, OPPORTUNITIES_DIR, read_plain
from ...store.git import blob_id
from ..ahead import Ahead, compared
from ..outputs import taken
from . import kept
from .accounts import names as account_names
from .db import Corrupt, Index, for_repo, index_path, with_retry
from .db import status as index_status
from .entry import (
    DatedReader,
    Entry,
    RecordBuilder,
    parse,
    parse_all,
    workers_for,
)
from .kept import tail
from .stats import STAT, UNTRUSTED, Compared, compare, packed_now

if TYPE_CHECKING:
    from ...store.repo import Repo

RACY_SECONDS = 3  # stat data younger than this (vs the moment it was read) is not trusted
# files looked up past the files table's whole copy (a change each, since it was written)
# before a report writes the copy again: at least this many, or 1 % of the files
SNAPSHOT_SLACK = 32


_DONE: list = []  # an item of a report's pending files once its record is built

_BULK: dict[str, Any] = {}  # set by the parent before the fork: folder, blob ids known


def _read_and_parse(ids: list[str]) -> list[tuple]:
    """In a worker: read, hash and (unless the index has the blob) parse these files."""
    folder, known = _BULK["folder"], _BULK["known"]
    out: list[tuple] = []
    for opp_id in ids:
        try:
            data = read_plain(os.path.join(folder, f"{opp_id}.yaml"))
        except OSError:
            out.append((opp_id, None, None))
            continue
        blob = blob_id(data)
        if blob in known:
            out.append((opp_id, blob, None))
        else:
            entry = parse(data)
            out.append((opp_id, blob, (entry.rec, entry.err, entry.detail)))
    return out


def _bulk(index: Index | None, folder: str, items: list[list], workers: int
          ) -> dict[str, Entry]:
    """Read, hash and parse many files in worker processes; entries go to the index in
    batches as they come (memory stays flat); sets each item's blob (or marks it
    unreadable). Returns blob -> entry (without the show data) for every item."""
    import multiprocessing

    from ...domain import checks, model, views  # noqa: F401  (imported once, before the fork)

    known: set[str] = set()
    if index is not None and index.con is not None:
        try:
            known = {b for (b,) in index.con.execute("SELECT blob FROM blobs")}
        except sqlite3.DatabaseError as exc:
            raise Corrupt(str(exc)) from None
    by_id = {item[1]: item for item in items}
    ids = list(by_id)
    size = max(100, min(1000, len(ids) // (workers * 8)))
    chunks = [ids[i:i + size] for i in range(0, len(ids), size)]
    found: dict[str, Entry] = {}
    batch: dict[str, Entry] = {}
    writer = index  # None once a write finds another writer holding the index too long
    _BULK.update(folder=folder, known=known)
    gc.freeze()  # the workers' collections skip what they inherit (and never copy it)
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            for part in pool.imap_unordered(_read_and_parse, chunks):
                for opp_id, blob, parsed in part:
                    item = by_id[opp_id]
                    if blob is None:
                        item[2] = None  # unreadable: the careful path words the error
                        continue
                    item[3] = blob
                    if parsed is not None and blob not in found:
                        if writer is not None:
                            batch[blob] = Entry(*parsed)
                        found[blob] = Entry(parsed[0], parsed[1])
                # written 2,000 at a time (their show JSON: memory), until a write finds
                # another writer holding the index past its wait: then no more waits
                if writer is not None and len(batch) >= 2000:
                    if not writer.write(entries=batch):
                        writer = None
                    batch = {}
    finally:
        gc.unfreeze()
        _BULK.clear()
    if writer is not None and batch:
        writer.write(entries=batch)
    need = {item[3] for item in items if item[3] is not None and item[3] not in found}
    if need and index is not None:
        found.update(index.entries(need))
    return found


def report_settings(repo: Repo) -> Settings:
    """The settings as reports read them: from the index when it knows this ``opp.yaml``
    (no pydantic then), else parsed (and remembered); kept as ``Repo.settings``, which
    is the same value."""
    cached = repo.__dict__.get("settings")
    if cached is not None:
        return cached

    def work(index: Index | None) -> Settings:
        repo.__dict__.pop("settings_blob", None)
        data = repo.settings_bytes()
        if data is None or index is None:
            return repo.settings
        blob = blob_id(data)
        found = index.settings(blob)
        if found is None:
            found = repo.settings_from_bytes(data)
            index.write(settings=(blob, found))
        repo.__dict__["settings_blob"] = blob  # the records kept whole depend on it
        return found

    settings = with_retry(repo, work)
    repo.__dict__["settings"] = settings
    return settings


def records_of_blobs(repo: Repo, items: list[tuple[str, str]], read: Callable[[list[str]], dict],
                     wrap: Callable[[DataError], DataError] = lambda e: e) -> list[Record]:
    """Records of (opp id, blob id) pairs in this order, each from the index or parsed
    from ``read(blob ids) -> {blob: bytes}`` (and remembered); raises the error of the
    first invalid one, as ``Repo.load`` words it, through ``wrap``."""

    settings = report_settings(repo)
    known = entries_for(repo, {blob for _, blob in items}, read)
    build = RecordBuilder(settings, account_names(repo))
    out = []
    for opp_id, blob in items:
        entry = known[blob]
        try:
            out.append(build.record(entry.rec, entry.err, opp_id,
                                    f"{OPPORTUNITIES_DIR}/{opp_id}.yaml"))
        except DataError as exc:
            raise wrap(exc) from None
    return out


def entries_for(repo: Repo, blobs: Iterable[str], read: Callable[[list[str]], dict]
                ) -> dict[str, Entry]:
    """The entries of these blobs: from the index, the others parsed from
    ``read(blob ids) -> {blob: bytes}`` and remembered."""
    blobs = set(blobs)

    def work(index: Index | None) -> dict[str, Entry]:
        known = index.entries(blobs) if index is not None else {}
        missing = sorted(blobs - set(known))
        if missing:
            new = parse_all(read(missing))
            known.update(new)
            if index is not None:
                index.write(entries=new)
        return known

    return with_retry(repo, work)


def remember(repo: Repo, written: dict[str, bytes]) -> None:
    """Index the opportunity files a change just wrote (relpath -> bytes), so that the
    next report need not parse them; best effort."""

    todo = {blob_id(data): data for path, data in written.items()
            if path.startswith(f"{OPPORTUNITIES_DIR}/") and path.endswith(".yaml")}
    if not todo:
        return
    try:
        index = for_repo(repo)
        if index is None:
            return
        have = index.entries(todo)
        new = {b: parse(d) for b, d in todo.items() if b not in have}
        if new:
            index.write(entries=new)
    except Exception:  # a cache: never let it fail a change that is already committed
        pass


def working_records(repo: Repo) -> list[Record]:
    """Every opportunity of the working tree, in id order, exactly as ``Repo.load_all``
    then ``records.record`` give them (the same first error when one is invalid)."""
    settings = report_settings(repo)
    names = account_names(repo)  # before: its own retry may throw a damaged index away
    return with_retry(repo, lambda index: _working_records(repo, index, settings, names))


def working_dated(repo: Repo) -> list[tuple[Record, Dated]]:
    """Every open opportunity of the working tree, and every closed one with an activity
    to do, as ``working_records`` gives them, each with its dated items
    (``records.Dated``: activities, sent quotes) for the agenda; from the index's
    entries, so as fast as the records alone. Every file is checked as for a report."""
    settings = report_settings(repo)
    recs: list[str | None] = []
    names = account_names(repo)
    records = with_retry(repo, lambda index: _working_records(repo, index, settings, names, recs,
                                                              agenda=True))
    if len(recs) != len(records):  # read the careful way (a linked folder)
        recs = [None] * len(records)
    read = DatedReader().dated
    opened, shut = kept.dated_ahead()  # most, parsed while the key's child walked
    out: list[tuple[Record, Dated]] = []
    add = out.append
    for r, rec in zip(records, recs, strict=True):
        if r is None:
            continue  # a closed deal with nothing to do: no record
        if rec == "":  # most deals: nothing dated (a tail starts with MARK, kept.tail)
            if r.status == "open":
                add((r, NOTHING_DATED))
            continue
        closed = r.status != "open"
        if rec is None:
            items = dated(repo.load(r.id), closed)
        else:  # equal tails parsed once (four in ten at 100,000: days done alike)
            parsed = shut if closed else opened
            items = parsed.get(rec) or parsed.setdefault(rec, read(rec, closed))
        if items.planned or not closed:
            add((r, items))
    return out


def _working_records(repo: Repo, index: Index | None, settings: Settings,
                     accounts: dict[str, str], recs: list[str | None] | None = None,
                     agenda: bool = False) -> list[Record]:
    """The records; ``recs``, when given, receives the dated part of each file's rec
    (``kept.tail``) in the same order (None for a file read the careful way). With
    ``agenda``, a closed deal with no activity to do gets None instead of its record
    when it is built (the agenda has nothing of it), and keeps it when it was kept
    whole (``working_dated`` leaves it out as it reads the dated items)."""

    folder = os.path.join(repo.root, OPPORTUNITIES_DIR)
    racy_after = time.time_ns() - RACY_SECONDS * 1_000_000_000
    lent = taken(folder)  # the stat data the replay key took, when it walked the folder
    pre = compared(folder)  # which files differ from the kept records, when it compared
    if os.path.islink(folder):  # never read through a link: the careful path refuses it
        return [_careful(repo, n[:-5], settings) for n in sorted(_entries(folder, lent))
                if n.endswith(".yaml") and not n.startswith(".")]
    build = RecordBuilder(settings, accounts, agenda)
    key = _kept_key(repo, index, build)
    found = kept.load(index, key, tails=agenda) if index is not None and key is not None \
        else None
    if recs is None:
        recs = []
    if found is not None:
        assert index is not None and key is not None
        out = _from_kept(repo, index, key, found, build, lent, pre, racy_after, recs)
        if out is not None:
            return out
    names = sorted(n[:-5] for n in _entries(folder, lent)
                   if n.endswith(".yaml") and not n.startswith("."))
    # kept whole unless this is a cold report (no files table kept: most files to read;
    # #25, its memory): the next report keeps them
    keeping = index is not None and key is not None and not agenda and index.snapshot_kept()
    stats, recent, seen = _stats(folder, names, lent, racy_after, keeping)
    lent = None  # taken out: its table let go (5 MB at 100,000 files, #25: memory)
    out = _records_of(repo, index, build, names, stats, recent, recs, whole=True,
                      tails=keeping or agenda)
    if keeping:
        assert index is not None and key is not None
        files = ".yaml\n".join(names) + ".yaml" if names else ""
        kept.write(index, key, files, kept.trusted(seen, recs), out, recs)
    return out


def _kept_key(repo: Repo, index: Index | None, build: RecordBuilder) -> kept.Key | None:
    blob = repo.__dict__.get("settings_blob")  # the opp.yaml the settings came from
    if index is None or index.generation is None or blob is None:
        return None
    return kept.Key(index.generation, blob, build.names)


def _entries(folder: str, lent: dict[str, tuple] | None) -> Any:
    """The folder's names: those lent, else listed now (none when it is gone)."""
    if lent is not None:
        return lent
    try:
        return os.listdir(folder)
    except FileNotFoundError:
        return []


def _from_kept(repo: Repo, index: Index, key: kept.Key, found: kept.Kept,
               build: RecordBuilder, lent: dict[str, tuple] | None, pre: Ahead | None,
               racy_after: int, recs: list[str | None]) -> list[Record] | None:
    """The records kept whole, with those of the files changed, new or gone since built
    again; kept whole again once more than 1 % of the files (at least 32) differ. None
    when the stat data cannot be compared (the full way then)."""
    folder = os.path.join(repo.root, OPPORTUNITIES_DIR)
    if pre is not None and pre.token == found.head[4]:  # compared by the key's child
        compared = Compared(sorted({*pre.changed, *found.moved}), pre.gone,
                                             pre.new)
        lent = pre.lent  # (of the files changed: those of moved accounts are stat now)
    else:
        entries = lent if lent is not None else set(_entries(folder, None))
        packed = packed_now(lent if lent is not None else kept.stat_all(folder, entries),
                            found.files)
        if packed is None:
            return None
        compared = compare(found.files, found.stats, packed, entries)
    names = sorted([found.records[i].id for i in compared.changed if i not in compared.gone]
                   + compared.new)
    if lent is not None:
        lent = {name: lent[name] for name in map("{}.yaml".format, names) if name in lent}
    stats, recent, seen = _stats(folder, names, lent, racy_after)
    part_recs: list[str | None] = []
    part = _records_of(repo, index, build, names, stats, recent, part_recs, whole=False,
                       tails=True)
    again = not build.agenda and len(names) + len(compared.gone) > max(
        SNAPSHOT_SLACK, len(found.files) // 100)
    if again and found.tails is None:
        found = found._replace(tails=kept.tails_of(index, found))
        again = found.tails is not None
    files, kept_stats, records, tails = kept.merged(
        found, compared, names, kept.trusted(seen, part_recs) if again else None,
        part, part_recs)
    if again and tails is not None:
        kept.write(index, key, "\n".join(files), kept_stats, records, tails)
    if not build.agenda:
        return records
    assert tails is not None  # loaded for the agenda
    recs[:] = tails
    # the agenda: every record, a closed deal with nothing to do among them, which
    # working_dated leaves out as it reads the dated items (one pass, not two)
    return records


# Two passes on purpose: the first keeps of each file only its stat data as one string
# (the replay key's stat data, lent whole, goes as it is read), the second compares it
# with the files table's copy and builds the records, letting go of each row it used.
# At 100,000 files that keeps the copy (56 MB of rows), the key's stat data (33 MB) and
# the records (53 MB) from being held all at once (#25: the peak memory of a report).
def _records_of(repo: Repo, index: Index | None, build: RecordBuilder, names: list[str],
                stats: list[str | None], recent: set[int], recs: list[str | None],
                whole: bool, tails: bool) -> list[Record]:
    """The records of these files (``stats``, ``recent``: as ``_stats`` gives them);
    ``recs`` receives the dated part of each file's rec (None:
    read the careful way; with ``tails`` False, None for all: they are not wanted).
    ``whole``: these are all the files (the files table's rows of others are gone, its
    copy is kept up)."""
    recs[:] = [None] * len(names) if tails else ()  # (not wanted: no 100,000 Nones held)
    snapshot = index.files_snapshot() if index is not None and whole else None
    known = snapshot if snapshot is not None else {} if index is None else \
        index.files() if whole else index.file_rows(names)
    prefix = f"{OPPORTUNITIES_DIR}/"
    out: list[Any] = [None] * len(names)
    # files not taken from the index as they are, in id order: (position, id, stat data
    # to keep or '' when too recent to trust or None when unreadable, blob, rec, err)
    pending: list[list] = []
    used = 0  # rows of the copy used and let go (it is read again should it be written)
    for pos, opp_id in enumerate(names):
        stat = stats[pos]
        if stat is None:  # a link, a FIFO, a folder, too big: the careful path refuses it
            pending.append([pos, opp_id, None, None, None, None])
            continue
        row = known.get(opp_id)
        if row is not None and row[0] == stat:
            if row[3] is None:
                try:
                    out[pos] = build.record(row[2], None, opp_id, f"{prefix}{opp_id}.yaml")
                    if tails:
                        recs[pos] = tail(row[2])
                    if snapshot is not None:
                        del known[opp_id]
                        used += 1
                    continue
                except DataError:
                    pass  # raised below, in id order
            pending.append([pos, opp_id, stat, row[1], row[2], row[3]])
            continue
        pending.append([pos, opp_id, "" if pos in recent else stat, None, None, None])
    stats = []

    looked_up = _from_table(index, pending) if snapshot is not None else 0
    # read (after the stat above: a write in between only makes the stat stale) and hash
    to_read = [item for item in pending if item[2] is not None and item[3] is None]
    found = _read_files(index, os.path.join(repo.root, OPPORTUNITIES_DIR), to_read)
    reread = {item[1] for item in to_read}
    if index is not None:
        gone = set(known) - set(names) if whole else set()
        _remember(index, known, gone, to_read, found)
        if whole and index.generation is not None and (
                snapshot is None or gone or looked_up > max(SNAPSHOT_SLACK, len(names) // 100)):
            rows = _whole(index, known) if used else known
            if rows is not None:
                index.write_snapshot(_rows_now(rows, gone, pending, reread, found))
    # the rows, read or written, and the files read are let go before the records grow
    snapshot = known = rows = {}
    to_read = []
    _build_pending(repo, build, pending, reread, found, out, recs if tails else None)
    return out


def _build_pending(repo: Repo, build: RecordBuilder, pending: list[list], reread: set[str],
                   found: dict[str, Entry], out: list[Any], recs: list[str | None] | None
                   ) -> None:
    """The records of the files not taken from the index as they were, in id order (the
    first invalid file is named)."""
    prefix = f"{OPPORTUNITIES_DIR}/"
    for i, item in enumerate(pending):
        pending[i] = _DONE  # each item let go as its record takes its place
        pos, opp_id, keep, blob = item[:4]
        if keep is None:
            out[pos] = _careful(repo, opp_id, build.settings)  # (its rec stays None)
        elif opp_id in reread:
            # each entry let go once its record is made (#25: a cold report's peak
            # memory): two files can share a content only when one of them is misnamed
            # (the id is in it), and the careful path words that
            entry = found.pop(blob, None)
            if entry is None:
                out[pos] = _careful(repo, opp_id, build.settings)
                continue
            out[pos] = build.record(entry.rec, entry.err, opp_id, f"{prefix}{opp_id}.yaml")
            if recs is not None:
                recs[pos] = tail(entry.rec)
        else:
            out[pos] = build.record(item[4], item[5], opp_id, f"{prefix}{opp_id}.yaml")
            if recs is not None:
                recs[pos] = tail(item[4])


def _stats(folder: str, names: list[str], lent: dict[str, tuple] | None, racy_after: int,
           packing: bool = True) -> tuple[list[str | None], set[int], bytearray]:
    """Each file's stat data as the files table keeps it (``size:mtime:ctime:inode``),
    None for one the careful path must read (gone, a link, a FIFO, a folder, too big);
    the positions of those too recent to trust; and each file's stat data as the
    records kept whole keep it (``kept.STAT``; ``kept.UNTRUSTED`` for those, and those
    too recent). From ``lent`` (the replay key's stat data, taken out as it is used)
    when given, else (and for a file it does not lend) one ``stat`` per file."""
    stats: list[str | None] = [None] * len(names)
    # packed into one buffer (#25: no 100,000 small objects in a cold report's memory)
    packed = bytearray(UNTRUSTED * len(names) if packing else b"")
    recent: set[int] = set()
    S_ISREG, pack, width = stat_module.S_ISREG, STAT.pack_into, STAT.size
    dir_fd = -1
    try:
        for pos, opp_id in enumerate(names):
            item = lent.pop(f"{opp_id}.yaml", None) if lent is not None else None
            if item is None:  # not lent: stat now
                if dir_fd < 0:
                    dir_fd = os.open(folder, os.O_RDONLY)
                try:
                    info = os.stat(f"{opp_id}.yaml", dir_fd=dir_fd, follow_symlinks=False)
                except OSError:
                    continue
                item = (None, None, info.st_mode, info.st_size, info.st_mtime_ns,
                        info.st_ctime_ns, info.st_ino)
            _, _, mode, size, mtime, ctime, ino = item
            if not S_ISREG(mode) or size > MAX_FILE_BYTES:
                continue
            stats[pos] = f"{size}:{mtime}:{ctime}:{ino}"
            if max(mtime, ctime) >= racy_after:
                recent.add(pos)
            elif packing:
                pack(packed, pos * width, mode, size, mtime, ctime, ino)
    finally:
        if dir_fd >= 0:
            os.close(dir_fd)
    return stats, recent, packed


def _whole(index: Index, known: dict[str, tuple]) -> dict[str, tuple] | None:
    """The files table's copy whole again, with the rows ``known`` still holds (the
    report let go of those it used); None when it can no longer be read (it is a cache:
    it is then not written this time)."""
    whole = index.files_snapshot()
    if whole is not None:
        whole.update(known)
    return whole


def _read_files(index: Index | None, folder: str, to_read: list[list]) -> dict[str, Entry]:
    """Read and hash the files of ``to_read`` (``[pos, id, keep, blob…]``, the blob
    filled in here; ``keep`` None for a file that cannot be read: the careful path words
    the error) and parse those the index does not hold yet: {blob: entry}."""
    workers = workers_for(len(to_read))
    if workers > 1:  # many (a fresh clone, no index yet): worker processes do it all
        return _bulk(index, folder, to_read, workers)
    contents: dict[str, bytes] = {}
    for item in to_read:
        try:
            data = read_plain(os.path.join(folder, f"{item[1]}.yaml"))
        except OSError:
            item[2] = None
            continue
        item[3] = blob_id(data)
        contents[item[3]] = data
    found = index.entries(contents) if index is not None and contents else {}
    new = parse_all({b: d for b, d in contents.items() if b not in found})
    found.update(new)
    if index is not None and new:
        index.write(entries=new)
    return found


ROWS_AT_ONCE = 10_000  # file rows written at once (#25: memory at 100,000 files)


def _remember(index: Index, known: dict[str, tuple], gone: set[str], to_read: list[list],
              found: dict[str, Entry]) -> None:
    """Write the files table's rows for the files just read (a file too recent to trust
    loses its row) and for the files gone."""
    file_rows: dict[str, tuple[str, str, Entry] | None] = dict.fromkeys(gone)
    for item in to_read:
        opp_id, keep, blob = item[1], item[2], item[3]
        if keep:
            file_rows[opp_id] = (keep, blob, found[blob])
        elif opp_id in known:
            file_rows[opp_id] = None
        if len(file_rows) >= ROWS_AT_ONCE:  # each row a fact of its own: written in parts
            if not index.write(files=file_rows):
                return  # another writer held the index past the wait: no more waits
            file_rows = {}
    if file_rows:
        index.write(files=file_rows)


def _rows_now(known: dict[str, tuple], gone: set[str], pending: list[list],
              reread: set[str], found: dict[str, Entry]) -> dict[str, tuple]:
    """The files table as this report leaves it (``known`` updated in place, as its
    writes to the table): what ``Index.files`` would read, without reading it."""
    for opp_id in gone:
        del known[opp_id]
    for item in pending:
        opp_id, keep, blob = item[1], item[2], item[3]
        if keep == "":
            known.pop(opp_id, None)  # too recent to trust: forgotten
        elif keep is not None and blob is not None:
            entry = found[blob] if opp_id in reread else Entry(item[4], item[5])
            known[opp_id] = (keep, blob, entry.rec, entry.err)
    return known


def _from_table(index: Index | None, pending: list[list]) -> int:
    """The files whose stat data the files table's whole copy (``Index.files_snapshot``)
    does not match, looked up in the table itself (written since the copy was): a row
    with the same stat data serves as one of the copy would. Returns how many."""
    wanted = [item for item in pending if item[2] and item[3] is None]
    if not wanted or index is None:
        return 0
    rows = index.file_rows(item[1] for item in wanted)
    for item in wanted:
        row = rows.get(item[1])
        if row is not None and row[0] == item[2]:
            item[3], item[4], item[5] = row[1], row[2], row[3]
    return len(wanted)


def _careful(repo: Repo, opp_id: str, settings: Settings) -> Record:
    """One file the fast way could not read: loaded as without an index."""

    return record(repo.load(opp_id), repo.settings, account_names(repo))


def rebuild(repo: Repo) -> dict[str, Any]:
    """Throw the index away and build it again from every file."""
    index = for_repo(repo)
    if index is not None:
        index.discard()
    else:
        Index(index_path(repo)).discard()
    repo.__dict__.pop("_index", None)
    repo.__dict__.pop("settings", None)  # read again, and kept in the new index
    working_records(repo)
    return index_status(repo)
