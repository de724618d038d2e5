"""Reports from the whole history: ``opp insights`` (stage conversion, time in stage,
sales cycle, velocity, owners) and ``opp backtest`` (the forecast against what was won).
"""

from __future__ import annotations

import click

from .app import State, cli, note, pass_state
from .output import emit_csv, emit_json, format_option
from .params import END, START, me_or_name
from .reports import LEFT, RIGHT, emit_tables

HISTORY_FORMATS = ("table", "text", "json", "csv", "tsv", "markdown")


def cash(value, currency: str) -> str:
    from ..domain.money import money_human

    return "-" if value is None else money_human(value, currency)


def _rate(part: int, whole: int) -> str:
    from ..reports.common import percent_words

    return percent_words(part, whole)


def _days(value) -> str:
    from decimal import Decimal

    from ..domain.money import fixed_human

    return "-" if value is None else fixed_human(Decimal(str(value)))


def emit_rows(fmt: str, rows: list[dict], columns: list[str]) -> None:
    """CSV or TSV of ``rows``."""
    emit_csv(rows, columns, "\t" if fmt == "tsv" else ",")


INSIGHT_PARTS = {
    "stages": ["stage", "stage_label", "entered", "won", "lost", "conversion", "stays",
               "median_days", "mean_days"],
    "cycle": ["currency", "won_count", "lost_count", "win_rate", "won_median_days",
              "lost_median_days", "won_mean_days", "won_amount", "average_won", "open_count",
              "velocity"],
    "owners": ["owner", "currency", "won_count", "lost_count", "win_rate", "won_amount"],
}


@cli.command()
@click.option("--since", type=START, metavar="DATE",
              help="First day of the window (default: 365 days before --until); a period "
                   "means its first day.")
@click.option("--until", type=END, metavar="DATE", help="Last day of the window (default: "
              "today); a period means its last day.")
@click.option("--owner", metavar="NAME|me", callback=me_or_name,
              help="Only owners whose name contains this text (case-insensitive); 'me' is "
                   "the identity opp commits as.")
@click.option("--customer", help="Only customers whose name contains this text.")
@click.option("--part", type=click.Choice(list(INSIGHT_PARTS)), default="stages",
              show_default=True, help="Which table CSV and TSV hold.")
@format_option(*HISTORY_FORMATS)
@pass_state
def insights(state: State, since, until, owner, customer, part: str, fmt: str) -> None:
    """What the git history says about how deals move.

    A deal enters a stage on the author date of the commit that put it there
    (its creation commit for the first); a stay ends when a commit moves it on.
    Of the deals closed in the window (their close date): per open stage how
    many had been there, how many of those were won and lost (the conversion),
    and the median and mean whole days of the stays that ended in the window;
    per currency the sales cycle (creation commit to close date) of won and
    lost deals, the win rate, the average won amount and the velocity (open
    deals x win rate x average won / median days to win, money per day); per
    owner the deals won and lost and the amount won. Each deal is taken as it
    stood at the end of --until; --owner and --customer filter on that.

    \b
    Example:  opp insights --since 2026-01-01 --until 2026-12-31
              opp insights --format markdown >> "$GITHUB_STEP_SUMMARY"
    """
    from ..env import today
    from ..reports.insights import read_insights

    report = read_insights(state.repo, since, until, today(), owner=owner, customer=customer)
    data = report.as_dict()
    if fmt == "json":
        emit_json(data)
        return
    if fmt in ("csv", "tsv"):
        emit_rows(fmt, data[part], INSIGHT_PARTS[part])
        return
    stages = [[s.stage.label, s.entered, s.won, s.lost, _rate(s.won, s.won + s.lost),
               len(s.days), _days(d["median_days"]), _days(d["mean_days"])]
              for s, d in zip(report.stages, data["stages"], strict=True)]
    cycle = [[c.currency, c.won_count, c.lost_count,
              _rate(c.won_count, c.won_count + c.lost_count), _days(d["won_median_days"]),
              _days(d["lost_median_days"]), cash(c.average_won, c.currency), c.open_count,
              cash(c.velocity, c.currency)]
             for c, d in zip(report.cycle, data["cycle"], strict=True)]
    owners = [[o.owner, o.currency, o.won_count, o.lost_count,
               _rate(o.won_count, o.won_count + o.lost_count), cash(o.won_amount, o.currency)]
              for o in report.owners]
    emit_tables(fmt, [
        ("Stages", ["Stage", "Entered", "Won", "Lost", "Conversion", "Stays", "Median days",
                    "Mean days"], stages, [LEFT] + [RIGHT] * 7),
        ("Sales cycle", ["Currency", "Won", "Lost", "Win rate", "Days to win",
                         "Days to lose", "Average won", "Open", "Velocity per day"], cycle,
         [LEFT] + [RIGHT] * 8),
        ("Owners", ["Owner", "Currency", "Won", "Lost", "Win rate", "Won amount"],
         owners or [["-", "", "", "", "", ""]], [LEFT, LEFT] + [RIGHT] * 4),
    ], f"deals closed {report.since} to {report.until}")



