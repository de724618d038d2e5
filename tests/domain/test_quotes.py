"""Quotes (R11-R15, R3): the pure rules, the commands end to end, and their invariants."""

import json
import subprocess
from datetime import date
from decimal import Decimal as D

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from oppcli.domain import checks, opportunity, products, quotes, stages
from oppcli.domain.model import CatalogItem, Opportunity
from oppcli.domain.money import line_total
from oppcli.domain.settings import Modules, Settings
from oppcli.errors import NotFound, RuleError, UsageError
from oppcli.reports.quote_document import escape, markdown
from oppcli.store import yamlio

S = Settings()
TODAY = date(2026, 11, 26)
SRV = CatalogItem(sku="SRV-01", name="Support plan", price=D("1200.00"))
LIC = CatalogItem(sku="LIC-10", name="Licence pack", price=D("99.99"))


def new(**kw) -> Opportunity:
    args = dict(opp_id="abcd1234", name="Deal", customer="Acme", owner="alice", today=TODAY)
    args.update(kw)
    return opportunity.new_opportunity(S, **args)


def with_products() -> Opportunity:
    opp = products.add_product(new(), S, SRV, quantity=D(2), discount=D(10), line_id="srv001")
    return products.add_product(opp, S, LIC, quantity=D(3), line_id="lic001")


def drafted(opp=None, quote_id="q1aaaa") -> Opportunity:
    return quotes.new_quote(opp or with_products(), S, today=TODAY, quote_id=quote_id)


def sent(opp=None, quote_id="q1aaaa", day=TODAY) -> Opportunity:
    opp = drafted(opp, quote_id)
    opp = quotes.add_manual_line(opp, S, quote_id, description="Installation",
                                 unit_price=D("500"), line_id="man001")
    return quotes.send_quote(opp, S, quote_id, today=day)


# ---------------------------------------------------------------- pure rules


def test_a_new_quote_copies_the_products_as_they_are():  # R11
    opp = drafted()
    q = opp.quotes[0]
    assert (q.id, q.status, q.created, q.sent, q.closed) == ("q1aaaa", "draft", TODAY, None, None)
    assert [(x.id, x.sku, x.description, x.quantity, x.unit_price, x.discount, x.total)
            for x in q.lines] == [
        ("srv001", "SRV-01", "Support plan", D(2), D("1200.00"), D(10), D("2160.00")),
        ("lic001", "LIC-10", "Licence pack", D(3), D("99.99"), D(0), D("299.97"))]
    assert q.total == D("2459.97") == opp.amount
    later = products.update_product(opp, S, "SRV-01", quantity=D(5))
    later = products.remove_product(later, S, "LIC-10")
    assert later.quotes == opp.quotes  # product changes never touch a quote
    assert checks.problems(later, S) == []


def test_quote_ids_are_random_unique_and_stable():  # R13
    opp = with_products()
    for _ in range(20):
        opp = quotes.new_quote(opp, S, today=TODAY)
    ids_ = [q.id for q in opp.quotes]
    assert len(set(ids_)) == 20 and all(len(i) == 6 for i in ids_)
    opp = quotes.add_manual_line(opp, S, ids_[3], description="X", unit_price=D(1))
    assert [q.id for q in opp.quotes] == ids_
    with pytest.raises(RuleError, match="already has a quote"):
        quotes.new_quote(opp, S, today=TODAY, quote_id=ids_[0])


def test_catalog_and_manual_lines():  # R12
    opp = drafted(new())
    assert opp.quotes[0].lines == [] and opp.quotes[0].total == D("0.00")
    opp = quotes.add_catalog_line(opp, S, "q1aaaa", SRV)
    opp = quotes.add_catalog_line(opp, S, "q1", LIC, quantity=D("1.5"), discount=D("12.5"),
                                  description="Licences, special")
    opp = quotes.add_manual_line(opp, S, "q1", description="Setup", unit_price=D("250"),
                                 quantity=D(2), discount=D(10))
    lines = opp.quotes[0].lines
    assert [(x.sku, x.description, x.unit_price, x.total) for x in lines] == [
        ("SRV-01", "Support plan", D("1200.00"), D("1200.00")),
        ("LIC-10", "Licences, special", D("99.99"), D("131.24")),  # 131.236875 -> 131.24
        (None, "Setup", D("250.00"), D("450.00"))]
    assert opp.quotes[0].total == D("1781.24")
    assert len({x.id for x in lines}) == 3
    assert opp.amount == D("0.00") and opp.products == []  # a draft changes nothing else
    assert quotes.catalog_lines(opp.quotes[0]) == lines[:2]


def test_the_total_is_the_sum_of_rounded_line_totals():  # R12
    opp = drafted(new())
    for _ in range(3):  # 0.005 each, rounded up per line
        opp = quotes.add_manual_line(opp, S, "q1aaaa", description="Tiny",
                                     unit_price=D("0.01"), discount=D(50))
    assert opp.quotes[0].total == D("0.03")


def test_catalog_lines_in_another_currency_need_a_price():
    opp = drafted(new(currency="USD"))
    with pytest.raises(RuleError, match="catalog prices are in EUR.*--price"):
        quotes.add_catalog_line(opp, S, "q1aaaa", SRV)
    opp = quotes.add_catalog_line(opp, S, "q1aaaa", SRV, unit_price=D("1300"))
    assert opp.quotes[0].total == D("1300.00")


