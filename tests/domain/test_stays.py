"""A deal's stays at each stage, folded from the versions its commits made (domain/stays)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from oppcli.domain.stays import DealState, Stay, Version, days_number, fold, mean, median, ratio

KINDS = {"won": "won", "lost": "lost"}


def state(stage: str, amount: str = "100.00", close: date | None = None) -> DealState:
    return DealState(stage, KINDS.get(stage, "open"), "ann", "Acme", "EUR", Decimal(amount),
                     close)


def at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 1, 1, hour, tzinfo=timezone(timedelta(hours=1))) + timedelta(day - 1)


def v(day: int, sha: str, before: str | None, after: DealState | None, merge=False, seq=None,
      hour: int = 12) -> Version:
    return Version(at(day, hour), seq if seq is not None else day, sha, merge, before, after)


def test_stays_follow_the_moves_and_the_last_one_runs_on():
    path = fold("d1", [v(1, "a", None, state("prospecting")),
                       v(4, "b", "prospecting", state("qualification")),
                       v(9, "c", "qualification", state("qualification", "250.00")),
                       v(20, "d", "qualification", state("proposal"))])
    assert path.created == date(2026, 1, 1)
    assert path.stays == (Stay("prospecting", date(2026, 1, 1), date(2026, 1, 4)),
                          Stay("qualification", date(2026, 1, 4), date(2026, 1, 20)),
                          Stay("proposal", date(2026, 1, 20), None))
    assert [s.days() for s in path.stays] == [3, 16, None]
    # the amount edit is no move, but the state follows it
    assert path.state_on(date(2026, 1, 10)).amount == Decimal("250.00")
    assert path.state_on(date(2025, 12, 31)) is None
    assert path.stays_until(date(2026, 1, 10))[-1] == Stay("qualification", date(2026, 1, 4),
                                                           None)


def test_a_reopened_deal_begins_a_new_stay():
    path = fold("d1", [v(1, "a", None, state("proposal")),
                       v(6, "b", "proposal", state("won", close=date(2026, 1, 6))),
                       v(10, "c", "won", state("proposal")),
                       v(13, "d", "proposal", state("lost", close=date(2026, 1, 13)))])
    assert [(s.stage, s.days()) for s in path.stays] == [
        ("proposal", 5), ("won", 4), ("proposal", 3), ("lost", None)]


def test_a_deal_created_at_a_late_stage_has_that_stay_only():
    path = fold("d1", [v(3, "a", None, state("negotiation")),
                       v(5, "b", "negotiation", state("won", close=date(2026, 1, 5)))])
    assert [s.stage for s in path.stays] == ["negotiation", "won"]


def test_two_clones_merged_count_each_move_once():
    # clone A moves the deal on day 3; clone B, unaware, edits its amount on day 4 (its
    # parent still at prospecting); the merge of day 5 settles on A's stage with B's amount
    versions = [v(1, "a", None, state("prospecting")),
                v(3, "b", "prospecting", state("qualification")),
                v(4, "c", "prospecting", state("prospecting", "900.00")),
                v(5, "m", None, state("qualification", "900.00"), merge=True)]
    path = fold("d1", versions)
    assert [(s.stage, s.start.day, s.end and s.end.day) for s in path.stays] == [
        ("prospecting", 1, 3), ("qualification", 3, None)]
    assert path.state_on(date(2026, 1, 4)) == state("qualification", "900.00")
    # the same commit given twice (read from both sides of a merge) counts once
    assert fold("d1", versions + versions[1:2]) == path


def test_the_same_move_made_on_both_clones_counts_once():
    path = fold("d1", [v(1, "a", None, state("prospecting")),
                       v(3, "b", "prospecting", state("proposal")),
                       v(4, "c", "prospecting", state("proposal"))])
    assert [s.stage for s in path.stays] == ["prospecting", "proposal"]
    assert path.stays[-1].start == date(2026, 1, 3)


def test_a_merge_that_settles_on_another_stage_moves_the_deal():
    path = fold("d1", [v(1, "a", None, state("prospecting")),
                       v(3, "b", "prospecting", state("proposal")),
                       v(4, "c", "prospecting", state("negotiation")),
                       v(6, "m", None, state("proposal"), merge=True)])
    assert [(s.stage, s.start.day) for s in path.stays] == [
        ("prospecting", 1), ("proposal", 3), ("negotiation", 4), ("proposal", 6)]


def test_days_are_author_days_in_the_authors_time_zone():
    late = Version(datetime(2026, 1, 1, 23, 30, tzinfo=timezone(timedelta(hours=-5))), 0, "a",
                   False, None, state("prospecting"))
    moved = Version(datetime(2026, 1, 2, 6, 0, tzinfo=timezone(timedelta(hours=1))), 1, "b",
                    False, "prospecting", state("proposal"))
    path = fold("d1", [moved, late])
    assert path.stays[0] == Stay("prospecting", date(2026, 1, 1), date(2026, 1, 2))


def test_deleted_deals_and_empty_histories():
    path = fold("d1", [v(1, "a", None, state("prospecting")), v(2, "b", "prospecting", None)])
    assert path.state_on(date(2026, 1, 1)) is not None
    assert path.state_on(date(2026, 1, 2)) is None
    assert fold("d2", []) is None


def test_figures_are_exact_and_rounded_once():
    assert median([3, 16, 9]) == 9
    assert median([3, 16]) == Decimal("9.5")
    assert mean([1, 2, 2]) == Decimal(5) / 3
    assert days_number(mean([1, 2, 2])) == 1.7
    assert days_number(Decimal(4)) == 4 and days_number(None) is None
    assert ratio(2, 3) == 0.6667 and ratio(1, 0) is None
    assert ratio(Decimal("1"), Decimal("8")) == 0.125
