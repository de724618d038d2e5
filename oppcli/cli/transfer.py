"""``opp import``, ``opp export`` and ``opp catalog import``: CSV or xlsx in; CSV, TSV,
xlsx or JSON out.

The work is in ``oppcli/transfer/`` (pure); these commands read the file, run the
plan inside one transaction, and print: bad rows and reports on stdout (as
``opp validate`` does), the summary on stderr.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NoReturn

import click

from .app import State, cli, note, pass_state
from .catalog import catalog
from .output import emit_json, format_option, table
from .params import DELIMITER_OPTION, ENCODING_OPTION

if TYPE_CHECKING:
    from typing import BinaryIO

    from ..transfer import CatalogEntry, ColumnMap, Profile, Reading, RowError, Table


SHOWN_ERRORS = 50      # bad rows listed in text; --format json lists them all
PROGRESS_MIN_ROWS = 500  # below this an import is quick: no progress bar

MAP_HELP = ("Take FIELD from COLUMN (repeatable; FIELD may be a comma list; 'COLUMN=' "
            "ignores the column). Fields: id, ref, name, customer, customer_id, stage, amount, "
            "objective, currency, close_date, owner, lost_reason, created, product.")


def _stderr_is_terminal() -> bool:
    return sys.stderr.isatty()


@contextmanager
def progress(length: int, label: str) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr for long runs on a terminal; a no-op otherwise."""
    if length < PROGRESS_MIN_ROWS or not _stderr_is_terminal():
        yield lambda n: None
        return
    with click.progressbar(length=length, label=label, file=sys.stderr) as bar:
        yield bar.update


def _file_name(file: BinaryIO) -> str:
    name = getattr(file, "name", None)
    return "<stdin>" if name in (None, "-", "<stdin>") or not isinstance(name, str) else name


def _read_table(file: BinaryIO, **how: str | None) -> Table:
    """The file as a table (CSV or xlsx); its errors name it."""
    from ..errors import DataError
    from ..transfer import read_sheet

    name = _file_name(file)
    try:
        return read_sheet(name, file.read(), **how)
    except DataError as exc:
        raise DataError(exc.message, name, exc.line) from None


def sheet_options(dates: bool) -> Callable[[Callable], Callable]:
    """How a file is written, the same options for opp import and opp catalog import:
    --locale, --date-format (when the file has ``dates``), --delimiter, --encoding and
    --sheet."""
    options = [
        click.option("--locale", metavar="LOCALE",
                     help=("Numbers and dates are written the way of LOCALE: with it, "
                           "1.234,50, € 1.234,50 and 15/01/2027." if dates else
                           "Prices are written the way of LOCALE: with it, 1.234,50 and "
                           "€ 1.234,50.") + " Without one (nor opp.yaml's), 1.234 is "
                     "refused as ambiguous."),
        *([click.option("--date-format", metavar="FORMAT",
                        help="Dates are written DD/MM/YYYY, MM/DD/YYYY, YYYY-MM-DD or "
                             "DD.MM.YYYY (ISO dates are always read).")] if dates else []),
        DELIMITER_OPTION,
        ENCODING_OPTION,
        click.option("--sheet", metavar="NAME",
                     help="The sheet of an xlsx file (default: the first)."),
    ]

    def apply(command: Callable) -> Callable:
        for option in reversed(options):
            command = option(command)
        return command
    return apply


def _read_sheet(state: State, file: BinaryIO, profile: Profile | None, *,
                locale: str | None, delimiter: str | None, encoding: str | None,
                sheet: str | None, aliases: dict[str, tuple[str, ...]],
                maps: tuple[str, ...], fallbacks: dict[str, tuple[str, ...]] | None = None,
                date_format: str | None = None) -> tuple[Table, Reading, list[int]]:
    """The file as a table (from the header below its title, as ``aliases``,
    ``fallbacks``, ``maps`` and ``profile`` name columns; as ``profile`` reads it), how
    it writes numbers and dates, and the lines of the footer ``profile`` knows and left
    out. Numbers and dates: the options (checked before the file is read), then
    ``profile``, then the global --locale or opp.yaml's (other than the default en);
    nothing: plain numbers and ISO dates."""
    from ..transfer import (
        below_title,
        check_date_format,
        check_delimiter,
        profile_table,
        reading_for,
    )
    from .app import checked_locale

    locale = checked_locale(locale) if locale else None
    date_format = check_date_format(date_format) if date_format else None
    delimiter = check_delimiter(delimiter) if delimiter else None
    data = _read_table(file, encoding=encoding or (profile.encoding if profile else None),
                       delimiter=delimiter or (profile.delimiter if profile else None),
                       sheet=sheet or (profile.sheet if profile else None))
    data = below_title(data, aliases, fallbacks, maps,
                       [c for c, field in profile.maps.items() if field] if profile else ())
    data, footer = profile_table(profile, data)
    repo_locale = state.locale if state.locale != "en" else None
    return (data, reading_for(profile, locale, date_format, state.locale_arg or repo_locale),
            footer)


