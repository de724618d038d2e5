"""The index: every opportunity file parsed once, kept under ``.git/``, keyed by blob id.

Reports read every opportunity; parsing YAML is what costs. The index remembers,
for each distinct file content (its git blob id: the SHA-1 of ``blob <size>\\0``
and the bytes, the id git gives it), what parsing and checking it gave: the
fields reports need, the places of a few keys, and the first error when the file
is invalid. Contents never change under an id, so one entry serves the working
tree, the staged files and every past commit alike (``--as-of``, ``changes``).

What depends on more than the bytes is applied when reading, never stored: the
settings (a stage's label, kind and probability, and the checks that need them)
and the file's name (its id must match). So a change of ``opp.yaml`` needs no
file parsed again, and the answer is always the one a full parse gives.

Finding the blob of each working-tree file without reading it: a table of stat
data (size, mtime, ctime, inode) per file name, checked against ``os.scandir``.
A file whose stat differs is read and hashed again. As git does with "racily
clean" entries, stat data is trusted only when the file's times are older than
the moment it was looked at by more than any file system's timestamp
granularity (``RACY_SECONDS``): a file written in the same tick as it was read,
with the same size, is hashed again next time instead of being believed.

It lives in ``.git/opp-index.sqlite3`` (never committed), in SQLite's WAL mode,
so concurrent opp processes read while one writes; every write is one SQLite
transaction, and a write that cannot be made (locked too long, read-only, disk
full) is skipped: the answer is computed anyway. Every row carries a CRC of its
content; a row that does not match it, a file SQLite cannot read, or one written
by another version of opp (``fingerprint``: the index format, the source of the
modules that decide what a file means, and the versions of PyYAML and pydantic)
is thrown away and rebuilt, so a damaged index can cost time, never a wrong
answer. ``OPP_NO_INDEX=1`` bypasses it: every file is parsed, as before.
"""

from __future__ import annotations

import gc
import hashlib
import os
import sqlite3
import stat as stat_module
import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from .errors import DataError
from .records import PlainSettings, Record, stage_problems

if TYPE_CHECKING:
    from .model import Opportunity
    from .store import Repo


INDEX_FORMAT = 1
FILE_NAME = "opp-index.sqlite3"
RACY_SECONDS = 3  # stat data younger than this (vs the moment it was read) is not trusted
PARALLEL_MIN = 2000  # parse in worker processes from this many files on
SEP = "\x1f"  # between record fields: validated fields never hold control characters
LOCK_WAIT = 5.0  # seconds a write waits for another writer before it is skipped

# the modules whose code decides what a file's entry holds: any change rebuilds the index
_SOURCES = ("index.py", "records.py", "yamlio.py", "model.py", "rules.py", "quotes.py",
            "money.py", "errors.py", "store.py")


def enabled() -> bool:
    """False when ``OPP_NO_INDEX`` is set (to anything but empty or 0): parse every file."""
    return os.environ.get("OPP_NO_INDEX", "") in ("", "0")


def blob_id(data: bytes) -> str:
    """The id git gives these bytes as a blob (SHA-1 object format)."""
    return hashlib.sha1(b"blob %d\0%s" % (len(data), data)).hexdigest()


_fingerprint: str | None = None


def fingerprint() -> str:
    """Who wrote an index: its format, opp's parsing code and its libraries' versions."""
    global _fingerprint
    if _fingerprint is None:
        from importlib.util import find_spec

        digest = hashlib.sha1(f"format {INDEX_FORMAT}".encode())
        here = Path(__file__).parent
        for name in _SOURCES:
            try:
                digest.update((here / name).read_bytes())
            except OSError:
                digest.update(b"-")
        for module in ("yaml", "_yaml", "pydantic", "pydantic_core"):
            try:
                spec = find_spec(module)
                origin = spec.origin if spec else None
                info = os.stat(origin) if origin else None
                digest.update(f"{module} {origin} {info.st_size} {info.st_mtime_ns}".encode()
                              if info else module.encode())
            except (OSError, ImportError, ValueError):
                digest.update(module.encode())
        _fingerprint = digest.hexdigest()
    return _fingerprint


def _crc(*parts: str | None) -> int:
    return zlib.crc32(SEP.join(p or "" for p in parts).encode("utf-8", "surrogatepass"))


