"""``opp dashboard``: the pipeline, forecast and last week's changes as one HTML page.

The numbers are the reports' own (``reports.py``, picked the same way as ``opp
pipeline``, ``opp forecast`` and ``opp changes``); ``dashboard.py`` turns them into
the page. pygal, which draws the charts, is imported only here, inside the command.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from .app import State, cli, note, pass_state
from .params import DATE
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
@click.option("--from", "start", type=DATE, metavar="DATE",
              help="Forecast only deals closing on or after DATE (as opp forecast --from).")
@click.option("--to", "end", type=DATE, metavar="DATE",
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
    the latest --changes of them. The footer names the data repo's commit and the
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
                   generated_at=_now(), name=repo.root.name, version=__version__)
    text = page(pipeline, forecast, changes, records, facts, describe=change_words,
                changes_shown=changes_shown)
    if output == "-":
        click.echo(text, nl=False)
        return
    _write(output, text)
    sections = sorted({t.currency for t in pipeline.totals})
    note(f"wrote {output} ({len(text.encode()) // 1024 + 1} KB; {', '.join(sections)}): "
         "open it in any browser, it fetches nothing")


def _now():
    """Now, in the local time zone; ``SOURCE_DATE_EPOCH`` (seconds) fixes it, for pages
    that must come out byte for byte the same (reproducible builds, tests)."""
    import os
    from datetime import datetime, timezone

    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        try:
            return datetime.fromtimestamp(int(epoch), timezone.utc)
        except (ValueError, OverflowError, OSError):
            from ..errors import UsageError

            raise UsageError(f"SOURCE_DATE_EPOCH={epoch!r} is not a number of seconds "
                             "since 1970-01-01") from None
    return datetime.now().astimezone()


def _write(output: str, text: str) -> None:
    """Write the page whole or not at all: a web server or a browser reading it while it
    is written never sees half a page."""
    import os
    import tempfile
    from pathlib import Path

    path = Path(output)
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp",
                                   dir=path.parent if str(path.parent) else ".")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        raise click.FileError(output, hint=exc.strerror or str(exc)) from None
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
