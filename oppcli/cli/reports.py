"""Reports: pipeline, forecast and changes (R18, R19), for people (table), for a CI
job summary (markdown) and for tools (json, csv).

The numbers come from ``reports.py`` over plain records; this module only picks
the data (today's files, or the repo as of a day, or a window of history), calls
the report and prints it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from ..store.repo import Repo
from .app import State, cli, note, pass_state
from .output import emit_csv, emit_json, format_option, markdown_cell, table
from .params import END, START, me_or_name

REPORT_FORMATS = ("table", "json", "csv", "markdown")
RIGHT, LEFT = "right", "left"


def filter_options(f: Callable) -> Callable:
    """--owner, --customer, --stage: which opportunities a report covers."""
    f = click.option("--stage", "stage_name", metavar="STAGE",
                     help="Only this stage (id or label).")(f)
    f = click.option("--customer", help="Only this account (id, name or alias), or "
                                        "customers whose name contains this text.")(f)
    f = click.option("--owner", metavar="NAME|me", callback=me_or_name,
                     help="Only owners whose name contains this text (case-insensitive); "
                          "'me' is the identity opp commits as.")(f)
    return f


def as_of_option(f: Callable) -> Callable:
    return click.option("--as-of", "as_of", type=END, metavar="DATE",
                        help="Read the repo as it was at its last commit dated on or before "
                             "DATE (its data and settings of then).")(f)


def report_source(state: State, as_of):
    """Today's files, or the data repo as of a day (read from git)."""
    from ..read.source import of

    return of(state.repo, as_of)


def report_records(source, owner, customer, stage_name):
    """(stages, selected records, settings); refuses on any invalid file."""
    from ..domain.stages import resolve_stage
    from ..errors import DataError
    from ..read.index.accounts import customer_query
    from ..reports.common import select

    past = source.commit
    try:
        settings = source.settings()
        every = source.records()
    except DataError as exc:
        hint = "" if past else " (opp validate lists every problem)"
        raise DataError(f"{exc.message}; no report while a file is invalid, its totals would "
                        f"miss data{hint}", exc.path, exc.line, exc.column) from None
    if past:
        note(f"as of the end of the day: commit {past.sha[:10]} of {past.at.date()} "
             f"({past.subject})")
    all_stages = list(settings.stages)
    stage_id = resolve_stage(settings, stage_name).id if stage_name else None
    chosen = [s for s in all_stages if s.id == stage_id] if stage_id else all_stages
    query = customer_query(source.repo, customer)  # the accounts it names, or text
    return chosen, select(every, owner=owner, customer=query, stage=stage_id), settings


def _money(value, currency: str) -> str:
    from ..domain.money import money_human

    return money_human(value, currency)


def emit_tables(fmt: str, sections: list[tuple[str, list[str], list[list[Any]], list[str]]],
                 subtitle: str = "") -> None:
    """Print titled tables: aligned text for people, or GitHub-flavoured Markdown."""
    out = []
    for i, (title, headers, rows, align) in enumerate(sections):
        if fmt == "markdown":
            out.append(f"{'###' if i == 0 else '####'} {title}\n")
            if i == 0 and subtitle:
                out.append(f"_{subtitle}_\n")
            cells = [[markdown_cell(v) for v in row] for row in rows]
            out.append(table(cells, headers, align=align, fmt="pipe") + "\n")
        else:
            heading = f"{title} ({subtitle})" if i == 0 and subtitle else title
            out.append(f"{heading}\n\n{table(rows, headers, align=align)}\n")
    click.echo("\n".join(out), nl=False)


def _objective(row) -> str:
    """A row's objective for people: '-' when none of its deals has one (JSON keeps the
    sum and objective_count)."""
    return _money(row.objective, row.currency) if row.objective_count else "-"


def _as_of_json(source, as_of) -> dict[str, Any]:
    return {"as_of": as_of.isoformat() if as_of else None,
            "as_of_commit": source.commit.sha if as_of else None}


def _as_of_words(source, as_of) -> str:
    if as_of is None:
        return ""
    return f"as of {as_of}, commit {source.commit.sha[:10]}"


# ---------------------------------------------------------------- pipeline


PIPELINE_COLUMNS = ["stage", "stage_label", "kind", "probability", "currency", "count",
                    "amount", "weighted", "objective", "objective_count"]


@cli.command()
@click.option("--by", type=click.Choice(["stage", "customer"]), default="stage",
              show_default=True, help="Rows per stage, or per customer (account).")
