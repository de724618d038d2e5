"""A salesperson's day: what to do today, and a calendar to subscribe to.

``agenda`` answers "what now?" over plain records and their dated items
(``records.Dated``), as of a given day:

- activities not done: ``overdue`` (dated before today), ``due_today``, and
  ``upcoming`` (within the next ``days`` days), from every deal, open or closed
  (activities may still be done on a closed deal, R17);
- open deals ``past_close``: their expected close date is before today;
- open deals gone ``stale``: untouched for ``stale_days`` days or more. A deal's last
  touch is the latest of its file's last commit day (``read.touches``; its creation
  day when the file was never committed) and the days of its activities, done or not,
  up to today (one planned for later has not happened yet);
- ``quotes_waiting``: quotes of open deals sent ``quote_days`` days ago or more and
  still ``sent`` (a closed deal's quotes never change, R17).

``calendar`` lists every activity not done and every open deal's expected close
date, whatever the day, and ``ics`` writes such items as an RFC 5545 calendar whose
UIDs stay the same from one run to the next (``<deal id>-<item id>@opp``,
``<deal id>-close@opp``), so that a calendar application importing the file again
updates its entries rather than adding them twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta, timezone
from operator import itemgetter
from typing import Any, NamedTuple

from ..domain.money import money_human, money_str
from ..domain.records import NOTHING_DATED, Dated, PlannedActivity, Record, SentQuote
from .common import iso_day, matches

SECTIONS = ("overdue", "due_today", "upcoming", "past_close", "stale", "quotes_waiting")
DEFAULT_DAYS, DEFAULT_STALE_DAYS, DEFAULT_QUOTE_DAYS = 7, 30, 14


class ActivityEntry(NamedTuple):
    """An activity not done, with its deal."""

    record: Record
    item: PlannedActivity

    def as_dict(self) -> dict[str, Any]:
        r, a = self.record, self.item
        return {"id": r.id, "name": r.name, "customer": r.customer, "owner": r.owner,
                "item": a.id, "type": a.type, "subject": a.subject, "date": a.date.isoformat()}


class DealEntry(NamedTuple):
    """An open deal past its close date or gone stale; ``days`` since its last touch,
    ``days_late`` past its expected close date (None when not late)."""

    record: Record
    last_touch: date
    days: int
    days_late: int | None

    def as_dict(self) -> dict[str, Any]:
        r = self.record
        return {"id": r.id, "name": r.name, "customer": r.customer, "owner": r.owner,
                "stage": r.stage, "amount": money_str(r.amount), "currency": r.currency,
                "close_date": iso_day(r.close_date), "last_touch": self.last_touch.isoformat(),
                "days": self.days, "days_late": self.days_late}


class QuoteEntry(NamedTuple):
    """A quote sent ``days`` days ago and not answered yet."""

    record: Record
    quote: SentQuote
    days: int

    def as_dict(self) -> dict[str, Any]:
        r, q = self.record, self.quote
        return {"id": r.id, "name": r.name, "customer": r.customer, "owner": r.owner,
                "quote": q.id, "sent": q.sent.isoformat(), "total": money_str(q.total),
                "currency": r.currency, "days": self.days}


CSV_COLUMNS = ["section", "id", "name", "customer", "owner", "stage", "item", "type",
               "subject", "date", "close_date", "last_touch", "quote", "sent", "amount",
               "total", "currency", "days", "days_late"]


class Agenda(NamedTuple):
    """The sections of one day's agenda, each in its order, and what framed them."""

    today: date
    owner: str | None
    days: int
    stale_days: int
    quote_days: int
    overdue: list[ActivityEntry]
    due_today: list[ActivityEntry]
    upcoming: list[ActivityEntry]
    past_close: list[DealEntry]
    stale: list[DealEntry]
    quotes_waiting: list[QuoteEntry]

    def section(self, name: str) -> list:
        return getattr(self, name)

    @property
    def late(self) -> bool:
        """Whether anything is overdue or past its close date (``--exit-code``)."""
        return bool(self.overdue or self.past_close)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"today": self.today.isoformat(), "owner": self.owner,
                               "days": self.days, "stale_days": self.stale_days,
                               "quote_days": self.quote_days}
        for name in SECTIONS:
            out[name] = [e.as_dict() for e in self.section(name)]
        return out

    def rows(self) -> list[dict[str, Any]]:
        """Every entry as one flat row (CSV, TSV), its section first, in section order."""
        return [{"section": name, **e.as_dict()} for name in SECTIONS
                for e in self.section(name)]


