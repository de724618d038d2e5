"""Account files from the index: each kept parsed by its content's blob id, so that
resolving a name among 2,000 accounts reads their bytes and parses none (#20); and the
whole directory (every account with its names normalised) kept by the stat data of the
folder's files, so that ``opp new --customer X`` reads no account file at all."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import stat
import time
from typing import TYPE_CHECKING, Any

from ...domain.accounts import CustomerQuery, Directory
from ...store import accounts as store_accounts
from ...store.files import ACCOUNTS_DIR, MAX_FILE_BYTES
from ...store.git import blob_id
from ..outputs import taken
from .db import Index, enabled, for_repo, with_retry

if TYPE_CHECKING:
    from ...store.repo import Repo

def plain_accounts(repo: Repo) -> list[dict[str, Any]]:
    """Every account as plain data, in id order, as ``store.accounts.parsed_accounts``
    gives it (the same first error when a file is invalid)."""
    if not enabled() or repo.past:  # a past commit's few accounts: parsed from git
        return store_accounts.parsed_accounts(repo)
    return with_retry(repo, lambda index: _plain(repo, index))


# the rows of the accounts table that hold the whole directory (no account id has '~'):
# its names, and every account's data (read only by a command that shows it)
SNAPSHOT = "~directory"
ITEMS = "~items"
RACY_SECONDS = 3  # as the index's (worktree.py): stat data younger than this is not trusted


def read_directory(repo: Repo) -> Directory:
    """``Repo.accounts_reader``: every account as a ``Directory``. When no account file
    changed since the last command (the same names, sizes, times and inodes, none
    younger than a few seconds), the directory the index kept is taken whole: 2,000
    account files cost a few stat calls, not 2,000 reads and 4,000 names normalised."""
    if not enabled() or repo.past:
        return Directory.of(store_accounts.parsed_accounts(repo))
    return with_retry(repo, lambda index: _directory(repo, index))


def _directory(repo: Repo, index: Index | None) -> Directory:
    if index is None:
        return Directory.of(_plain(repo, None))
    signature = _signature(repo)
    row = index.accounts(SNAPSHOT).get(SNAPSHOT) if signature is not None else None
    if row is not None and row[0] == signature:
        try:
            data = json.loads(row[1])
            return Directory.of_keys(data["heads"], data["keys"],
                                     functools.cache(lambda: _items(repo, signature)))
        except (ValueError, KeyError, TypeError, IndexError):
            pass  # not a directory this code wrote: read the files, and keep it anew
    items = _plain(repo, index)
    found = Directory.of(items)
    if signature is not None:
        index.write_accounts({
            SNAPSHOT: (signature, json.dumps({"heads": found.heads(), "keys": found.keys()},
                                             ensure_ascii=False)),
            ITEMS: (signature, json.dumps(items, ensure_ascii=False))})
    return found


def _items(repo: Repo, signature: str) -> dict[str, Any]:
    """Every account's data (id -> plain data), as the index kept it with the directory
    of ``signature``; the files read anew when it holds no such thing."""

    def read(index: Index | None) -> dict[str, Any]:
        row = index.accounts(ITEMS).get(ITEMS) if index is not None else None
        if row is not None and row[0] == signature:
            try:
                return {d["id"]: d for d in json.loads(row[1])}
            except (ValueError, KeyError, TypeError):
                pass
        return {d["id"]: d for d in _plain(repo, index)}

    return with_retry(repo, read)


def _signature(repo: Repo) -> str | None:
    """The stat data of every account file, hashed; None when it cannot be trusted (a
    file changed within the last seconds, a link) and the files must be read."""
    racy_after = time.time_ns() - RACY_SECONDS * 1_000_000_000
    found = _stat_data(os.path.join(repo.root, ACCOUNTS_DIR))
    if found is None:
        return None
    parts = []
    for name, size, mtime, ctime, inode in found:
        if max(mtime, ctime) >= racy_after:
            return None
        parts.append(f"{name}:{size}:{mtime}:{ctime}:{inode}")
    return hashlib.sha1("\n".join(sorted(parts)).encode()).hexdigest()


def _stat_data(folder: str) -> list[tuple[str, int, int, int, int]] | None:
    """(name, size, mtime, ctime, inode) of each account file; None for a link (or a
    folder that cannot be read). A report's replay key walked the folder already: its
    stat data is taken, no ``stat`` again, unless it saw anything but files there."""

    def counted(name: str) -> bool:
        return name.endswith(".yaml") and not name.startswith(".")

    lent = taken(folder)
    if lent is not None and all(stat.S_ISREG(e[2]) for e in lent.values()):
        return [(name, *e[3:]) for name, e in lent.items() if counted(name)]
    out = []
    try:
        if os.path.islink(folder):
            return None
        with os.scandir(folder) as entries:
            for entry in entries:
                if not counted(entry.name):
                    continue
                if entry.is_symlink():
                    return None
                info = entry.stat(follow_symlinks=False)
                out.append((entry.name, info.st_size, info.st_mtime_ns, info.st_ctime_ns,
                            info.st_ino))
    except FileNotFoundError:
        pass
    except OSError:
        return None
    return out


def _plain(repo: Repo, index: Index | None) -> list[dict[str, Any]]:
    """Each file read and hashed (a few KB each), parsed only when its content is new to
    the index: no pydantic, no YAML on the usual path, whatever the files' times."""
    folder = os.path.join(repo.root, ACCOUNTS_DIR)
    ids = store_accounts.account_ids(repo)
    if index is None or os.path.islink(folder):
        return store_accounts.parsed_accounts(repo)
    known = index.accounts()
    out: list[dict[str, Any]] = []
    rows: dict[str, tuple[str, str] | None] = {}
    for account_id in ids:
        data = None
        try:
            with open(os.path.join(folder, f"{account_id}.yaml"), "rb") as fh:
                data = fh.read(MAX_FILE_BYTES + 1)
        except OSError:
            pass
        if data is None or len(data) > MAX_FILE_BYTES or \
                os.path.islink(os.path.join(folder, f"{account_id}.yaml")):
            out.append(store_accounts.plain(store_accounts.load(repo, account_id)))
            continue  # the careful path words what is wrong
        blob = blob_id(data)
        row = known.get(account_id)
        if row is not None and row[0] == blob:
            out.append(json.loads(row[1]))
            continue
        parsed = store_accounts.plain(store_accounts.load(repo, account_id))  # checked in full
        out.append(parsed)
        rows[account_id] = (blob, json.dumps(parsed, ensure_ascii=False))
    rows.update({gone: None for gone in set(known) - set(ids) - {SNAPSHOT, ITEMS}})
    if rows:
        index.write_accounts(rows)
    return out


