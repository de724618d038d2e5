"""Renegotiation after reopening (R15a): reopening a deal won by accepting a quote marks
that quote superseded; closing as won again keeps the products' total unless a new quote
is accepted. The pure rules, the checks and the merge, the commands end to end, and the
amount as a property over any order of reopening, editing and closing (R7 with R15a)."""

import json
import subprocess
import sys
from datetime import date
from decimal import Decimal as D
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import Opp, depth
from oppcli.domain import checks, merge, opportunity, products, quotes, stages
from oppcli.domain.model import CatalogItem, Opportunity, Quote
from oppcli.domain.money import ZERO
from oppcli.domain.settings import Settings
from oppcli.errors import RuleError
from oppcli.reports.quote_document import markdown, status_words
from oppcli.store import yamlio

S = Settings()
TODAY = date(2026, 11, 26)
SRV = CatalogItem(sku="SRV-01", name="Support plan", price=D("1200.00"))
LIC = CatalogItem(sku="LIC-10", name="Licence pack", price=D("99.99"))


def new() -> Opportunity:
    return opportunity.new_opportunity(S, opp_id="abcd1234", name="Deal", customer="Acme",
                                       owner="alice", today=TODAY)


def accepted(opp: Opportunity | None = None, quote_id: str = "q1aaaa",
             manual: str = "500") -> Opportunity:
    """A quote made from the products, with a manual line, sent and accepted: won."""
    if opp is None:
        opp = products.add_product(new(), S, SRV, quantity=D(2), line_id="srv001")
    opp = quotes.new_quote(opp, S, today=TODAY, quote_id=quote_id)
    opp = quotes.add_manual_line(opp, S, quote_id, description="Installation",
                                 unit_price=D(manual), line_id="man001")
    opp = quotes.send_quote(opp, S, quote_id, today=TODAY)
    return quotes.close_quote(opp, S, quote_id, accepted=True, today=TODAY)


# ---------------------------------------------------------------- the rules


def test_reopening_supersedes_the_accepted_quote_and_keeps_it_whole():
    won = accepted()
    assert won.amount == D("2900.00") and won.amount_source == "quote"
    reopened = opportunity.reopen(won, S)
    (quote,) = reopened.quotes
    assert quote.status == "superseded"
    assert quote.model_copy(update={"status": "accepted"}) == won.quotes[0]  # kept whole
    assert opportunity.accepted_quote(reopened) is None  # R7 finds none
    # the amount follows R4 again: the products' total (the manual line was no product)
    assert reopened.products == won.products
    assert (reopened.amount, reopened.amount_source) == (D("2400.00"), "products")
    assert stages.status(reopened, S) == "open"
    assert checks.problems(reopened, S) == []


def test_a_quote_of_manual_lines_only_leaves_its_total_as_a_typed_amount():
    won = accepted(new(), manual="750")
    assert won.products == [] and won.amount == D("750.00")
    reopened = opportunity.reopen(won, S)
    assert (reopened.amount, reopened.amount_source) == (D("750.00"), "manual")
    assert checks.problems(reopened, S) == []
    assert opportunity.set_amount(reopened, S, D("800")).amount == D("800.00")  # R5


def test_closing_won_again_keeps_the_changed_products():  # the lost work
    reopened = opportunity.reopen(accepted(), S)
    changed = products.update_product(reopened, S, "SRV-01", quantity=D(3), discount=D(10))
    changed = products.add_product(changed, S, LIC, line_id="lic001")
    won = opportunity.close(changed, S, won=True, today=TODAY)
    assert won.products == changed.products  # not the superseded quote's lines (R7, R15a)
    assert (won.amount, won.amount_source) == (D("3339.99"), "products")
    assert won.quotes == reopened.quotes
    assert checks.problems(won, S) == []


