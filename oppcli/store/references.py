"""The references between files, checked before ``opp sync`` pushes.

``opp validate`` checks that every account a deal names (customer, partners,
competitors) has its file and that a contact's person is one of its customer's
people (``domain.accounts.dangling``). A merge can break that with no file of its
own broken: one side merges or removes an account, the other adds a deal for it.
So the deals to check before a push are those changed in the range, and those that
name an account whose file changed or went in the range (found with ``git grep``,
then loaded and checked in full). When the account is gone because it was merged
into another, the refusal says which, and the ``opp set`` that points the deal there.
"""

from __future__ import annotations

import os
import shlex
from typing import Any

from ..domain import accounts as rules
from ..errors import DataError, OppError
from . import accounts as store_accounts
from .files import ACCOUNTS_DIR, OPPORTUNITIES_DIR, line_of
from .git import git, read_blobs
from .repo import Repo
from .sync import parse_version


class Reference(str):
    """A refusal for a reference that leads nowhere, saying how to mend it (so that the
    sync's message adds no advice of its own)."""


def naming(repo: Repo, account_ids: list[str]) -> list[str]:
    """The deal files (repo-relative) whose text names any of ``account_ids``."""
    if not account_ids:
        return []
    patterns = [arg for i in account_ids for arg in ("-e", i)]
    out = git(repo.root, "grep", "-l", "-z", "-F", "--full-name", *patterns, "--",
              f"{OPPORTUNITIES_DIR}/*.yaml", check=False).stdout
    prefix = repo.place[0]
    return sorted(p[len(prefix):] for p in out.split("\0") if p.startswith(prefix))


class _Accounts:
    """Account files as the work tree has them, loaded once each; None when absent or
    invalid (``opp validate`` counts neither as an account a deal may name)."""

    def __init__(self, repo: Repo):
        self.repo = repo
        self.seen: dict[str, Any] = {}

    def get(self, account_id: str) -> Any:
        if account_id not in self.seen:
            rel = store_accounts.relpath_of(account_id)
            found = (store_accounts.load_errors(self.repo, rel)
                     if os.path.lexists(self.repo.root / rel) else None)
            self.seen[account_id] = None if isinstance(found, list) else found
        return self.seen[account_id]

    def of(self, opp: Any) -> dict[str, Any]:
        out = {}
        for value in rules.referenced(opp):
            if rules.ACCOUNT_ID.fullmatch(value) and self.get(value) is not None:
                out[value] = self.seen[value]
        return out


def broken(repo: Repo, deals: dict[str, Any], accounts_changed: list[str],
           since: list[str | None], here: str | None = None) -> list[str]:
    """Every dangling reference of ``deals`` (relpath -> model) and of the deals naming
    an account of ``accounts_changed``, in words with the way out. ``since``: the
    revisions the range starts from (where a gone account's name is found); ``here``:
    the revision the clone goes back to when the check refuses a merge (None: HEAD)."""
    checked = dict(deals)
    for rel in naming(repo, accounts_changed):
        if rel not in checked and os.path.lexists(repo.root / rel):
            try:
                found = repo.load_errors(rel)
            except DataError:
                continue  # the file's own problems are for validate to name
            if not isinstance(found, list):
                checked[rel] = found
    accounts = _Accounts(repo)
    out: list[str] = []
    for rel, opp in sorted(checked.items()):
        for d in rules.dangling(opp, accounts.of(opp)):
            words = d.message
            if d.field != "contacts" and not os.path.lexists(
                    repo.root / store_accounts.relpath_of(d.value)):
                words = _gone(repo, opp, d, since, here)
            out.append(Reference(DataError(words, rel, line_of(repo.root, rel, d.value))))
    return out


def _old_name(repo: Repo, account_id: str, since: list[str | None]) -> str | None:
    """The name account ``account_id`` had at any of ``since`` (it is gone now)."""
    prefix = repo.place[0]
    names = [f"{rev}:{prefix}{store_accounts.relpath_of(account_id)}" for rev in since if rev]
    for name, data in read_blobs(repo.root, names).items():
        try:
            parsed = parse_version(data, name)
        except DataError:
            continue
        if isinstance(parsed, dict) and isinstance(parsed.get("name"), str):
            return parsed["name"]
    return None


def _has_deal(repo: Repo, rev: str, opp_id: str) -> bool:
    """Whether revision ``rev`` has the deal's file (else it came from the other side)."""
    prefix = repo.place[0]
    name = f"{rev}:{prefix}{OPPORTUNITIES_DIR}/{opp_id}.yaml"
    return read_blobs(repo.root, [name])[name] is not None


def _merged_into(repo: Repo, name: str) -> Any:
    """The one account that took ``name`` as a name or alias (an account merge makes
    the merged account's name an alias of the one it went into), or None."""
    try:
        found = store_accounts.directory(repo).find(name)
    except OppError:
        return None  # an unreadable account file: validate names it
    return found[0] if len(found) == 1 else None


def _gone(repo: Repo, opp: Any, d: rules.Dangling, since: list[str | None],
          here: str | None) -> str:
    """Why ``d`` leads nowhere (the account was merged or removed) and what to do."""
    name = _old_name(repo, d.value, since)
    what = f"{d.field}: account {d.value}" + (f" ({name})" if name else "")
    into = _merged_into(repo, name) if name else None
    deal = f"deal {opp.id} ({opp.name})"
    on_this_side = here is None or _has_deal(repo, here, opp.id)
    if into is None:
        gone = (f"{what} no longer exists (no {ACCOUNTS_DIR}/{d.value}.yaml); point the "
                f"{deal} at another account (opp account list)")
        fix = (f" with: opp set {opp.id} customer ACCOUNT" if d.field == "customer"
               else f" with: opp edit {opp.id}")
        if not on_this_side:
            return (f"{gone}: the deal comes from the other side; restore the account here "
                    "(opp undo, if its removal is your last change), run opp sync, and "
                    "remove it again once nothing names it")
        return f"{gone}{fix}, or restore the file from git; then run opp sync again"
    gone = f"{what} was merged into {into.id} ({into.name}) on one side, while {deal} " \
        "named it on the other"
    if not on_this_side:
        return (f"{gone}, and the deal comes from the other side: take the merge of the "
                "accounts back here (opp undo, if it is your last change), run opp sync, "
                "then merge them again "
                f"(opp account merge {shlex.quote(name or d.value)} "
                f"{shlex.quote(into.name)}): it moves every deal")
    fix = (f"opp set {opp.id} customer {shlex.quote(into.name)}" if d.field == "customer"
           else f"opp edit {opp.id} (its {d.field}: {d.value} -> {into.id})")
    return f"{gone}; point the deal there with: {fix}, then run opp sync again"
