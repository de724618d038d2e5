"""``opp import``, ``opp export`` and ``opp catalog import``: CSV in, CSV or JSON out.

The work is in ``oppcli/transfer.py`` (pure); these commands read the file, run the
plan inside one transaction, and print: bad rows and reports on stdout (as
``opp validate`` does), the summary on stderr.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING, Any, NoReturn

import click

from .app import State, cli, note, pass_state
from .catalog import catalog
from .output import emit_csv, emit_json, format_option, table

if TYPE_CHECKING:
    from typing import BinaryIO

    from ..transfer import ColumnMap, RowError, Table


SHOWN_ERRORS = 50      # bad rows listed in text; --format json lists them all
PROGRESS_MIN_ROWS = 500  # below this an import is quick: no progress bar

MAP_HELP = ("Take FIELD from COLUMN (repeatable; FIELD may be a comma list; 'COLUMN=' "
            "ignores the column). Fields: id, ref, name, customer, stage, amount, objective, "
            "currency, close_date, owner, lost_reason, created, product.")


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


def _read_table(file: BinaryIO) -> Table:
    from ..errors import DataError
    from ..transfer import read_csv

    name = _file_name(file)
    try:
        return read_csv(file.read())
    except DataError as exc:
        raise DataError(exc.message, name, exc.line) from None


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


class _Refused(Exception):
    def __init__(self, errors: list[RowError]) -> None:
        self.errors = errors


def _note_ignored(columns: ColumnMap) -> None:
    if columns.ignored:
        note(f"note: ignored column(s): {', '.join(columns.ignored)} (import one with "
             "--map COLUMN=FIELD)")


# ---------------------------------------------------------------- opp import


@cli.command("import")
@click.argument("file", type=click.File("rb"), metavar="FILE.csv")
@click.option("--dry-run", is_flag=True, help="Check every row and report what would be "
                                                "created and updated; write nothing.")
@click.option("--map", "maps", multiple=True, metavar="COLUMN=FIELD", help=MAP_HELP)
@click.option("--default", "defaults", multiple=True, metavar="FIELD=VALUE",
              help="Value of FIELD for new opportunities whose cell is blank or missing "
                   "(repeatable); {COLUMN} in VALUE is replaced by that column's cell.")
@click.option("--stage-map", "stage_maps", multiple=True, metavar="TEXT=STAGE",
              help="Read TEXT in the stage column as STAGE (repeatable).")
@format_option("text", "json")
@pass_state
def import_(state: State, file: BinaryIO, dry_run: bool, maps: tuple[str, ...],
            defaults: tuple[str, ...], stage_maps: tuple[str, ...], fmt: str) -> None:
    """Import opportunities from a CSV file, all or nothing, as one commit.

    The first row names the columns: the fields (id, ref, name, customer,
    stage, amount, objective, currency, close_date, owner, lost_reason,
    created, product) or the usual headers of Salesforce and HubSpot exports
    ("Opportunity Name", "Account Name", "Deal Stage", "Close Date", "Deal
    owner", "Record ID"...); --map names the others. A row whose id or ref is
    already in the repo updates that opportunity with its non-blank cells, so
    importing the same sheet again changes only what changed. Any bad row
    stops the import: every problem is listed with its line, nothing is
    written (exit 1).

    \b
    Example:  opp import deals.csv --dry-run
              opp import hubspot.csv --default customer="(none)" \\
                  --stage-map "Appointment scheduled=qualification"
              opp import pipeline.csv --map close_value=amount --map deal_id=ref,name
    """
    from ..env import today
    from ..store.files import OPPORTUNITIES_DIR
    from ..store.git import one_line
    from ..transfer import map_columns, parse_stage_map, plan_import

    name = _file_name(file)
    data = _read_table(file)
    columns = map_columns(data.header, maps=maps, defaults=defaults)
    repo = state.repo
    report = {"file": name, "dry_run": dry_run, "created": 0, "updated": 0, "unchanged": 0}
    try:
        # the writing bar stays open until the transaction has written and committed
        with ExitStack() as bars, repo.transaction() as tx:
            settings = repo.settings
            stage_map = parse_stage_map(stage_maps, settings)
            existing = repo.load_all()
            with progress(len(data.rows), "checking rows") as step:
                plan = plan_import(data, columns, settings, repo.catalog, existing,
                                   today=today(), owner=repo.identity.name,
                                   stage_map=stage_map, progress=step)
            if plan.errors:
                raise _Refused(plan.errors)
            report.update(created=plan.count("create"), updated=plan.count("update"),
                          unchanged=plan.count("unchanged"))
            if not dry_run and plan.writes:
                tx.refuse_hand_edits([f"{OPPORTUNITIES_DIR}/{e.opportunity.id}.yaml"
                                      for e in plan.entries if e.action == "update"])
                step = bars.enter_context(progress(2 * len(plan.writes), "writing files"))
                for count, opp in enumerate(plan.writes, 1):
                    tx.save_opportunity(opp)
                    if count % 100 == 0:
                        step(100)
                tx.progress = step
                tx.kind = "import"
                tx.subject = one_line(f"import: {report['created']} new, {report['updated']} "
                                      f"updated from {os.path.basename(name)}")
    except _Refused as exc:
        _refuse(name, exc.errors, fmt, report)
        return

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
    _note_ignored(columns)
    counts = (f"{report['created']} created, {report['updated']} updated, "
              f"{report['unchanged']} unchanged")
    if dry_run:
        note(f"dry run of {name}: would be {counts}; nothing was written")
    elif plan.writes:
        note(f"imported {name}: {counts}; one commit")
    else:
        note(f"imported {name}: nothing changed ({report['unchanged']} unchanged); no commit")


# ---------------------------------------------------------------- opp export


@cli.command("export")
@format_option("csv", "json", "table")
@pass_state
def export(state: State, fmt: str) -> None:
    """Every opportunity, with the fields opp import reads (CSV) or in full (JSON).

    The CSV imports back: into an empty repo it gives the same opportunities
    (same ids), into this one it changes nothing. Product lines travel in the
    product column when an opportunity holds one line of quantity 1 (what an
    import makes); otherwise the amount alone. JSON has every field and panel,
    as opp show --format json, plus the product column.

    \b
    Example:  opp export > pipeline.csv
              opp export --format json | jq '[.[] | select(.status == "won")] | length'
    """
    from ..domain.views import detail
    from ..transfer import OPPORTUNITY_FIELDS, export_row, single_product

    repo = state.repo
    settings = repo.settings
    opportunities = repo.load_all()
    if fmt == "json":
        emit_json([{**detail(opp, settings), "product": single_product(opp)}
                   for opp in opportunities])
    elif fmt == "table":  # for people: the same columns, aligned
        rows = [export_row(opp) for opp in opportunities]
        click.echo(table([[row.get(c) for c in OPPORTUNITY_FIELDS] for row in rows],
                         OPPORTUNITY_FIELDS))
    else:
        emit_csv([export_row(opp) for opp in opportunities], OPPORTUNITY_FIELDS)


# ---------------------------------------------------------------- opp catalog import


@catalog.command("import")
@click.argument("file", type=click.File("rb"), metavar="FILE.csv")
@click.option("--dry-run", is_flag=True, help="Report what would change; write nothing.")
@click.option("--map", "maps", multiple=True, metavar="COLUMN=FIELD",
              help="Take FIELD (sku, name, price, unit) from COLUMN (repeatable; 'COLUMN=' "
                   "ignores it).")
@format_option("text", "json")
@pass_state
def catalog_import(state: State, file: BinaryIO, dry_run: bool, maps: tuple[str, ...],
                   fmt: str) -> None:
    """Import products from a CSV file (sku, name, price, unit), all or nothing.

    Usual headers are recognised ("Product Code", "Product Name", "List Price",
    "sales_price"...). A SKU already in the catalog is updated with the row's
    non-blank cells; without a sku column the SKU is made from the name
    ("GTX Pro" becomes GTX-Pro). One commit.

    \b
    Example:  opp catalog import products.csv --dry-run
              opp catalog import price-list.csv --map Code=sku --map Description=name
    """
    from ..domain.products import require_module
    from ..store.files import CATALOG_FILE
    from ..store.git import one_line
    from ..transfer import CATALOG_ALIASES, CATALOG_FIELDS, map_columns, plan_catalog_import

    name = _file_name(file)
    data = _read_table(file)
    columns = map_columns(data.header, CATALOG_FIELDS, CATALOG_ALIASES, maps=maps)
    repo = state.repo
    report = {"file": name, "dry_run": dry_run, "created": 0, "updated": 0, "unchanged": 0}
    try:
        with repo.transaction() as tx:
            require_module(repo.settings, "catalog")
            plan = plan_catalog_import(data, columns, repo.catalog)
            if plan.errors:
                raise _Refused(plan.errors)
            report.update(created=len(plan.created), updated=len(plan.updated),
                          unchanged=len(plan.unchanged))
            if not dry_run and (plan.created or plan.updated):
                tx.refuse_hand_edits([CATALOG_FILE])
                tx.save_model(CATALOG_FILE, plan.catalog)
                tx.kind = "catalog-import"
                tx.subject = one_line(f"catalog: import {len(plan.created)} new, "
                                      f"{len(plan.updated)} updated from "
                                      f"{os.path.basename(name)}")
    except _Refused as exc:
        _refuse(name, exc.errors, fmt, report)
        return

    rows = ([{"action": "create", "sku": p.sku, "name": p.name} for p in plan.created]
            + [{"action": "update", "sku": a.sku, "name": a.name} for _, a in plan.updated])
    if fmt == "json":
        emit_json({**report, "rows": rows, "errors": []})
    elif dry_run and rows:
        click.echo(table([[r["action"], r["sku"], r["name"]] for r in rows],
                         ["action", "sku", "name"]))
    _note_ignored(columns)
    counts = (f"{report['created']} created, {report['updated']} updated, "
              f"{report['unchanged']} unchanged")
    if dry_run:
        note(f"dry run of {name}: would be {counts}; nothing was written")
    else:
        note(f"imported {name} into the catalog: {counts}"
             + ("; one commit" if rows else "; no commit"))