def test_a_new_quote_can_be_accepted_after_reopening():  # R15 with R15a
    reopened = opportunity.reopen(accepted(), S)
    changed = products.update_product(reopened, S, "SRV-01", quantity=D(1))
    won = accepted(changed, "q2bbbb", manual="100")
    assert [(q.id, q.status) for q in won.quotes] == [("q1aaaa", "superseded"),
                                                      ("q2bbbb", "accepted")]
    assert (won.amount, won.amount_source) == (D("1300.00"), "quote")
    assert checks.problems(won, S) == []
    again = opportunity.reopen(won, S)  # every renegotiation keeps its agreement
    assert [q.status for q in again.quotes] == ["superseded", "superseded"]
    assert (again.amount, again.amount_source) == (D("1200.00"), "products")


def test_a_superseded_quote_never_changes():  # R13, R15a
    reopened = opportunity.reopen(accepted(), S)
    for change in (lambda: quotes.add_manual_line(reopened, S, "q1aaaa", description="X",
                                                  unit_price=D(1)),
                   lambda: quotes.update_line(reopened, S, "q1aaaa", "SRV-01", quantity=D(9)),
                   lambda: quotes.remove_line(reopened, S, "q1aaaa", "man001"),
                   lambda: quotes.send_quote(reopened, S, "q1aaaa", today=TODAY)):
        with pytest.raises(RuleError, match="is closed \\(superseded: accepted on 2026-11-26"):
            change()
    for accept in (True, False):
        with pytest.raises(RuleError, match="already superseded.*never change"):
            quotes.close_quote(reopened, S, "q1aaaa", accepted=accept, today=TODAY)


def test_reopening_without_an_accepted_quote_supersedes_nothing():
    opp = products.add_product(new(), S, SRV)
    opp = quotes.new_quote(opp, S, today=TODAY, quote_id="q1aaaa")
    opp = quotes.send_quote(opp, S, "q1aaaa", today=TODAY)
    opp = quotes.close_quote(opp, S, "q1aaaa", accepted=False, today=TODAY)
    for closed in (opportunity.close(opp, S, won=True, today=TODAY),
                   opportunity.close(opp, S, won=False, today=TODAY)):
        reopened = opportunity.reopen(closed, S)
        assert reopened.quotes == opp.quotes and reopened.amount == D("1200.00")


def test_status_words_say_superseded():
    quote = opportunity.reopen(accepted(), S).quotes[0]
    assert status_words(quote) == ("superseded (accepted on 2026-11-26, then the deal was "
                                   "reopened to renegotiate)")
    assert "**Status:** superseded (accepted on 2026-11-26" in markdown(accepted(), quote)


# ---------------------------------------------------------------- the checks of stored files


def _quote(opp: Opportunity, i: int = 0, **update: Any) -> Opportunity:
    changed = opp.quotes[i].model_copy(update=update)
    return opp.model_copy(update={"quotes": [changed if n == i else q
                                             for n, q in enumerate(opp.quotes)]})


def test_checks_know_the_superseded_status():
    reopened = opportunity.reopen(accepted(), S)
    found = checks.problems(_quote(reopened, closed=None), S)
    assert [p.loc for p in found] == [("quotes", 0, "status")]
    assert "is superseded but has no closed date" in found[0].message
    found = checks.problems(_quote(reopened, sent=None), S)
    assert "R15a: accepted -> superseded" in found[0].message
    found = checks.problems(_quote(new_quote_draft(), closed=TODAY), S)
    assert "'accepted', 'rejected' or 'superseded'" in found[0].message


def new_quote_draft() -> Opportunity:
    return quotes.new_quote(products.add_product(new(), S, SRV), S, today=TODAY,
                            quote_id="q1aaaa")


def test_an_amount_from_a_superseded_quote_says_what_to_write():
    won = accepted()
    stale = _quote(won, status="superseded")  # superseded by hand, amount left as it was
    (found,) = checks.problems(stale, S)
    assert found.loc == ("amount_source",)
    assert found.message == ("amount_source is 'quote' but no quote is accepted (quote "
                             "q1aaaa was superseded when the deal was reopened, R15a); use "
                             "'products', amount 2400.00 (R4)")
    bare = accepted(new()).model_copy(update={"quotes": []})
    assert checks.problems(bare, S)[0].message.endswith("no quote is accepted; use 'manual' (R5)")