def _file_crc(rec: str | None, err: str | None) -> int:
    """The CRC of a file row's entry (as ``Index.files`` checks it, fast)."""
    text = (rec or "") if err is None else f"{rec or ''}{SEP}{err}"
    return zlib.crc32(text.encode("utf-8", "surrogatepass"))


class Corrupt(Exception):
    """The index does not hold what it says: throw it away."""


# ---------------------------------------------------------------- entries: what a blob holds


@dataclass(frozen=True)
class Entry:
    """A file content parsed and checked, minus what depends on its name and the settings.

    ``rec``: the record fields and the places of some keys, joined by SEP, or None when
    the file is not a valid opportunity; ``err``: ``message SEP line SEP column`` of the
    first error (the YAML or schema error when ``rec`` is None, else the first rule the
    file breaks whatever the settings), or None.
    """

    rec: str | None
    err: str | None
    detail: str | None = None  # when just parsed and valid: ``views.detail`` as JSON


# rec fields, in order
_FIELDS = ("id", "name", "customer", "owner", "stage", "amount", "objective", "currency",
           "close_date", "created", "amount_source", "ref", "lost_reason")
_LOCS = ("id", "stage", "close_date", "lost_reason")  # (line, column) of each, after the fields


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (date, Decimal)):
        return str(value) if isinstance(value, Decimal) else value.isoformat()
    return str(value)


def _error_text(exc: DataError) -> str:
    return f"{exc.message}{SEP}{exc.line or ''}{SEP}{exc.column or ''}"