@as_of_option
@filter_options
@format_option(*REPORT_FORMATS)
@pass_state
def pipeline(state: State, by, as_of, owner, customer, stage_name, fmt: str) -> None:
    """The pipeline: per stage and currency, count, amount, weighted amount, objective.

    Weighted = amount x stage probability, rounded half-up to the cent per
    opportunity. Totals per currency: open, won and lost deals and the win rate
    won / (won + lost). Currencies are never added together. CSV holds the rows.

    \b
    Example:  opp pipeline --owner alice
              opp pipeline --as-of 2026-09-30 --format json
              opp pipeline --as-of yesterday
    """
    from ..reports.pipeline import pipeline as build

    source = report_source(state, as_of)
    stages, records, settings = report_records(source, owner, customer, stage_name)
    report = build(records, stages, settings.currency)
    if by == "customer":
        _pipeline_by_customer(report, records, fmt, _as_of_json(source, as_of),
                              _as_of_words(source, as_of))
        return
    if fmt == "json":
        emit_json({**report.as_dict(), **_as_of_json(source, as_of)})
        return
    if fmt == "csv":
        emit_csv([r.as_dict() for r in report.rows], PIPELINE_COLUMNS)
        return
    # people see each stage once when it is empty, and once per currency it holds
    rows = []
    for stage in stages:
        mine = [r for r in report.rows if r.stage.id == stage.id]
        held = [r for r in mine if r.count] or mine[:1]
        rows += [[r.stage.label, f"{r.stage.probability} %", r.count,
                  _money(r.amount, r.currency) if r.count else "-",
                  _money(r.weighted, r.currency) if r.count else "-",
                  _objective(r)] for r in held]
    totals = [[t.currency, t.open_count, _money(t.open_amount, t.currency),
               _money(t.open_weighted, t.currency), t.won_count,
               _money(t.won_amount, t.currency), t.lost_count,
               _money(t.lost_amount, t.currency), t.win_rate_words()] for t in report.totals]
    emit_tables(fmt, [
        ("Pipeline", ["Stage", "Probability", "Count", "Amount", "Weighted", "Objective"],
         rows, [LEFT] + [RIGHT] * 5),
        ("Totals", ["Currency", "Open", "Open amount", "Open weighted", "Won", "Won amount",
                    "Lost", "Lost amount", "Win rate"], totals, [LEFT] + [RIGHT] * 8),
    ], _as_of_words(source, as_of))


BY_CUSTOMER_COLUMNS = ["customer", "customer_id", "currency", "open_count", "open_amount",
                       "open_weighted", "won_count", "won_amount", "lost_count", "lost_amount"]


def _pipeline_by_customer(report, records, fmt: str, as_of_json: dict, subtitle: str) -> None:
    """``opp pipeline --by customer``: a row per account and currency, largest open
    amount first; the totals as by stage."""
    from decimal import Decimal

    from ..reports.accounts import by_customer

    rows = by_customer(records)
    if fmt == "json":
        emit_json({"by": "customer", "rows": rows,
                   "totals": report.as_dict()["totals"], **as_of_json})
        return
    if fmt == "csv":
        emit_csv(rows, BY_CUSTOMER_COLUMNS)
        return
    shown = [[r["customer"], r["open_count"], _money(Decimal(r["open_amount"]), r["currency"]),
              _money(Decimal(r["open_weighted"]), r["currency"]), r["won_count"],
              _money(Decimal(r["won_amount"]), r["currency"]), r["lost_count"]] for r in rows]
    emit_tables(fmt, [("Pipeline by customer", ["Customer", "Open", "Open amount",
                                                 "Open weighted", "Won", "Won amount",
                                                 "Lost"], shown, [LEFT] + [RIGHT] * 6)],
                 subtitle)


# ---------------------------------------------------------------- forecast


FORECAST_COLUMNS = ["group", "currency", "count", "amount", "weighted", "objective",
                    "objective_count"]


@cli.command()
@click.option("--by", type=click.Choice(["month", "quarter", "owner", "stage", "category",
                                         "customer"]),
              default="month", show_default=True,
              help="Group by close period, owner, stage, forecast category or customer "
                   "(account).")
@click.option("--from", "start", type=START, metavar="DATE",
              help="Only deals closing on or after DATE (leaves out undated ones).")
@click.option("--to", "end", type=END, metavar="DATE",
              help="Only deals closing on or before DATE (leaves out undated ones).")
@as_of_option
@click.option("--probabilities", type=click.Choice(["settings", "history"]), default="settings",
              show_default=True, help="Weight open deals by the stages' probabilities in "
              "opp.yaml, or by their conversion from history.")
@click.option("--since", type=START, metavar="DATE", help="With --probabilities history: the "
              "first day of the history window (default: 365 days before today or --as-of).")
