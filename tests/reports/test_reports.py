"""Pipeline, forecast and changes as pure functions over plain records (R18, R19)."""

from datetime import date, datetime, timezone
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oppcli.domain.records import Commit, Record, Step, record
from oppcli.domain.settings import Settings, Stage
from oppcli.reports import changes, common, forecast, pipeline

S = Settings()
STAGES = list(S.stages)
RANK = {s.id: i for i, s in enumerate(STAGES)}


def rec(id="a1b2c3d4", stage="prospecting", amount="0.00", currency="EUR", owner="alice",
        customer="Acme Corp", objective=None, close_date=None, name=None, stage_list=STAGES):
    info = next(s for s in stage_list if s.id == stage)
    return Record(id=id, name=name or f"Deal {id}", customer=customer, owner=owner,
                  stage=stage, stage_label=info.label,
                  stage_rank=[s.id for s in stage_list].index(stage), status=info.kind,
                  probability=info.probability, amount=D(amount),
                  objective=None if objective is None else D(objective), currency=currency,
                  close_date=close_date, created=date(2026, 9, 1))


# A hand-built book: EUR and USD, every kind of stage, one deal without a close date.
BOOK = [
    rec("e1", "prospecting", "1000.05", objective="1500.00", close_date=date(2026, 11, 30)),
    rec("e2", "proposal", "333.33", owner="bob", close_date=date(2026, 12, 1)),
    rec("e3", "negotiation", "2000.00", objective="2500.00", close_date=date(2027, 1, 10)),
    rec("e4", "closed-won", "1500.00", owner="bob", objective="1000.00",
        close_date=date(2026, 11, 5)),
    rec("e5", "closed-lost", "700.00", close_date=date(2026, 10, 20)),
    rec("e6", "proposal", "99.99", owner="bob"),  # no close date
    rec("u1", "qualification", "999.99", currency="USD", owner="carol",
        close_date=date(2026, 12, 24)),
    rec("u2", "closed-won", "100.00", currency="USD", owner="carol",
        close_date=date(2026, 10, 1)),
]


def row(report, stage, currency):
    return next(r for r in report.rows if r.stage.id == stage and r.currency == currency)


def test_record_takes_stage_facts_from_the_settings():
    from oppcli.domain import opportunity

    opp = opportunity.new_opportunity(S, opp_id="abcd1234", name="Deal", customer="Acme",
                                owner="alice", today=date(2026, 11, 26), amount=D("10.00"),
                                stage=S.stage("negotiation"))
    r = record(opp, S)
    assert (r.stage, r.stage_label, r.stage_rank, r.status, r.probability) == (
        "negotiation", "Negotiation", 3, "open", 75)
    assert r.amount == D("10.00") and r.objective is None and r.close_date is None


def test_pipeline_rows_by_hand():
    p = pipeline.pipeline(BOOK, STAGES, "EUR")
    # every stage, in stage order, in each currency present
    assert [(r.stage.id, r.currency) for r in p.rows] == [
        (s.id, c) for s in STAGES for c in ("EUR", "USD")]
    e1 = row(p, "prospecting", "EUR")
    # 1000.05 x 10 % = 100.005 -> 100.01 (half-up, per opportunity)
    assert (e1.count, e1.amount, e1.weighted, e1.objective, e1.objective_count) == (
        1, D("1000.05"), D("100.01"), D("1500.00"), 1)
    pr = row(p, "proposal", "EUR")
    # 333.33 x 50 % = 166.665 -> 166.67; 99.99 x 50 % = 49.995 -> 50.00
    assert (pr.count, pr.amount, pr.weighted, pr.objective, pr.objective_count) == (
        2, D("433.32"), D("216.67"), D("0.00"), 0)
    assert row(p, "negotiation", "EUR").weighted == D("1500.00")
    assert row(p, "closed-won", "EUR").weighted == D("1500.00")
    assert row(p, "closed-lost", "EUR").weighted == D("0.00")
    # 999.99 x 25 % = 249.9975 -> 250.00
    assert row(p, "qualification", "USD").weighted == D("250.00")
    assert row(p, "proposal", "USD").count == 0 and row(p, "proposal", "USD").amount == 0