def test_update_and_remove_lines_of_a_draft():
    opp = drafted()
    opp = quotes.update_line(opp, S, "q1aaaa", "SRV-01", quantity=D(1), discount=D(0),
                             description="Support plan, 1 year")
    line = opp.quotes[0].lines[0]
    assert (line.quantity, line.total, line.description) == (D(1), D("1200.00"),
                                                             "Support plan, 1 year")
    opp = quotes.update_line(opp, S, "q1aaaa", "lic001", unit_price=D("100"))
    assert opp.quotes[0].total == D("1500.00")
    opp = quotes.remove_line(opp, S, "q1aaaa", "srv001")
    assert opp.quotes[0].total == D("300.00") and len(opp.quotes[0].lines) == 1
    with pytest.raises(NotFound, match="no quote line 'nope' on abcd1234 quote q1aaaa"):
        quotes.remove_line(opp, S, "q1aaaa", "nope")
    assert opp.products == with_products().products


def test_only_drafts_are_edited():  # R13
    opp = sent()
    q = opp.quotes[0]
    assert (q.status, q.sent, q.total) == ("sent", TODAY, D("2959.97"))
    for edit in (lambda: quotes.add_manual_line(opp, S, "q1aaaa", description="X",
                                                unit_price=D(1)),
                 lambda: quotes.add_catalog_line(opp, S, "q1aaaa", SRV),
                 lambda: quotes.update_line(opp, S, "q1aaaa", "SRV-01", quantity=D(9)),
                 lambda: quotes.remove_line(opp, S, "q1aaaa", "man001"),
                 lambda: quotes.send_quote(opp, S, "q1aaaa", today=TODAY)):
        with pytest.raises(RuleError, match="only draft quotes can be edited.*opp quote new"):
            edit()
    rejected = quotes.close_quote(opp, S, "q1aaaa", accepted=False, today=TODAY)
    with pytest.raises(RuleError, match="closed \\(rejected on 2026-11-26\\).*never change"):
        quotes.remove_line(rejected, S, "q1aaaa", "man001")


def test_an_empty_quote_is_not_sent():
    with pytest.raises(RuleError, match="has no lines.*opp quote add-line abcd1234 q1aaaa"):
        quotes.send_quote(drafted(new()), S, "q1aaaa", today=TODAY)


def test_accepting_wins_the_deal_in_one_change():  # R14, R7, R17a
    opp = opportunity.change_stage(sent(), S, S.stage("negotiation"), today=TODAY)
    won = quotes.close_quote(opp, S, "q1aaaa", accepted=True, today=TODAY,
                             close_date=date(2026, 11, 26))
    q = won.quotes[0]
    assert (q.status, q.closed) == ("accepted", TODAY)
    assert stages.status(won, S) == "won" and won.stage == "closed-won"
    assert won.close_date == TODAY
    assert won.amount == q.total == D("2959.97") and won.amount_source == "quote"
    assert [(p.id, p.sku, p.name, p.quantity, p.total) for p in won.products] == [
        ("srv001", "SRV-01", "Support plan", D(2), D("2160.00")),
        ("lic001", "LIC-10", "Licence pack", D(3), D("299.97"))]  # the manual line is no product
    assert checks.problems(won, S) == []


def test_accepting_takes_the_quote_lines_even_when_the_products_moved_on():  # R14
    opp = sent()
    opp = products.update_product(opp, S, "SRV-01", quantity=D(7))
    opp = products.add_product(opp, S, SRV, line_id="extra1")
    won = quotes.close_quote(opp, S, "q1aaaa", accepted=True, today=TODAY)
    assert [p.id for p in won.products] == ["srv001", "lic001"]
    assert won.products[0].quantity == D(2) and won.amount == D("2959.97")


def test_rejecting_changes_nothing_but_the_quote():  # R15
    opp = sent()
    rejected = quotes.close_quote(opp, S, "q1aaaa", accepted=False, today=TODAY,
                                  close_date=TODAY)
    assert rejected.quotes[0].status == "rejected" and rejected.quotes[0].closed == TODAY
    assert rejected.model_copy(update={"quotes": opp.quotes}) == opp
    assert checks.problems(rejected, S) == []


def test_closing_refusals():  # R13, R15
    opp = sent()
    with pytest.raises(RuleError, match="is a draft; send it.*opp quote send abcd1234 q2bbbb"):
        quotes.close_quote(drafted(opp, "q2bbbb"), S, "q2bbbb", accepted=True, today=TODAY)
    won = quotes.close_quote(sent(opp, "q2bbbb"), S, "q1aaaa", accepted=True, today=TODAY)
    with pytest.raises(RuleError, match="already accepted on 2026-11-26.*never change"):
        quotes.close_quote(won, S, "q1aaaa", accepted=True, today=TODAY)
    with pytest.raises(RuleError, match="closed \\(won on 2026-11-26\\).*opp reopen"):
        quotes.close_quote(won, S, "q2bbbb", accepted=True, today=TODAY)
    with pytest.raises(RuleError, match="closed"):
        quotes.close_quote(won, S, "q2bbbb", accepted=False, today=TODAY)
    reopened = opportunity.reopen(won, S)  # R15a: q1aaaa is superseded, q2bbbb may win
    with pytest.raises(RuleError, match="q1aaaa of abcd1234 is already superseded: accepted on "
                                        "2026-11-26.*never change.*opp quote new abcd1234"):
        quotes.close_quote(reopened, S, "q1aaaa", accepted=True, today=TODAY)
    # a deal reopened by opp 0.2.0 kept its quote accepted: R15 still holds there
    legacy = reopened.model_copy(update={"quotes": won.quotes})
    with pytest.raises(RuleError, match="q1aaaa of abcd1234 is already accepted.*R15.*"
                                        "opp close abcd1234 --won, then opp reopen abcd1234"):
        quotes.close_quote(legacy, S, "q2bbbb", accepted=True, today=TODAY)
    lost = opportunity.close(opp, S, won=False, today=TODAY)
    with pytest.raises(RuleError, match="closed \\(lost"):
        quotes.close_quote(lost, S, "q1aaaa", accepted=True, today=TODAY)
    with pytest.raises(UsageError, match="in the future"):
        quotes.close_quote(opp, S, "q1aaaa", accepted=True, today=TODAY,
                           close_date=date(2026, 11, 27))
    with pytest.raises(UsageError, match="before quote q1aaaa was sent"):
        quotes.close_quote(opp, S, "q1aaaa", accepted=False, today=TODAY,
                           close_date=date(2026, 11, 25))