BACKTEST_COLUMNS = ["group", "currency", "forecast", "won", "error", "error_pct",
                    "forecast_count", "won_count"]


def percent(value) -> str:
    from ..reports.common import percent_text

    return percent_text(value)


def _signed(value, currency: str) -> str:
    text = cash(abs(value), currency)
    return f"-{text}" if value < 0 else (f"+{text}" if value > 0 else text)


@cli.command()
@click.argument("period_text", metavar="PERIOD")
@click.option("--by", type=click.Choice(["owner", "stage"]),
              help="One row per owner or stage (default: one per currency).")
@format_option(*HISTORY_FORMATS)
@pass_state
def backtest(state: State, period_text: str, by, fmt: str) -> None:
    """How good the forecast was: what it said before PERIOD against what was won.

    PERIOD is a month (2026-11), a quarter (2026-Q4) or a year (2026). The
    forecast is what opp forecast said the day before PERIOD began for the
    deals closing in it: the weighted amount of the deals then open with a
    close date in PERIOD, read from the repo as it was that day. Won is the
    amount won with a close date in PERIOD, as of its last day (today while it
    runs). error = won - forecast; error_pct = error / forecast.

    \b
    Example:  opp backtest 2026-Q3
              opp backtest 2026-10 --by owner --format markdown
    """
    from ..domain.quotas import period
    from ..env import today
    from ..reports.backtest import read_backtest

    report = read_backtest(state.repo, period(period_text), today(), by)
    if report.history_starts_later:
        note(f"the history starts after {report.as_of}: nothing was forecast then")
    data = report.as_dict()
    if fmt == "json":
        emit_json(data)
        return
    if fmt in ("csv", "tsv"):
        emit_rows(fmt, data["rows"], BACKTEST_COLUMNS)
        return

    def cells(r) -> list:
        return [r.currency, cash(r.forecast, r.currency), cash(r.won, r.currency),
                _signed(r.error, r.currency), percent(r.as_dict()["error_pct"])]

    heads = ["Currency", "Forecast", "Won", "Error", "Error %"]
    sections = [("Totals", heads, [cells(t) for t in report.totals] or [["-"] * 5],
                 [LEFT] + [RIGHT] * 4)]
    if by:
        sections.insert(0, (f"Backtest by {by}", [by.capitalize(), *heads],
                            [[r.group, *cells(r)] for r in report.rows], [LEFT, LEFT]
                            + [RIGHT] * 4))
    else:
        sections[0] = ("Backtest", *sections[0][1:])
    emit_tables(fmt, sections, f"{report.period.name}: forecast as of {report.as_of}, won as "
                f"of {report.won_as_of}")