@filter_options
@format_option(*REPORT_FORMATS)
@pass_state
def forecast(state: State, by: str, start, end, as_of, probabilities: str, since, owner,
             customer, stage_name, fmt: str) -> None:
    """The forecast: expected revenue of open and won deals per close period, owner, stage
    or forecast category.

    Won deals count at 100 %, open ones at their stage probability (weighted),
    lost ones not at all; the objective stands beside. Open deals without a
    close date fall in the group 'unscheduled', which --from/--to leave out
    (a note says how many). Currencies are never added together.

    --by category groups closed (won), commit, best_case, pipeline and omitted
    deals, with Salesforce's cumulative totals per currency: commit forecast
    (closed + commit), best case forecast (+ best_case) and open pipeline
    (pipeline + best_case + commit), as amounts.

    --probabilities history weights open deals by their stage's conversion in
    opp insights over the window (the whole team's deals closed in it); a stage
    that fewer than 5 closed deals passed through keeps its probability.

    \b
    Example:  opp forecast --by quarter --from 2026-Q4 --to 2027-Q1
              opp forecast --by owner --format markdown >> "$GITHUB_STEP_SUMMARY"
              opp forecast --by category --probabilities history
    """
    from ..env import today
    from ..errors import UsageError
    from ..reports.forecast import forecast as build

    if start and end and end < start:
        raise UsageError(f"--to {end} is before --from {start}")
    if since and probabilities != "history":
        raise UsageError("--since is the window of --probabilities history; add it")
    source = report_source(state, as_of)
    _, records, settings = report_records(source, owner, customer, stage_name)
    calibration = None
    if probabilities == "history":  # reading the history loads more than a report needs
        from ..reports.insights import history_probabilities

        calibration = history_probabilities(state.repo, since, as_of, today())
    report = build(records, by, start=start, end=end, default_currency=settings.currency,
                   probabilities=calibration.percents() if calibration else None)
    if report.unscheduled_left_out:
        note(f"{report.unscheduled_left_out} open opportunit"
             f"{'y' if report.unscheduled_left_out == 1 else 'ies'} without a close date left "
             "out by --from/--to (without them they show as 'unscheduled')")
    if fmt == "json":
        extra = {"probabilities": calibration.as_dict()} if calibration else {}
        emit_json({**report.as_dict(), **_as_of_json(source, as_of), **extra})
        return
    if fmt == "csv":
        emit_csv([r.as_dict() for r in report.rows], FORECAST_COLUMNS)
        return
    rows = [[r.group, r.count, _money(r.amount, r.currency), _money(r.weighted, r.currency),
             _objective(r)] for r in report.rows]
    totals = [[t.currency, t.count, _money(t.amount, t.currency),
               _money(t.weighted, t.currency), _objective(t)] for t in report.totals]
    sections = []
    if by == "category":
        sections.append(("Cumulative", ["Currency", "Commit forecast", "Best case forecast",
                                        "Open pipeline"],
                         [[t.currency, *(_money(v, t.currency)
                                         for v in report.cumulative(t.currency).values())]
                          for t in report.totals], [LEFT] + [RIGHT] * 3))
    if calibration:
        sections.append(("Probabilities from history", ["Stage", "Probability", "From",
                                                         "Closed"],
                         [[p.stage.label, f"{p.as_dict()['probability']} %", p.source,
                           str(p.closed)] for p in calibration.stages], [LEFT] + [RIGHT] * 3))
    window = " to ".join(filter(None, [str(start or "…"), str(end or "…")])) \
        if start or end else ""
    subtitle = ", ".join(filter(None, [window and f"closing {window}",
                                       _as_of_words(source, as_of)]))
    emit_tables(fmt, [
        (f"Forecast by {by}", [by.capitalize(), "Count", "Amount", "Weighted", "Objective"],
         rows, [LEFT] + [RIGHT] * 4),
        ("Totals", ["Currency", "Count", "Amount", "Weighted", "Objective"], totals,
         [LEFT] + [RIGHT] * 4),
        *sections,
    ], subtitle)


# ---------------------------------------------------------------- changes


CHANGE_COLUMNS = ["at", "commit", "author", "id", "name", "customer", "owner", "stage",
                  "currency", "amount", "kind", "direction", "old", "new"]


def change_words(c) -> str:
    from ..domain.money import money_human

    r = c.record
    amount = _money(r.amount, r.currency)
    if c.kind == "new":
        return f"new at {c.new}, {amount}"
    if c.kind == "deleted":
        return f"deleted (was at {c.old}, {amount})"
    if c.kind in ("won", "lost"):
        return f"{c.kind} {amount}" + (f" (from {c.old})" if c.old else "")
    if c.kind == "reopened":
        return f"reopened at {c.new} (was {c.old})"
    if c.kind == "stage":
        return f"stage {c.old} -> {c.new} ({c.direction})"
    if c.kind == "amount":
        delta = c.new - c.old
        sign = "+" if delta > 0 else "-"
        return (f"amount {money_human(c.old)} -> {amount} "
                f"({sign}{money_human(abs(delta))})")
    if c.kind == "close_date":
        if c.direction in ("slipped", "pulled-in"):
            days = abs((c.new - c.old).days)
            return f"close date {c.old} -> {c.new} ({c.direction} {days} days)"
        return f"close date {c.old or 'none'} -> {c.new or 'none'}"
    return f"{c.kind.replace('_', ' ')} {c.old} -> {c.new}"


