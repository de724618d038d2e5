"""The rules of domain.md as unit tests on the pure functions (no files, no git)."""

from datetime import date
from decimal import Decimal as D

import pytest

from oppcli.domain import checks, opportunity, products, stages
from oppcli.domain.model import CatalogItem, Quote, QuoteLine, settings_from
from oppcli.domain.settings import Modules, Settings
from oppcli.errors import NotFound, RuleError, UsageError

S = Settings()
TODAY = date(2026, 11, 26)
SRV = CatalogItem(sku="SRV-01", name="Support plan", price=D("1200.00"))
LIC = CatalogItem(sku="LIC-10", name="Licence pack", price=D("99.99"))


def new(**kw):
    args = dict(opp_id="abcd1234", name="Deal", customer="Acme", owner="alice", today=TODAY)
    args.update(kw)
    return opportunity.new_opportunity(S, **args)


def test_new_uses_defaults_from_settings():  # R1, R16
    opp = new()
    assert opp.stage == "prospecting" and opp.currency == "EUR"
    assert opp.amount == D("0.00") and opp.amount_source == "manual"
    assert stages.status(opp, S) == "open" and opp.close_date is None


def test_new_in_a_closed_stage_closes_today():  # R17a
    opp = new(stage=S.stage("closed-won"))
    assert stages.status(opp, S) == "won" and opp.close_date == TODAY


def test_stage_by_id_or_label_case_insensitive():
    assert stages.resolve_stage(S, "Closed WON").id == "closed-won"
    assert stages.resolve_stage(S, "PROPOSAL").id == "proposal"
    with pytest.raises(NotFound, match="did you mean 'proposal'.*stages are: prospecting"):
        stages.resolve_stage(S, "propsal")


def test_manual_amount_only_open_and_without_products():  # R5
    opp = opportunity.set_amount(new(), S, D("500"))
    assert opp.amount == D("500.00") and opp.amount_source == "manual"
    with_products = products.add_product(opp, S, SRV)
    with pytest.raises(RuleError, match=r"total of its products \(1200.00 over 1 line\)"):
        opportunity.set_amount(with_products, S, D("1"))
    closed = opportunity.close(opp, S, won=False, today=TODAY)
    with pytest.raises(RuleError, match="closed .*opp reopen"):
        opportunity.set_amount(closed, S, D("1"))


def test_products_overwrite_a_typed_amount_and_follow_every_change():  # R4, R6
    opp = opportunity.set_amount(new(), S, D("999"))
    opp = products.add_product(opp, S, SRV, quantity=D(2), discount=D(10))
    assert opp.amount == D("2160.00") and opp.amount_source == "products"
    opp = products.add_product(opp, S, LIC, quantity=D(3))
    assert opp.amount == D("2459.97")
    opp = products.update_product(opp, S, "LIC-10", quantity=D(1), unit_price=D("100"))
    assert opp.amount == D("2260.00")
    opp = products.remove_product(opp, S, "SRV-01")
    assert opp.amount == D("100.00")
    opp = products.remove_product(opp, S, "lic-10")
    assert opp.amount == D("0.00") and opp.amount_source == "manual" and not opp.products
    assert opportunity.set_amount(opp, S, D("5")).amount == D("5.00")  # typable again


def test_line_total_half_up_per_line():  # R10
    opp = products.add_product(new(), S, LIC, quantity=D("1.5"), discount=D("12.5"))
    assert opp.products[0].total == D("131.24")  # 131.236875 -> 131.24


def test_catalog_price_is_the_default_and_other_currencies_need_a_price():  # R10
    usd = new(currency="USD")
    with pytest.raises(RuleError, match="catalog prices are in EUR.*--price"):
        products.add_product(usd, S, SRV)
    assert products.add_product(usd, S, SRV, unit_price=D("1300")).amount == D("1300.00")


def test_same_sku_twice_is_named_by_line_id():
    opp = products.add_product(new(), S, SRV, line_id="aaaaaa")
    opp = products.add_product(opp, S, SRV, line_id="bbbbbb", discount=D(50))
    with pytest.raises(UsageError, match="on 2 product lines.*aaaaaa, bbbbbb"):
        products.remove_product(opp, S, "SRV-01")
    assert products.remove_product(opp, S, "bbbbbb").amount == D("1200.00")
    with pytest.raises(NotFound, match="no product line 'XYZ'"):
        products.update_product(opp, S, "XYZ", quantity=D(1))


def test_catalog_module_off_refuses_products():  # R3
    off = Settings(modules=Modules(catalog=False, quotes=True))
    with pytest.raises(RuleError, match="catalog module is off.*opp.yaml"):
        products.add_product(new(), off, SRV)


def test_objective_is_free_while_open():  # R8
    opp = products.add_product(new(), S, SRV)
    opp = opportunity.set_objective(opp, S, D("5000"))
    assert opp.objective == D("5000.00") and opp.amount == D("1200.00")
    assert opportunity.set_objective(opp, S, None).objective is None
    with pytest.raises(RuleError):
        opportunity.set_objective(opportunity.close(opp, S, won=True, today=TODAY), S, D(1))