def test_pipeline_totals_by_hand_never_mix_currencies():
    p = pipeline.pipeline(BOOK, STAGES, "EUR")
    eur, usd = p.totals
    assert eur.as_dict() == {
        "currency": "EUR", "open_count": 4, "open_amount": "3433.37",
        "open_weighted": "1816.68", "open_objective": "4000.00", "won_count": 1,
        "won_amount": "1500.00", "lost_count": 1, "lost_amount": "700.00", "win_rate": 0.5}
    assert usd.as_dict() == {
        "currency": "USD", "open_count": 1, "open_amount": "999.99",
        "open_weighted": "250.00", "open_objective": "0.00", "won_count": 1,
        "won_amount": "100.00", "lost_count": 0, "lost_amount": "0.00", "win_rate": 1.0}


def test_weighted_is_rounded_per_opportunity_then_summed():
    # 0.05 x 10 % = 0.005 -> 0.01 each: 0.02, not round(0.010) = 0.01
    book = [rec("a", amount="0.05"), rec("b", amount="0.05")]
    assert row(pipeline.pipeline(book, STAGES), "prospecting", "EUR").weighted == D("0.02")


def test_win_rate_is_by_count_and_null_without_closed_deals():
    book = [rec(str(i), "closed-won", "1.00", close_date=date(2026, 1, 1)) for i in range(2)]
    book.append(rec("x", "closed-lost", "1000.00", close_date=date(2026, 1, 1)))
    assert pipeline.pipeline(book, STAGES).totals[0].win_rate == 0.6667
    assert pipeline.pipeline([rec()], STAGES).totals[0].win_rate is None


def test_empty_pipeline_says_its_currency():
    p = pipeline.pipeline([], STAGES, "CHF")
    assert [r.currency for r in p.rows] == ["CHF"] * len(STAGES)
    assert p.as_dict()["totals"] == [{
        "currency": "CHF", "open_count": 0, "open_amount": "0.00", "open_weighted": "0.00",
        "open_objective": "0.00", "won_count": 0, "won_amount": "0.00", "lost_count": 0,
        "lost_amount": "0.00", "win_rate": None}]


def test_pipeline_follows_the_configured_stage_order():
    custom = [Stage("lead", "Lead", 5, "open"), Stage("deal", "Deal", 60, "open"),
              Stage("won", "Won", 100, "won"), Stage("lost", "Lost", 0, "lost")]
    book = [rec("a", "deal", "100.00", stage_list=custom),
            rec("b", "lead", "100.00", stage_list=custom)]
    p = pipeline.pipeline(book, custom)
    assert [r.stage.id for r in p.rows] == ["lead", "deal", "won", "lost"]
    assert [r.weighted for r in p.rows] == [D("5.00"), D("60.00"), D(0), D(0)]


def test_select_filters_like_opp_list():
    assert {r.id for r in common.select(BOOK, owner="BOB")} == {"e2", "e4", "e6"}
    assert {r.id for r in common.select(BOOK, customer="acme")} == {r.id for r in BOOK}
    assert {r.id for r in common.select(BOOK, customer="nobody")} == set()
    assert {r.id for r in common.select(BOOK, stage="proposal", owner="bob")} == {"e2", "e6"}


# ---------------------------------------------------------------- forecast


def groups(f):
    return [(r.group, r.currency, r.count, str(r.amount), str(r.weighted)) for r in f.rows]


def test_forecast_by_month_by_hand():
    f = forecast.forecast(BOOK, "month")
    assert groups(f) == [
        ("2026-10", "USD", 1, "100.00", "100.00"),      # won: 100 %
        ("2026-11", "EUR", 2, "2500.05", "1600.01"),    # 100.01 + won 1500.00
        ("2026-12", "EUR", 1, "333.33", "166.67"),
        ("2026-12", "USD", 1, "999.99", "250.00"),
        ("2027-01", "EUR", 1, "2000.00", "1500.00"),
        ("unscheduled", "EUR", 1, "99.99", "50.00"),    # last
    ]  # the lost e5 (2026-10, EUR) is nowhere
    eur, usd = f.totals
    assert eur.as_dict() == {"currency": "EUR", "count": 5, "amount": "4933.37",
                             "weighted": "3316.68", "objective": "5000.00",
                             "objective_count": 3}
    assert usd.as_dict()["amount"] == "1099.99" and usd.as_dict()["weighted"] == "350.00"