def changes_report(repo: Repo, since, until, *, owner=None, customer=None):
    """The changes report of a window, with a note per invalid version stepped over."""
    from ..read.history import steps
    from ..read.index.accounts import customer_query
    from ..reports.changes import changes as build

    skipped: list = []
    report = build(steps(repo, since, until, skipped), since, until, owner=owner,
                   customer=customer_query(repo, customer), skipped=skipped)
    for version in report.skipped:
        note(version.words())
    return report


@cli.command()
@click.option("--since", required=True, type=START, metavar="DATE",
              help="First day of the window (commits dated on or after it): a date, "
                   "'7 days ago', -1w, yesterday, or a period (2026-11: its first day).")
@click.option("--until", type=END, metavar="DATE",
              help="Last day of the window (default: up to now); a period means its last "
                   "day.")
@click.option("--owner", metavar="NAME|me", callback=me_or_name,
              help="Only deals of owners whose name contains this text, before or after "
                   "the change; 'me' is the identity opp commits as.")
@click.option("--customer", help="Only this account (id, name or alias), or customers "
                                "whose name contains this text.")
@click.option("--limit", type=click.IntRange(min=0), metavar="N",
              help="List only the N most recent changes (0: the totals alone); the totals "
                   "still count every change.")
@format_option(*REPORT_FORMATS)
@pass_state
def changes(state: State, since, until, owner, customer, limit, fmt: str) -> None:
    """What moved in the pipeline between --since and --until, from git history.

    Every commit dated in the window (whole days, first-parent history) is
    compared with the commit before it: new deals, stage moves forward and
    back, won, lost, reopened, amount changes, close dates set, slipped (later)
    or pulled in, owners changed, deals deleted. Each change is listed with its
    day and author, oldest first, and totals per currency follow. For the net
    effect, compare 'opp pipeline --as-of' of the two days.

    --limit keeps a CI job summary small (GitHub drops one over 1 MB): the
    N most recent changes are listed, the totals count them all.

    \b
    Example:  opp changes --since 2026-11-02 --until 2026-11-08
              opp changes --since "6 days ago" --limit 50 --format markdown
              opp changes --since 2026-Q4 --until yesterday
    """
    report = changes_report(state.repo, since, until, owner=owner, customer=customer)
    listed = report.changes
    left_out = 0
    if limit is not None and len(listed) > limit:
        left_out = len(listed) - limit
        listed = listed[left_out:]
    if fmt == "json":
        data = report.as_dict()
        if limit is not None:
            data["changes"] = data["changes"][left_out:]
            data["left_out"] = left_out
        emit_json(data)
        return
    if fmt == "csv":
        emit_csv([c.as_dict() for c in listed], CHANGE_COLUMNS)
        return
    window = f"{since} to {until or 'now'}"
    if not report.changes:
        note(f"no changes from {window}")
        if fmt == "markdown":
            click.echo(f"### Changes\n\n_No changes from {window}._")
        return
    rows = [[c.commit.at.date(), f"{c.record.id} {c.record.name}", c.record.owner,
             change_words(c), c.commit.author] for c in listed]
    if left_out:
        earlier = (f"{left_out:,} earlier change{'s' if left_out > 1 else ''} not listed "
                   f"(--limit {limit}); the totals count them")
        note(earlier)
        if fmt == "markdown":
            rows.append(["", f"_{earlier}_", "", "", ""])
    totals = [[t.currency, t.new_count, _money(t.new_amount, t.currency), t.won_count,
               _money(t.won_amount, t.currency), t.lost_count,
               _money(t.lost_amount, t.currency), t.forward_count, t.back_count,
               t.slipped_count, t.pulled_in_count, _money_signed(t.amount_change, t.currency)]
              for t in report.totals]
    emit_tables(fmt, [
        ("Changes", ["Date", "Opportunity", "Owner", "Change", "By"], rows, [LEFT] * 5),
        ("Totals", ["Currency", "New", "New amount", "Won", "Won amount", "Lost",
                    "Lost amount", "Forward", "Back", "Slipped", "Pulled in",
                    "Amount change"], totals, [LEFT] + [RIGHT] * 11),
    ], window)


def _money_signed(value, currency: str) -> str:
    text = _money(abs(value), currency)
    return f"-{text}" if value < 0 else (f"+{text}" if value > 0 else text)
