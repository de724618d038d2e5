"""``opp validate``: every problem of every file, with its path, line and column."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

from ..domain import accounts as account_rules
from ..domain import panels
from ..errors import DataError
from ..store import accounts as store_accounts
from ..store.files import (
    ACCOUNTS_DIR,
    CATALOG_FILE,
    OPPORTUNITIES_DIR,
    QUOTAS_FILE,
    SETTINGS_FILE,
    line_of,
)
from ..store.repo import Repo


def _relative(repo: Repo, path: Path) -> str | None:
    """The path relative to the data repo's root; None when it lies outside."""
    try:
        full = (Path.cwd() / path).resolve() if not path.is_absolute() else path.resolve()
        return full.relative_to(repo.root).as_posix()
    except (ValueError, OSError):  # outside, or no path at all (too long, a NUL byte)
        return None


def _given(repo: Repo, paths: list[Path]) -> tuple[list[str], list[DataError]]:
    """The repo-relative targets among ``paths``, and an error for each path that is not a
    file opp checks: a mistyped path must fail, never pass unchecked."""
    targets, errors = [], []
    for path in paths:
        rel = _relative(repo, path)
        if rel is None:
            errors.append(DataError(f"not in the data repo {repo.root}", str(path)))
        elif not os.path.lexists(repo.root / rel):
            errors.append(DataError("no such file", rel))
        elif rel in (SETTINGS_FILE, CATALOG_FILE, QUOTAS_FILE) or (
                rel.split("/")[0] in (OPPORTUNITIES_DIR, ACCOUNTS_DIR) and rel.count("/") == 1):
            targets.append(rel)
        else:
            errors.append(DataError("not a file opp checks (opp.yaml, catalog.yaml or "
                                    f"{OPPORTUNITIES_DIR}/<id>.yaml)", rel))
    return targets, errors


def validate_repo(repo: Repo, paths: list[Path] | None = None
                  ) -> tuple[list[DataError], int]:
    """(errors, number of files checked). The settings come first: without them
    no opportunity can be checked; given among ``paths``, every file is checked."""
    from ..domain.model import SettingsFile

    errors: list[DataError] = []
    if paths is not None:
        given, errors = _given(repo, paths)
        if SETTINGS_FILE in given:
            paths = None  # every opportunity depends on the settings: check them all
    data, node = None, None
    try:
        data, node = repo.read_yaml(SETTINGS_FILE)
        settings = repo.model_errors(SettingsFile, SETTINGS_FILE, data, node)
    except DataError as exc:
        settings = [exc]
    if isinstance(settings, list):
        return settings + errors, 1 + len(errors)
    repo.__dict__["settings"] = settings.value()

    targets = _every_file(repo) if paths is None else given
    accounts: dict[str, Any] = {}
    checked = 1 + len(errors)
    for rel in [t for t in targets if t.startswith(f"{ACCOUNTS_DIR}/")]:
        targets.remove(rel)
        checked += 1
        found = store_accounts.load_errors(repo, rel) if rel.endswith(".yaml") else \
            [DataError(f"not an account file; accounts are {ACCOUNTS_DIR}/<id>.yaml", rel)]
        if isinstance(found, list):
            errors += found
        else:
            accounts[found.id] = found
    if paths is not None:  # references are checked against every account there is
        accounts = _every_account(repo, accounts)
    errors += duplicate_vats(accounts)
    names = account_rules.Directory.of(store_accounts.plain(a) for a in accounts.values())

    for rel in targets:
        if rel == SETTINGS_FILE:
            continue
        checked += 1
        if rel in (CATALOG_FILE, QUOTAS_FILE):
            errors += _shared_file_errors(repo, rel)
            continue
        if not rel.endswith(".yaml"):  # a folder or link named *.yaml: load_errors says so
            errors.append(DataError("not an opportunity file; opportunities are "
                                    f"{OPPORTUNITIES_DIR}/<id>.yaml", rel))
            continue
        result = repo.load_errors(rel)
        if isinstance(result, list):
            errors += result
        else:
            errors += dangling(repo, rel, result, accounts)
            errors += listed_twice(repo, rel, result, names)
            errors += _document_files(repo, rel, result)
    return errors, checked


