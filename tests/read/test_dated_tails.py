"""The agenda's dated items as the index keeps them (``entry.dated_fields``, the tail of
a rec) and reads them back (``entry.DatedReader``, with its shortcut for the most common
tail, days done alone): whatever the items, read back they are the items, and of a
closed deal only its activities to do (``records.dated``)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from oppcli.domain.records import NOTHING_DATED, Dated, PlannedActivity, SentQuote
from oppcli.read.index.entry import MARK, SEP, DatedReader, dated_fields

DAYS = st.integers(0, 900).map(lambda n: date(2025, 1, 1) + timedelta(days=n))
# words that read as tags ("p", "d", "q") among the others: only the position tells
WORDS = st.sampled_from(["p", "d", "q", "call", "Call back", "2026-01-02", "x", ""])
PLANNED = st.builds(PlannedActivity, st.sampled_from(["a1", "a2", "p", "d"]),
                    st.sampled_from(["call", "email", "meeting"]), WORDS, DAYS)
SENT = st.builds(SentQuote, st.sampled_from(["q1", "q2", "d"]), DAYS,
                 st.decimals(0, 10**6, places=2, allow_nan=False, allow_infinity=False))
ITEMS = st.builds(Dated, st.lists(PLANNED, max_size=3).map(tuple),
                  st.lists(DAYS, max_size=4, unique=True).map(lambda d: tuple(sorted(d))),
                  st.lists(SENT, max_size=2).map(tuple))


@given(items=ITEMS, closed=st.booleans(), prefix=st.sampled_from(["", "rec\x1ffields"]))
def test_dated_items_read_back_are_the_items(items, closed, prefix):
    fields = dated_fields(items)
    rec = prefix + (MARK + SEP.join(fields) if fields else "")
    reader = DatedReader()
    found = reader.dated(rec, closed)
    if closed:
        wanted = Dated(items.planned) if items.planned else NOTHING_DATED
    else:
        wanted = items if fields else NOTHING_DATED
    assert found == wanted
    assert reader.dated(rec, closed) == found  # the days made once, shared
    for a, b in zip(found.done_days, reader.dated(rec, closed).done_days, strict=True):
        assert a is b


def test_the_shortcut_for_days_done_alone_reads_what_the_full_reading_does():
    reader = DatedReader()
    days = ("2026-03-23", "2026-03-25")
    rec = MARK + SEP.join(["d", days[0], "d", days[1]])
    assert reader.dated(rec) == Dated((), tuple(map(date.fromisoformat, days)), ())
    assert reader.dated(rec, closed=True) is NOTHING_DATED
    total = Decimal("10.00")
    rec = MARK + SEP.join(["d", days[0], "q", "q1", days[1], str(total)])
    assert reader.dated(rec) == Dated((), (date(2026, 3, 23),),
                                      (SentQuote("q1", date(2026, 3, 25), total),))