def test_forecast_by_quarter_owner_stage():
    q = forecast.forecast(BOOK, "quarter")
    assert [(r.group, r.currency, r.count) for r in q.rows] == [
        ("2026-Q4", "EUR", 3), ("2026-Q4", "USD", 2), ("2027-Q1", "EUR", 1),
        ("unscheduled", "EUR", 1)]
    o = forecast.forecast(BOOK, "owner")
    assert [(r.group, r.currency, r.count) for r in o.rows] == [
        ("alice", "EUR", 2), ("bob", "EUR", 3), ("carol", "USD", 2)]
    s = forecast.forecast(BOOK, "stage")
    assert [(r.group, r.currency) for r in s.rows] == [
        ("prospecting", "EUR"), ("qualification", "USD"), ("proposal", "EUR"),
        ("negotiation", "EUR"), ("closed-won", "EUR"), ("closed-won", "USD")]
    assert forecast.period(date(2026, 3, 31), "quarter") == "2026-Q1"
    assert forecast.period(date(2026, 4, 1), "quarter") == "2026-Q2"


def test_forecast_counts_won_at_100_percent_whatever_the_stage_says():
    odd = [Stage("open", "Open", 50, "open"), Stage("won", "Won", 90, "won"),
           Stage("lost", "Lost", 10, "lost")]
    book = [rec("w", "won", "200.00", close_date=date(2026, 5, 1), stage_list=odd),
            rec("l", "lost", "300.00", close_date=date(2026, 5, 1), stage_list=odd)]
    f = forecast.forecast(book, "month")
    assert groups(f) == [("2026-05", "EUR", 1, "200.00", "200.00")]


def test_forecast_window_is_inclusive_and_leaves_out_unscheduled():
    f = forecast.forecast(BOOK, "month", start=date(2026, 11, 5), end=date(2026, 12, 1))
    assert [(r.group, r.currency, r.count) for r in f.rows] == [
        ("2026-11", "EUR", 2), ("2026-12", "EUR", 1)]
    assert f.unscheduled_left_out == 1
    assert f.as_dict()["from"] == "2026-11-05" and f.as_dict()["to"] == "2026-12-01"
    only_start = forecast.forecast(BOOK, "owner", start=date(2027, 1, 1))
    assert [(r.group, r.count) for r in only_start.rows] == [("alice", 1)]
    assert forecast.forecast(BOOK, "month").unscheduled_left_out == 0


def test_empty_forecast_has_a_zero_total():
    f = forecast.forecast([], "quarter", default_currency="USD")
    assert f.rows == [] and [t.as_dict()["amount"] for t in f.totals] == ["0.00"]
    assert f.as_dict()["by"] == "quarter"
    with pytest.raises(ValueError):
        forecast.forecast([], "week")


# ---------------------------------------------------------------- changes

C1 = Commit("1" * 40, datetime(2026, 11, 2, 9, tzinfo=timezone.utc), "Ann", "one")
C2 = Commit("2" * 40, datetime(2026, 11, 3, 9, tzinfo=timezone.utc), "Ben", "two")


def kinds(before, after):
    return [(k, d) for k, d, _, _ in changes.changes_of(before, after)]


def test_changes_of_each_kind():
    base = rec("d", "proposal", "100.00", close_date=date(2026, 12, 1))
    assert kinds(None, base) == [("new", None)]
    assert kinds(base, None) == [("deleted", None)]
    assert kinds(base, base) == []
    assert kinds(base, rec("d", "negotiation", "100.00", close_date=date(2026, 12, 1))) == [
        ("stage", "forward")]
    assert kinds(base, rec("d", "qualification", "100.00", close_date=date(2026, 12, 1))) == [
        ("stage", "back")]
    assert kinds(base, rec("d", "proposal", "90.00", close_date=date(2026, 12, 1))) == [
        ("amount", "down")]
    assert kinds(base, rec("d", "proposal", "100.00", close_date=date(2027, 1, 1))) == [
        ("close_date", "slipped")]
    assert kinds(base, rec("d", "proposal", "100.00", close_date=date(2026, 11, 1))) == [
        ("close_date", "pulled-in")]
    assert kinds(base, rec("d", "proposal", "100.00")) == [("close_date", "cleared")]
    assert kinds(rec("d", "proposal", "100.00"), base) == [("close_date", "set")]
    assert kinds(base, rec("d", "proposal", "100.00", close_date=date(2026, 12, 1),
                           owner="zed")) == [("owner", None)]
    assert kinds(base, rec("d", "proposal", "100.00", currency="USD",
                           close_date=date(2026, 12, 1))) == [("currency", None)]
    # closing sets the close date to the day it closed: part of closing, not a slip
    won = rec("d", "closed-won", "120.00", close_date=date(2026, 12, 20))
    assert kinds(base, won) == [("won", None), ("amount", "up")]
    lost = rec("d", "closed-lost", "100.00", close_date=date(2026, 11, 2))
    assert kinds(base, lost) == [("lost", None)]
    assert kinds(lost, rec("d", "negotiation", "100.00")) == [("reopened", None)]
    assert kinds(None, won) == [("new", None)]  # the report decides (below)


