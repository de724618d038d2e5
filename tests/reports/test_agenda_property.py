"""The agenda against a plain reading of its rules (hypothesis): whatever the deals,
their dated items, their last commits and the options, ``reports.agenda.agenda`` (written
for speed at 100,000 deals) gives the entries and the order the rules give."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from oppcli.domain.records import NOTHING_DATED, Dated, PlannedActivity, Record, SentQuote
from oppcli.reports.agenda import ActivityEntry, DealEntry, QuoteEntry, agenda

TODAY = date(2026, 11, 26)
DAYS = st.integers(-60, 40).map(lambda n: TODAY + timedelta(days=n))


@st.composite
def deals(draw) -> tuple[list[tuple[Record, Dated]], dict[str, date]]:
    out, committed = [], {}
    for i in range(draw(st.integers(0, 12))):
        deal_id = f"d{i:02d}"
        status = draw(st.sampled_from(["open", "open", "won", "lost"]))
        r = Record(id=deal_id, name=draw(st.sampled_from(["Alpha", "beta", "ALPHA", "Gamma"])),
                   customer="Acme",
                   owner=draw(st.sampled_from(["alice", "Bob", "bob", "Bobby", "jim bob"])),
                   stage=status, stage_label=status, stage_rank=0, status=status,
                   probability=10, amount=Decimal("1.00"), objective=None, currency="EUR",
                   close_date=draw(st.none() | DAYS), created=draw(DAYS))
        planned = tuple(PlannedActivity(f"a{k}", "call", "Call", draw(DAYS))
                        for k in range(draw(st.integers(0, 3))))
        done = tuple(sorted(set(draw(st.lists(DAYS, max_size=3)))))
        sent = tuple(SentQuote(f"q{k}", draw(DAYS), Decimal("5.00"))
                     for k in range(draw(st.integers(0, 2))))
        if status != "open":
            done, sent = (), ()  # as records.dated reads a closed deal
            if not planned:
                continue  # a closed deal with nothing to do is not read
        dated = Dated(planned, done, sent) if planned or done or sent else NOTHING_DATED
        out.append((r, dated))
        if draw(st.booleans()):
            committed[deal_id] = draw(DAYS)
    return out, committed


def plainly(items, committed, *, today, owner, days, stale_days, quote_days):
    """The rules, one at a time."""
    # --owner NAME: a deal whose owner holds NAME, case-insensitive (as every filter)
    mine = [(r, d) for r, d in items if not owner or owner.casefold() in r.owner.casefold()]
    activities = [(r, a) for r, d in mine for a in d.planned]

    def by_activity(e):
        return e[1].date, e[0].name.casefold(), e[0].id, e[1].id

    def section(keep):
        return sorted((ActivityEntry(r, a) for r, a in activities if keep(a.date)),
                      key=by_activity)

    deals_open = []
    for r, d in mine:
        if r.status != "open":
            continue
        days_touched = [x for x in (*d.done_days, *(a.date for a in d.planned)) if x <= today]
        touch = max([committed.get(r.id) or r.created, *days_touched])
        late = r.close_date is not None and r.close_date < today
        deals_open.append(DealEntry(r, touch, (today - touch).days,
                                    (today - r.close_date).days if late else None))
    waiting = [QuoteEntry(r, q, (today - q.sent).days) for r, d in mine if r.status == "open"
               for q in d.sent if q.sent <= today - timedelta(days=quote_days)]
    return {
        "overdue": section(lambda day: day < today),
        "due_today": section(lambda day: day == today),
        "upcoming": section(lambda day: today < day <= today + timedelta(days=days)),
        "past_close": sorted((e for e in deals_open if e.days_late is not None),
                             key=lambda e: -e.days_late),
        "stale": sorted((e for e in deals_open
                         if e.last_touch <= today - timedelta(days=stale_days)),
                        key=lambda e: e.last_touch),
        "quotes_waiting": sorted(waiting, key=lambda e: -e.days),
    }


@settings(max_examples=300, deadline=None)
@given(deals(), st.sampled_from([None, "bob", "ALICE", "nobody"]), st.integers(0, 20),
       st.integers(0, 40), st.integers(0, 20))
def test_the_agenda_is_its_rules(book, owner, days, stale_days, quote_days):
    items, committed = book
    options = {"today": TODAY, "owner": owner, "days": days, "stale_days": stale_days,
               "quote_days": quote_days}
    found = agenda(items, committed, **options)
    for name, entries in plainly(items, committed, **options).items():
        assert getattr(found, name) == entries, name
