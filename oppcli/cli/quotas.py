"""``opp quota`` (sales quotas per owner and month or quarter, in ``quotas.yaml``) and
``opp attainment PERIOD`` (the quotas against what was won and what is open)."""

from __future__ import annotations

import click

from .app import State, cli, note, pass_state
from .insights import HISTORY_FORMATS, cash, emit_rows, percent
from .output import emit_json, format_option
from .params import CURRENCY, LINE, MONEY
from .reports import LEFT, RIGHT, emit_tables

QUOTA_COLUMNS = ["owner", "period", "amount", "currency"]


@cli.group()
def quota() -> None:
    """Sales quotas: what each owner should win per month or quarter (quotas.yaml).

    \\b
    Example:  opp quota set ann 2026-Q4 120000 && opp attainment 2026-Q4
    """


def _save(state: State, subject: str, kind: str, edit):
    """``edit(quotas) -> (quotas, result)`` as one commit (``store.shared_files``)."""
    from ..store.shared_files import change_quotas

    return change_quotas(state.repo, subject, kind, edit)


@quota.command("set")
@click.argument("owner", type=LINE)
@click.argument("period_text", metavar="PERIOD")
@click.argument("amount", type=MONEY)
@click.option("--currency", type=CURRENCY, help="The quota's currency (default: opp.yaml's).")
@pass_state
def quota_set(state: State, owner: str, period_text: str, amount, currency) -> None:
    """Set OWNER's quota for PERIOD (a month 2026-11 or a quarter 2026-Q4): one commit.

    A quota set again for the same owner, period and currency replaces it.
    A quarter without a quota of its own adds up its months' quotas.

    \b
    Example:  opp quota set ann 2026-Q4 120000
              opp quota set "Bob Rossi" 2026-11 30000 --currency USD
    """
    from ..domain.money import money_str
    from ..domain.quotas import Quota, period, set_quota

    p = period(period_text, ("month", "quarter"))
    currency = currency or state.repo.settings.currency
    new = Quota(owner, p.name, amount, currency)
    old = _save(state, f"quota: {owner} {p.name} {money_str(amount)} {currency}", "quota-set",
                lambda quotas: set_quota(quotas, new))
    was = f" (was {money_str(old.amount)})" if old else ""
    note(f"quota: {owner} {p.name} {money_str(amount)} {currency}{was}")


@quota.command("remove")
@click.argument("owner", type=LINE)
@click.argument("period_text", metavar="PERIOD")
@pass_state
def quota_remove(state: State, owner: str, period_text: str) -> None:
    """Remove OWNER's quota for PERIOD (in every currency): one commit.

    \b
    Example:  opp quota remove ann 2026-Q4
    """
    from ..domain.quotas import period, remove_quota

    p = period(period_text, ("month", "quarter"))
    gone = _save(state, f"quota: remove {owner} {p.name}", "quota-remove",
                 lambda quotas: remove_quota(quotas, owner, p.name))
    note(f"quota: removed {len(gone)} quota{'s' if len(gone) > 1 else ''} of {owner} "
         f"for {p.name}")


@quota.command("list")
@format_option("table", "text", "json", "csv", "tsv")
@pass_state
def quota_list(state: State, fmt: str) -> None:
    """Every quota, by owner and period.

    \b
    Example:  opp quota list --format csv > quotas.csv
    """
    from ..store.shared_files import stored_quotas

    rows = [q.as_dict() for q in stored_quotas(state.repo)]
    if fmt == "json":
        emit_json(rows)
    elif fmt in ("csv", "tsv"):
        emit_rows(fmt, rows, QUOTA_COLUMNS)
    elif not rows:
        note("no quotas yet; set one with: opp quota set OWNER PERIOD AMOUNT")
    else:
        from .output import table

        click.echo(table([[r["owner"], r["period"], cash(q.amount, q.currency)]
                          for r, q in zip(rows, stored_quotas(state.repo), strict=True)],
                         ["Owner", "Period", "Quota"], align=[LEFT, LEFT, RIGHT]))


ATTAINMENT_COLUMNS = ["owner", "currency", "quota", "won", "gap", "attainment", "commit",
                      "best_case", "pipeline", "coverage"]


@cli.command()
@click.argument("period_text", metavar="PERIOD")
@format_option(*HISTORY_FORMATS)
@pass_state
def attainment(state: State, period_text: str, fmt: str) -> None:
    """Quota attainment per owner for PERIOD (a month, a quarter or a year).

    Per owner and currency with a quota or deals in PERIOD: the quota, won
    (amount won with a close date in PERIOD), gap = max(quota - won, 0),
    attainment = won / quota, the open amounts closing in PERIOD per forecast
    category (commit, best case, pipeline; omitted deals are left out), and
    coverage = (commit + best case + pipeline) / gap.

    \\b
    Example:  opp attainment 2026-Q4
              opp attainment 2026-11 --format markdown >> "$GITHUB_STEP_SUMMARY"
    """
    from ..domain.quotas import period
    from ..reports.attainment import read_attainment

    report = read_attainment(state.repo, period(period_text))
    data = report.as_dict()
    if fmt == "json":
        emit_json(data)
        return
    if fmt in ("csv", "tsv"):
        emit_rows(fmt, data["rows"], ATTAINMENT_COLUMNS)
        return
    rows = [[r.owner, cash(r.quota, r.currency), cash(r.won, r.currency),
             cash(r.gap, r.currency), percent(r.attainment), cash(r.commit, r.currency),
             cash(r.best_case, r.currency), cash(r.pipeline, r.currency),
             "-" if r.coverage is None else f"{r.coverage:.2f}x"] for r in report.rows]
    emit_tables(fmt, [("Attainment", ["Owner", "Quota", "Won", "Gap", "Attainment", "Commit",
                                      "Best case", "Pipeline", "Coverage"],
                       rows or [["-"] + [""] * 8], [LEFT] + [RIGHT] * 8)],
                f"{report.period.name}, {report.period.start} to {report.period.end}")