def test_quotes_of_a_closed_opportunity_are_read_only():  # R17
    lost = opportunity.close(sent(drafted(quote_id="q2bbbb")), S, won=False, today=TODAY)
    for change in (lambda: quotes.new_quote(lost, S, today=TODAY),
                   lambda: quotes.add_manual_line(lost, S, "q2bbbb", description="X",
                                                  unit_price=D(1)),
                   lambda: quotes.send_quote(lost, S, "q2bbbb", today=TODAY)):
        with pytest.raises(RuleError, match="closed.*opp reopen abcd1234"):
            change()


def test_finding_quotes():
    opp = sent(drafted(quote_id="q2bbbb"), "q1aaaa")
    assert quotes.find_quote(opp, "Q2").id == "q2bbbb"
    with pytest.raises(NotFound, match="matches 2 quotes"):
        quotes.find_quote(opp, "q")
    with pytest.raises(NotFound,
                       match="no quote 'zz'.*it has: q2bbbb \\(draft\\), q1aaaa \\(sent\\)"):
        quotes.find_quote(opp, "zz")
    with pytest.raises(NotFound, match="has none yet.*opp quote new abcd1234"):
        quotes.find_quote(new(), "q1")
    with pytest.raises(UsageError):
        quotes.find_quote(opp, " ")


def test_modules_off_refuse():  # R3
    no_quotes = Settings(modules=Modules(catalog=True, quotes=False))
    no_catalog = Settings(modules=Modules(catalog=False, quotes=True))
    opp = drafted()
    with pytest.raises(RuleError, match="quotes module is off.*'quotes: true'.*opp.yaml"):
        quotes.new_quote(with_products(), no_quotes, today=TODAY)
    for change in (lambda: quotes.add_manual_line(opp, no_quotes, "q1aaaa", description="X",
                                                  unit_price=D(1)),
                   lambda: quotes.send_quote(opp, no_quotes, "q1aaaa", today=TODAY),
                   lambda: quotes.close_quote(sent(), no_quotes, "q1aaaa", accepted=True,
                                              today=TODAY)):
        with pytest.raises(RuleError, match="quotes module is off"):
            change()
    with pytest.raises(RuleError, match="catalog module is off"):
        quotes.add_catalog_line(opp, no_catalog, "q1aaaa", SRV)
    manual = quotes.add_manual_line(opp, no_catalog, "q1aaaa", description="X", unit_price=D(1))
    assert manual.quotes[0].lines[-1].sku is None


@pytest.mark.parametrize("update, loc, words", [
    ({"status": "sent"}, ("quotes", 0, "status"), "is sent but has no sent date"),
    ({"sent": TODAY}, ("quotes", 0, "sent"), "is a draft but has a sent date"),
    ({"closed": TODAY}, ("quotes", 0, "closed"), "is a draft but has a closed date"),
    ({"status": "accepted", "sent": TODAY}, ("quotes", 0, "status"), "has no closed date"),
    ({"status": "sent", "sent": TODAY, "closed": TODAY}, ("quotes", 0, "closed"),
     "sent (still open) but has a closed date"),
    ({"status": "rejected", "sent": date(2026, 11, 28), "closed": date(2026, 11, 27)},
     ("quotes", 0, "closed"), "closed (2026-11-27) before it was sent (2026-11-28)"),
    ({"status": "sent", "sent": date(2026, 11, 1)}, ("quotes", 0, "sent"),
     "sent (2026-11-01) before it was created (2026-11-26)"),
    ({"status": "sent", "sent": TODAY, "lines": [], "total": D("0.00")},
     ("quotes", 0, "status"), "is sent but has no lines"),
])
def test_problems_flag_quotes_whose_status_and_dates_disagree(update, loc, words):
    opp = drafted()
    assert checks.problems(opp, S) == []
    bad = opp.model_copy(update={"quotes": [opp.quotes[0].model_copy(update=update)]})
    found = checks.problems(bad, S)
    assert [p.loc for p in found] == [loc] and words in found[0].message


def test_problems_check_quotes_whatever_the_modules():  # R3
    off = Settings(modules=Modules(catalog=False, quotes=False))
    opp = sent()
    assert checks.problems(opp, off) == []
    bad = opp.model_copy(update={"quotes": [opp.quotes[0].model_copy(
        update={"total": D("1.00")})]})
    assert "sum of its lines (R12)" in checks.problems(bad, off)[0].message