def test_a_deal_created_closed_is_won_or_lost_in_the_window_it_closed_in():
    won = rec("w", "closed-won", "10.00", close_date=date(2026, 11, 2))
    lost = rec("l", "closed-lost", "20.00", close_date=date(2025, 1, 31))  # an old one
    report = changes.changes([Step(C1, None, won), Step(C1, None, lost)], date(2026, 11, 1),
                             date(2026, 11, 8))
    assert [(c.record.id, c.kind) for c in report.changes] == [
        ("w", "new"), ("w", "won"), ("l", "new")]
    t = report.totals[0]
    assert (t.new_count, t.new_amount, t.won_count, t.won_amount, t.lost_count) == (
        2, D("30.00"), 1, D("10.00"), 0)
    later = changes.changes([Step(C1, None, won)], date(2026, 11, 3))
    assert [c.kind for c in later.changes] == ["new"]


def test_changes_report_lists_every_step_and_totals_per_currency():
    a0 = rec("a", "proposal", "100.00", close_date=date(2026, 12, 1))
    a1 = rec("a", "negotiation", "150.00", close_date=date(2027, 1, 1))
    a2 = rec("a", "closed-won", "150.00", close_date=date(2026, 11, 3))
    u = rec("u", "prospecting", "70.00", currency="USD", owner="bob")
    steps = [Step(C1, a0, a1), Step(C1, None, u), Step(C2, a1, a2),
             Step(C2, u, rec("u", "closed-lost", "70.00", currency="USD", owner="bob",
                             close_date=date(2026, 11, 3)))]
    report = changes.changes(steps, date(2026, 11, 1))
    assert [(c.record.id, c.kind, c.direction) for c in report.changes] == [
        ("a", "stage", "forward"), ("a", "amount", "up"), ("a", "close_date", "slipped"),
        ("u", "new", None), ("a", "won", None), ("u", "lost", None)]
    eur, usd = report.totals
    assert eur.as_dict() == {
        "currency": "EUR", "new_count": 0, "new_amount": "0.00", "won_count": 1,
        "won_amount": "150.00", "lost_count": 0, "lost_amount": "0.00", "reopened_count": 0,
        "deleted_count": 0, "forward_count": 1, "back_count": 0, "slipped_count": 1,
        "pulled_in_count": 0, "amount_change": "50.00"}
    assert (usd.new_count, usd.new_amount, usd.lost_count, usd.lost_amount) == (
        1, D("70.00"), 1, D("70.00"))
    assert report.commits == 2
    first = report.as_dict()["changes"][0]
    assert first["old"] == "proposal" and first["new"] == "negotiation"
    assert first["at"] == "2026-11-02T09:00:00+00:00" and first["author"] == "Ann"
    amount = report.as_dict()["changes"][1]
    assert (amount["old"], amount["new"]) == ("100.00", "150.00")
    only_bob = changes.changes(steps, date(2026, 11, 1), owner="Bob")
    assert {c.record.id for c in only_bob.changes} == {"u"}


# ---------------------------------------------------------------- properties

money = st.decimals(min_value=0, max_value=10**9, places=2)
a_record = st.builds(
    lambda i, stage, amount, currency, owner, objective, day: rec(
        f"r{i}", stage, str(amount), currency, owner, objective=objective,
        close_date=day if day or S.stage(stage).kind == "open" else date(2026, 1, 1)),
    st.integers(0, 10**6), st.sampled_from([s.id for s in STAGES]), money,
    st.sampled_from(["EUR", "USD", "JPY"]), st.sampled_from(["alice", "bob"]),
    st.none() | money.map(str), st.none() | st.dates(date(2025, 1, 1), date(2028, 12, 31)))


