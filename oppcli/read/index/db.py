"""The index's SQLite file (``.git/opp-index.sqlite3``): entries by blob id, the stat
data of working files, the settings it read, the day each opportunity file was last
committed (as of a commit it names); discarded and rebuilt when damaged.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import zlib
from collections.abc import Callable, Iterable
from importlib.util import find_spec
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from ...domain.settings import Settings
from .entry import SEP, Entry
from .stats import open_copy, read_part, write_part

if TYPE_CHECKING:
    from ...store.repo import Repo

INDEX_FORMAT = 3  # 2: the settings row holds the whole opp.yaml (#18); 3: MARK (#24)


FILE_NAME = "opp-index.sqlite3"


LOCK_WAIT = 5.0  # seconds a write waits for another writer before it is skipped
WAL_TRIM = 256 << 10  # bytes of SQLite's write-ahead log folded into the file at a write

# The files table, also kept whole in one marshal file beside the SQLite one (#25): read
# in a few milliseconds where SQLite's rows take 15 ms per 10,000. Every row is a fact
# that stays true (this stat data, then this content), so an older copy can only make a
# file be looked up again; it belongs to one SQLite file (its ``generation``). It is
# written and read in parts of 10,000 rows, each with its length and CRC: one marshal
# body of 100,000 rows held 30 MB, and its writing 48 MB, beside everything a cold
# report holds (#25: its peak memory).
SNAPSHOT_MAGIC = b"opp-files 2\n"
SNAPSHOT_PART = 10_000


# the modules whose code decides what a file's entry holds: any change rebuilds the index
_SOURCES = ("read/index/entry.py", "read/index/db.py", "read/index/worktree.py",
            "read/index/kept.py", "read/index/stats.py",
            "domain/records.py", "domain/settings.py", "domain/stages.py", "domain/model.py",
            "domain/checks.py", "domain/products.py", "domain/quotes.py", "domain/views.py",
            "domain/money.py", "domain/categories.py", "read/deal_history.py",
            "store/accounts.py", "domain/accounts.py", "read/index/accounts.py",
            "store/yamlio.py", "store/pyyaml.py", "store/files.py", "errors.py")


def enabled() -> bool:
    """False when ``OPP_NO_INDEX`` is set (to anything but empty or 0): parse every file."""
    return os.environ.get("OPP_NO_INDEX", "") in ("", "0")


_fingerprint: str | None = None


def fingerprint() -> str:
    """Who wrote an index: its format, opp's parsing code and its libraries' versions."""
    global _fingerprint
    if _fingerprint is None:
        digest = hashlib.sha1(f"format {INDEX_FORMAT}".encode())
        here = Path(__file__).parents[2]  # oppcli/
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
CREATE TABLE IF NOT EXISTS touches (head TEXT NOT NULL, data TEXT NOT NULL,
                                    crc INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS history (head TEXT NOT NULL, data TEXT NOT NULL,
                                    crc INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS accounts (name TEXT PRIMARY KEY, blob TEXT NOT NULL,
                                     data TEXT NOT NULL, crc INTEGER NOT NULL);
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
        self.generation: str | None = None  # this SQLite file's own random id

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
        meta: dict[str, str] = {}
        try:
            meta = dict(con.execute(
                "SELECT key, value FROM meta WHERE key IN ('version', 'generation')"))
        except sqlite3.OperationalError as exc:
            if "no such table" not in str(exc):
                raise
        if meta.get("version") != fingerprint():
            self._reset()
            meta = dict(con.execute(
                "SELECT key, value FROM meta WHERE key IN ('version', 'generation')"))
        self.generation = meta.get("generation")

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
                for table in ("meta", "blobs", "files", "settings", "details", "touches",
                              "history", "accounts"):
                    con.execute(f"DROP TABLE IF EXISTS {table}")
                for statement in filter(str.strip, _SCHEMA.split(";")):
                    con.execute(statement)
                con.execute("INSERT INTO meta VALUES ('version', ?)", (fingerprint(),))
                con.execute("INSERT INTO meta VALUES ('generation', ?)",
                            (os.urandom(12).hex(),))
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
        paths: list[str | Path] = [f"{self.path}{s}" for s in ("", "-wal", "-shm", "-journal")]
        for path in (*paths, self.snapshot_path(), self.records_path()):
            try:
                os.unlink(path)
            except OSError:
                pass

    # -------------------------------------------------------- the files, whole

    def _beside(self, suffix: str) -> Path:
        return self.path.with_name(self.path.name.replace(".sqlite3", "") + suffix)

    def snapshot_path(self) -> Path:
        return self._beside(".files")

    def records_path(self) -> Path:
        """The working tree's records kept whole (``kept.py``)."""
        return self._beside(".records")

    def _snapshot_parts(self, fh: BinaryIO, end: int) -> int | None:
        """How many parts the files table's copy open in ``fh`` has after its head; None
        when it is no copy of this SQLite file's (``ValueError`` when damaged)."""
        if self.generation is None or fh.read(len(SNAPSHOT_MAGIC)) != SNAPSHOT_MAGIC:
            return None
        head = read_part(fh, end)
        if type(head) is not tuple or len(head) != 2 or head[0] != self.generation:
            return None
        return head[1]

    def snapshot_kept(self) -> bool:
        """Whether this SQLite file's files table is kept whole (its copy's head read
        alone): a report that finds none is a cold one."""
        try:
            with open_copy(self.snapshot_path()) as fh:
                return self._snapshot_parts(fh, os.fstat(fh.fileno()).st_size) is not None
        except (OSError, ValueError, EOFError, TypeError):
            return False

    def files_snapshot(self) -> dict[str, tuple] | None:
        """The files table as ``files`` gives it, from its whole copy; None when there is
        none of this SQLite file (or it is damaged: a CRC covers each part, and the head
        says how many parts there are)."""
        try:
            with open_copy(self.snapshot_path()) as fh:
                end = os.fstat(fh.fileno()).st_size
                parts = self._snapshot_parts(fh, end)
                if parts is None:
                    return None
                rows: dict[str, tuple] = {}
                for _ in range(parts):
                    part = read_part(fh, end)
                    if type(part) is not dict:
                        return None
                    rows.update(part)
                return rows if fh.read(1) == b"" else None
        except (OSError, ValueError, EOFError, TypeError):
            return None

    def write_snapshot(self, rows: dict[str, tuple]) -> None:
        """Keep ``rows`` (the files table, as ``files`` gives it) whole; best effort."""
        if self.generation is None:
            return
        path = self.snapshot_path()
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        parts = -(-len(rows) // SNAPSHOT_PART)
        items = iter(rows.items())
        try:
            with open(tmp, "wb") as fh:
                fh.write(SNAPSHOT_MAGIC)
                write_part(fh, (self.generation, parts))
                for _ in range(parts):
                    write_part(fh, dict(islice(items, SNAPSHOT_PART)))
            os.replace(tmp, path)
        except OSError:
            try:
                os.unlink(tmp)
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

    def file_rows(self, names: Iterable[str]) -> dict[str, tuple]:
        """name -> (stat, blob, rec, err) of these working-tree files, as ``files``."""
        wanted = list(set(names))
        out = {}
        for i in range(0, len(wanted), 500):
            part = wanted[i:i + 500]
            marks = ",".join("?" * len(part))
            for name, stat, blob, rec, err, crc in self._rows(
                    "SELECT name, stat, blob, rec, err, crc FROM files WHERE name IN "
                    f"({marks})", part):
                if _file_crc(rec, err) != crc:
                    raise Corrupt(f"file row {name}")
                out[name] = (stat, blob, rec, err)
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

    def settings(self, blob: str) -> Settings | None:

        rows = self._rows("SELECT data, crc FROM settings WHERE blob = ?", (blob,))
        if not rows:
            return None
        data, crc = rows[0]
        if _crc(blob, data) != crc:
            raise Corrupt(f"settings row {blob}")
        try:
            return Settings.from_data(json.loads(data))
        except (ValueError, KeyError, TypeError) as exc:
            raise Corrupt(f"settings row {blob}: {exc}") from None

    def accounts(self, only: str | None = None) -> dict[str, tuple[str, str]]:
        """account id -> (blob id, JSON data) of the account files as last read (only
        the row ``only`` when given)."""
        out = {}
        sql = "SELECT name, blob, data, crc FROM accounts"
        for name, stat, data, crc in self._rows(sql + " WHERE name = ?" if only else sql,
                                                (only,) if only else ()):
            if _crc(name, stat, data) != crc:
                raise Corrupt(f"account row {name}")
            out[name] = (stat, data)
        return out

    def write_accounts(self, rows: dict[str, tuple[str, str] | None]) -> bool:
        """Set (``(blob, data)``) or forget (None) account rows; False when skipped."""
        if self.con is None:
            return False
        con = self.con
        try:
            with con:
                con.execute("BEGIN IMMEDIATE")
                con.executemany("DELETE FROM accounts WHERE name = ?",
                                [(n,) for n, v in rows.items() if v is None])
                con.executemany("INSERT OR REPLACE INTO accounts VALUES (?, ?, ?, ?)",
                                [(n, s, d, _crc(n, s, d)) for n, v in rows.items()
                                 if v is not None for s, d in [v]])
            return True
        except sqlite3.Error:
            return False

    def counts(self) -> dict[str, int]:
        """Rows of each table; for the touches, the files whose day they hold."""
        out = {table: self._rows(f"SELECT count(*) FROM {table}")[0][0]
               for table in ("blobs", "files", "settings", "details")}
        out["touches"] = len(self.touches()[1])
        return out

    def touches(self) -> tuple[str | None, dict[str, str], int]:
        """(commit, opp id -> day, later rows): the author day of the last commit that
        changed each opportunity file, in the history of that commit; (None, {}, 0) when
        never read. The first row holds every file's day, each later one the days a run
        read since (the files of the commits since the previous row's), so that a change
        adds a few names rather than writing 100,000 again; the last row's commit is the
        one they hold up to."""
        rows = self._rows("SELECT head, data, crc FROM touches ORDER BY rowid")
        if not rows:
            return None, {}, 0
        days: dict[str, str] = {}
        for head, data, crc in rows:
            if _crc(head, data) != crc:
                raise Corrupt("touches")
            names, _, values = data.partition(SEP)  # the ids, then their days, a line each
            if not names:
                continue
            names_list, days_list = names.split("\n"), values.split("\n")
            if len(names_list) != len(days_list):
                raise Corrupt("touches")
            if not days:
                days = dict(zip(names_list, days_list, strict=True))
                continue
            for name, day in zip(names_list, days_list, strict=True):
                if day > days.get(name, ""):
                    days[name] = day
        return rows[-1][0], days, len(rows) - 1

    def history(self) -> tuple[str | None, list[str]]:
        """(commit, lines): the log of the deals' versions up to that commit, as
        ``read.deal_history`` wrote it; (None, []) when never read."""
        rows = self._rows("SELECT head, data, crc FROM history")
        if not rows:
            return None, []
        head, data, crc = rows[0]
        if len(rows) > 1 or _crc(head, data) != crc:
            raise Corrupt("history")
        return head, data.split("\n") if data else []

    # -------------------------------------------------------- writing

    def write(self, *, entries: dict[str, Entry] | None = None,
              files: dict[str, tuple[str, str, Entry] | None] | None = None,
              settings: tuple[str, Settings] | None = None,
              touches: tuple[str, dict[str, str]] | None = None,
              touched: tuple[str, str, dict[str, str]] | None = None,
              history: tuple[str, list[str]] | None = None) -> bool:
        """Add entries, set (``(stat, blob, entry)``) or forget (None) file rows, add settings,
        replace the touches (``(commit, opp id -> day)``) or add a row of them (``touched``:
        ``(commit read up to, commit, days read since)``, added only while the last row
        is still of the commit read up to: another run may have added or rewritten rows
        meanwhile, and a row on top of another history would fold in days that are not
        HEAD's). One transaction; False when it could not be made."""

        if self.con is None:
            return False
        con = self.con
        try:
            con.execute("BEGIN IMMEDIATE")
            try:
                # rows made as SQLite takes them, never a list of them all (#25: 100,000
                # file rows held 15 MB at a cold report's peak)
                if entries:
                    con.executemany("INSERT OR REPLACE INTO blobs VALUES (?, ?, ?, ?)",
                                    ((b, e.rec, e.err, _crc(b, e.rec, e.err))
                                     for b, e in entries.items()))
                    con.executemany("INSERT OR REPLACE INTO details VALUES (?, ?, ?)",
                                    ((b, e.detail, _crc(b, e.detail))
                                     for b, e in entries.items() if e.detail))
                if files:
                    gone = [(n,) for n, v in files.items() if v is None]
                    if gone:
                        con.executemany("DELETE FROM files WHERE name = ?", gone)
                    con.executemany("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?)",
                                    ((n, s, b, e.rec, e.err, _file_crc(e.rec, e.err))
                                     for n, v in files.items() if v is not None
                                     for s, b, e in [v]))
                if settings:
                    blob, value = settings
                    data = json.dumps(value.as_data())
                    con.execute("INSERT OR REPLACE INTO settings VALUES (?, ?, ?)",
                                (blob, data, _crc(blob, data)))
                if touches:
                    con.execute("DELETE FROM touches")
                    self._add_touches(con, *touches)
                # another run's rows since: they stand, and this one is left out
                if touched and self._last_touch(con) == touched[0]:
                    self._add_touches(con, *touched[1:])
                if history:
                    head, data = history[0], "\n".join(history[1])
                    con.execute("DELETE FROM history")
                    con.execute("INSERT INTO history VALUES (?, ?, ?)",
                                (head, data, _crc(head, data)))
                con.execute("COMMIT")
            except BaseException:
                if con.in_transaction:
                    con.execute("ROLLBACK")
                raise
        except sqlite3.Error:
            return False
        self._trim_wal()
        return True

    @staticmethod
    def _add_touches(con: sqlite3.Connection, head: str, days: dict[str, str]) -> None:
        """One row of touches: the days (opp id -> day) up to ``head``."""
        data = "\n".join(days) + SEP + "\n".join(days.values())
        con.execute("INSERT INTO touches VALUES (?, ?, ?)", (head, data, _crc(head, data)))

    @staticmethod
    def _last_touch(con: sqlite3.Connection) -> str | None:
        """The commit the touches' last row holds the days up to (None: no row)."""
        row = con.execute("SELECT head FROM touches ORDER BY rowid DESC LIMIT 1").fetchone()
        return row[0] if row else None

    def _trim_wal(self) -> None:
        """Fold SQLite's write-ahead log into the file once it holds ``WAL_TRIM`` bytes,
        and empty it. opp leaves without closing its connection (``os._exit``), so no
        last connection ever does that, and every process opening the index read the
        whole log again, page by page: 1,000 pages cost each report and change ~5 ms of
        CPU (#25). Never waits: with a reader on the log, it is left for a later write."""
        assert self.con is not None
        try:
            if os.path.getsize(f"{self.path}-wal") < WAL_TRIM:
                return
            self.con.execute("PRAGMA busy_timeout=0")
            try:
                self.con.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
            finally:
                self.con.execute(f"PRAGMA busy_timeout={int(LOCK_WAIT * 1000)}")
        except (OSError, sqlite3.Error):
            pass


def for_repo(repo: Repo) -> Index | None:
    """The repo's open index (one per ``Repo`` object), or None when disabled or unusable."""
    if not enabled():
        return None
    if "_index" not in repo.__dict__:
        repo.__dict__["_index"] = Index.open(repo)
    return repo.__dict__["_index"]


def with_retry(repo: Repo, work: Callable[[Index | None], Any]) -> Any:
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