def test_the_printable_document():
    opp = sent(opportunity.set_field(with_products(), S, "customer", "Wayne | Sons *Ltd*"))
    text = markdown(opp, opp.quotes[0])
    assert text.startswith("# Quote q1aaaa\n")
    assert "**Customer:** Wayne \\| Sons \\*Ltd\\*" in text
    assert "**Opportunity:** Deal (abcd1234)" in text
    assert "**Status:** sent on 2026-11-26" in text and "**Currency:** EUR" in text
    assert "**Prepared by:** alice" in text
    rows = [r for r in text.splitlines() if r.startswith("|")]
    assert len(rows) == 2 + 3 + 1  # header, rule, three lines, total
    cells = [c.strip() for c in rows[2].strip("|").split("|")]
    assert cells == ["1", "SRV-01", "Support plan", "2", "1,200.00", "10 %", "2,160.00"]
    cells = [c.strip() for c in rows[4].strip("|").split("|")]
    assert cells == ["3", "", "Installation", "1", "500.00", "", "500.00"]
    assert "**Total**" in rows[-1] and "**2,959.97 EUR**" in rows[-1]
    assert escape("a|b\\c_d") == "a\\|b\\\\c\\_d"
    empty = drafted(new())
    assert "no lines yet" in markdown(empty, empty.quotes[0])


# ---------------------------------------------------------------- properties

money = st.decimals(min_value=0, max_value=10**6, places=2)
qty = st.decimals(min_value=D("0.0001"), max_value=10**4, places=4).filter(lambda q: q > 0)
discount = st.decimals(min_value=0, max_value=100, places=2)

step = st.one_of(
    st.tuples(st.just("catalog"), st.sampled_from([SRV, LIC]), qty, st.none() | money, discount),
    st.tuples(st.just("manual"), money, qty, discount),
    st.tuples(st.just("update"), st.integers(0, 9), st.none() | qty, st.none() | money,
              st.none() | discount),
    st.tuples(st.just("remove"), st.integers(0, 9)),
    st.tuples(st.just("product"), st.sampled_from([SRV, LIC]), qty),
)


def apply(opp: Opportunity, action) -> Opportunity:
    kind, *args = action
    if kind == "catalog":
        item, q, price, disc = args
        return quotes.add_catalog_line(opp, S, "q1aaaa", item, quantity=q, unit_price=price,
                                       discount=disc)
    if kind == "manual":
        price, q, disc = args
        return quotes.add_manual_line(opp, S, "q1aaaa", description="Service", unit_price=price,
                                      quantity=q, discount=disc)
    if kind == "product":  # product changes after the quote was made
        return products.add_product(opp, S, args[0], quantity=args[1])
    lines = opp.quotes[0].lines
    if not lines:
        return opp
    line = lines[args[0] % len(lines)]
    if kind == "remove":
        return quotes.remove_line(opp, S, "q1aaaa", line.id)
    q, price, disc = args[1:]
    return quotes.update_line(opp, S, "q1aaaa", line.id, quantity=q, unit_price=price,
                              discount=disc)


@settings(max_examples=200, deadline=None)
@given(st.booleans(), st.lists(step, max_size=20))
def test_quote_totals_and_acceptance(start_with_products, actions):
    opp = drafted(with_products() if start_with_products else new())
    for action in actions:
        opp = apply(opp, action)
        quote = opp.quotes[0]
        assert quote.total == sum((line_total(x.quantity, x.unit_price, x.discount)
                                   for x in quote.lines), D("0.00"))
        assert checks.problems(opp, S) == []
        assert Opportunity.model_validate(opp.model_dump()) == opp
    quote = opp.quotes[0]
    if not quote.lines:
        with pytest.raises(RuleError):
            quotes.send_quote(opp, S, "q1aaaa", today=TODAY)
        return
    opp = quotes.send_quote(opp, S, "q1aaaa", today=TODAY)
    won = quotes.close_quote(opp, S, "q1aaaa", accepted=True, today=TODAY)
    assert won.amount == quote.total and won.amount_source == "quote"
    assert [(p.id, p.sku, p.name, p.quantity, p.unit_price, p.discount, p.total)
            for p in won.products] == [
        (x.id, x.sku, x.description, x.quantity, x.unit_price, x.discount, x.total)
        for x in quote.lines if x.sku]
    assert stages.status(won, S) == "won" and checks.problems(won, S) == []


# ---------------------------------------------------------------- end to end


@pytest.fixture
def today(monkeypatch):
    monkeypatch.setenv("OPP_TODAY", "2026-11-26")
    return "2026-11-26"


def subject(crm) -> str:
    return crm.git("log", "-1", "--format=%s").strip()


def files_of_last_commit(crm) -> list:
    return crm.git("show", "--name-only", "--format=", "HEAD").split()


def turn(crm, module: str, on: bool) -> None:
    path = crm.root / "opp.yaml"
    text = path.read_text()
    path.write_text(text.replace(f"{module}: {str(not on).lower()}",
                                 f"{module}: {str(on).lower()}"))
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam",
                    f"{module} {'on' if on else 'off'}"], cwd=crm.root, check=True)