def _print_profiles(state: State, fmt: str) -> None:
    from ..errors import RepoError
    from ..transfer import available

    try:
        root = state.repo.root
    except RepoError:  # outside a data repo: the built-in ones
        root = None
    rows = [{"name": n, "source": s} for n, s in available(root)]
    if fmt == "json":
        emit_json(rows)
    else:
        click.echo(table([[r["name"], r["source"]] for r in rows], ["profile", "source"]))


def _refuse(name: str, errors: list[RowError], fmt: str, report: dict) -> NoReturn:
    """Print every bad row (stdout, like opp validate) and refuse with one line."""
    from ..errors import DataError

    rows = len({e.line for e in errors})
    if fmt == "json":
        emit_json({**report, "errors": [{"path": name, "line": e.line, "message": e.message}
                                        for e in errors]})
        shown = ""
    else:
        for e in errors[:SHOWN_ERRORS]:
            click.echo(f"{name}:{e.line}: {e.message}")
        shown = (f" (the first {SHOWN_ERRORS} are listed; --format json lists all)"
                 if len(errors) > SHOWN_ERRORS else "")
    raise DataError(f"{len(errors)} problem(s) in {rows} row(s) of {name}{shown}; nothing "
                    "was imported")


def _note_ignored(columns: ColumnMap) -> None:
    if columns.ignored:
        note(f"note: ignored column(s): {', '.join(columns.ignored)} (import one with "
             "--map COLUMN=FIELD)")


# ---------------------------------------------------------------- opp import


class SheetOrProfiles(click.File):
    """FILE, or the word 'profiles' (when no file is called so): list the profiles."""

    name = "file"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None
                ) -> Any:
        if value == "profiles" and not os.path.exists(value):
            return value
        return super().convert(value, param, ctx)


@cli.command("import")
@click.argument("file", type=SheetOrProfiles("rb"), metavar="FILE|profiles")
@click.option("--dry-run", is_flag=True, help="Check every row and report what would be "
                                                "created and updated; write nothing.")
@click.option("--map", "maps", multiple=True, metavar="COLUMN=FIELD", help=MAP_HELP)
@click.option("--default", "defaults", multiple=True, metavar="FIELD=VALUE",
              help="Value of FIELD for new opportunities whose cell is blank or missing "
                   "(repeatable); {COLUMN} in VALUE is replaced by that column's cell.")
@click.option("--stage-map", "stage_maps", multiple=True, metavar="TEXT=STAGE",
              help="Read TEXT in the stage column as STAGE (repeatable).")
@click.option("--profile", metavar="NAME",
              help="Read the file as profile NAME says (.opp/import/NAME.yaml, or the built-in "
                   "hubspot and salesforce); the other options add to it and win.")