@settings(max_examples=200, deadline=None)
@given(st.lists(a_record, max_size=30))
def test_pipeline_rows_add_up_to_the_totals_per_currency(book):
    p = pipeline.pipeline(book, STAGES)
    for t in p.totals:
        mine = [r for r in p.rows if r.currency == t.currency]
        by_kind = {k: [r for r in mine if r.stage.kind == k] for k in ("open", "won", "lost")}
        assert sum(r.count for r in mine) == t.open_count + t.won_count + t.lost_count
        assert sum(r.count for r in by_kind["open"]) == t.open_count
        assert sum(r.amount for r in by_kind["open"]) == t.open_amount
        assert sum(r.weighted for r in by_kind["open"]) == t.open_weighted
        assert sum(r.amount for r in by_kind["won"]) == t.won_amount
        assert sum(r.count for r in by_kind["lost"]) == t.lost_count
        assert sum(r.amount for r in by_kind["lost"]) == t.lost_amount
        assert t.open_amount + t.won_amount + t.lost_amount == sum(
            r.amount for r in book if r.currency == t.currency)
    for r in p.rows:
        assert D(0) <= r.weighted <= r.amount
        assert r.weighted == r.weighted.quantize(D("0.01"))


any_places = st.one_of(*(st.decimals(min_value=0, max_value=10**9, places=n)
                         for n in range(4)))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(a_record, any_places, st.none() | any_places), max_size=40),
       st.none() | st.dictionaries(st.sampled_from([s.id for s in STAGES]),
                                   st.decimals(min_value=0, max_value=100, places=1)))
def test_the_sums_add_each_record_as_it_is_weighted_alone(drawn, probabilities):
    """``common.sums`` sums by group in C: the same sums, to the last digit and exponent,
    as adding each record's ``forecast_weighted`` one by one (amounts typed 12.5 or 12,
    probabilities of the stages replaced or not)."""
    book = [r._replace(amount=amount, objective=objective) for r, amount, objective in drawn]
    expected: dict[tuple[str, str], common.Sum] = {}
    for r in book:
        expected.setdefault((r.owner, r.currency), common.Sum()).add(
            r, forecast.forecast_weighted(r, probabilities))
    found = common.sums(book, ((r.owner, r.currency) for r in book), probabilities)

    def shown(sums):
        return {k: {f: str(v) for f, v in s.fields().items()} for k, s in sums.items()}
    assert shown(found) == shown(expected)
    if probabilities is None:
        cells = {}
        for r in book:
            cells.setdefault((r.stage, r.currency, r.status), common.Sum()).add(
                r, forecast.forecast_weighted(r))
        assert shown(common.cells(book)) == shown(cells)


@settings(max_examples=200, deadline=None)
@given(st.lists(a_record, max_size=30), st.sampled_from(forecast.FORECAST_BY),
       st.none() | st.dates(date(2025, 1, 1), date(2028, 12, 31)))
def test_forecast_rows_add_up_to_the_totals_per_currency(book, by, start):
    f = forecast.forecast(book, by, start=start)
    assert {t.currency for t in f.totals} >= {r.currency for r in f.rows}
    for t in f.totals:
        mine = [r for r in f.rows if r.currency == t.currency]
        for name in ("count", "amount", "weighted", "objective", "objective_count"):
            assert sum(getattr(r, name) for r in mine) == getattr(t, name)
        assert t.weighted <= t.amount
    for r in f.rows:
        assert D(0) <= r.weighted <= r.amount
    assert len({(r.group, r.currency) for r in f.rows}) == len(f.rows)
    expected = [r for r in book if r.status != "lost" and (
        start is None or (r.close_date is not None and r.close_date >= start))]
    assert sum(t.count for t in f.totals) == len(expected)


def test_percent_words_round_once_from_the_exact_ratio():
    from oppcli.reports.common import percent_words

    assert percent_words(4238, 6711) == "63.2 %"   # 63.15005: a rounded 0.6315 gave 63.1
    assert percent_words(1, 3) == "33.3 %" and percent_words(2, 3) == "66.7 %"
    assert percent_words(1, 8) == "12.5 %" and percent_words(1, 16) == "6.3 %"
    assert percent_words(0, 0) == "-" and percent_words(0, 0, "–") == "–"
    assert percent_words(5, 5) == "100.0 %"