_DAYS_LATE, _LAST_TOUCH, _WAITED = itemgetter(3), itemgetter(1), itemgetter(2)


def _by_activity(e: ActivityEntry) -> tuple:
    return e.item.date, e.record.name.casefold(), e.record.id, e.item.id


class _DaysAgo(dict):
    """day -> whole days from it to ``today`` (negative after it), each distinct day
    computed once: the agenda asks for tens of thousands of a few hundred days."""

    def __init__(self, today: date):
        super().__init__()
        self.today = today

    def __missing__(self, day: date) -> int:
        self[day] = days = (self.today - day).days
        return days
_new = tuple.__new__


def agenda(items: Iterable[tuple[Record, Dated]], committed: Mapping[str, date], *,
           today: date, owner: str | None = None, days: int = DEFAULT_DAYS,
           stale_days: int = DEFAULT_STALE_DAYS,
           quote_days: int = DEFAULT_QUOTE_DAYS) -> Agenda:
    """The agenda of ``today`` over deals and their dated items (in id order);
    ``committed``: each deal's last commit day by id. ``owner`` keeps one owner's deals
    (case-insensitive). Activities are sorted by day, then deal name; deals and quotes
    by their day, then id."""
    horizon = today + timedelta(days=days)
    stale_from = today - timedelta(days=stale_days)  # touched on or before it: stale
    sent_by = today - timedelta(days=quote_days)  # sent on or before it: waiting too long
    overdue: list[ActivityEntry] = []
    due_today: list[ActivityEntry] = []
    upcoming: list[ActivityEntry] = []
    past_close: list[DealEntry] = []
    stale: list[DealEntry] = []
    waiting: list[QuoteEntry] = []
    last_commit = committed.get
    ago = _DaysAgo(today)  # (today - day).days, once per distinct day
    if owner:
        items = [item for item in items if matches(item[0], owner=owner)]
    for r, dated in items:  # 100,000 deals and more: the common case costs least
        # its last touch: the latest of the last commit day (else the creation day) and
        # the days of its activities, done or to do, up to today
        touch = last_commit(r.id) or r.created
        if dated is not NOTHING_DATED:  # (most deals have no activity to do, no quote)
            for a in dated.planned:
                day = a.date
                if day > today:
                    if day <= horizon:
                        upcoming.append(_new(ActivityEntry, (r, a)))
                    continue
                (overdue if day < today else due_today).append(_new(ActivityEntry, (r, a)))
                if touch < day:
                    touch = day
            if r.status != "open":
                continue
            for day in dated.done_days:
                if touch < day <= today:
                    touch = day
            for q in dated.sent:
                if q.sent <= sent_by:
                    waiting.append(QuoteEntry(r, q, ago[q.sent]))
        elif r.status != "open":
            continue
        close = r.close_date
        # tuple.__new__ straight: tens of thousands of late or stale deals at 100,000,
        # and DealEntry's own __new__ is a Python call
        if close is not None and close < today:
            entry = _new(DealEntry, (r, touch, ago[touch], ago[close]))
            past_close.append(entry)
            if touch <= stale_from:
                stale.append(entry)
        elif touch <= stale_from:
            stale.append(_new(DealEntry, (r, touch, ago[touch], None)))
    overdue.sort(key=_by_activity)
    due_today.sort(key=_by_activity)
    upcoming.sort(key=_by_activity)
    # deals come in id order, and sorts are stable: the sections of deals, thousands of
    # entries at 10,000 deals, sort on one number each, and equal days stay in id order
    past_close.sort(key=_DAYS_LATE, reverse=True)  # the longest late first
    stale.sort(key=_LAST_TOUCH)  # the longest untouched first
    waiting.sort(key=_WAITED, reverse=True)  # the longest waiting first
    return Agenda(today, owner, days, stale_days, quote_days, overdue, due_today, upcoming,
                  past_close, stale, waiting)


# ---------------------------------------------------------------- the calendar