@sheet_options(dates=True)
@format_option("text", "json")
@pass_state
def import_(state: State, file: BinaryIO | str, dry_run: bool, maps: tuple[str, ...],
            defaults: tuple[str, ...], stage_maps: tuple[str, ...], profile: str | None,
            locale: str | None, date_format: str | None, delimiter: str | None,
            encoding: str | None, sheet: str | None, fmt: str) -> None:
    """Import opportunities from a CSV or xlsx file, all or nothing, as one commit.

    The first row names the columns: the fields (id, ref, name, customer,
    customer_id, stage, amount, objective, currency, close_date, owner,
    lost_reason, created, product) or the usual headers of Salesforce and HubSpot exports
    ("Opportunity Name", "Account Name", "Deal Stage", "Close Date", "Deal
    owner", "Record ID"...); --map names the others. A row whose id or ref is
    already in the repo updates that opportunity with its non-blank cells, so
    importing the same sheet again changes only what changed. Any bad row
    stops the import: every problem is listed with its line (its row in an
    xlsx), nothing is written (exit 1). Cells an xlsx types as numbers or
    dates are taken as typed. 'opp import profiles' lists the profiles.

    \b
    Example:  opp import deals.csv --dry-run
              opp import deals-export.xlsx --profile hubspot
              opp import excel.csv --locale it --encoding cp1252
              opp import pipeline.csv --map close_value=amount --map deal_id=ref,name
    """
    from ..transfer import ALIASES, find_profile, map_sheet, with_options
    from ..transfer.imports import Refused, import_opportunities

    if isinstance(file, str):  # the word 'profiles'
        return _print_profiles(state, fmt)
    name = _file_name(file)
    repo = state.repo
    chosen = find_profile(profile, repo.root) if profile else None
    data, reading, footer = _read_sheet(state, file, chosen, locale=locale,
                                        date_format=date_format, delimiter=delimiter,
                                        encoding=encoding, sheet=sheet, aliases=ALIASES,
                                        maps=maps)
    all_maps, all_defaults = with_options(chosen, data.header, maps, defaults)
    columns = map_sheet(data, maps=all_maps, defaults=all_defaults, path=name)
    try:
        done = import_opportunities(repo, data, columns, name=name, reading=reading,
                                    stage_maps=stage_maps, profile=chosen, dry_run=dry_run,
                                    progress=progress)
    except Refused as exc:
        _refuse(name, exc.errors, fmt, exc.report)
    report, plan = done.report, done.plan

    # a dry run makes up ids it never stores: a new row has none yet (null; "(new)")
    rows: list[dict[str, Any]] = [
        {"line": e.line, "action": e.action,
         "id": None if dry_run and e.new_id else e.opportunity.id,
         "ref": e.opportunity.ref, "name": e.opportunity.name, "changed": list(e.changed)}
        for e in plan.entries]
    if fmt == "json":
        emit_json({**report, "rows": rows, "errors": []})
    elif dry_run:
        shown = [r for r in rows if r["action"] != "unchanged"]
        if shown:
            click.echo(table([[r["line"], r["action"], r["id"] or "(new)", r["ref"], r["name"],
                               ", ".join(r["changed"])] for r in shown],
                             ["line", "action", "id", "ref", "name", "changes"]))
    if footer and chosen is not None:
        note(f"note: lines {footer[0]}-{footer[-1]} are the footer profile {chosen.name} "
             "knows; not imported")
    _note_ignored(columns)
    if done.look_alikes:
        entry, twin = done.look_alikes[0]
        more = f" and {len(done.look_alikes) - 1} more" if len(done.look_alikes) > 1 else ""
        keyed = {"id", "ref"} & set(columns.fields)
        note(f"note: {len(done.look_alikes)} new row(s) have the name and customer of a deal "
             f"already here (line {entry.line}, {entry.opportunity.name}: {twin}{more}); "
             + ("their id or ref is new to this repo" if keyed else
                "a sheet with an id or ref column updates its deals when imported again"))
    counts = (f"{report['created']} created, {report['updated']} updated, "
              f"{report['unchanged']} unchanged")
    if dry_run:
        note(f"dry run of {name}: would be {counts}; nothing was written")
    elif done.committed:
        note(f"imported {name}: {counts}; one commit")
    else:
        note(f"imported {name}: nothing changed ({report['unchanged']} unchanged); no commit")


# ---------------------------------------------------------------- opp export


@cli.command("export")
@format_option("csv", "json", "tsv", "xlsx", "table")
@click.option("-o", "--output", type=click.Path(dir_okay=False), metavar="FILE",
              help="Write to FILE (whole or not at all) instead of stdout; xlsx needs it.")
@pass_state
def export(state: State, fmt: str, output: str | None) -> None:
    """Every opportunity, with the fields opp import reads (CSV, TSV, xlsx) or in full (JSON).

    The customer is its account's name, and customer_id its id (blank for a
    customer still text); JSON adds account_id to partners and competitors.

    The CSV imports back: into an empty repo it gives the same opportunities
    (same ids), into this one it changes nothing; so does the xlsx, one sheet
    of the same columns whose money cells are numbers with two decimals and
    whose dates are dates. Product lines travel in the product column when an
    opportunity holds one line of quantity 1 (what an import makes); otherwise
    the amount alone. JSON has every field and panel, as opp show --format
    json, plus the product column. The locale never changes any of them.

    \b
    Example:  opp export > pipeline.csv
              opp export --format xlsx -o pipeline.xlsx
              opp export --format json | jq '[.[] | select(.status == "won")] | length'
    """
    import json

    from ..domain.accounts import with_accounts
    from ..domain.views import detail
    from ..store.accounts import directory
    from ..transfer import OPPORTUNITY_FIELDS, csv_text, export_row, single_product, xlsx_bytes
    from .output import write_whole

    if fmt == "xlsx" and output is None:
        raise click.UsageError("--format xlsx writes a file: name it with -o FILE.xlsx")
    repo = state.repo
    settings = repo.settings
    opportunities = repo.load_all()
    data: str | bytes
    found = directory(repo)
    if fmt == "json":
        from .output import json_default

        data = json.dumps([{**with_accounts(detail(opp, settings), found),
                            "product": single_product(opp)} for opp in opportunities],
                          default=json_default, ensure_ascii=False, indent=2) + "\n"
    else:  # the sheet names the customer, and gives its account's id
        rows = [export_row(opp, found) for opp in opportunities]
        if fmt == "table":  # for people: the same columns, aligned
            data = table([[row.get(c) for c in OPPORTUNITY_FIELDS] for row in rows],
                         OPPORTUNITY_FIELDS) + "\n"
        elif fmt == "xlsx":
            data = xlsx_bytes(rows, OPPORTUNITY_FIELDS, money=("amount", "objective"),
                              dates=("close_date", "created"), title="opportunities")
        else:
            data = csv_text(rows, OPPORTUNITY_FIELDS, "\t" if fmt == "tsv" else ",")
    if output is None:
        click.echo(data, nl=False)
        return
    write_whole(output, data)
    note(f"wrote {len(opportunities)} opportunities to {output}")