def test_an_accepted_quote_beside_a_superseded_one_gives_the_amount():  # R14, R15a
    reopened = opportunity.reopen(accepted(), S)
    sent_ = quotes.send_quote(quotes.new_quote(reopened, S, today=TODAY, quote_id="q2bbbb"), S,
                              "q2bbbb", today=TODAY)
    bad = _quote(sent_, 1, status="accepted", closed=TODAY)  # accepted by hand, still open
    (found,) = checks.problems(bad, S)
    assert found.loc == ("quotes", 1, "status")
    assert "quote q2bbbb is accepted but the amount is not its total (amount_source " \
           "'products')" in found.message and "(R15a)" in found.message
    # a deal reopened by opp 0.2.0 kept its quote accepted, with no superseded one: valid
    legacy = reopened.model_copy(update={"quotes": accepted().quotes})
    assert checks.problems(legacy, S) == []


# ---------------------------------------------------------------- the merge


def _d(opp: Opportunity) -> dict:
    return opp.model_dump(mode="python")


def test_merge_takes_the_reopening_and_says_so():
    base = accepted()
    ours = opportunity.reopen(base, S)
    theirs = base.model_copy(update={"name": "Deal 2027"})
    merged = merge.merge_document(merge.OPPORTUNITY, _d(base), _d(ours), _d(theirs), settings=S)
    assert merged.conflicts == [] and merged.data is not None
    assert merged.data["quotes"][0]["status"] == "superseded"
    assert (merged.data["amount"], merged.data["amount_source"]) == (D("2400.00"), "products")
    assert merged.data["name"] == "Deal 2027"
    assert merge.summarize(merge.OPPORTUNITY, _d(base), _d(ours), S) == (
        "reopened at negotiation, close_date 2026-11-26 → (none), quote q1aaaa superseded")


def test_merge_of_a_deal_left_open_here_and_won_again_there_is_a_conflict():
    base = accepted()
    ours = opportunity.reopen(base, S)
    theirs = accepted(products.update_product(ours, S, "SRV-01", quantity=D(1)), "q2bbbb",
                      manual="100")
    merged = merge.merge_document(merge.OPPORTUNITY, _d(base), _d(ours), _d(theirs), settings=S)
    assert merged.conflicts and not merged.whole_file
    # whatever is kept for now stands: never an accepted quote on an open deal
    kept = Opportunity.model_validate(merged.data)
    assert checks.problems(kept, S) == []
    for side in ("ours", "theirs"):
        settled = merge.merge_document(merge.OPPORTUNITY, _d(base), _d(ours), _d(theirs),
                                       settings=S, default=side)
        assert settled.conflicts == []
        result = Opportunity.model_validate(settled.data)
        assert checks.problems(result, S) == []
        assert stages.status(result, S) == ("open" if side == "ours" else "won")
    assert merge.summarize(merge.OPPORTUNITY, _d(base), _d(theirs), S).startswith(
        "closed won by quote q2bbbb (1300.00)")


# ---------------------------------------------------------------- the property


money = st.decimals(min_value=0, max_value=10**6, places=2)
qty = st.decimals(min_value=D("0.5"), max_value=50, places=1)
step = st.one_of(
    st.tuples(st.just("accept"), st.booleans(), money),  # a new quote, sent, accepted or not
    st.tuples(st.just("reopen")),
    st.tuples(st.just("close"), st.booleans()),
    st.tuples(st.just("add"), st.sampled_from([SRV, LIC]), qty),
    st.tuples(st.just("update"), st.integers(0, 9), qty),
    st.tuples(st.just("remove"), st.integers(0, 9)),
    st.tuples(st.just("amount"), money),
)