def test_the_whole_story(crm, today):
    """products -> quote -> manual line -> send -> accept -> won, as the seed tells it."""
    opp_id = crm.new("Acme renewal", "--objective", "3000", "--close-date", "2026-12-31")
    crm("add-product", opp_id, "SRV-01", "--qty", "2", "--discount", "10")
    crm("add-product", opp_id, "LIC-10", "--qty", "3")
    crm("stage", opp_id, "negotiation")

    before = crm.commits()
    r = crm("quote", "new", opp_id)
    quote = r.stdout.strip()
    assert r.stdout == quote + "\n" and len(quote) == 6
    assert crm.commits() == before + 1
    assert subject(crm) == (f"{opp_id} Acme renewal: new quote {quote} "
                            "(2 line(s) from the products, total 2459.97)")
    assert "Opp-Action: quote-new" in crm.git("log", "-1", "--format=%b")

    crm("quote", "add-line", opp_id, quote, "--description", "Installation and training",
        "--price", "500", "--qty", "2", "--discount", "5")
    assert subject(crm) == (f"{opp_id} Acme renewal: quote {quote}: add line "
                            "'Installation and training' x2 at 500.00 -5%")
    crm("quote", "add-line", opp_id, quote, "--sku", "CONS", "--qty", "1.5")
    crm("quote", "update-line", opp_id, quote, "CONS", "--discount", "12.5")
    data = crm.json("quote", "show", opp_id, quote)
    assert data["total"] == "4656.85"  # 2160.00 + 299.97 + 950.00 + 1246.88
    crm("quote", "send", opp_id, quote)
    assert subject(crm) == f"{opp_id} Acme renewal: send quote {quote} (total 4656.85)"

    before = crm.commits()
    r = crm("close-quote", opp_id, quote, "--accepted")
    assert crm.commits() == before + 1
    assert files_of_last_commit(crm) == [f"opportunities/{opp_id}.yaml"]
    assert subject(crm) == (f"{opp_id} Acme renewal: quote {quote} accepted: closed won "
                            "2026-11-26, amount 4656.85")
    assert "Opp-Action: close-quote" in crm.git("log", "-1", "--format=%b")
    assert "won; amount 4,656.85 EUR (total of the accepted quote)" in r.stderr

    data = crm.json("show", opp_id)
    assert (data["stage"], data["status"], data["probability"]) == ("closed-won", "won", 100)
    assert data["amount"] == "4656.85" and data["amount_source"] == "quote"
    assert data["close_date"] == "2026-11-26" and data["objective"] == "3000.00"
    assert [(p["sku"], p["quantity"], p["unit_price"], p["discount"], p["total"])
            for p in data["products"]] == [("SRV-01", "2", "1200.00", "10", "2160.00"),
                                           ("LIC-10", "3", "99.99", "0", "299.97"),
                                           ("CONS", "1.5", "950.00", "12.5", "1246.88")]
    [q] = data["quotes"]
    assert (q["id"], q["status"], q["created"], q["sent"], q["closed"], q["total"]) == (
        quote, "accepted", today, today, today, "4656.85")
    assert [(x["sku"], x["description"], x["total"]) for x in q["lines"]] == [
        ("SRV-01", "Support plan", "2160.00"), ("LIC-10", "Licence pack", "299.97"),
        (None, "Installation and training", "950.00"), ("CONS", "Consulting day", "1246.88")]

    stored = yaml.safe_load(crm.file(opp_id).read_text())
    assert stored["stage"] == "closed-won" and stored["amount_source"] == "quote"
    assert str(stored["close_date"]) == today
    assert [p["sku"] for p in stored["products"]] == ["SRV-01", "LIC-10", "CONS"]
    assert stored["quotes"][0]["status"] == "accepted"
    assert str(stored["quotes"][0]["closed"]) == today
    assert stored["quotes"][0]["lines"][2]["sku"] is None
    crm("validate")
    # the deal's history: one commit per step
    log = crm.git("log", "--format=%s", "--", f"opportunities/{opp_id}.yaml").splitlines()
    assert len(log) == 10


def test_the_reject_path(crm, today):
    opp_id = crm.new("Deal")
    crm("add-product", opp_id, "SRV-01")
    quote = crm("quote", "new", opp_id, env={"OPP_TODAY": "2026-11-20"}).stdout.strip()
    crm("quote", "send", opp_id, quote, env={"OPP_TODAY": "2026-11-20"})
    before = crm.json("show", opp_id)
    count = crm.commits()
    crm("close-quote", opp_id, quote, "--rejected", "--date", "2026-11-25")
    assert crm.commits() == count + 1
    assert subject(crm) == f"{opp_id} Deal: quote {quote} rejected (2026-11-25)"
    after = crm.json("show", opp_id)
    assert after["quotes"][0]["status"] == "rejected"
    assert after["quotes"][0]["sent"] == "2026-11-20"
    assert after["quotes"][0]["closed"] == "2026-11-25"
    assert {k: v for k, v in after.items() if k != "quotes"} == {
        k: v for k, v in before.items() if k != "quotes"}
    # a new quote after a rejection, and this one is accepted
    second = crm("quote", "new", opp_id).stdout.strip()
    crm("quote", "update-line", opp_id, second, "SRV-01", "--price", "1100")
    crm("quote", "send", opp_id, second)
    crm("close-quote", opp_id, second, "--accepted")
    data = crm.json("show", opp_id)
    assert data["status"] == "won" and data["amount"] == "1100.00"
    assert [q["status"] for q in data["quotes"]] == ["rejected", "accepted"]