class CalendarItem(NamedTuple):
    """One entry of a calendar: a to-do (``VTODO``, due on ``day``) or an all-day event
    (``VEVENT``, on ``day``)."""

    uid: str
    kind: str  # todo | event
    day: date
    summary: str
    description: str
    category: str


def _deal_words(r: Record) -> str:
    return (f"{r.name} ({r.customer}): {money_human(r.amount, r.currency)}, "
            f"{r.stage_label}, owner {r.owner}")


def activity_item(e: ActivityEntry) -> CalendarItem:
    r, a = e.record, e.item
    return CalendarItem(
        f"{r.id}-{a.id}@opp", "todo", a.date, f"{a.type[:1].upper()}{a.type[1:]}: "
        f"{a.subject} ({r.name})",
        f"{_deal_words(r)}\nDone: opp activity done {r.id} {a.id}", a.type)


def close_item(r: Record) -> CalendarItem:
    """The expected close of an open deal with a close date."""
    assert r.close_date is not None
    return CalendarItem(
        f"{r.id}-close@opp", "event", r.close_date,
        f"Close: {r.name} ({r.customer}), {money_human(r.amount, r.currency)}",
        f"{_deal_words(r)}\nExpected to close on {r.close_date}: opp show {r.id}", "close")


def calendar(items: Iterable[tuple[Record, Dated]], *,
             owner: str | None = None) -> list[CalendarItem]:
    """Every activity not done, and every open deal's expected close date, whatever the
    day: by day, then UID."""
    out = []
    for r, dated in items:
        if owner and not matches(r, owner=owner):
            continue
        out += [activity_item(ActivityEntry(r, a)) for a in dated.planned]
        if r.status == "open" and r.close_date is not None:
            out.append(close_item(r))
    out.sort(key=lambda i: (i.day, i.uid))
    return out


def agenda_calendar(a: Agenda) -> list[CalendarItem]:
    """The agenda as calendar items: its activities, its deals past their close date
    (on that date), and a to-do for each stale deal (due the day it went stale) and
    each quote waiting (due the day it began to wait too long). A quote's UID names its
    panel: ids are unique within a panel, and an activity may share a quote's."""
    out = [activity_item(e) for e in (*a.overdue, *a.due_today, *a.upcoming)]
    out += [close_item(e.record) for e in a.past_close]
    for e in a.stale:
        r = e.record
        out.append(CalendarItem(
            f"{r.id}-stale@opp", "todo", e.last_touch + timedelta(days=a.stale_days),
            f"Follow up: {r.name} ({r.customer}), untouched since {e.last_touch}",
            f"{_deal_words(r)}\nNothing changed and no activity since {e.last_touch}: "
            f"opp timeline {r.id}", "stale"))
    for q in a.quotes_waiting:
        r = q.record
        out.append(CalendarItem(
            f"{r.id}-quote-{q.quote.id}@opp", "todo",
            q.quote.sent + timedelta(days=a.quote_days),
            f"Quote awaiting an answer: {r.name} ({r.customer}), "
            f"{money_human(q.quote.total, r.currency)}",
            f"Quote {q.quote.id} sent on {q.quote.sent}, no answer yet: "
            f"opp close-quote {r.id} {q.quote.id} --accepted|--rejected", "quote"))
    out.sort(key=lambda i: (i.day, i.uid))
    return out


def ics(items: Sequence[CalendarItem], stamp: datetime, name: str = "opp") -> bytes:
    """An RFC 5545 calendar of ``items``; ``stamp`` (the moment it is written) is every
    entry's DTSTAMP. Days are written as dates (all-day), not times."""
    from icalendar import Calendar, Event, Todo  # only here: the other formats never need it

    cal = Calendar()
    cal.add("prodid", "-//opp//opp agenda//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    utc = stamp.astimezone(timezone.utc).replace(microsecond=0)
    for item in items:
        entry = Todo() if item.kind == "todo" else Event()
        entry.add("uid", item.uid)
        entry.add("dtstamp", utc)
        entry.add("summary", item.summary)
        entry.add("description", item.description)
        entry.add("categories", [item.category])
        if item.kind == "todo":
            entry.add("due", item.day)
            entry.add("status", "NEEDS-ACTION")
        else:
            entry.add("dtstart", item.day)
            entry.add("dtend", item.day + timedelta(days=1))
            entry.add("transp", "TRANSPARENT")
        cal.add_component(entry)
    return cal.to_ical()
