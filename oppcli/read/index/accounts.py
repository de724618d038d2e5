"""Account files from the index: each kept parsed by its content's blob id, so that
resolving a name among 2,000 accounts reads their bytes and parses none (#20)."""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

from ...domain.accounts import CustomerQuery
from ...store import accounts as store_accounts
from ...store.files import ACCOUNTS_DIR, MAX_FILE_BYTES
from ...store.git import blob_id
from .db import Index, enabled, for_repo, with_retry

if TYPE_CHECKING:
    from ...store.repo import Repo

def plain_accounts(repo: Repo) -> list[dict[str, Any]]:
    """Every account as plain data, in id order, as ``store.accounts.parsed_accounts``
    gives it (the same first error when a file is invalid)."""
    if not enabled() or repo.past:  # a past commit's few accounts: parsed from git
        return store_accounts.parsed_accounts(repo)
    return with_retry(repo, lambda index: _plain(repo, index))


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
    rows.update({gone: None for gone in set(known) - set(ids)})
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
        d = directory(repo)
        found = {i: e.name for i, e in d.by_id.items()}
        repo.__dict__["_account_names"] = found
    return found


def customer_query(repo: Repo, text: str | None) -> CustomerQuery | None:
    """``--customer X`` of lists and reports: the accounts X names, or text it holds."""
    if not text:
        return None
    return CustomerQuery(text, directory(repo))
