"""Account files from the index: each kept parsed with the stat data it was read with, so
that resolving a name among 2,000 accounts stats their files and parses none (#20)."""

from __future__ import annotations

import json
import os
import time
from typing import TYPE_CHECKING, Any

from ...domain.accounts import CustomerQuery
from ...store import accounts as store_accounts
from ...store.files import ACCOUNTS_DIR, MAX_FILE_BYTES
from .db import Index, enabled, with_retry

if TYPE_CHECKING:
    from ...store.repo import Repo

RACY_SECONDS = 3  # as for opportunity files: stat data this young is not trusted


def plain_accounts(repo: Repo) -> list[dict[str, Any]]:
    """Every account as plain data, in id order, as ``store.accounts.parsed_accounts``
    gives it (the same first error when a file is invalid)."""
    if not enabled() or repo.past:  # a past commit's few accounts: parsed from git
        return store_accounts.parsed_accounts(repo)
    return with_retry(repo, lambda index: _plain(repo, index))


def _plain(repo: Repo, index: Index | None) -> list[dict[str, Any]]:
    folder = os.path.join(repo.root, ACCOUNTS_DIR)
    ids = store_accounts.account_ids(repo)
    if index is None or os.path.islink(folder):
        return store_accounts.parsed_accounts(repo)
    known = index.accounts()
    racy_after = time.time_ns() - RACY_SECONDS * 1_000_000_000
    out, rows = [], {}
    for account_id in ids:
        try:
            info = os.lstat(os.path.join(folder, f"{account_id}.yaml"))
        except OSError:
            info = None
        stat = None if info is None or info.st_size > MAX_FILE_BYTES else \
            f"{info.st_size}:{info.st_mtime_ns}:{info.st_ctime_ns}:{info.st_ino}"
        row = known.get(account_id)
        if stat is not None and row is not None and row[0] == stat:
            out.append(json.loads(row[1]))
            continue
        data = store_accounts.plain(store_accounts.load(repo, account_id))  # checked in full
        out.append(data)
        if stat is not None and info is not None and \
                max(info.st_mtime_ns, info.st_ctime_ns) < racy_after:
            rows[account_id] = (stat, json.dumps(data, ensure_ascii=False))
    rows.update({gone: None for gone in set(known) - set(ids)})
    if rows:
        index.write_accounts(rows)
    return out


def directory(repo: Repo):
    """``store.accounts.directory`` read through the index."""
    if repo.accounts_reader is None:
        repo.accounts_reader = plain_accounts
    return store_accounts.directory(repo)


def names(repo: Repo) -> dict[str, str]:
    """account id -> name, for records and details to show names, not ids."""
    found = repo.__dict__.get("_account_names")
    if found is None:
        d = directory(repo)
        found = {i: e.name for i, e in d.by_id.items()}
        repo.__dict__["_account_names"] = found
    return found


def customer_query(repo: Repo, text: str | None) -> CustomerQuery | None:
    """``--customer X`` of lists and reports: the accounts X names, or text it holds."""
    if not text:
        return None
    return CustomerQuery(text, directory(repo))