def _fast_load(data: bytes) -> tuple[Any, Any] | None:
    """(data, node) of a plain file, None for anything else, which then takes
    ``yamlio.load``. A file opp wrote by its fast path is read by ``yamlio.fast_load``
    (the node is then its ``FastRead``); another plain one (no anchors, aliases, merge
    keys or duplicate keys) by the same loader as ``yamlio.load`` minus its node walk.
    A file this accepts and the schema validates is one ``yamlio.load`` accepts with
    the same data: what the walk refuses needs ``&``, ``*`` or ``<<`` (absent here), a
    duplicate key (a smaller mapping here) or nesting deeper than any valid
    opportunity."""
    from . import yamlio

    if len(data) > yamlio.MAX_FILE_BYTES or b"\0" in data:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    read = yamlio.fast_load(text)  # a file opp wrote by its fast path: no PyYAML at all
    if read is not None:
        return read.data, read
    if yamlio._estimate(text) > yamlio.MAX_NODES:
        return None  # the careful path counts the values and refuses, memory bounded
    if b"&" in data or b"*" in data or b"<<" in data:
        return None
    loader = _fast_loader()(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        return loader.construct_document(node), node
    except Exception:  # anything odd: the careful path says what
        return None
    finally:
        loader.dispose()


_FastLoader: Any = None


def _fast_loader():
    global _FastLoader
    if _FastLoader is None:
        from . import yamlio

        class FastLoader(yamlio._Loader):
            def construct_mapping(self, node, deep=False):
                mapping = super().construct_mapping(node, deep=deep)
                if len(mapping) != len(node.value):
                    raise ValueError("duplicate key")
                return mapping

        _FastLoader = FastLoader
    return _FastLoader


def parse(data: bytes) -> Entry:
    """The entry of an opportunity file's bytes: what ``Repo.load_errors`` finds, less the
    checks that need the file's name or the settings (made by ``make_record``)."""
    from . import yamlio
    from .model import Opportunity
    from .rules import form_problems
    from .store import Repo

    opp, node = None, None
    fast = _fast_load(data)
    if fast is not None:
        try:
            opp = Opportunity.model_validate(fast[0])
            node = fast[1]
        except Exception:
            opp = None
    if opp is None:
        try:
            loaded, node = yamlio.load(data, "")
        except DataError as exc:
            return Entry(None, _error_text(exc))
        result = Repo.model_errors(Opportunity, "", loaded, node)
        if isinstance(result, list):
            return Entry(None, _error_text(result[0]))
        opp = result
    fields = [_text(getattr(opp, name)) for name in _FIELDS]
    for key in _LOCS:
        place = node.locate(key) if isinstance(node, yamlio.FastRead) else None
        line, column = place or yamlio.locate(_node(node, data), (key,))
        fields += [str(line), str(column)]
    err = None
    found = form_problems(opp)
    if found:
        line, column = yamlio.locate(_node(node, data), found[0].loc)
        err = _error_text(DataError(found[0].message, None, line, column))
    return Entry(SEP.join(fields), err, None if err else _detail(opp))


def _node(node: Any, data: bytes) -> Any:
    """The YAML node of a file (parsed again when only the fast reader read it)."""
    from . import yamlio

    return yamlio.load(data, "")[1] if isinstance(node, yamlio.FastRead) else node


_NEUTRAL: Any = None


def _detail(opp: Opportunity) -> str:
    """``views.detail`` of a valid opportunity as JSON, read with settings that have every
    module on; ``working_detail`` puts in the stage's label, status and probability."""
    import json

    from .model import Settings
    from .views import detail

    global _NEUTRAL
    if _NEUTRAL is None:
        _NEUTRAL = Settings()
    return json.dumps(detail(opp, _NEUTRAL), ensure_ascii=False, separators=(",", ":"))


def _parse_many(items: list[tuple[str, bytes]]) -> list[tuple[str, Entry]]:
    return [(blob, parse(data)) for blob, data in items]


def parse_all(items: dict[str, bytes]) -> dict[str, Entry]:
    """Entries of many blobs; with many, in worker processes (one per CPU, fork)."""
    todo = list(items.items())
    workers = _workers(len(todo))
    if workers <= 1:
        return dict(_parse_many(todo))
    import multiprocessing

    from . import model, rules, views  # noqa: F401  (imported once, before the fork)

    size = max(200, len(todo) // (workers * 8))
    chunks = [todo[i:i + size] for i in range(0, len(todo), size)]
    out: dict[str, Entry] = {}
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        for part in pool.imap_unordered(_parse_many, chunks):
            out.update(part)
    return out


_BULK: dict[str, Any] = {}  # set by the parent before the fork: folder, blob ids known


def _read_and_parse(ids: list[str]) -> list[tuple]:
    """In a worker: read, hash and (unless the index has the blob) parse these files."""
    folder, known = _BULK["folder"], _BULK["known"]
    out: list[tuple] = []
    for opp_id in ids:
        try:
            with open(os.path.join(folder, f"{opp_id}.yaml"), "rb") as fh:
                data = fh.read()
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

    from . import model, rules, views  # noqa: F401  (imported once, before the fork)

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
                        batch[blob] = Entry(*parsed)
                        found[blob] = Entry(parsed[0], parsed[1])
                if index is not None and len(batch) >= 10000:
                    index.write(entries=batch)
                    batch = {}
    finally:
        gc.unfreeze()
        _BULK.clear()
    if index is not None and batch:
        index.write(entries=batch)
    need = {item[3] for item in items if item[3] is not None and item[3] not in found}
    if need and index is not None:
        found.update(index.entries(need))
    return found


def _workers(count: int) -> int:
    if count < PARALLEL_MIN or os.name != "posix" or not hasattr(os, "fork"):
        return 1
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:
        cpus = os.cpu_count() or 1
    if os.uname().sysname == "Darwin":  # fork without exec is not safe there
        return 1
    return max(1, min(cpus, 8))


def _error(err: str, relpath: str) -> DataError:
    message, line, column = err.rsplit(SEP, 2)
    return DataError(message, relpath, int(line) if line else None,
                     int(column) if column else None)


def make_record(entry: Entry, opp_id: str, relpath: str, settings: PlainSettings) -> Record:
    """The record of an entry found at ``relpath``, read with ``settings``; the first
    error ``Repo.load`` would raise for that file otherwise, in the same words and place."""
    return _Builder(settings).record(entry.rec, entry.err, opp_id, relpath)


class _Builder:
    """Records from entries under one set of settings; equal small values (dates, owners,
    customers, stages) are shared between records, which saves time and memory."""

    def __init__(self, settings: PlainSettings):
        self.settings = settings
        self.ranks = stage_ranks(settings)
        self.dates: dict[str, date] = {}
        self.words: dict[str, str] = {}

    def date(self, text: str) -> date:
        """The date of a non-empty ISO text, shared between records."""
        found = self.dates.get(text)
        if found is None:
            found = self.dates[text] = date.fromisoformat(text)
        return found

    def record(self, rec: str | None, err: str | None, opp_id: str,
               relpath: str) -> Record:
        if rec is None:
            raise _error(err or f"unreadable{SEP}{SEP}", relpath)
        f = rec.split(SEP)
        stage = self.ranks.get(f[4])
        # the usual case first: the stage exists and the rules that read it hold
        if f[0] != opp_id or stage is None or err is not None or \
                (stage[2] != "open" and not f[8]) or (f[12] and stage[2] != "lost"):
            _refuse(f, Entry(rec, err), opp_id, relpath, self.settings)
        words, dates = self.words, self.dates
        customer, owner, currency, source, closed, created = (f[2], f[3], f[7], f[10], f[8],
                                                              f[9])
        return Record(f[0], f[1], words.get(customer) or words.setdefault(customer, customer),
                      words.get(owner) or words.setdefault(owner, owner),
                      stage[4], stage[1], stage[0], stage[2], stage[3], Decimal(f[5]),
                      Decimal(f[6]) if f[6] else None,
                      words.get(currency) or words.setdefault(currency, currency),
                      (dates.get(closed) or self.date(closed)) if closed else None,
                      dates.get(created) or self.date(created),
                      words.get(source) or words.setdefault(source, source), f[11] or None)


def _refuse(f: list[str], entry: Entry, opp_id: str, relpath: str,
            settings: PlainSettings) -> NoReturn:
    """Raise what ``Repo.load_errors`` finds first: the id, then the stage rules, then
    the rules that hold whatever the settings."""
    locs = f[len(_FIELDS):]

    def at(key: str) -> tuple[int | None, int | None]:
        i = 2 * _LOCS.index(key)
        return (None if locs[i] == "None" else int(locs[i]),
                None if locs[i + 1] == "None" else int(locs[i + 1]))

    if f[0] != opp_id:
        raise DataError(f"id '{f[0]}' does not match the file name {opp_id}.yaml", relpath,
                        *at("id"))
    close_date = date.fromisoformat(f[8]) if f[8] else None
    found = stage_problems(f[4], close_date, f[12] or None, settings)
    if found:
        loc, message = found[0]
        raise DataError(message, relpath, *at(loc[0]))
    if entry.err is not None:
        raise _error(entry.err, relpath)
    raise AssertionError(f"{relpath}: _refuse called with no rule broken")  # see the caller


def stage_ranks(settings: PlainSettings) -> dict[str, tuple]:
    """stage id -> (rank, label, kind, probability, id)."""
    return {s.id: (i, s.label, s.kind, s.probability, s.id)
            for i, s in enumerate(settings.stages)}


# ---------------------------------------------------------------- the database


_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS blobs (blob TEXT PRIMARY KEY, rec TEXT, err TEXT,
                                  crc INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS files (name TEXT PRIMARY KEY, stat TEXT NOT NULL,
                                  blob TEXT NOT NULL, rec TEXT, err TEXT,
                                  crc INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS settings (blob TEXT PRIMARY KEY, data TEXT NOT NULL,
                                     crc INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS details (blob TEXT PRIMARY KEY, data TEXT NOT NULL,
                                    crc INTEGER NOT NULL);
"""


def index_path(repo: Repo) -> Path:
    """``.git/opp-index.sqlite3``; a data repo below the top of its git work tree gets its
    own file (``opp-index-<hash of its folder>.sqlite3``)."""
    git_dir = Path(repo.git_dir)
    if git_dir == Path(repo.root) / ".git":
        return git_dir / FILE_NAME
    tag = hashlib.sha1(str(Path(repo.root).resolve()).encode()).hexdigest()[:12]
    return git_dir / f"opp-index-{tag}.sqlite3"


class Index:
    """The SQLite file of one data repo. Reads raise ``Corrupt`` on damage; writes are
    best effort (``False`` when skipped)."""

    def __init__(self, path: Path):
        self.path = path
        self.con: sqlite3.Connection | None = None

    # -------------------------------------------------------- opening

    @classmethod
    def open(cls, repo: Repo) -> Index | None:
        """The index of ``repo``, checked and ready; None when it cannot be had (then
        callers parse every file)."""
        try:
            path = index_path(repo)
        except Exception:
            return None
        index = cls(path)
        for _attempt in range(2):
            try:
                index._connect()
                return index
            except (sqlite3.DatabaseError, Corrupt):
                index.discard()
            except OSError:
                index.close()
                return None
        return None

    def _connect(self) -> None:
        fresh = not self.path.exists()
        con = sqlite3.connect(self.path, timeout=LOCK_WAIT, isolation_level=None,
                              check_same_thread=False)
        self.con = con
        if fresh:
            try:
                con.execute("PRAGMA journal_mode=WAL")
            except sqlite3.OperationalError:
                pass
        con.execute("PRAGMA synchronous=NORMAL")
        version = None
        try:
            row = con.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()
            version = row[0] if row else None
        except sqlite3.OperationalError as exc:
            if "no such table" not in str(exc):
                raise
        if version != fingerprint():
            self._reset()

    def _reset(self) -> None:
        """Empty tables of this version (under SQLite's write lock: one process does it)."""
        con = self.con
        assert con is not None
        con.execute("BEGIN IMMEDIATE")
        try:
            try:
                row = con.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()
            except sqlite3.OperationalError:
                row = None
            if not row or row[0] != fingerprint():
                for table in ("meta", "blobs", "files", "settings", "details"):
                    con.execute(f"DROP TABLE IF EXISTS {table}")
                for statement in filter(str.strip, _SCHEMA.split(";")):
                    con.execute(statement)
                con.execute("INSERT INTO meta VALUES ('version', ?)", (fingerprint(),))
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK") if con.in_transaction else None
            raise

    def close(self) -> None:
        if self.con is not None:
            try:
                self.con.close()
            except sqlite3.Error:
                pass
            self.con = None

    def discard(self) -> None:
        """Throw the file away (and SQLite's companions); the next open starts afresh."""
        self.close()
        for suffix in ("", "-wal", "-shm", "-journal"):
            try:
                os.unlink(f"{self.path}{suffix}")
            except FileNotFoundError:
                pass
            except OSError:
                pass

    # -------------------------------------------------------- reading

    def _rows(self, sql: str, args: Iterable = ()) -> list:
        assert self.con is not None
        try:
            return self.con.execute(sql, tuple(args)).fetchall()
        except sqlite3.DatabaseError as exc:
            raise Corrupt(str(exc)) from None

    def entries(self, blobs: Iterable[str]) -> dict[str, Entry]:
        """The entries the index has of these blobs."""
        wanted = list(set(blobs))
        out: dict[str, Entry] = {}
        for i in range(0, len(wanted), 500):
            part = wanted[i:i + 500]
            marks = ",".join("?" * len(part))
            for blob, rec, err, crc in self._rows(
                    f"SELECT blob, rec, err, crc FROM blobs WHERE blob IN ({marks})", part):
                if _crc(blob, rec, err) != crc:
                    raise Corrupt(f"blob row {blob}")
                out[blob] = Entry(rec, err)
        return out

    def files(self) -> dict[str, tuple]:
        """name -> (stat, blob, rec, err): the working tree as last seen, each file with a
        copy of its blob's entry (one table read in order: the warm path), checked
        against its CRC. The CRC covers the entry only: damage to the name, stat data or
        blob id can only make a file be read again (or its row be rewritten), never give
        it another content's answer."""
        out = {}
        crc32 = zlib.crc32
        assert self.con is not None
        try:
            for name, stat, blob, rec, err, crc in self.con.execute(
                    "SELECT name, stat, blob, rec, err, crc FROM files"):
                text = (rec or "") if err is None else f"{rec or ''}{SEP}{err}"
                if crc32(text.encode("utf-8", "surrogatepass")) != crc:
                    raise Corrupt(f"file row {name}")
                out[name] = (stat, blob, rec, err)
        except sqlite3.DatabaseError as exc:
            raise Corrupt(str(exc)) from None
        return out

    def file_row(self, name: str) -> tuple | None:
        """(stat, blob, entry) of one working-tree file, as ``files`` gives them."""
        rows = self._rows("SELECT stat, blob, rec, err, crc FROM files WHERE name = ?", (name,))
        if not rows:
            return None
        stat, blob, rec, err, crc = rows[0]
        if _file_crc(rec, err) != crc:
            raise Corrupt(f"file row {name}")
        return stat, blob, Entry(rec, err)

    def detail(self, blob: str) -> str | None:
        rows = self._rows("SELECT data, crc FROM details WHERE blob = ?", (blob,))
        if not rows:
            return None
        if _crc(blob, rows[0][0]) != rows[0][1]:
            raise Corrupt(f"detail row {blob}")
        return rows[0][0]

    def settings(self, blob: str) -> PlainSettings | None:
        import json

        rows = self._rows("SELECT data, crc FROM settings WHERE blob = ?", (blob,))
        if not rows:
            return None
        data, crc = rows[0]
        if _crc(blob, data) != crc:
            raise Corrupt(f"settings row {blob}")
        try:
            return PlainSettings.from_dict(json.loads(data))
        except (ValueError, KeyError, TypeError) as exc:
            raise Corrupt(f"settings row {blob}: {exc}") from None

    def counts(self) -> dict[str, int]:
        return {table: self._rows(f"SELECT count(*) FROM {table}")[0][0]
                for table in ("blobs", "files", "settings", "details")}

    # -------------------------------------------------------- writing

    def write(self, *, entries: dict[str, Entry] | None = None,
              files: dict[str, tuple[str, str, Entry] | None] | None = None,
              settings: tuple[str, PlainSettings] | None = None) -> bool:
        """Add entries, set (``(stat, blob, entry)``) or forget (None) file rows, add settings.
        One transaction; False when it could not be made."""
        import json

        if self.con is None:
            return False
        con = self.con
        try:
            con.execute("BEGIN IMMEDIATE")
            try:
                if entries:
                    con.executemany("INSERT OR REPLACE INTO blobs VALUES (?, ?, ?, ?)",
                                    [(b, e.rec, e.err, _crc(b, e.rec, e.err))
                                     for b, e in entries.items()])
                    con.executemany("INSERT OR REPLACE INTO details VALUES (?, ?, ?)",
                                    [(b, e.detail, _crc(b, e.detail))
                                     for b, e in entries.items() if e.detail])
                if files:
                    gone = [(n,) for n, v in files.items() if v is None]
                    if gone:
                        con.executemany("DELETE FROM files WHERE name = ?", gone)
                    con.executemany("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?)",
                                    [(n, s, b, e.rec, e.err, _file_crc(e.rec, e.err))
                                     for n, v in files.items() if v is not None
                                     for s, b, e in [v]])
                if settings:
                    blob, plain = settings
                    data = json.dumps(plain.as_dict())
                    con.execute("INSERT OR REPLACE INTO settings VALUES (?, ?, ?)",
                                (blob, data, _crc(blob, data)))
                con.execute("COMMIT")
            except BaseException:
                if con.in_transaction:
                    con.execute("ROLLBACK")
                raise
            return True
        except sqlite3.Error:
            return False


# ---------------------------------------------------------------- the store's way in


def for_repo(repo: Repo) -> Index | None:
    """The repo's open index (one per ``Repo`` object), or None when disabled or unusable."""
    if not enabled():
        return None
    if "_index" not in repo.__dict__:
        repo.__dict__["_index"] = Index.open(repo)
    return repo.__dict__["_index"]


def _retry(repo: Repo, work: Callable[[Index | None], Any]) -> Any:
    """Run ``work(index)``; a damaged index is thrown away and the work done again on a
    fresh one (and without an index at all when even that fails)."""
    index = for_repo(repo)
    for attempt in range(3):
        try:
            return work(index)
        except Corrupt:
            if index is not None:
                index.discard()
            index = Index.open(repo) if attempt == 0 else None
            repo.__dict__["_index"] = index
    return work(None)


def report_settings(repo: Repo) -> PlainSettings:
    """The settings as reports read them: from the index when it knows this ``opp.yaml``
    (no pydantic then), else parsed (and remembered)."""
    cached = repo.__dict__.get("_plain_settings")
    if cached is not None:
        return cached

    def work(index: Index | None) -> PlainSettings:
        from .records import plain_settings

        data = repo.settings_bytes()
        if data is None or index is None:
            return plain_settings(repo.settings)
        blob = blob_id(data)
        found = index.settings(blob)
        if found is None:
            found = plain_settings(repo.settings_from_bytes(data))
            index.write(settings=(blob, found))
        return found

    plain = _retry(repo, work)
    repo.__dict__["_plain_settings"] = plain
    return plain


def records_of_blobs(repo: Repo, items: list[tuple[str, str]], read: Callable[[list[str]], dict],
                     wrap: Callable[[DataError], DataError] = lambda e: e) -> list[Record]:
    """Records of (opp id, blob id) pairs in this order, each from the index or parsed
    from ``read(blob ids) -> {blob: bytes}`` (and remembered); raises the error of the
    first invalid one, as ``Repo.load`` words it, through ``wrap``."""
    from .store import OPPORTUNITIES_DIR

    settings = report_settings(repo)
    known = entries_for(repo, {blob for _, blob in items}, read)
    build = _Builder(settings)
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

    return _retry(repo, work)


def remember(repo: Repo, written: dict[str, bytes]) -> None:
    """Index the opportunity files a change just wrote (relpath -> bytes), so that the
    next report need not parse them; best effort."""
    from .store import OPPORTUNITIES_DIR

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


# ---------------------------------------------------------------- the working tree


def working_records(repo: Repo) -> list[Record]:
    """Every opportunity of the working tree, in id order, exactly as ``Repo.load_all``
    then ``records.record`` give them (the same first error when one is invalid)."""
    settings = report_settings(repo)
    return _retry(repo, lambda index: _working_records(repo, index, settings))


def _working_records(repo: Repo, index: Index | None, settings: PlainSettings) -> list[Record]:
    from .journal import MAX_FILE_BYTES
    from .store import OPPORTUNITIES_DIR

    folder = os.path.join(repo.root, OPPORTUNITIES_DIR)
    racy_after = time.time_ns() - RACY_SECONDS * 1_000_000_000
    try:
        names = sorted(n[:-5] for n in os.listdir(folder)
                       if n.endswith(".yaml") and not n.startswith("."))
    except FileNotFoundError:
        names = []
    if os.path.islink(folder):  # never read through a link: the careful path refuses it
        return [_careful(repo, opp_id, settings) for opp_id in names]
    known = index.files() if index is not None else {}
    build = _Builder(settings)
    prefix = f"{OPPORTUNITIES_DIR}/"

    out: list[Any] = [None] * len(names)
    # files not taken from the index as they are, in id order: (position, id, stat data
    # to keep or '' when too recent to trust or None when unreadable, blob, rec, err)
    pending: list[list] = []
    S_ISREG = stat_module.S_ISREG
    dir_fd = os.open(folder, os.O_RDONLY) if names else -1
    try:
        for pos, opp_id in enumerate(names):
            try:
                info = os.stat(f"{opp_id}.yaml", dir_fd=dir_fd, follow_symlinks=False)
            except OSError:
                pending.append([pos, opp_id, None, None, None, None])
                continue
            # a link, a FIFO, a folder, a file too big to read: the careful path refuses it
            if not S_ISREG(info.st_mode) or info.st_size > MAX_FILE_BYTES:
                pending.append([pos, opp_id, None, None, None, None])
                continue
            stat = f"{info.st_size}:{info.st_mtime_ns}:{info.st_ctime_ns}:{info.st_ino}"
            row = known.get(opp_id)
            if row is not None and row[0] == stat:
                if row[3] is None:
                    try:
                        out[pos] = build.record(row[2], None, opp_id, f"{prefix}{opp_id}.yaml")
                        continue
                    except DataError:
                        pass  # raised below, in id order
                pending.append([pos, opp_id, stat, row[1], row[2], row[3]])
                continue
            keep = stat if max(info.st_mtime_ns, info.st_ctime_ns) < racy_after else ""
            pending.append([pos, opp_id, keep, None, None, None])
    finally:
        if dir_fd >= 0:
            os.close(dir_fd)

    # read (after the stat above: a write in between only makes the stat stale) and hash
    to_read = [item for item in pending if item[2] is not None and item[3] is None]
    workers = _workers(len(to_read))
    if workers > 1:  # many (a fresh clone, no index yet): worker processes do it all
        found = _bulk(index, folder, to_read, workers)
    else:
        contents: dict[str, bytes] = {}
        for item in to_read:
            try:
                with open(os.path.join(folder, f"{item[1]}.yaml"), "rb") as fh:
                    data = fh.read()
            except OSError:
                item[2] = None  # the careful path words the error
                continue
            item[3] = blob_id(data)
            contents[item[3]] = data
        found = index.entries(contents) if index is not None and contents else {}
        new = parse_all({b: d for b, d in contents.items() if b not in found})
        found.update(new)
        if index is not None and new:
            index.write(entries=new)

    file_rows: dict[str, tuple[str, str, Entry] | None] = {
        opp_id: None for opp_id in set(known) - set(names)}
    for item in to_read:
        opp_id, keep, blob = item[1], item[2], item[3]
        if keep:
            file_rows[opp_id] = (keep, blob, found[blob])
        elif opp_id in known:
            file_rows[opp_id] = None
    if index is not None and file_rows:
        index.write(files=file_rows)
    reread = {item[1] for item in to_read}

    for item in pending:  # in id order: the first invalid file is the one named
        pos, opp_id, keep, blob = item[:4]
        if keep is None:
            out[pos] = _careful(repo, opp_id, settings)
        elif opp_id in reread:
            entry = found[blob]
            out[pos] = build.record(entry.rec, entry.err, opp_id, f"{prefix}{opp_id}.yaml")
        else:
            out[pos] = build.record(item[4], item[5], opp_id, f"{prefix}{opp_id}.yaml")
    return out


def working_detail(repo: Repo, opp_id: str) -> dict:
    """``opp show --format json`` of a working-tree file: from the index when it has the
    file's content (else parsed and remembered), after the checks ``Repo.load`` makes."""
    settings = report_settings(repo)
    return _retry(repo, lambda index: _working_detail(repo, index, opp_id, settings))


def _working_detail(repo: Repo, index: Index | None, opp_id: str,
                    settings: PlainSettings) -> dict:
    import json

    from .journal import MAX_FILE_BYTES
    from .store import OPPORTUNITIES_DIR

    relpath = f"{OPPORTUNITIES_DIR}/{opp_id}.yaml"
    path = os.path.join(repo.root, relpath)
    try:
        info = os.lstat(path)
        if (index is None or not stat_module.S_ISREG(info.st_mode)
                or info.st_size > MAX_FILE_BYTES
                or os.path.islink(os.path.join(repo.root, OPPORTUNITIES_DIR))):
            raise OSError
        stat = f"{info.st_size}:{info.st_mtime_ns}:{info.st_ctime_ns}:{info.st_ino}"
        row = index.file_row(opp_id)
        data = None
        if row is not None and row[0] == stat:
            blob, entry = row[1], row[2]
        else:
            with open(path, "rb") as fh:
                data = fh.read()
            blob, entry = blob_id(data), None
        text = index.detail(blob)
        if entry is None:
            entry = index.entries([blob]).get(blob)
        if entry is None or (text is None and entry.rec is not None and entry.err is None):
            if data is None:
                with open(path, "rb") as fh:
                    data = fh.read()
                blob = blob_id(data)
            entry = parse(data)
            index.write(entries={blob: entry})
            text = entry.detail
    except OSError:  # gone, unreadable, not a file: the careful path words it
        from .views import detail as full_detail

        return full_detail(repo.load(opp_id), repo.settings)
    make_record(entry, opp_id, relpath, settings)  # the checks Repo.load makes
    assert text is not None  # a file that passes them was parsed with its detail
    out = json.loads(text)
    stage = settings.stage(out["stage"])
    out.update(stage_label=stage.label, status=stage.kind, probability=stage.probability)
    return out  # every key whatever the modules, as views.detail gives it


def _careful(repo: Repo, opp_id: str, settings: PlainSettings) -> Record:
    """One file the fast way could not read: loaded as without an index."""
    from .records import record

    return record(repo.load(opp_id), repo.settings)


# ---------------------------------------------------------------- maintenance


def status(repo: Repo) -> dict[str, Any]:
    """What ``opp index status`` prints."""
    path = index_path(repo)
    out: dict[str, Any] = {"path": str(path), "enabled": enabled(),
                           "exists": path.exists(),
                           "bytes": path.stat().st_size if path.exists() else 0}
    index = for_repo(repo)
    if index is not None:
        try:
            out.update(index.counts())
        except Corrupt:
            out["corrupt"] = True
    return out


def rebuild(repo: Repo) -> dict[str, Any]:
    """Throw the index away and build it again from every file."""
    index = for_repo(repo)
    if index is not None:
        index.discard()
    else:
        Index(index_path(repo)).discard()
    repo.__dict__.pop("_index", None)
    repo.__dict__.pop("_plain_settings", None)
    working_records(repo)
    return status(repo)
