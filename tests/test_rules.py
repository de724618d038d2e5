"""The rules of domain.md as unit tests on the pure functions (no files, no git)."""

from datetime import date
from decimal import Decimal as D

import pytest

from oppcli import rules
from oppcli.errors import NotFound, RuleError, UsageError
from oppcli.model import CatalogItem, Quote, QuoteLine, Settings

S = Settings()
TODAY = date(2026, 11, 26)
SRV = CatalogItem(sku="SRV-01", name="Support plan", price=D("1200.00"))
LIC = CatalogItem(sku="LIC-10", name="Licence pack", price=D("99.99"))


def new(**kw):
    args = dict(opp_id="abcd1234", name="Deal", customer="Acme", owner="alice", today=TODAY)
    args.update(kw)
    return rules.new_opportunity(S, **args)


def test_new_uses_defaults_from_settings():  # R1, R16
    opp = new()
    assert opp.stage == "prospecting" and opp.currency == "EUR"
    assert opp.amount == D("0.00") and opp.amount_source == "manual"
    assert rules.status(opp, S) == "open" and opp.close_date is None


def test_new_in_a_closed_stage_closes_today():  # R17a
    opp = new(stage=S.stage("closed-won"))
    assert rules.status(opp, S) == "won" and opp.close_date == TODAY


def test_stage_by_id_or_label_case_insensitive():
    assert rules.resolve_stage(S, "Closed WON").id == "closed-won"
    assert rules.resolve_stage(S, "PROPOSAL").id == "proposal"
    with pytest.raises(NotFound, match="did you mean 'proposal'.*stages are: prospecting"):
        rules.resolve_stage(S, "propsal")


def test_manual_amount_only_open_and_without_products():  # R5
    opp = rules.set_amount(new(), S, D("500"))
    assert opp.amount == D("500.00") and opp.amount_source == "manual"
    with_products = rules.add_product(opp, S, SRV)
    with pytest.raises(RuleError, match=r"total of its products \(1200.00 over 1 line\)"):
        rules.set_amount(with_products, S, D("1"))
    closed = rules.close(opp, S, won=False, today=TODAY)
    with pytest.raises(RuleError, match="closed .*opp reopen"):
        rules.set_amount(closed, S, D("1"))


def test_products_overwrite_a_typed_amount_and_follow_every_change():  # R4, R6
    opp = rules.set_amount(new(), S, D("999"))
    opp = rules.add_product(opp, S, SRV, quantity=D(2), discount=D(10))
    assert opp.amount == D("2160.00") and opp.amount_source == "products"
    opp = rules.add_product(opp, S, LIC, quantity=D(3))
    assert opp.amount == D("2459.97")
    opp = rules.update_product(opp, S, "LIC-10", quantity=D(1), unit_price=D("100"))
    assert opp.amount == D("2260.00")
    opp = rules.remove_product(opp, S, "SRV-01")
    assert opp.amount == D("100.00")
    opp = rules.remove_product(opp, S, "lic-10")
    assert opp.amount == D("0.00") and opp.amount_source == "manual" and not opp.products
    assert rules.set_amount(opp, S, D("5")).amount == D("5.00")  # typable again


def test_line_total_half_up_per_line():  # R10
    opp = rules.add_product(new(), S, LIC, quantity=D("1.5"), discount=D("12.5"))
    assert opp.products[0].total == D("131.24")  # 131.236875 -> 131.24


def test_catalog_price_is_the_default_and_other_currencies_need_a_price():  # R10
    usd = new(currency="USD")
    with pytest.raises(RuleError, match="catalog prices are in EUR.*--price"):
        rules.add_product(usd, S, SRV)
    assert rules.add_product(usd, S, SRV, unit_price=D("1300")).amount == D("1300.00")


def test_same_sku_twice_is_named_by_line_id():
    opp = rules.add_product(new(), S, SRV, line_id="aaaaaa")
    opp = rules.add_product(opp, S, SRV, line_id="bbbbbb", discount=D(50))
    with pytest.raises(UsageError, match="on 2 product lines.*aaaaaa, bbbbbb"):
        rules.remove_product(opp, S, "SRV-01")
    assert rules.remove_product(opp, S, "bbbbbb").amount == D("1200.00")
    with pytest.raises(NotFound, match="no product line 'XYZ'"):
        rules.update_product(opp, S, "XYZ", quantity=D(1))


def test_catalog_module_off_refuses_products():  # R3
    off = Settings(modules={"catalog": False, "quotes": True})
    with pytest.raises(RuleError, match="catalog module is off.*opp.yaml"):
        rules.add_product(new(), off, SRV)


def test_objective_is_free_while_open():  # R8
    opp = rules.add_product(new(), S, SRV)
    opp = rules.set_objective(opp, S, D("5000"))
    assert opp.objective == D("5000.00") and opp.amount == D("1200.00")
    assert rules.set_objective(opp, S, None).objective is None
    with pytest.raises(RuleError):
        rules.set_objective(rules.close(opp, S, won=True, today=TODAY), S, D(1))