def act(opp: Opportunity, action: tuple, n: int) -> Opportunity:
    kind, *args = action
    if kind == "accept":
        quote_id = f"q{n:05d}"
        opp = quotes.new_quote(opp, S, today=TODAY, quote_id=quote_id)
        opp = quotes.add_manual_line(opp, S, quote_id, description="Service",
                                     unit_price=args[1])
        opp = quotes.send_quote(opp, S, quote_id, today=TODAY)
        return quotes.close_quote(opp, S, quote_id, accepted=args[0], today=TODAY)
    if kind == "reopen":
        return opportunity.reopen(opp, S)
    if kind == "close":
        return opportunity.close(opp, S, won=args[0], today=TODAY)
    if kind == "add":
        return products.add_product(opp, S, args[0], quantity=args[1])
    if kind == "amount":
        return opportunity.set_amount(opp, S, args[0])
    if not opp.products:
        return opp
    line = opp.products[args[0] % len(opp.products)]
    if kind == "remove":
        return products.remove_product(opp, S, line.id)
    return products.update_product(opp, S, line.id, quantity=args[1])


def expected_amount(before: Opportunity, action: tuple, after: Opportunity) -> None:
    """R7 with R15a, checked apart from opp's code: what each step does to the amount."""
    kind = action[0]
    total = sum((p.total for p in after.products), ZERO)
    if kind == "accept" and action[1]:  # R14: the quote's total and catalog lines
        quote = after.quotes[-1]
        assert (after.amount, after.amount_source) == (quote.total, "quote")
        assert [p.sku for p in after.products] == [x.sku for x in quote.lines if x.sku]
    elif kind in ("reopen", "close"):
        assert after.products == before.products  # never the lines of an old quote
        if after.products:
            assert (after.amount, after.amount_source) == (total, "products")
        else:
            assert after.amount == before.amount and after.amount_source == "manual"
    elif kind == "accept":  # rejected: nothing but the quote changes (R15)
        assert (after.amount, after.products) == (before.amount, before.products)
    elif kind != "amount" and after != before:  # R6: the products' total, 0.00 for none
        assert after.amount == total


@settings(max_examples=depth(200), deadline=None)
@given(st.lists(step, max_size=25))
def test_the_amount_follows_r7_with_r15a_in_any_order(actions):
    opp = products.add_product(new(), S, SRV, line_id="srv001")
    superseded: dict[str, Quote] = {}
    for n, action in enumerate(actions):
        try:
            after = act(opp, action, n)
        except RuleError:
            continue  # refused (a closed deal is read-only, R17): nothing changed
        expected_amount(opp, action, after)
        status = stages.status(after, S)
        accepted_ = [q for q in after.quotes if q.status == "accepted"]
        assert len(accepted_) <= 1  # R15
        if status != "won":  # R15a: reopening left none, and only winning accepts one
            assert accepted_ == []
        elif accepted_:
            assert (after.amount, after.amount_source) == (accepted_[0].total, "quote")
        for q in after.quotes:  # a superseded quote never changes again
            if q.status == "superseded":
                assert superseded.setdefault(q.id, q) == q
        assert set(superseded) <= {q.id for q in after.quotes}
        assert checks.problems(after, S) == []
        assert Opportunity.model_validate(after.model_dump()) == after
        opp = after


# ---------------------------------------------------------------- end to end


@pytest.fixture
def today(monkeypatch):
    monkeypatch.setenv("OPP_TODAY", "2026-11-26")
    return "2026-11-26"


def won_by_quote(crm: Opp) -> tuple[str, str]:
    opp_id = crm.new("Acme renewal", "--close-date", "2026-12-31")
    crm("add-product", opp_id, "SRV-01", "--qty", "2")
    crm("stage", opp_id, "negotiation")
    quote = crm("quote", "new", opp_id).stdout.strip()
    crm("quote", "add-line", opp_id, quote, "--description", "Installation", "--price", "500")
    crm("quote", "send", opp_id, quote)
    crm("close-quote", opp_id, quote, "--accepted")
    return opp_id, quote


