"""``opp dashboard``: the pipeline, forecast and last week's changes as one HTML page.

The numbers are the reports' own (``reports.py``, picked the same way as ``opp
pipeline``, ``opp forecast`` and ``opp changes``); ``dashboard.py`` turns them into
the page. pygal, which draws the charts, is imported only here, inside the command.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from .app import State, cli, note, pass_state
from .output import generated_at, write_whole
from .params import END, START
from .reports import as_of_option

if TYPE_CHECKING:
    from datetime import date

DEFAULT_OUTPUT = "pipeline.html"
CHANGES_SHOWN = 50  # reports.dashboard.CHANGES_SHOWN: pygal stays out of --help's imports


@cli.command()
@click.option("-o", "--output", default=DEFAULT_OUTPUT, show_default=True, metavar="FILE",
              type=click.Path(dir_okay=False, allow_dash=True),
              help="Where to write the page; '-' writes it to stdout.")
@as_of_option
@click.option("--by", type=click.Choice(["month", "quarter"]), default="month",
              show_default=True, help="The forecast's close periods.")
@click.option("--from", "start", type=START, metavar="DATE",
              help="Forecast only deals closing on or after DATE (as opp forecast --from).")
@click.option("--to", "end", type=END, metavar="DATE",
              help="Forecast only deals closing on or before DATE (as opp forecast --to).")
@click.option("--changes", "changes_shown", type=click.IntRange(min=0), default=CHANGES_SHOWN,
              show_default=True, metavar="N",
              help="How many of the latest changes to list per currency; the totals count "
                   "them all.")
@pass_state
def dashboard(state: State, output: str, as_of: date | None, by: str, start: date | None,
              end: date | None, changes_shown: int) -> None:
    """Write the pipeline dashboard: one self-contained HTML page with charts.

    Per currency: the key figures, the funnel of open deals by stage (count and
    amount), the forecast by month or quarter (amount, weighted, objective), won
    vs lost and the win rate, the 10 largest open deals, and what changed in the
    7 days ending today (or on the --as-of day): the totals of every change and
    the latest --changes of them. From the history: the stage-conversion funnel
    and time in stage (opp insights), attainment per owner when quotas exist (opp
    attainment of the quarter), and the backtest of the last month over (opp
    backtest). The footer names the data repo's commit and the
    day. Figures are those of opp pipeline, opp forecast and opp changes; the page
    fetches nothing, so it opens offline in any browser.

    \b
    Example:  opp dashboard -o pipeline.html && xdg-open pipeline.html
              opp dashboard --as-of 2026-09-30 --by quarter -o q3.html
    """
    from .. import __version__
    from ..env import today
    from ..errors import UsageError
    from ..read.history import head, uncommitted
    from ..reports.dashboard import Source, changes_window, page
    from ..reports.dashboard_history import read_history
    from ..reports.forecast import forecast as build_forecast
    from ..reports.pipeline import pipeline as build_pipeline
    from .reports import change_words, changes_report, report_records, report_source

    if start and end and end < start:
        raise UsageError(f"--to {end} is before --from {start}")
    repo = state.repo
    source = report_source(state, as_of)
    stages, records, settings = report_records(source, None, None, None)
    pipeline = build_pipeline(records, stages, settings.currency)
    forecast = build_forecast(records, by, start=start, end=end,
                              default_currency=settings.currency)
    day = as_of or today()
    since, until = changes_window(day)
    changes = changes_report(repo, since, until)
    facts = Source(day=day, as_of=as_of, commit=source.commit if as_of else head(repo),
                   uncommitted=0 if as_of else uncommitted(repo),
                   generated_at=generated_at(), name=repo.root.name, version=__version__)
    text = page(pipeline, forecast, changes, records, facts, describe=change_words,
                changes_shown=changes_shown, history=read_history(repo, day, today()))
    if output == "-":
        click.echo(text, nl=False)
        return
    write_whole(output, text)
    sections = sorted({t.currency for t in pipeline.totals})
    note(f"wrote {output} ({len(text.encode()) // 1024 + 1} KB; {', '.join(sections)}): "
         "open it in any browser, it fetches nothing")