def test_stage_moves_and_closing():  # R16, R17, R17a
    opp = rules.change_stage(new(), S, S.stage("negotiation"), today=TODAY)
    assert opp.stage == "negotiation" and opp.close_date is None
    assert rules.change_stage(opp, S, S.stage("negotiation"), today=TODAY) == opp  # no change
    lost = rules.change_stage(opp, S, S.stage("closed-lost"), today=TODAY, reason="price",
                              close_date=date(2026, 11, 1))
    assert rules.status(lost, S) == "lost" and lost.lost_reason == "price"
    assert lost.close_date == date(2026, 11, 1)
    with pytest.raises(RuleError, match="reopen"):
        rules.change_stage(lost, S, S.stage("proposal"), today=TODAY)
    with pytest.raises(RuleError, match="closed"):
        rules.close(lost, S, won=True, today=TODAY)


def test_close_date_refusals():
    with pytest.raises(UsageError, match="in the future"):
        rules.close(new(), S, won=True, today=TODAY, close_date=date(2026, 12, 1))
    with pytest.raises(UsageError, match="--reason is for closing as lost"):
        rules.close(new(), S, won=True, today=TODAY, reason="price")
    with pytest.raises(UsageError, match="expected close date"):
        rules.change_stage(new(), S, S.stage("proposal"), today=TODAY,
                           close_date=date(2026, 1, 1))


def test_reopen_clears_the_actual_close_date_and_reason():  # R17
    lost = rules.close(new(close_date=date(2026, 12, 31)), S, won=False, today=TODAY,
                       reason="timing")
    opp = rules.reopen(lost, S)
    assert opp.stage == "negotiation" and opp.close_date is None and opp.lost_reason is None
    opp = rules.reopen(lost, S, S.stage("proposal"), date(2027, 2, 1))
    assert (opp.stage, opp.close_date) == ("proposal", date(2027, 2, 1))
    with pytest.raises(RuleError, match="already open"):
        rules.reopen(opp, S)
    with pytest.raises(UsageError, match="open stage"):
        rules.reopen(lost, S, S.stage("closed-won"))


def test_closed_won_with_an_accepted_quote_takes_its_total():  # R7
    line = QuoteLine(id="l1", sku="SRV-01", description="Support plan", quantity=D(1),
                     unit_price=D("1000.00"), total=D("1000.00"))
    manual = QuoteLine(id="l2", description="Setup", quantity=D(1), unit_price=D("250.00"),
                       total=D("250.00"))
    quote = Quote(id="q1", status="accepted", created=TODAY, sent=TODAY, closed=TODAY,
                  lines=[line, manual], total=D("1250.00"))
    opp = rules.add_product(new(), S, SRV).model_copy(update={"quotes": [quote]})
    won = rules.close(opp, S, won=True, today=TODAY)
    assert won.amount == D("1250.00") and won.amount_source == "quote"
    assert [p.sku for p in won.products] == ["SRV-01"]
    assert rules.problems(won, S) == []


def test_closed_won_without_quote_keeps_the_products_total():  # R7
    opp = rules.add_product(new(), S, SRV, quantity=D(2))
    won = rules.close(opp, S, won=True, today=TODAY)
    assert won.amount == D("2400.00") and won.amount_source == "products"


def test_problems_flag_stored_amounts_that_break_the_rules():
    opp = rules.add_product(new(), S, SRV)
    assert rules.problems(opp, S) == []
    bad = opp.model_copy(update={"amount": D("1.00")})
    assert [p.loc for p in rules.problems(bad, S)] == [("amount",)]
    bad = opp.model_copy(update={"amount_source": "manual"})
    assert "R5" in rules.problems(bad, S)[0].message
    line = opp.products[0].model_copy(update={"total": D("5.00")})
    bad = opp.model_copy(update={"products": [line], "amount": D("5.00")})
    assert rules.problems(bad, S)[0].loc == ("products", 0, "total")
    bad = new().model_copy(update={"stage": "closed-won"})
    assert "close date" in rules.problems(bad, S)[0].message
    bad = new().model_copy(update={"stage": "nowhere"})
    assert "unknown stage" in rules.problems(bad, S)[0].message
    bad = new().model_copy(update={"amount_source": "quote"})
    assert "no quote is accepted" in rules.problems(bad, S)[0].message


def test_settings_must_be_coherent():
    with pytest.raises(ValueError, match="unique"):
        Settings(stages=[*S.stages, S.stages[0]])
    with pytest.raises(ValueError, match="'won' stage"):
        Settings(stages=[s for s in S.stages if s.kind != "won"])
    with pytest.raises(ValueError, match="default_stage"):
        Settings(default_stage="closed-won")
