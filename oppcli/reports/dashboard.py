"""The pipeline dashboard: one self-contained HTML page made from the reports.

Pure: report values in (``reports.Pipeline``, ``Forecast``, ``Changes`` and the
records they were made from), one HTML string out; no files, no git, no clock.
Every figure on the page is a field of those reports, never recomputed here, and
the page carries the same numbers three ways: charts for the eye, data tables
for screen readers and print, and a JSON block (``<script type="application/json"
id="opp-data">``) holding ``opp pipeline``/``forecast``/``changes --format json``
exactly (the changes cut to those the page lists, so that the page stays light at any
size), for tools and tests.

Self-contained means no request leaves the page: the CSS is inline, the charts are
inline SVG drawn by pygal (with its tooltip script, fetched from the web by
default, switched off), there is no script to run and no font or image to load,
and a Content-Security-Policy of ``default-src 'none'`` makes the browser refuse
any fetch that might slip in.

The building blocks (markup that escapes all user text, the charts, the data tables,
the cards and the page's frame) are in ``markup.py``; here the reports go into them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from ..domain.money import money_human, money_str
from ..domain.records import Record
from .accounts import top_accounts
from .changes import Change, Changes, ChangeTotal, Commit
from .forecast import UNSCHEDULED, Forecast, forecast_weighted
from .markup import (
    AMOUNT,
    CSS,
    LOST,
    OBJECTIVE,
    PAGE_TEMPLATE,
    WEIGHTED,
    WON,
    Column,
    Html,
    Series,
    card,
    chart,
    el,
    esc,
    figure,
    join,
    json_block,
    table,
)
from .pipeline import Pipeline, PipelineTotal

TOP_DEALS = 10  # open deals listed per currency, largest first
CHANGES_DAYS = 7  # the changes section: the seven days ending with the page's day
CHANGES_SHOWN = 50  # change rows listed per currency (--changes); the totals count them all


# ---------------------------------------------------------------- what the page is from


@dataclass(frozen=True)
class Source:
    """What a reader needs to know what they see: the day, the commit, the time."""

    day: date  # the day the page describes: --as-of, or today
    as_of: date | None  # given: the repo as of that day; None: today's files
    commit: Commit | None  # the data repo's commit read (HEAD, or the as-of commit)
    uncommitted: int  # data files changed since that commit (today's files only)
    generated_at: datetime
    name: str = ""  # the data repo's folder name
    version: str = ""  # opp's version


def changes_window(day: date) -> tuple[date, date]:
    """The days the changes section covers: the seven days ending with ``day``."""

    return day - timedelta(days=CHANGES_DAYS - 1), day


def top_deals(records: Sequence[Record], currency: str, n: int = TOP_DEALS) -> list[Record]:
    """The ``n`` largest open deals of a currency: amount down, then the earliest close
    date (undated last), then name and id, so the order never depends on file order."""
    mine = [r for r in records if r.currency == currency and r.status == "open"]
    mine.sort(key=lambda r: (-r.amount, r.close_date is None, r.close_date or date.max,
                             r.name.casefold(), r.id))
    return mine[:n]


def deal_dict(r: Record) -> dict[str, Any]:
    return {"id": r.id, "name": r.name, "customer": r.customer, "owner": r.owner,
            "stage": r.stage, "stage_label": r.stage_label, "probability": r.probability,
            "currency": r.currency, "close_date": r.close_date.isoformat() if r.close_date
            else None, "amount": money_str(r.amount),
            "weighted": money_str(forecast_weighted(r))}


def currencies(pipeline: Pipeline, forecast: Forecast, changes: Changes) -> list[str]:
    """Every currency any report speaks of, sorted: one section each."""
    return sorted({t.currency for t in pipeline.totals} | {t.currency for t in forecast.totals}
                  | {t.currency for t in changes.totals})


def listed_changes(changes: Changes, limit: int = CHANGES_SHOWN) -> list[Change]:
    """The latest ``limit`` changes of each currency, oldest first as the report has them:
    what the page lists. The window's totals count every change."""
    kept: dict[str, int] = {}
    out = []
    for c in reversed(changes.changes):
        n = kept.get(c.record.currency, 0)
        if n < limit:
            kept[c.record.currency] = n + 1
            out.append(c)
    return out[::-1]


