"""The dashboard's history section: the stage-conversion funnel and the time in stage
(``opp insights``), the attainment per owner when quotas exist (``opp attainment``), and
the last backtest (``opp backtest`` of the last month over)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from ..domain.money import money_str
from ..domain.quotas import period
from ..store.repo import Repo
from ..store.shared_files import stored_quotas
from .attainment import Attainment, read_attainment
from .backtest import Backtest, read_backtest
from .common import percent_text
from .insights import Insights, read_insights
from .markup import Column, Html, card, el, join, table

NONE = "\u2013"  # an en dash: no figure


def _pct(value: float | None) -> str:
    return percent_text(value, NONE)


def funnel_table(report: Insights) -> Html:
    rows = []
    for s, d in zip(report.stages, report.as_dict()["stages"], strict=True):
        bar = el("meter", _pct(s.conversion), value=f"{s.conversion or 0}", min="0", max="1",
                 title=_pct(s.conversion))
        rows.append(el("tr", el("th", s.stage.label, scope="row"),
                       el("td", s.entered, class_="num", data_key="entered",
                          data_value=s.entered),
                       el("td", s.won, class_="num", data_key="won", data_value=s.won),
                       el("td", s.lost, class_="num", data_key="lost", data_value=s.lost),
                       el("td", join([_pct(s.conversion), " ", bar]), class_="num",
                          data_key="conversion", data_value=d["conversion"]),
                       el("td", NONE if d["median_days"] is None else d["median_days"],
                          class_="num", data_key="median_days",
                          data_value=d["median_days"]),
                       el("td", NONE if d["mean_days"] is None else d["mean_days"],
                          class_="num", data_key="mean_days", data_value=d["mean_days"]),
                       data_row=s.stage.id))
    heads = ["Stage", "Closed deals there", "Won", "Lost", "Conversion",
             "Median days in stage", "Mean days in stage"]
    caption = (f"Deals closed {report.since} to {report.until}: how many had been at each "
               "stage, the share of them won, and the days a stay there lasted")
    head = el("thead", el("tr", join(el("th", h, scope="col") for h in heads)))
    return el("div", el("table", el("caption", caption), head, el("tbody", join(rows)),
                        data_table="conversion", data_currency="all"),
              class_="table-wrap", role="region", aria_label=caption, tabindex="0")


ATTAINMENT_COLUMNS = [Column("owner", "Owner"), Column("currency", "Currency"),
                      Column("quota", "Quota", "money"), Column("won", "Won", "money"),
                      Column("gap", "Gap", "money"), Column("attainment_pct", "Attainment"),
                      Column("open", "Open in period", "money"),
                      Column("coverage_x", "Coverage")]


def attainment_table(report: Attainment) -> Html:
    rows = [{**r.as_dict(), "quota": money_str(r.quota) if r.quota is not None else "0.00",
             "gap": money_str(r.gap) if r.gap is not None else "0.00",
             "attainment_pct": _pct(r.attainment), "open": money_str(r.open_amount),
             "coverage_x": NONE if r.coverage is None else f"{r.coverage:.2f}x"}
            for r in report.rows if r.quota is not None]
    return table("attainment", "all", f"Attainment of the quotas, {report.period.name}",
                 ATTAINMENT_COLUMNS, rows)


BACKTEST_COLUMNS = [Column("currency", "Currency"), Column("forecast", "Forecast", "money"),
                    Column("won", "Won", "money"), Column("error", "Error", "money"),
                    Column("error_pct_text", "Error %")]


def backtest_table(report: Backtest) -> Html:
    rows = [{**t.as_dict(), "error_pct_text": _pct(t.as_dict()["error_pct"])}
            for t in report.totals]
    caption = (f"Backtest of {report.period.name}: what the forecast said on {report.as_of} "
               f"for the deals closing in it, against what was won")
    if not rows:
        return el("p", caption, ": nothing was forecast or won.", class_="note")
    return table("backtest", "all", caption, BACKTEST_COLUMNS, rows)


def history_section(insights: Insights, attainment: Attainment | None,
                    backtest: Backtest | None) -> Html:
    """The section: conversion and time in stage, attainment (when quotas exist), the last
    backtest."""
    cards = [card("Stage conversion and time in stage, from history", funnel_table(insights),
                  kind="conversion")]
    if attainment is not None and any(r.quota is not None for r in attainment.rows):
        cards.append(card("Attainment per owner", attainment_table(attainment),
                          kind="attainment"))
    if backtest is not None:
        cards.append(card("Last backtest", backtest_table(backtest), kind="backtest"))
    return el("section", el("h2", "From the history", id="h-history"), *cards,
              id="history", aria_labelledby="h-history")


def history_data(insights: Insights, attainment: Attainment | None,
                 backtest: Backtest | None) -> dict[str, Any]:
    """The section's figures for the page's JSON, as the commands print them."""
    return {"insights": insights.as_dict(),
            "attainment": attainment.as_dict() if attainment is not None else None,
            "backtest": backtest.as_dict() if backtest is not None else None}


def read_history(repo: Repo, day: date, today: date) -> tuple[Html, dict[str, Any]]:
    """The section and its figures for a dashboard of ``day``: insights over the 365 days
    up to it, the attainment of its quarter (when quotas exist), the backtest of the
    month before it."""
    insights = read_insights(repo, None, day, today)
    quotas = stored_quotas(repo)
    quarter = period(f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}")
    attained = read_attainment(repo, quarter) if quotas else None
    last = day.replace(day=1) - timedelta(days=1)
    tested = read_backtest(repo, period(f"{last.year:04d}-{last.month:02d}"), today)
    return (history_section(insights, attained, tested),
            history_data(insights, attained, tested))
