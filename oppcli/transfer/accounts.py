"""``opp account import FILE``: an account list (CSV or xlsx), all or nothing, one commit. A row
whose ``ref`` is an account's updates it (else one whose name names an account), any
other row adds one; every bad row is reported with its line, and nothing is written."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from ..domain.accounts import (
    Directory,
    Entry,
    add_alias,
    edit_account,
    new_account,
    normalise,
)
from ..env import today as today_
from ..errors import DataError, OppError, RuleError
from ..store import accounts as store_accounts
from .columns import below_title
from .sheet import cell_text, check_delimiter, header_key
from .workbook import read_sheet

if TYPE_CHECKING:
    from ..store.repo import Repo

FIELDS = ("name", "vat", "tax_code", "country", "city", "address", "industry", "website",
          "owner", "notes", "ref", "aliases")
# the usual headers of account lists, English and Italian, beside the field names
_KEYS = {header_key(f): f for f in FIELDS} | {
    header_key(k): v for k, v in (
        ("partita iva", "vat"), ("p.iva", "vat"), ("piva", "vat"), ("vat number", "vat"),
        ("codice fiscale", "tax_code"), ("company", "name"), ("account name", "name"),
        ("ragione sociale", "name"), ("denominazione", "name"), ("città", "city"),
        ("citta", "city"), ("comune", "city"), ("paese", "country"), ("nazione", "country"),
        ("country code", "country"), ("indirizzo", "address"), ("settore", "industry"),
        ("sito", "website"), ("sito web", "website"), ("note", "notes"),
        ("alias", "aliases"))}


class Imported(NamedTuple):
    added: int
    updated: int
    ignored: list[str]  # the header's columns that name no field


def import_accounts(repo: Repo, path: str, *, today=None, dry_run: bool = False,
                    sheet: str | None = None, encoding: str | None = None,
                    delimiter: str | None = None) -> Imported:
    """Read the file (CSV, or the first sheet or ``sheet`` of an xlsx: typed numbers
    and dates read as their text), check every row, write every account in one commit
    (none on any error)."""
    day = today or today_()
    try:
        table = read_sheet(path, Path(path).read_bytes(), sheet=sheet, encoding=encoding,
                           delimiter=check_delimiter(delimiter) if delimiter else None)
    except OSError as exc:
        raise DataError(f"cannot read it: {exc.strerror}", path) from None
    except DataError as exc:
        raise DataError(exc.message, path, exc.line) from None
    table = below_title(table, {f: tuple(k for k, v in _KEYS.items() if v == f)
                                for f in FIELDS})
    columns = {i: _KEYS.get(header_key(h)) for i, h in enumerate(table.header)}
    for field in FIELDS:
        both = [f"'{table.header[i]}'" for i, f in columns.items() if f == field]
        if len(both) > 1:
            raise DataError(f"columns {' and '.join(both[:2])} both give the account's "
                            f"{field}; keep one of them in the file", path, table.header_line)
    if "name" not in columns.values():
        first = [repr(h) for h in table.header if h]
        shown = ", ".join(first[:5]) + (", …" if len(first) > 5 else "")
        raise DataError(f"no 'name' column in the header ({shown or 'empty'}); the header "
                        "names the columns, among: " + ", ".join(FIELDS), path,
                        table.header_line)
    with repo.transaction() as tx:
        tx.kind = "account-import"
        found = store_accounts.directory(repo)
        added = updated = 0
        errors: list[str] = []
        for line, cells in table.rows:
            texts = [cell_text(c).strip() for c in cells]
            row = {f: texts[i] for i, f in columns.items() if f and i < len(texts) and texts[i]}
            try:
                account, is_new = _row(repo, found, row, day)
            except OppError as exc:
                errors.append(f"line {line}: {exc.message}")
                continue
            if account is None:
                continue
            found = Directory([*(e for e in found.by_id.values() if e.id != account.id),
                               Entry.of(store_accounts.plain(account))])
            tx.save_account(account)
            added += is_new
            updated += not is_new
        if errors:
            more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
            raise RuleError(f"{path}: nothing imported: {'; '.join(errors[:3])}{more}")
        tx.subject = f"account import: {added} new, {updated} updated from {Path(path).name}"
        if dry_run:
            tx.writes.clear()
    repo.__dict__.pop("_directory", None)
    return Imported(added, updated, [h for i, h in enumerate(table.header)
                                     if h and columns.get(i) is None])


def _row(repo: Repo, found: Directory, row: dict[str, str], day) -> tuple[Any, bool]:
    name = row.get("name")
    if not name:
        raise RuleError("the name is empty")
    aliases = [a.strip() for a in row.pop("aliases", "").split(";") if a.strip()]
    ref = row.get("ref")
    target = next((e for e in found.by_id.values() if ref and e.data.get("ref") == ref), None)
    if target is None:
        named = found.by_key.get(normalise(name), [])
        target = named[0] if len(named) == 1 else None
    if target is None:
        fields = {k: v for k, v in row.items() if k != "name"}
        return new_account(store_accounts.fresh_id(repo), name, found, today=day,
                           aliases=aliases, **fields), True
    before = store_accounts.load(repo, target.id)
    after = edit_account(before, row, found)
    for alias in aliases:
        after = add_alias(after, alias, found)
    return (after if after != before else None), False
