"""``opp agenda`` and ``opp calendar``: a salesperson's day, in the terminal and in the
calendar they already use.

The numbers come from ``reports/agenda.py`` over the records and their dated items
(``read.source``, from the index) and each file's last commit day (``read.touches``,
one git in a thread); this module picks them, prints them, and writes calendars with
the icalendar library, imported only when a calendar is asked for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

import click

from .app import State, cli, note, pass_state
from .output import emit_csv, emit_json, format_option, markdown_cell, table, write_whole
from .params import LINE
from .terminal import cut

if TYPE_CHECKING:
    from ..domain.records import Dated, Record
    from ..reports.agenda import Agenda, CalendarItem

MAX_DAYS = 36500  # a hundred years: any larger window is a typo
DEFAULT_LIMIT = 30  # entries of a section a person reads (as gh lists 30 issues)
ME = "me"


def _days_option(name: str, default: int, words: str) -> Callable:
    return click.option(name, type=click.IntRange(0, MAX_DAYS), default=default,
                        show_default=True, metavar="N", help=words)


def owner_option(f: Callable) -> Callable:
    return click.option("--owner", type=LINE, metavar="NAME|me",
                        help="Only deals of this owner (case-insensitive); 'me' is the "
                             "identity opp commits as (git's user.name, else OPP_USER).")(f)


def resolve_owner(state: State, owner: str | None) -> str | None:
    """``me`` is who opp commits as (``Repo.identity``); any other name is itself."""
    if owner is not None and owner.casefold() == ME:
        return state.repo.identity.name
    return owner


def _dated(state: State, owner: str | None) -> list[tuple[Record, Dated]]:
    """The open deals and the closed ones with an activity to do, with their dated
    items; refuses on an invalid file, as reports do."""
    from ..errors import DataError
    from ..read.source import of

    source = of(state.repo)
    try:
        items = source.dated()
    except DataError as exc:
        raise DataError(f"{exc.message}; no agenda while a file is invalid, it would miss "
                        "work (opp validate lists every problem)", exc.path, exc.line,
                        exc.column) from None
    if owner and not any(r.owner.casefold() == owner.casefold() for r, _ in items):
        # a typo, or an owner of closed deals only: every deal says which
        records = source.records()
        if records and not any(r.owner.casefold() == owner.casefold() for r in records):
            owners = sorted({r.owner for r in records}, key=str.casefold)
            shown = ", ".join(owners[:8]) + (", …" if len(owners) > 8 else "")
            note(f"no deal has the owner '{owner}' (owners: {shown})")
    return items


def _stamp() -> datetime:
    """DTSTAMP: ``SOURCE_DATE_EPOCH`` when set, else now (``OPP_NOW`` in tests)."""
    import os

    from ..env import now
    from .output import generated_at

    return generated_at() if os.environ.get("SOURCE_DATE_EPOCH") else now()


def _emit_ics(items: Sequence[CalendarItem], output: str = "-", name: str = "opp") -> None:
    from ..reports.agenda import ics

    data = ics(items, _stamp(), name)
    if output == "-":
        click.echo(data, nl=False)
        return
    write_whole(output, data)
    todos = sum(1 for i in items if i.kind == "todo")
    note(f"wrote {output}: {todos} to-do{'s' if todos != 1 else ''} and {len(items) - todos} "
         f"expected close{'s' if len(items) - todos != 1 else ''}; import it or subscribe "
         "to it in your calendar (entries keep their UIDs: importing again updates them)")


# ---------------------------------------------------------------- agenda


@cli.command()
@owner_option
@_days_option("--days", 7, "Upcoming: activities due within N days after today.")
@_days_option("--stale-days", 30, "Stale: open deals untouched (no commit, no activity) "
                                  "for N days or more.")
@_days_option("--quote-days", 14, "Quotes sent N days ago or more and still unanswered.")
@click.option("--limit", type=click.IntRange(0, None), default=DEFAULT_LIMIT, show_default=True,
              metavar="N", help="The table and Markdown list the first N entries of each "
                                "section and count the others (0: list them all); JSON, "
                                "CSV, TSV and ics always hold every entry.")
@click.option("--exit-code", "exit_code", is_flag=True,
              help="Exit 1 when anything is overdue or past its close date (for scripts "
                   "and CI); without it the agenda exits 0 whatever it holds.")
@format_option("table", "json", "csv", "tsv", "markdown", "ics", "text")
@pass_state
def agenda(state: State, owner: str | None, days: int, stale_days: int, quote_days: int,
           limit: int, exit_code: bool, fmt: str) -> None:
    """What to do today: overdue and coming activities, late and stale deals, quotes
    awaiting an answer.

    \b
    Sections, in this order:
      overdue         activities not done, dated before today
      due_today       activities not done, dated today
      upcoming        activities not done, dated within --days after today
      past_close      open deals whose expected close date is before today
      stale           open deals untouched for --stale-days or more: no commit
                      changed the file and no activity is dated since
      quotes_waiting  quotes of open deals sent --quote-days ago or more, still sent

    A deal's last touch is the latest of its file's last commit (author date)
    and its activities' days up to today. "Today" is OPP_TODAY when set.
    --format ics writes the agenda as a calendar (see opp calendar).

    \b
    Example:  opp agenda --owner me
              opp agenda --format json --exit-code > agenda.json
    """
    from ..env import today
    from ..read.touches import start
    from ..reports.agenda import agenda as build

    name = resolve_owner(state, owner)
    with no_collection():
        pending = start(state.repo)  # git reads the last commits while the files are read
        items = _dated(state, name)
        report = build(items, pending.result(), today=today(), owner=name, days=days,
                       stale_days=stale_days, quote_days=quote_days)
        _emit_agenda(report, fmt, limit or None)
    if exit_code and report.late:
        late = [_plural(len(report.overdue), "overdue activity", "overdue activities"),
                _plural(len(report.past_close), "deal") + " past the expected close date"]
        note(f"exit 1 (--exit-code): {' and '.join(late)}")
        raise SystemExit(1)


@contextmanager
def no_collection() -> Iterator[None]:
    """No garbage collection while the agenda is read and written: at 10,000 deals it
    makes some 300,000 objects, which all live until the command ends and hold no
    cycles, and the collector's passes over them cost a few per cent of the run. In
    the console script, which leaves right after, the collector stays off: turned on,
    its first pass would walk those 300,000 objects (about 10 ms) for nothing."""
    import gc

    from . import app

    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was and not app.leaves_at_once:
            gc.enable()


def _emit_agenda(report: Agenda, fmt: str, limit: int | None) -> None:
    from ..reports.agenda import CSV_COLUMNS, agenda_calendar

    fmt = "table" if fmt == "text" else fmt
    if fmt == "json":
        emit_json(report.as_dict())
    elif fmt in ("csv", "tsv"):
        emit_csv(report.rows(), CSV_COLUMNS, "\t" if fmt == "tsv" else ",")
    elif fmt == "ics":
        _emit_ics(agenda_calendar(report))
    elif fmt == "markdown":
        click.echo(_markdown(report, limit), nl=False)
    else:
        click.echo(_table(report, _width(), limit), nl=False)


# ---------------------------------------------------------------- calendar


@cli.command()
@click.option("-o", "--output", default="-", show_default=True, metavar="FILE",
              type=click.Path(dir_okay=False, allow_dash=True),
              help="Where to write the calendar (.ics); '-' writes it to stdout.")
@owner_option
@pass_state
def calendar(state: State, output: str, owner: str | None) -> None:
    """Every planned activity and expected close date, as a calendar file (.ics).

    An RFC 5545 calendar: each activity not done is a to-do (VTODO) due on its
    day, each open deal's expected close date an all-day event (VEVENT) whose
    summary starts 'Close: ', whatever their day. Every entry keeps its UID from
    one run to the next (<deal id>-<item id>@opp, <deal id>-close@opp), so a
    calendar that imports the file again, or subscribes to it, updates its
    entries rather than duplicating them.

    \b
    Example:  opp calendar -o ~/calendars/sales.ics
              opp calendar --owner me -o mine.ics
    """
    from ..reports.agenda import calendar as build

    name = resolve_owner(state, owner)
    items = build(_dated(state, name), owner=name)
    _emit_ics(items, output, f"opp: {name}" if name else "opp")


# ---------------------------------------------------------------- for people


def _width() -> int:
    """The terminal's width (``COLUMNS`` first, as ``shutil.get_terminal_size`` reads
    it, without importing shutil), 80 when not a terminal; at least 60."""
    import os
    import sys

    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            # sys.__stdout__ is None without a stdout: AttributeError, caught below
            stdout = sys.__stdout__.fileno()  # type: ignore[union-attr]
            columns = os.get_terminal_size(stdout).columns
        except (AttributeError, ValueError, OSError):
            columns = 0
    return max(60, columns or 80)


def _plural(n: int, word: str, words: str | None = None) -> str:
    return f"{n} {word if n == 1 else (words or word + 's')}"


def _titles(a: Agenda) -> dict[str, str]:
    return {
        "overdue": "Overdue",
        "due_today": "Due today",
        "upcoming": f"Upcoming, next {_plural(a.days, 'day')}",
        "past_close": "Past the expected close date",
        "stale": f"Stale: untouched for {_plural(a.stale_days, 'day')} or more",
        "quotes_waiting": f"Quotes sent {_plural(a.quote_days, 'day')} ago or more, "
                          "unanswered",
    }


def _headline(a: Agenda) -> str:
    who = f" ({a.owner})" if a.owner else ""
    return f"Agenda for {a.today}{who}"


def _money(value: Decimal, currency: str) -> str:
    """``money_human``, faster for the many rows of a table: money is held in cents."""
    from ..domain.money import CLASSIC, human_locale, money_human

    whole, _, cents = str(value).partition(".")
    if not whole.isdigit() or len(cents) != 2 or human_locale() != CLASSIC:
        return money_human(value, currency)
    return f"{int(whole):,}.{cents} {currency}"


def _cells(a: Agenda, section: str, people: bool, limit: int | None = None
           ) -> tuple[list[str], list[list[str]], list[str]]:
    """(headers, rows, alignments) of the first ``limit`` entries of one section (all
    without one); ``people``: the table (deal names, short), else Markdown (with
    customers and stages). A section may hold thousands of rows: each is built in one
    plain step."""
    entries = a.section(section)[:limit]
    show_owner = not a.owner
    owner = ["Owner"] if show_owner else []
    rows: list[list[str]] = []
    add = rows.append

    def deal(r: Record) -> str:
        return r.name if people else f"{r.name} ({r.customer})"

    if section in ("overdue", "due_today", "upcoming"):
        headers = ["Date", "Activity", "Deal", *owner, "ID"]
        for e in entries:
            r, item = e.record, e.item
            row = [item.date.isoformat(), f"{item.type}: {item.subject}", deal(r)]
            if show_owner:
                row.append(r.owner)
            row.append(f"{r.id} {item.id}")
            add(row)
        return headers, rows, ["left"] * len(headers)
    if section in ("past_close", "stale"):
        late = section == "past_close"
        first = ["Close date", "Late"] if late else ["Last touch", "Days"]
        stage = [] if people else ["Stage"]
        headers = [*first, "Deal", *stage, "Amount", *owner, "ID"]
        for e in entries:
            r = e.record
            row = ([r.close_date.isoformat() if r.close_date else "", str(e.days_late)] if late
                   else [e.last_touch.isoformat(), str(e.days)])
            row.append(deal(r))
            if not people:
                row.append(r.stage_label)
            row.append(_money(r.amount, r.currency))
            if show_owner:
                row.append(r.owner)
            row.append(r.id)
            add(row)
        return headers, rows, ["left", "right", "left", *(["left"] * len(stage)), "right",
                               *(["left"] * len(owner)), "left"]
    headers = ["Sent", "Days", "Deal", "Total", *owner, "ID"]
    for e in entries:
        r, quote = e.record, e.quote
        row = [quote.sent.isoformat(), str(e.days), deal(r), _money(quote.total, r.currency)]
        if show_owner:
            row.append(r.owner)
        row.append(f"{r.id} {quote.id}")
        add(row)
    return headers, rows, ["left", "right", "left", "right", *(["left"] * len(owner)), "left"]


# the columns that give way when a row is too wide: the owner first down to a cap, then
# the activity and the deal in turn, then the owner again; and how narrow each may get
_CAP = {"Owner": 14}
_SHRINK = {"Activity": 16, "Deal": 12}
_LAST = {"Owner": 6}


def _fit(headers: list[str], rows: list[list[str]], align: list[str], width: int) -> str:
    """Aligned columns that fit ``width`` (the activity, deal and owner columns cut with
    '…' when needed), indented by two spaces."""
    natural = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    sizes = list(natural)
    room = width - 2 - 2 * (len(headers) - 1)

    def give(limits: dict[str, int]) -> None:
        # take one column at a time from the widest of these, down to its limit
        cols = [(headers.index(n), max(least, len(n))) for n, least in limits.items()
                if n in headers]
        while sum(sizes) > room:
            wider = [(sizes[i], i) for i, least in cols if sizes[i] > least]
            if not wider:
                return
            _, i = max(wider)
            sizes[i] -= 1

    give(_CAP)
    give(_SHRINK)
    give(_LAST)

    narrowed = [i for i, size in enumerate(sizes) if size < natural[i]]
    # only the columns that gave way hold cells too long (rows are ours to change)
    for r in rows:
        for i in narrowed:
            r[i] = cut(r[i], sizes[i])
    last = len(sizes) - 1
    line = "  " + "  ".join(
        f"{{:>{size}}}" if a == "right" else "{}" if i == last else f"{{:<{size}}}"
        for i, (size, a) in enumerate(zip(sizes, align, strict=True)))
    rule = "  " + "  ".join("-" * s for s in sizes)
    return "\n".join([line.format(*headers), rule, *(line.format(*r) for r in rows)])


def _more(a: Agenda, section: str, limit: int | None) -> str:
    """What a limited section does not list, in words; '' when it lists everything."""
    left = len(a.section(section)) - (limit or 0)
    if not limit or left <= 0:
        return ""
    return f"… {left:,} more not listed (--limit {limit}; --limit 0 lists them all)"


def _table(a: Agenda, width: int, limit: int | None = None) -> str:
    from ..reports.agenda import SECTIONS

    titles = _titles(a)
    out = [_headline(a), ""]
    shown = [s for s in SECTIONS if a.section(s)]
    if not shown:
        out.append("Nothing to do: no activity due, no deal late or stale, no quote "
                   "waiting.")
        return "\n".join(out) + "\n"
    for section in shown:
        headers, rows, align = _cells(a, section, True, limit)
        out += [f"{titles[section]} ({len(a.section(section)):,})",
                _fit(headers, rows, align, width)]
        more = _more(a, section, limit)
        out += [f"  {more}", ""] if more else [""]
    return "\n".join(out)


def _markdown(a: Agenda, limit: int | None = None) -> str:
    from ..reports.agenda import SECTIONS

    titles = _titles(a)
    out = [f"### {_headline(a)}", ""]
    shown = [s for s in SECTIONS if a.section(s)]
    if not shown:
        out += ["_Nothing to do: no activity due, no deal late or stale, no quote "
                "waiting._", ""]
    for section in shown:
        headers, rows, align = _cells(a, section, False, limit)
        cells = [[markdown_cell(c) for c in row] for row in rows]
        out += [f"#### {titles[section]} ({len(a.section(section)):,})", "",
                table(cells, headers, align=align, fmt="pipe"), ""]
        more = _more(a, section, limit)
        out += [f"_{more}_", ""] if more else []
    return "\n".join(out)