def test_show_list_and_print(crm, today, tmp_path):
    opp_id = crm.new("Acme renewal", "--customer", "Acme Corp", "--owner", "alice")
    r = crm("quote", "list", opp_id)
    assert r.stdout == "" and "no quotes yet" in r.stderr
    crm("add-product", opp_id, "SRV-01", "--qty", "2", "--discount", "10")
    quote = crm("quote", "new", opp_id).stdout.strip()
    crm("quote", "add-line", opp_id, quote, "--description", "Setup", "--price", "250")
    data = crm.json("quote", "show", opp_id, quote[:3])
    assert data == {
        "id": quote, "status": "draft", "created": today, "sent": None, "closed": None,
        "total": "2410.00", "currency": "EUR",
        "lines": [{"id": data["lines"][0]["id"], "sku": "SRV-01", "description": "Support plan",
                   "quantity": "2", "unit_price": "1200.00", "discount": "10",
                   "total": "2160.00"},
                  {"id": data["lines"][1]["id"], "sku": None, "description": "Setup",
                   "quantity": "1", "unit_price": "250.00", "discount": "0", "total": "250.00"}],
        "opportunity": {"id": opp_id, "name": "Acme renewal", "customer": "Acme Corp",
                        "owner": "alice", "stage": "prospecting"}}
    assert crm.json("show", opp_id)["quotes"][0] == {
        k: v for k, v in data.items() if k not in ("currency", "opportunity")}
    text = crm("quote", "show", opp_id, quote).stdout
    assert f"Quote {quote}" in text and "draft" in text and "2,410.00 EUR" in text
    assert "Setup" in text and "SRV-01" in text
    assert crm.json("quote", "list", opp_id) == [
        {"id": quote, "status": "draft", "created": today, "sent": None, "closed": None,
         "line_count": 2, "total": "2410.00", "currency": "EUR"}]
    csv_out = crm("quote", "list", opp_id, "--format", "csv").stdout
    assert csv_out == ("id,status,created,sent,closed,line_count,total,currency\n"
                       f"{quote},draft,{today},,,2,2410.00,EUR\n")
    assert quote in crm("quote", "list", opp_id).stdout

    crm("quote", "send", opp_id, quote)
    md = crm("quote", "show", opp_id, quote, "--format", "markdown").stdout
    assert md == crm("quote", "print", opp_id, quote).stdout
    for words in ("# Quote " + quote, "**Customer:** Acme Corp",
                  f"**Opportunity:** Acme renewal ({opp_id})", f"sent on {today}",
                  "**Currency:** EUR", "Support plan", "10 %", "2,160.00", "Setup",
                  "**2,410.00 EUR**"):
        assert words in md, words
    head = crm.head()
    out = tmp_path / "quote.md"
    r = crm("quote", "print", opp_id, quote, "-o", str(out))
    assert out.read_text() == md and r.stdout == "" and "wrote quote" in r.stderr
    assert crm.head() == head and crm.status() == ""  # reading commits nothing
    r = crm("quote", "print", opp_id, quote, "-o", str(tmp_path / "missing" / "q.md"), code=1)
    assert "q.md" in r.stderr


def test_a_quote_line_is_named_by_id_when_its_sku_is_twice(crm, today):
    opp_id = crm.new("Deal")
    crm("add-product", opp_id, "LIC-10")
    quote = crm("quote", "new", opp_id).stdout.strip()
    crm("quote", "add-line", opp_id, quote, "--sku", "LIC-10", "--qty", "5")
    r = crm("quote", "remove-line", opp_id, quote, "LIC-10", code=2)
    assert "on 2 quote lines" in r.stderr
    line = crm.json("quote", "show", opp_id, quote)["lines"][1]["id"]
    crm("quote", "remove-line", opp_id, quote, line)
    assert subject(crm) == f"{opp_id} Deal: quote {quote}: remove line {line} (LIC-10)"
    assert crm.json("quote", "show", opp_id, quote)["total"] == "99.99"


def test_other_currencies_need_the_price_of_catalog_lines(crm, today, unchanged):
    opp_id = crm.new("Deal", "--currency", "USD")
    quote = crm("quote", "new", opp_id).stdout.strip()
    with unchanged:
        r = crm("quote", "add-line", opp_id, quote, "--sku", "SRV-01", code=1)
    assert "catalog prices are in EUR" in r.stderr and "--price" in r.stderr
    crm("quote", "add-line", opp_id, quote, "--sku", "SRV-01", "--price", "1300")
    assert crm.json("quote", "show", opp_id, quote)["currency"] == "USD"


@pytest.fixture
def story(crm, today, built):
    """An open deal with products, a draft quote, a sent quote; and an empty deal."""
    return built("quotes-story", crm.root, lambda: make_story(crm))


def make_story(crm) -> dict[str, str]:
    opp_id = crm.new("Deal")
    crm("add-product", opp_id, "SRV-01")
    draft = crm("quote", "new", opp_id).stdout.strip()
    crm("quote", "add-line", opp_id, draft, "--description", "Setup", "--price", "100")
    sent_ = crm("quote", "new", opp_id).stdout.strip()
    crm("quote", "send", opp_id, sent_)
    empty = crm.new("Empty")
    empty_quote = crm("quote", "new", empty).stdout.strip()
    return {"id": opp_id, "draft": draft, "sent": sent_, "empty": empty,
            "empty_quote": empty_quote}


