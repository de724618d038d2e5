"""The two imports as one call each below the command line: check every row of a mapped
sheet, and, unless it is a dry run or a row is bad, store what the rows write in one
commit. All or nothing: a bad row raises ``Refused`` with every problem, and nothing is
written. The command line reads the file, maps its columns and renders what comes back.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..domain.stages import status
from ..env import today
from ..store.accounts import directory, with_accounts, with_names
from ..store.files import CATALOG_FILE, OPPORTUNITIES_DIR
from ..store.git import one_line
from .catalog import CatalogPlan, plan_catalog_import
from .columns import ColumnMap, parse_stage_map
from .plan import ImportPlan, RowError, plan_import
from .reading import Reading

if TYPE_CHECKING:
    from ..store.repo import Repo
    from .profiles import Profile
    from .sheet import Table

# ``progress(length, label)``: a context whose value is called with the rows done since
# its last call (the command line's progress bar, or nothing)
Progress = Callable[[int, str], AbstractContextManager[Callable[[int], None]]]


class Refused(Exception):
    """Bad rows: every problem, and the counts so far; nothing was written."""

    def __init__(self, errors: list[RowError], report: dict[str, Any]) -> None:
        super().__init__(f"{len(errors)} problem(s)")
        self.errors = errors
        self.report = report


@dataclass
class Imported:
    """What an import did (or, in a dry run, would do): ``report`` holds the file, the
    dry run flag and the counts created, updated and unchanged (and, for deals, the
    accounts created); ``committed`` whether a commit was made."""

    report: dict[str, Any]
    plan: Any  # ImportPlan or CatalogPlan
    committed: bool = False
    look_alikes: list = field(default_factory=list)  # (row, id of the deal it looks like)


def _report(name: str, dry_run: bool) -> dict[str, Any]:
    return {"file": name, "dry_run": dry_run, "created": 0, "updated": 0, "unchanged": 0}


def import_opportunities(repo: Repo, data: Table, columns: ColumnMap, *, name: str,
                         reading: Reading, stage_maps: tuple[str, ...] = (),
                         profile: Profile | None = None, dry_run: bool = False,
                         progress: Progress) -> Imported:
    """``opp import``: the rows of ``data`` as ``columns`` maps them, checked against the
    repo's rules and deals; created and updated deals (and the accounts their customers
    need) stored in one commit. Raises ``Refused`` on any bad row."""
    report = _report(name, dry_run)
    # the writing bar stays open until the transaction has written and committed
    with ExitStack() as bars, repo.transaction() as tx:
        settings = repo.settings
        stage_map = parse_stage_map(stage_maps, settings,
                                    lenient=profile.stage_options() if profile else ())
        existing = with_names(repo, repo.load_all())  # rows name customers
        with progress(len(data.rows), "checking rows") as step:
            plan: ImportPlan = plan_import(data, columns, settings, repo.catalog, existing,
                                           today=today(), owner=repo.identity.name,
                                           stage_map=stage_map, progress=step,
                                           reading=reading, accounts=directory(repo))
        if plan.errors:
            raise Refused(plan.errors, report)
        _expected_again(repo, plan, settings)
        report.update(created=plan.count("create"), updated=plan.count("update"),
                      unchanged=plan.count("unchanged"))
        if not dry_run and plan.writes:
            tx.refuse_hand_edits([f"{OPPORTUNITIES_DIR}/{e.opportunity.id}.yaml"
                                  for e in plan.entries if e.action == "update"])
            step = bars.enter_context(progress(2 * len(plan.writes), "writing files"))
            writes, report["accounts_created"] = with_accounts(tx, plan.writes, today(),
                                                               plan.account_ids)
            for opp in _counted(writes, step):
                tx.save_opportunity(opp)
            tx.progress = step
            tx.kind = "import"
            tx.subject = one_line(f"import: {report['created']} new, {report['updated']} "
                                  f"updated from {os.path.basename(name)}")
    return Imported(report, plan, committed=not dry_run and bool(plan.writes),
                    look_alikes=plan.look_alikes(existing))


def _expected_again(repo: Repo, plan: ImportPlan, settings) -> None:
    """A row that reopens a deal without a close date gives it back the expected close
    date it had before it closed, as ``opp reopen`` does (R17a), from its history."""
    from ..read.history import before_closing

    open_ids = {s.id for s in settings.stages if s.kind == "open"}
    for entry in plan.entries:
        opp = entry.opportunity
        if entry.before is None or opp.close_date is not None or \
                status(entry.before, settings) == "open" or opp.stage not in open_ids:
            continue
        previous = before_closing(repo, opp.id, open_ids)
        if previous and previous[1]:
            entry.opportunity = opp.model_copy(update={"close_date": previous[1]})


def _counted(items: list, step: Callable[[int], None]) -> Iterator:
    """``items``, telling ``step`` of every hundred given."""
    for count, item in enumerate(items, 1):
        yield item
        if count % 100 == 0:
            step(100)


def import_catalog(repo: Repo, data: Table, columns: ColumnMap, *, name: str,
                   reading: Reading, dry_run: bool = False) -> Imported:
    """``opp catalog import``: the rows of ``data`` as ``columns`` maps them, checked;
    new and changed products stored in one commit. Raises ``Refused`` on any bad row."""
    from ..domain.products import require_module

    report = _report(name, dry_run)
    with repo.transaction() as tx:
        require_module(repo.settings, "catalog")
        plan: CatalogPlan = plan_catalog_import(data, columns, repo.catalog, reading,
                                                repo.settings.currency)
        if plan.errors:
            raise Refused(plan.errors, report)
        report.update(created=len(plan.created), updated=len(plan.updated),
                      unchanged=len(plan.unchanged))
        changes = bool(plan.created or plan.updated)
        if not dry_run and changes:
            tx.refuse_hand_edits([CATALOG_FILE])
            tx.save_model(CATALOG_FILE, plan.catalog)
            tx.kind = "catalog-import"
            tx.subject = one_line(f"catalog: import {len(plan.created)} new, "
                                  f"{len(plan.updated)} updated from "
                                  f"{os.path.basename(name)}")
    return Imported(report, plan, committed=not dry_run and changes)