def remember(repo: Repo, written: dict[str, bytes]) -> None:
    """The account files a change just wrote, parsed (pydantic is loaded already), so that
    the next command finds them in the index; best effort."""
    todo = [p for p in written if p.startswith(f"{ACCOUNTS_DIR}/") and p.endswith(".yaml")]
    index = for_repo(repo) if todo else None
    if index is None:
        return
    rows: dict[str, tuple[str, str] | None] = {}
    for path in todo:
        account_id = path[len(ACCOUNTS_DIR) + 1:-5]
        try:
            parsed = store_accounts.plain(store_accounts.load(repo, account_id))
        except Exception:  # a cache: never fail a change already committed
            continue
        rows[account_id] = (blob_id(written[path]),
                            json.dumps(parsed, ensure_ascii=False))
    index.write_accounts(rows)


def directory(repo: Repo):
    """``store.accounts.directory`` read through the index."""
    if repo.accounts_reader is None:
        repo.accounts_reader = plain_accounts
    return store_accounts.directory(repo)


def names(repo: Repo) -> dict[str, str]:
    """account id -> name, for records and details to show names, not ids."""
    found = repo.__dict__.get("_account_names")
    if found is None:
        found = directory(repo).names()
        repo.__dict__["_account_names"] = found
    return found


def customer_query(repo: Repo, text: str | None) -> CustomerQuery | None:
    """``--customer X`` of lists and reports: the accounts X names, or text it holds."""
    if not text:
        return None
    return CustomerQuery(text, directory(repo))