def data(pipeline: Pipeline, forecast: Forecast, changes: Changes,
         records: Sequence[Record], source: Source,
         changes_shown: int = CHANGES_SHOWN) -> dict[str, Any]:
    """The JSON block: ``pipeline`` and ``forecast`` are what ``opp pipeline`` and
    ``opp forecast --by BY`` print with ``--format json`` (with the same --as-of),
    ``changes`` what ``opp changes --since D-6 --until D`` prints, its list cut to the
    changes the page lists (the latest ``changes_shown`` per currency; ``count`` is the
    window's number of changes, and its totals count them all); plus the top deals."""
    as_of = {"as_of": source.as_of.isoformat() if source.as_of else None,
             "as_of_commit": source.commit.sha if source.as_of and source.commit else None}
    commit = source.commit
    return {
        "generator": f"opp {source.version}".strip(),
        "generated_at": source.generated_at.isoformat(timespec="seconds"),
        "day": source.day.isoformat(),
        "as_of": as_of["as_of"],
        "commit": commit.sha if commit else None,
        "commit_date": commit.at.isoformat() if commit else None,
        "uncommitted": source.uncommitted,
        "pipeline": {**pipeline.as_dict(), **as_of},
        "forecast": {**forecast.as_dict(), **as_of},
        "changes": {**replace(changes, changes=listed_changes(changes, changes_shown)).as_dict(),
                    "count": len(changes.changes), "listed_per_currency": changes_shown},
        "top_deals": {c: [deal_dict(r) for r in top_deals(records, c)]
                      for c in currencies(pipeline, forecast, changes)},
        "top_accounts": {c: top_accounts(records, c, TOP_DEALS)
                         for c in currencies(pipeline, forecast, changes)},
    }


# ---------------------------------------------------------------- sections


def _money(value: Decimal, currency: str) -> str:
    return money_human(value, currency)


def _plural(n: int, one: str, many: str = "") -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def kpis(total: PipelineTotal | None, currency: str) -> Html:
    if total is None:
        return Html("")
    items = [("Open deals", str(total.open_count), "open_count", total.open_count),
             ("Open amount", _money(total.open_amount, currency), "open_amount",
              money_str(total.open_amount)),
             ("Weighted", _money(total.open_weighted, currency), "open_weighted",
              money_str(total.open_weighted)),
             ("Won", _money(total.won_amount, currency), "won_amount",
              money_str(total.won_amount)),
             ("Win rate", total.win_rate_words("–"), "win_rate",
              "null" if total.win_rate is None else repr(total.win_rate))]
    return el("dl", join(el("div", el("dt", label), el("dd", shown, data_key=key,
                                                       data_value=value))
                         for label, shown, key, value in items),
              class_="kpis", data_currency=currency)


def funnel_card(pipeline: Pipeline, currency: str) -> Html:
    rows = [r for r in pipeline.rows if r.currency == currency and r.stage.kind == "open"]
    total = next((t for t in pipeline.totals if t.currency == currency), None)
    title = "Funnel of open opportunities"
    if total is None or not total.open_count:
        return card(title, el("p", f"No open opportunities in {currency}.", class_="empty"),
                    kind="funnel")
    biggest = max(rows, key=lambda r: r.amount)
    summary = (f"{_plural(total.open_count, 'open deal')} worth "
               f"{_money(total.open_amount, currency)} across {len(rows)} stages; the "
               f"largest amount is at {biggest.stage.label} "
               f"({_money(biggest.amount, currency)}, {_plural(biggest.count, 'deal')}).")
    ordered = list(reversed(rows))  # pygal draws the first label at the bottom
    svg = None if not total.open_amount else chart(
                "HorizontalBar", f"{currency.lower()}-funnel", f"{title}, {currency}", summary,
                [f"{r.stage.label} ({r.count})" for r in ordered],
                [Series("Amount", [r.amount for r in ordered],
                        [f"{r.stage.label}: {_plural(r.count, 'deal')}, "
                         f"{_money(r.amount, currency)}" for r in ordered])],
                [AMOUNT], show_legend=False, height=70 + 48 * len(rows), max_scale=4,
                margin_right=24)
    columns = [Column("stage_label", "Stage"), Column("probability", "Probability", "count"),
               Column("count", "Count", "count"), Column("amount", "Amount", "money"),
               Column("weighted", "Weighted", "money"),
               Column("objective", "Objective", "money")]
    data_rows = [{**r.as_dict(), "_row": r.stage.id} for r in rows]
    foot = {"count": total.open_count, "amount": money_str(total.open_amount),
            "weighted": money_str(total.open_weighted),
            "objective": money_str(total.open_objective)}
    return card(title, figure(svg, title, currency, summary),
                table("funnel", currency, f"{title}, {currency}: data", columns, data_rows,
                      foot, "Open total"), kind="funnel", split=True)