def test_stage_moves_and_closing():  # R16, R17, R17a
    opp = opportunity.change_stage(new(), S, S.stage("negotiation"), today=TODAY)
    assert opp.stage == "negotiation" and opp.close_date is None
    assert opportunity.change_stage(opp, S, S.stage("negotiation"), today=TODAY) == opp  # no change
    lost = opportunity.change_stage(opp, S, S.stage("closed-lost"), today=TODAY, reason="price",
                              close_date=date(2026, 11, 1))
    assert stages.status(lost, S) == "lost" and lost.lost_reason == "price"
    assert lost.close_date == date(2026, 11, 1)
    with pytest.raises(RuleError, match="reopen"):
        opportunity.change_stage(lost, S, S.stage("proposal"), today=TODAY)
    with pytest.raises(RuleError, match="closed"):
        opportunity.close(lost, S, won=True, today=TODAY)


def test_close_date_refusals():
    with pytest.raises(UsageError, match="in the future"):
        opportunity.close(new(), S, won=True, today=TODAY, close_date=date(2026, 12, 1))
    with pytest.raises(UsageError, match="--reason is for closing as lost"):
        opportunity.close(new(), S, won=True, today=TODAY, reason="price")
    with pytest.raises(UsageError, match="expected close date"):
        opportunity.change_stage(new(), S, S.stage("proposal"), today=TODAY,
                           close_date=date(2026, 1, 1))


def test_reopen_clears_the_actual_close_date_and_reason():  # R17
    lost = opportunity.close(new(close_date=date(2026, 12, 31)), S, won=False, today=TODAY,
                       reason="timing")
    opp = opportunity.reopen(lost, S)
    assert opp.stage == "negotiation" and opp.close_date is None and opp.lost_reason is None
    opp = opportunity.reopen(lost, S, S.stage("proposal"), date(2027, 2, 1))
    assert (opp.stage, opp.close_date) == ("proposal", date(2027, 2, 1))
    with pytest.raises(RuleError, match="already open"):
        opportunity.reopen(opp, S)
    with pytest.raises(UsageError, match="open stage"):
        opportunity.reopen(lost, S, S.stage("closed-won"))


def test_closed_won_with_an_accepted_quote_takes_its_total():  # R7
    line = QuoteLine(id="l1", sku="SRV-01", description="Support plan", quantity=D(1),
                     unit_price=D("1000.00"), total=D("1000.00"))
    manual = QuoteLine(id="l2", description="Setup", quantity=D(1), unit_price=D("250.00"),
                       total=D("250.00"))
    quote = Quote(id="q1", status="accepted", created=TODAY, sent=TODAY, closed=TODAY,
                  lines=[line, manual], total=D("1250.00"))
    opp = products.add_product(new(), S, SRV).model_copy(update={"quotes": [quote]})
    won = opportunity.close(opp, S, won=True, today=TODAY)
    assert won.amount == D("1250.00") and won.amount_source == "quote"
    assert [p.sku for p in won.products] == ["SRV-01"]
    assert checks.problems(won, S) == []


def test_closed_won_without_quote_keeps_the_products_total():  # R7
    opp = products.add_product(new(), S, SRV, quantity=D(2))
    won = opportunity.close(opp, S, won=True, today=TODAY)
    assert won.amount == D("2400.00") and won.amount_source == "products"


def test_problems_flag_stored_amounts_that_break_the_rules():
    opp = products.add_product(new(), S, SRV)
    assert checks.problems(opp, S) == []
    bad = opp.model_copy(update={"amount": D("1.00")})
    assert [p.loc for p in checks.problems(bad, S)] == [("amount",)]
    bad = opp.model_copy(update={"amount_source": "manual"})
    assert "R5" in checks.problems(bad, S)[0].message
    line = opp.products[0].model_copy(update={"total": D("5.00")})
    bad = opp.model_copy(update={"products": [line], "amount": D("5.00")})
    assert checks.problems(bad, S)[0].loc == ("products", 0, "total")
    bad = new().model_copy(update={"stage": "closed-won"})
    assert "close date" in checks.problems(bad, S)[0].message
    bad = new().model_copy(update={"stage": "nowhere"})
    assert "unknown stage" in checks.problems(bad, S)[0].message
    bad = new().model_copy(update={"amount_source": "quote"})
    assert "no quote is accepted" in checks.problems(bad, S)[0].message


def test_settings_must_be_coherent():
    with pytest.raises(ValueError, match="unique"):
        settings_from({"stages": [s.as_data() for s in [*S.stages, S.stages[0]]]})
    with pytest.raises(ValueError, match="'won' stage"):
        settings_from({"stages": [s.as_data() for s in S.stages if s.kind != "won"]})
    with pytest.raises(ValueError, match="default_stage"):
        settings_from({"default_stage": "closed-won"})