def _every_file(repo: Repo) -> list[str]:
    """The files ``opp validate`` checks besides opp.yaml: the catalog, the quotas when
    there are any, every account and every opportunity."""
    targets = [CATALOG_FILE]
    if os.path.lexists(repo.root / QUOTAS_FILE):
        targets.append(QUOTAS_FILE)
    for where in (ACCOUNTS_DIR, OPPORTUNITIES_DIR):
        folder = repo.root / where
        if folder.is_dir():
            targets += sorted(f"{where}/{p.name}" for p in folder.iterdir()
                              if not p.name.startswith("."))
    return targets


def _shared_file_errors(repo: Repo, rel: str) -> list[DataError]:
    """What is wrong with catalog.yaml or quotas.yaml (none when absent)."""
    from ..domain.model import Catalog, Quotas

    try:
        data, node = repo.read_yaml(rel, required=False)
    except DataError as exc:
        return [exc]
    if data is None:
        return []
    found = repo.model_errors(Catalog if rel == CATALOG_FILE else Quotas, rel, data, node)
    return found if isinstance(found, list) else []


def _every_account(repo: Repo, have: dict[str, Any]) -> dict[str, Any]:
    out = dict(have)
    for account_id in repo.account_ids():
        if account_id not in out:
            found = store_accounts.load_errors(repo, store_accounts.relpath_of(account_id))
            if not isinstance(found, list):
                out[account_id] = found
    return out


def duplicate_vats(accounts: dict[str, Any]) -> list[DataError]:
    """Two account files with one VAT number: the second is reported, naming the first."""
    seen: dict[str, Any] = {}
    out = []
    for account in accounts.values():
        if account.vat and account.vat in seen:
            other = seen[account.vat]
            out.append(DataError(f"vat: {account.vat} is also account {other.id} "
                                 f"({other.name}); merge the two with: opp account merge "
                                 f"{account.id} {other.id}",
                                 store_accounts.relpath_of(account.id)))
        elif account.vat:
            seen[account.vat] = account
    return out


def dangling(repo: Repo, rel: str, opp: Any, accounts: dict[str, Any]) -> list[DataError]:
    """A deal naming an account that has no file, or a person its customer lacks
    (``domain.accounts.dangling``), with the line that names it."""
    return [DataError(d.message, rel, line_of(repo.root, rel, d.value))
            for d in account_rules.dangling(opp, accounts)]


def listed_twice(repo: Repo, rel: str, opp: Any, found: account_rules.Directory
                 ) -> list[DataError]:
    """A partner, competitor or contact naming the party an earlier entry of its panel
    names (one account by id and by a spelling, say), with the later entry's line."""
    out = []
    for panel, _, item, first in panels.twins(opp, found):
        word = panels.WORD[panel]
        out.append(DataError(
            f"{panel}: {word} {item.id} ({_party(item, found)}) names the same "
            f"{'person' if panel == 'contacts' else 'organisation'} as {word} {first.id} "
            f"({_party(first, found)}); a deal lists each once: keep one with opp {word} "
            f"remove {opp.id} {item.id}", rel, line_of(repo.root, rel, f"id: {item.id}")))
    return out


def _party(item: Any, found: account_rules.Directory) -> str:
    account = getattr(item, "account", None)
    return item.name if account is None else found.name_of(account)


def _document_files(repo: Repo, rel: str, opp) -> list[DataError]:
    """Each document an opportunity lists is a regular file of the repo (never a link)."""
    out = []
    for document in opp.documents:
        try:
            mode = os.lstat(repo.root / document.path).st_mode
        except OSError:
            out.append(DataError(f"document {document.id}: {document.path} is missing; "
                                 f"put the file back, or remove the entry with opp doc "
                                 f"remove {opp.id} {document.id}", rel))
            continue
        if not stat.S_ISREG(mode):
            out.append(DataError(f"document {document.id}: {document.path} is not a regular "
                                 "file (a link or a folder); opp keeps documents as files",
                                 rel))
    return out