@pytest.mark.parametrize("args, code, words", [
    # editing a sent quote (R13)
    (("quote", "add-line", "{id}", "{sent}", "--sku", "LIC-10"), 1, "only draft quotes"),
    (("quote", "add-line", "{id}", "{sent}", "--description", "X", "--price", "1"), 1,
     "only draft quotes"),
    (("quote", "update-line", "{id}", "{sent}", "SRV-01", "--qty", "2"), 1, "only draft quotes"),
    (("quote", "remove-line", "{id}", "{sent}", "SRV-01"), 1, "only draft quotes"),
    (("quote", "send", "{id}", "{sent}"), 1, "only draft quotes"),
    # accepting a draft, sending an empty quote
    (("close-quote", "{id}", "{draft}", "--accepted"), 1, "is a draft; send it"),
    (("close-quote", "{id}", "{draft}", "--rejected"), 1, "is a draft; send it"),
    (("quote", "send", "{empty}", "{empty_quote}"), 1, "has no lines"),
    # unknown things
    (("quote", "add-line", "{id}", "{draft}", "--sku", "NOPE"), 1,
     "no product 'NOPE' in the catalog"),
    (("quote", "add-line", "{id}", "{draft}", "--sku", "SRV-0"), 1, "did you mean 'SRV-01'"),
    (("quote", "add-line", "{id}", "zzzzzz", "--sku", "SRV-01"), 1, "no quote 'zzzzzz'"),
    (("quote", "show", "{id}", "zzzzzz"), 1, "no quote 'zzzzzz'"),
    (("close-quote", "{id}", "zzzzzz", "--accepted"), 1, "no quote 'zzzzzz'"),
    (("quote", "update-line", "{id}", "{draft}", "nope", "--qty", "2"), 1,
     "no quote line 'nope'"),
    (("quote", "remove-line", "{id}", "{draft}", "nope"), 1, "no quote line 'nope'"),
    (("quote", "new", "zzzzzzzz"), 1, "no opportunity 'zzzzzzzz'"),
    # bad money and quantities
    (("quote", "add-line", "{id}", "{draft}", "--description", "X", "--price", "12,50"), 2,
     "write decimals with a dot: 12.50"),
    (("quote", "add-line", "{id}", "{draft}", "--description", "X", "--price", "-1"), 2,
     "at least 0"),
    (("quote", "add-line", "{id}", "{draft}", "--description", "X", "--price", "1.001"), 2,
     "more than 2 decimals"),
    (("quote", "add-line", "{id}", "{draft}", "--sku", "SRV-01", "--qty", "0"), 2,
     "greater than zero"),
    (("quote", "add-line", "{id}", "{draft}", "--sku", "SRV-01", "--discount", "101"), 2,
     "at most 100"),
    (("quote", "update-line", "{id}", "{draft}", "SRV-01", "--price", "ten"), 2,
     "not a number"),
    # wrong usage
    (("quote", "add-line", "{id}", "{draft}"), 2, "--sku SKU for a catalog product"),
    (("quote", "add-line", "{id}", "{draft}", "--description", "X"), 2,
     "a manual line needs its unit price"),
    (("quote", "add-line", "{id}", "{draft}", "--description", ""), 2, "cannot be empty"),
    (("quote", "add-line", "{id}", "{draft}", "--sku", "../x"), 2, "not a valid SKU"),
    (("quote", "update-line", "{id}", "{draft}", "SRV-01"), 2, "nothing to change"),
    (("close-quote", "{id}", "{sent}"), 2, "--accepted or --rejected"),
    (("close-quote", "{id}", "{sent}", "--accepted", "--rejected"), 2, "not both"),
    (("close-quote", "{id}", "{sent}", "--accepted", "--date", "2999-01-01"), 2,
     "in the future"),
    (("close-quote", "{id}", "{sent}", "--rejected", "--date", "2026-11-25"), 2,
     "before quote"),
    (("close-quote", "{id}", "{sent}", "--accepted", "--date", "26/11/2026"), 2, "YYYY-MM-DD"),
    (("quote", "show", "{id}", "{sent}", "--format", "pdf"), 2, "Invalid value"),
])
def test_refusals_exit_1_or_2_and_change_nothing(crm, story, unchanged, args, code, words):
    with unchanged:
        r = crm(*[a.format(**story) for a in args], code=code)
    assert words in r.stderr, r.stderr
    assert r.stderr.startswith("error: ")


def test_accepting_twice_and_on_a_closed_opportunity(crm, story, unchanged):
    opp_id, sent_, draft = story["id"], story["sent"], story["draft"]
    crm("quote", "send", opp_id, draft)
    crm("close-quote", opp_id, sent_, "--accepted")
    with unchanged:
        r = crm("close-quote", opp_id, sent_, "--accepted", code=1)
        assert "already accepted" in r.stderr and "never change" in r.stderr
        r = crm("close-quote", opp_id, draft, "--accepted", code=1)
        assert "closed (won" in r.stderr and f"opp reopen {opp_id}" in r.stderr
        r = crm("close-quote", opp_id, draft, "--rejected", code=1)
        assert "closed (won" in r.stderr
        for args in [("quote", "new", opp_id),
                     ("quote", "add-line", opp_id, draft, "--sku", "SRV-01")]:
            assert "closed" in crm(*args, code=1).stderr
    crm("reopen", opp_id)  # the accepted quote is superseded (R15a, test_renegotiation.py)
    with unchanged:
        r = crm("close-quote", opp_id, sent_, "--rejected", code=1)
        assert f"quote {sent_} of {opp_id} is already superseded" in r.stderr
    # rejecting the other quote is still possible on the reopened deal
    crm("close-quote", opp_id, draft, "--rejected")
    crm("validate")