def _period_labels(n: int) -> dict[str, Any]:
    """pygal options that keep n period labels apart: upright up to 5, then turned
    upright-down, and past 12 only every second, third… one written."""
    if n <= 5:
        return {}
    options: dict[str, Any] = {"x_label_rotation": 90}
    if n > 12:
        options.update(x_labels_major_every=(n + 11) // 12, show_minor_x_labels=False)
    return options


def forecast_card(forecast: Forecast, currency: str) -> Html:
    rows = [r for r in forecast.rows if r.currency == currency]
    total = next((t for t in forecast.totals if t.currency == currency), None)
    title = f"Forecast by {forecast.by}"
    notes = []
    if forecast.start or forecast.end:
        notes.append(el("p", f"Deals closing from {forecast.start or 'the start'} to "
                             f"{forecast.end or 'the end'}.", class_="note"))
    if forecast.unscheduled_left_out:
        notes.append(el("p", f"{_plural(forecast.unscheduled_left_out, 'open deal')} without "
                             "a close date left out by the window.", class_="note"))
    if total is None or not total.count:
        return card(title, el("p", f"No open or won deals in {currency} to forecast.",
                              class_="empty"), *notes, kind="forecast wide")
    periods = [r.group for r in rows if r.group != UNSCHEDULED]
    if not periods:
        span = "only open deals without a close date"
    else:
        span = f"{_plural(len(periods), 'period')}, {periods[0]} to {periods[-1]}"
        if len(periods) < len(rows):
            span += ", and open deals without a close date"
    summary = (f"{span[0].upper()}{span[1:]}: amount {_money(total.amount, currency)}, "
               f"weighted {_money(total.weighted, currency)}, objective "
               f"{_money(total.objective, currency)}. Won deals count in full, open ones at "
               "their stage probability.")
    labels = [r.group for r in rows]
    series = [Series(name, [getattr(r, key) for r in rows],
                     [f"{r.group}, {name.lower()}: {_money(getattr(r, key), currency)}"
                      for r in rows])
              for name, key in (("Amount", "amount"), ("Weighted", "weighted"),
                                ("Objective", "objective"))]
    drawn = any(getattr(total, k) for k in ("amount", "weighted", "objective"))
    svg = None if not drawn else chart(
                "Bar", f"{currency.lower()}-forecast", f"{title}, {currency}", summary, labels,
                series, [AMOUNT, WEIGHTED, OBJECTIVE],
                **_period_labels(len(rows)))
    columns = [Column("group", forecast.by.capitalize()), Column("count", "Count", "count"),
               Column("amount", "Amount", "money"), Column("weighted", "Weighted", "money"),
               Column("objective", "Objective", "money")]
    data_rows = [{**r.as_dict(), "_row": r.group} for r in rows]
    foot = {k: v for k, v in total.as_dict().items() if k != "currency"}
    return card(title, figure(svg, title, currency, summary),
                join([*notes, table("forecast", currency, f"{title}, {currency}: data",
                                    columns, data_rows, foot)]), kind="forecast wide",
                split=True)


def outcome_card(pipeline: Pipeline, currency: str) -> Html:
    total = next((t for t in pipeline.totals if t.currency == currency), None)
    title = "Won vs lost"
    if total is None or not (total.won_count or total.lost_count):
        return card(title, el("p", f"No closed opportunities in {currency} yet: no win rate.",
                              class_="empty"), kind="outcome")
    summary = (f"{_plural(total.won_count, 'deal')} won ({_money(total.won_amount, currency)}), "
               f"{total.lost_count} lost ({_money(total.lost_amount, currency)}): win rate "
               f"{total.win_rate_words('–')} by count.")
    svg = chart("Pie", f"{currency.lower()}-outcome", f"{title}, {currency}", summary, [],
                [Series(f"Won: {total.won_count}", [Decimal(total.won_count)],
                        [f"Won: {_plural(total.won_count, 'deal')}, "
                         f"{_money(total.won_amount, currency)}"]),
                 Series(f"Lost: {total.lost_count}", [Decimal(total.lost_count)],
                        [f"Lost: {_plural(total.lost_count, 'deal')}, "
                         f"{_money(total.lost_amount, currency)}"])],
                [WON, LOST], inner_radius=0.6, width=320, height=300,
                value_formatter=lambda v: f"{v:.0f}")
    columns = [Column("outcome", "Outcome"), Column("count", "Count", "count"),
               Column("amount", "Amount", "money")]
    rows = [{"outcome": "Won", "count": total.won_count, "amount": money_str(total.won_amount),
             "_row": "won"},
            {"outcome": "Lost", "count": total.lost_count,
             "amount": money_str(total.lost_amount), "_row": "lost"}]
    rate = el("p", "Win rate ", el("strong", total.win_rate_words("–"), data_key="win_rate",
                                   data_value="null" if total.win_rate is None
                                   else repr(total.win_rate)),
              " = won ÷ (won + lost), by count.", class_="rate")
    return card(title, figure(svg, title, currency, summary),
                join([rate, table("outcome", currency, f"{title}, {currency}: data", columns,
                                  rows)]), kind="outcome", split=True)


def top_card(records: Sequence[Record], currency: str) -> Html:
    deals = top_deals(records, currency)
    title = f"Top {TOP_DEALS} open deals"
    if not deals:
        return card(title, el("p", f"No open deals in {currency}.", class_="empty"),
                    kind="top wide")
    columns = [Column("rank", "#", "count"), Column("name", "Opportunity"),
               Column("customer", "Customer"), Column("owner", "Owner"),
               Column("stage_label", "Stage"), Column("close_date", "Close date", "date"),
               Column("amount", "Amount", "money"), Column("weighted", "Weighted", "money")]
    rows = [{**deal_dict(r), "rank": i, "_row": r.id} for i, r in enumerate(deals, 1)]
    return card(title, table("top", currency, f"{title}, {currency}, by amount", columns, rows,
                             row_header="name"),
                kind="top wide")


def top_accounts_card(records: Sequence[Record], currency: str) -> Html:
    """The accounts with the most open pipeline and won revenue in this currency (#20)."""
    rows = top_accounts(records, currency, TOP_DEALS)
    title = f"Top {TOP_DEALS} accounts"
    if not rows:
        return card(title, el("p", f"No deals in {currency}.", class_="empty"),
                    kind="top wide")
    columns = [Column("rank", "#", "count"), Column("customer", "Account"),
               Column("open_count", "Open", "count"),
               Column("open_amount", "Open pipeline", "money"),
               Column("won_count", "Won", "count"),
               Column("won_amount", "Won revenue", "money")]
    shown = [{**r, "rank": i, "_row": r["customer_id"] or r["customer"]}
             for i, r in enumerate(rows, 1)]
    return card(title, table("accounts", currency, f"{title}, {currency}, by open pipeline "
                             "and won revenue", columns, shown, row_header="customer"),
                kind="top wide")


def _change_totals_words(t: ChangeTotal, currency: str) -> str:
    parts = [f"{t.new_count} new ({_money(t.new_amount, currency)})",
             f"{t.won_count} won ({_money(t.won_amount, currency)})",
             f"{t.lost_count} lost ({_money(t.lost_amount, currency)})",
             f"{t.forward_count} moved forward", f"{t.back_count} back",
             f"{t.slipped_count} slipped", f"{t.pulled_in_count} pulled in"]
    if t.reopened_count:
        parts.append(f"{t.reopened_count} reopened")
    if t.deleted_count:
        parts.append(f"{t.deleted_count} deleted")
    sign = "+" if t.amount_change > 0 else ("-" if t.amount_change < 0 else "±")
    parts.append(f"amounts {sign}{_money(abs(t.amount_change), currency)}")
    return ", ".join(parts) + "."


def changes_card(changes: Changes, currency: str, describe: Callable[[Change], str],
                 limit: int = CHANGES_SHOWN) -> Html:
    """The window's totals, and its latest ``limit`` changes in a table, newest first."""
    window = f"{changes.since} to {changes.until}"
    title = f"Changes in the last {CHANGES_DAYS} days"
    mine = [c for c in changes.changes if c.record.currency == currency]
    total = next((t for t in changes.totals if t.currency == currency), None)
    intro = el("p", f"From {window} (whole days, from the data repo's history).",
               class_="note")
    if not mine or total is None:
        return card(title, intro, el("p", f"No changes in {currency}.", class_="empty"),
                    kind="changes wide")
    shown = mine[-limit:] if limit else []  # the latest ones
    columns = [Column("date", "Date", "date"), Column("name", "Opportunity"),
               Column("change", "Change"), Column("author", "By")]
    rows = [{"date": c.commit.at.date().isoformat(), "name": f"{c.record.name} ({c.record.id})",
             "change": describe(c), "author": c.commit.author,
             "_row": c.kind} for c in reversed(shown)]
    more = None
    if len(mine) > len(shown):
        listed = f"The latest {len(shown)} of {len(mine):,} changes" if shown else \
            f"{len(mine):,} changes"
        more = el("p", f"{listed}; all of them: opp changes --since {changes.since} --until "
                       f"{changes.until}", class_="note")
    summary = el("p", _change_totals_words(total, currency), class_="summary",
                 data_currency=currency)
    listing = table("changes", currency, f"{title}, {currency}, newest first", columns, rows,
                    row_header="name") if rows else None
    return card(title, intro, summary, listing, more, kind="changes wide")


def currency_section(currency: str, pipeline: Pipeline, forecast: Forecast, changes: Changes,
                     records: Sequence[Record], describe: Callable[[Change], str],
                     changes_shown: int = CHANGES_SHOWN) -> Html:
    total = next((t for t in pipeline.totals if t.currency == currency), None)
    return el("section",
              el("h2", f"{currency}", id=f"h-{currency}"),
              kpis(total, currency),
              el("div", funnel_card(pipeline, currency), outcome_card(pipeline, currency),
                 class_="grid"),
              forecast_card(forecast, currency),
              top_card(records, currency),
              top_accounts_card(records, currency),
              changes_card(changes, currency, describe, changes_shown),
              id=f"cur-{currency}", class_="currency", aria_labelledby=f"h-{currency}")


# ---------------------------------------------------------------- the page


def _when(moment: datetime) -> str:
    return moment.isoformat(sep=" ", timespec="minutes")


def footer(source: Source) -> Html:
    commit = source.commit
    if commit is None:
        read = Html("no commit yet")
    else:
        read = join(["commit ", el("code", commit.sha[:10], title=commit.sha,
                                   data_commit=commit.sha),
                     f" of {_when(commit.at)}"])
    if source.as_of:
        what = f"as of the end of {source.as_of} (the data repo's last commit on or before it)"
    else:
        what = f"today's files, {source.day}"
        if source.uncommitted:
            what += (f", with {_plural(source.uncommitted, 'file')} changed since the commit "
                     "(not committed yet)")
    generated = el("time", _when(source.generated_at),
                   datetime=source.generated_at.isoformat(timespec="seconds"))
    by = f" by opp {source.version}" if source.version else ""
    repo = f"Data repo {source.name}: " if source.name else "Data repo: "
    return el("footer", el("p", repo, read, "; ", what, "."),
              el("p", "Generated ", generated, by, ". Figures as in opp pipeline, opp forecast "
                 "and opp changes; the JSON of this page (#opp-data) holds them exactly."))


def page(pipeline: Pipeline, forecast: Forecast, changes: Changes, records: Sequence[Record],
         source: Source, describe: Callable[[Change], str] | None = None,
         changes_shown: int = CHANGES_SHOWN,
         history: tuple[Html, dict[str, Any]] | None = None) -> str:
    """The whole dashboard as one HTML document: a section per currency with its key
    figures, funnel, forecast, won vs lost, top open deals and last week's changes (the
    latest ``changes_shown``, with the totals of all); the footer says which commit,
    which day and when it was made."""
    describe = describe or (lambda c: f"{c.kind} {c.old or ''} -> {c.new or ''}".strip())
    names = currencies(pipeline, forecast, changes)
    sections = join(currency_section(c, pipeline, forecast, changes, records, describe,
                                     changes_shown) for c in names)
    nav = None
    if len(names) > 1:
        nav = el("nav", el("ul", join(el("li", el("a", c, href=f"#cur-{c}")) for c in names)),
                 aria_label="Currencies")
    day = f"as of {source.as_of}" if source.as_of else f"{source.day}"
    subtitle = (f"{source.name} · " if source.name else "") + day
    if source.commit:
        subtitle += f" · commit {source.commit.sha[:10]}"
    header = el("header", el("h1", "Pipeline dashboard"), el("p", subtitle, class_="sub"), nav)
    figures = data(pipeline, forecast, changes, records, source, changes_shown)
    if history is not None:  # conversion, time in stage, attainment, the last backtest
        sections = join([sections, history[0]])
        figures["history"] = history[1]
    body = join([header, el("main", sections), footer(source), json_block(figures)])
    return PAGE_TEMPLATE.substitute(title=esc(f"Pipeline dashboard: {subtitle}"), css=CSS,
                                    body=body, generator=esc(f"opp {source.version}".strip()))