def test_renegotiation_end_to_end(crm, today):
    opp_id, quote = won_by_quote(crm)
    assert crm.json("show", opp_id)["amount"] == "2900.00"

    before = crm.commits()
    r = crm("reopen", opp_id)
    assert crm.commits() == before + 1
    subject = crm.git("log", "-1", "--format=%s").strip()
    assert subject == (f"{opp_id} Acme renewal: reopen: stage closed-won -> negotiation, close "
                       f"date 2026-12-31, quote {quote} superseded")
    assert r.stderr.splitlines()[1] == (
        f"{opp_id}: amount 2,400.00 EUR (total of the products); closing it won keeps it, "
        f"unless a new quote is accepted (R15a): opp quote new {opp_id}")
    stored = yaml.safe_load(crm.file(opp_id).read_text())
    assert stored["quotes"][0]["status"] == "superseded"
    assert (stored["amount"], stored["amount_source"]) == (2400, "products")

    data = crm.json("show", opp_id)
    assert [(q["id"], q["status"], q["closed"], q["total"]) for q in data["quotes"]] == [
        (quote, "superseded", today, "2900.00")]
    assert f"{quote}   superseded  2026-11-26" in crm("show", opp_id).stdout
    assert crm.json("quote", "list", opp_id)[0]["status"] == "superseded"
    assert "superseded" in crm("quote", "list", opp_id).stdout
    assert "status       superseded (accepted on 2026-11-26" in crm("quote", "show", opp_id,
                                                                 quote).stdout
    assert "**Status:** superseded (accepted on 2026-11-26" in crm("quote", "print", opp_id,
                                                                   quote).stdout
    story = crm("timeline", opp_id).stdout
    assert f"quote {quote}: status accepted → superseded" in story
    assert "amount: 2900.00 → 2400.00" in story and "amount source: quote → products" in story

    # the user's changes stand when the deal is won again (R7 with R15a)
    crm("update-product", opp_id, "SRV-01", "--qty", "3")
    crm("close", opp_id, "--won")
    data = crm.json("show", opp_id)
    assert (data["amount"], data["amount_source"]) == ("3600.00", "products")
    assert data["quotes"][0]["status"] == "superseded"
    crm("validate")


def test_a_renegotiated_quote_is_accepted_end_to_end(crm, today, unchanged):
    opp_id, first = won_by_quote(crm)
    crm("reopen", opp_id)
    with unchanged:
        for args in (("close-quote", opp_id, first, "--accepted"),
                     ("quote", "add-line", opp_id, first, "--sku", "LIC-10"),
                     ("quote", "send", opp_id, first)):
            r = crm(*args, code=1)
            assert f"quote {first} of {opp_id}" in r.stderr and "superseded" in r.stderr
    crm("update-product", opp_id, "SRV-01", "--discount", "10")
    second = crm("quote", "new", opp_id).stdout.strip()
    crm("quote", "send", opp_id, second)
    r = crm("close-quote", opp_id, second, "--accepted")
    assert "won; amount 2,160.00 EUR (total of the accepted quote)" in r.stderr
    data = crm.json("show", opp_id)
    assert [(q["id"], q["status"]) for q in data["quotes"]] == [(first, "superseded"),
                                                                (second, "accepted")]
    crm("validate")
    # the JSON Schema knows the status: a third-party validator accepts the file
    schema = crm.root / ".opp" / "schemas" / "opportunity.schema.json"
    r = subprocess.run([sys.executable, "-m", "check_jsonschema", "--schemafile", str(schema),
                        str(crm.file(opp_id))], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "superseded" in json.loads(schema.read_text())["$defs"]["Quote"]["properties"][
        "status"]["enum"]


def test_validate_names_the_line_of_a_hand_made_accepted_quote(crm, today):
    opp_id, quote = won_by_quote(crm)
    crm("reopen", opp_id)
    second = crm("quote", "new", opp_id).stdout.strip()
    crm("quote", "send", opp_id, second)
    path = crm.file(opp_id)
    data, _ = yamlio.load(path.read_bytes(), path.name)
    data["quotes"][1].update(status="accepted", closed=TODAY)
    path.write_text(yamlio.dump(data))
    (error,) = json.loads(crm("validate", "--format", "json", code=1).stdout)["errors"]
    assert f"quote {second} is accepted but the amount is not its total" in error["message"]
    assert path.read_text().splitlines()[error["line"] - 1].strip() == "status: accepted"