def test_accepting_on_a_lost_opportunity_is_refused(crm, story, unchanged):
    opp_id = story["id"]
    crm("close", opp_id, "--lost", "--reason", "price")
    with unchanged:
        r = crm("close-quote", opp_id, story["sent"], "--accepted", code=1)
    assert "closed (lost" in r.stderr and f"opp reopen {opp_id}" in r.stderr


def test_quotes_module_off_and_on_again_loses_nothing(crm, story, unchanged):  # R3
    opp_id, sent_, draft = story["id"], story["sent"], story["draft"]
    before = crm.json("show", opp_id)
    turn(crm, "quotes", False)
    with unchanged:
        for args in [("quote", "new", opp_id),
                     ("quote", "add-line", opp_id, draft, "--description", "X", "--price", "1"),
                     ("quote", "update-line", opp_id, draft, "SRV-01", "--qty", "2"),
                     ("quote", "remove-line", opp_id, draft, "SRV-01"),
                     ("quote", "send", opp_id, draft),
                     ("quote", "show", opp_id, draft),
                     ("quote", "list", opp_id),
                     ("quote", "print", opp_id, draft),
                     ("close-quote", opp_id, sent_, "--accepted")]:
            r = crm(*args, code=1)
            assert "the quotes module is off" in r.stderr, args
            assert "'quotes: true' under 'modules:' in opp.yaml" in r.stderr
    data = crm.json("show", opp_id)
    assert data["quotes"] == before["quotes"]  # the contract's JSON shape keeps the data
    assert "Quotes" not in crm("show", opp_id).stdout  # people don't see the panel
    # other changes keep the hidden quotes, and they still validate
    crm("add-product", opp_id, "LIC-10")
    crm("validate")
    assert "quotes:\n- id:" in crm.file(opp_id).read_text()
    turn(crm, "quotes", True)
    assert crm.json("show", opp_id)["quotes"] == before["quotes"]
    crm("close-quote", opp_id, sent_, "--accepted")
    assert crm.json("show", opp_id)["status"] == "won"


def test_catalog_module_off_refuses_catalog_lines_only(crm, story, unchanged):  # R3
    opp_id, draft = story["id"], story["draft"]
    turn(crm, "catalog", False)
    with unchanged:
        r = crm("quote", "add-line", opp_id, draft, "--sku", "SRV-01", code=1)
    assert "the catalog module is off" in r.stderr and "'catalog: true'" in r.stderr
    crm("quote", "add-line", opp_id, draft, "--description", "Extra", "--price", "10")
    crm("quote", "send", opp_id, draft)
    crm("close-quote", opp_id, draft, "--accepted")
    turn(crm, "catalog", True)
    data = crm.json("show", opp_id)
    assert data["amount"] == "1310.00" and [p["sku"] for p in data["products"]] == ["SRV-01"]


def _edit_quote(crm, opp_id: str, **changes) -> None:
    path = crm.file(opp_id)
    data, _ = yamlio.load(path.read_bytes(), path.name)
    data["quotes"][0].update(changes)
    path.write_text(yamlio.dump(data))


@pytest.mark.parametrize("changes, words", [
    ({"status": "sent"}, "is sent but has no sent date"),
    ({"sent": date(2026, 11, 26)}, "is a draft but has a sent date"),
    ({"status": "accepted", "sent": date(2026, 11, 26)}, "has no closed date"),
    ({"status": "rejected", "sent": date(2026, 11, 26), "closed": date(2026, 11, 1)},
     "closed (2026-11-01) before it was sent (2026-11-26)"),
    ({"total": D("1.00")}, "should be 1300.00, the sum of its lines (R12)"),
])
def test_validate_checks_hand_edited_quotes(crm, story, changes, words):
    opp_id = story["id"]
    crm("validate")
    _edit_quote(crm, opp_id, **changes)
    errors = json.loads(crm("validate", "--format", "json", code=1).stdout)["errors"]
    assert [e["path"] for e in errors] == [f"opportunities/{opp_id}.yaml"]
    assert words in errors[0]["message"] and errors[0]["line"]
    assert words in crm("show", opp_id, code=1).stderr  # reads refuse the broken file too
    turn(crm, "quotes", False)  # with the module off the quotes are checked all the same
    assert words in crm("validate", code=1).stdout


def test_validate_checks_an_accepted_quote_against_the_deal(crm, story):
    opp_id, sent_ = story["id"], story["sent"]
    crm("close-quote", opp_id, sent_, "--accepted")
    path = crm.file(opp_id)
    data, _ = yamlio.load(path.read_bytes(), path.name)
    data["amount"] = D("5.00")
    data["quotes"].append({**data["quotes"][1], "id": "zzzzzz"})
    path.write_text(yamlio.dump(data))
    messages = [e["message"] for e in
                json.loads(crm("validate", "--format", "json", code=1).stdout)["errors"]]
    assert any("more than one accepted quote (R15)" in m for m in messages)
    assert any("should be 1200.00, the total of accepted quote" in m for m in messages)


def test_every_quote_command_has_help_with_an_example(crm):
    for args in [("quote",), ("quote", "new"), ("quote", "add-line"), ("quote", "update-line"),
                 ("quote", "remove-line"), ("quote", "send"), ("quote", "show"),
                 ("quote", "list"), ("quote", "print"), ("close-quote",)]:
        out = crm(*args, "--help").stdout
        assert "Usage: opp" in out
        if args != ("quote",):
            assert "Example:" in out, args