# ---------------------------------------------------------------- opp catalog import


@catalog.command("import")
@click.argument("file", type=click.File("rb"), metavar="FILE")
@click.option("--dry-run", is_flag=True, help="List the products each row would create or "
                                                "update (sku, name, price, unit); write nothing.")
@click.option("--map", "maps", multiple=True, metavar="COLUMN=FIELD",
              help="Take FIELD (sku, name, price, unit) from COLUMN (repeatable; 'COLUMN=' "
                   "ignores it).")
@sheet_options(dates=False)
@format_option("text", "json")
@pass_state
def catalog_import(state: State, file: BinaryIO, dry_run: bool, maps: tuple[str, ...],
                   locale: str | None, delimiter: str | None, encoding: str | None,
                   sheet: str | None, fmt: str) -> None:
    """Import products from a CSV or xlsx file (sku, name, price, unit), all or nothing.

    Usual headers are recognised ("Product Code", "Product Name", "List Price",
    "sales_price", an Italian listino's "Codice", "Prezzo", "Unità"...), and a
    "Description" column gives the names when no column does. A SKU already in
    the catalog is updated with the row's non-blank cells; without a sku column
    the SKU is made from the name ("GTX Pro" becomes GTX-Pro). Prices are read
    as opp import reads amounts: 1.234,50 and € 12,00 with --locale it (or
    opp.yaml's locale), 1.234 refused without one; an xlsx's number cells as
    typed. One commit.

    \b
    Example:  opp catalog import products.csv --dry-run
              opp catalog import price-list.csv --map Code=sku --map Description=name
              opp catalog import listino.csv --locale it --encoding cp1252
    """
    from ..domain.money import money_human, money_str
    from ..transfer import CATALOG_ALIASES, CATALOG_FALLBACKS, CATALOG_FIELDS, map_sheet
    from ..transfer.imports import Refused, import_catalog

    name = _file_name(file)
    repo = state.repo
    data, reading, _ = _read_sheet(state, file, None, locale=locale, delimiter=delimiter,
                                   encoding=encoding, sheet=sheet, aliases=CATALOG_ALIASES,
                                   maps=maps, fallbacks=CATALOG_FALLBACKS)
    columns = map_sheet(data, CATALOG_FIELDS, CATALOG_ALIASES, maps=maps,
                        fallbacks=CATALOG_FALLBACKS, path=name)
    try:
        done = import_catalog(repo, data, columns, name=name, reading=reading,
                              dry_run=dry_run)
    except Refused as exc:
        _refuse(name, exc.errors, fmt, exc.report)
    report, plan = done.report, done.plan

    # what each row writes (or would): the product as it would be stored, its price
    # in the catalog's currency, and for an update the fields it changes
    currency = repo.settings.currency
    rows = [{"line": e.line, "action": e.action, "sku": e.item.sku, "name": e.item.name,
             "price": money_str(e.item.price), "currency": currency, "unit": e.item.unit,
             "changed": list(e.changed)} for e in plan.entries]
    if fmt == "json":
        emit_json({**report, "rows": rows, "errors": []})
    elif dry_run:
        shown = [e for e in plan.entries if e.action != "unchanged"]
        if shown:
            click.echo(table([[e.line, e.action, e.item.sku, e.item.name,
                               money_human(e.item.price, currency), e.item.unit,
                               _catalog_changes(e, currency)] for e in shown],
                             ["line", "action", "sku", "name", "price", "unit", "changes"],
                             align=["right", "left", "left", "left", "right", "left", "left"]))
    _note_ignored(columns)
    counts = (f"{report['created']} created, {report['updated']} updated, "
              f"{report['unchanged']} unchanged")
    if dry_run:
        note(f"dry run of {name}: would be {counts}; nothing was written")
    else:
        note(f"imported {name} into the catalog: {counts}"
             + ("; one commit" if done.committed else "; no commit"))


def _catalog_changes(entry: CatalogEntry, currency: str) -> str:
    """What an update changes, for people: ``price (was 100.00 EUR)``."""
    from ..domain.money import money_human

    before = entry.before
    if before is None:
        return ""
    was = {"name": before.name, "price": money_human(before.price, currency),
           "unit": before.unit or "none"}
    return ", ".join(f"{f} (was {was[f]})" for f in entry.changed)
