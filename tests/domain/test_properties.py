"""Invariants as property tests: whatever happens to the products, the amount is their total."""

from datetime import date
from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from oppcli.domain import checks, opportunity, products
from oppcli.domain.model import CatalogItem, Opportunity
from oppcli.domain.money import line_total
from oppcli.domain.settings import Settings
from oppcli.errors import OppError

S = Settings()
CATALOG = [CatalogItem(sku=f"SKU-{i}", name=f"Product {i}", price=p)
           for i, p in enumerate([D("0.01"), D("0.335"[:4]), D("99.99"), D("1200.00"),
                                  D("3333.33")])]

money = st.decimals(min_value=0, max_value=10**7, places=2)
qty = st.decimals(min_value=D("0.0001"), max_value=10**4, places=4).filter(lambda q: q > 0)
discount = st.decimals(min_value=0, max_value=100, places=2)

step = st.one_of(
    st.tuples(st.just("add"), st.sampled_from(CATALOG), qty, st.none() | money, discount),
    st.tuples(st.just("update"), st.integers(0, 9), st.none() | qty, st.none() | money,
              st.none() | discount),
    st.tuples(st.just("remove"), st.integers(0, 9)),
    st.tuples(st.just("amount"), money),
    st.tuples(st.just("stage"), st.sampled_from([s.id for s in S.stages])),
    st.tuples(st.just("reopen")),
)


def apply(opp: Opportunity, action) -> Opportunity:
    kind, *args = action
    if kind == "add":
        item, q, price, disc = args
        return products.add_product(opp, S, item, quantity=q, unit_price=price, discount=disc)
    if kind in ("update", "remove"):
        if not opp.products:
            return opp
        line = opp.products[args[0] % len(opp.products)]
        if kind == "remove":
            return products.remove_product(opp, S, line.id)
        q, price, disc = args[1:]
        return products.update_product(opp, S, line.id, quantity=q, unit_price=price, discount=disc)
    if kind == "amount":
        return opportunity.set_amount(opp, S, args[0])
    if kind == "stage":
        return opportunity.change_stage(opp, S, S.stage(args[0]), today=date(2026, 11, 26))
    return opportunity.reopen(opp, S)


@settings(max_examples=300, deadline=None)
@given(st.lists(step, max_size=25))
def test_amount_is_always_the_products_total(actions):
    opp = opportunity.new_opportunity(S, opp_id="abcd1234", name="Deal", customer="Acme",
                                owner="me", today=date(2026, 11, 26))
    for action in actions:
        before = opp
        try:
            opp = apply(opp, action)
        except OppError:
            assert opp == before  # a refusal changes nothing
            continue
        assert checks.problems(opp, S) == []
        if opp.products:
            assert opp.amount == sum((line_total(p.quantity, p.unit_price, p.discount)
                                      for p in opp.products), D("0.00"))
            assert opp.amount_source == "products"
        assert opp.amount == opp.amount.quantize(D("0.01"))
        # what is stored is what is read back
        assert Opportunity.model_validate(opp.model_dump()) == opp


@given(st.lists(st.tuples(qty, money, discount), min_size=1, max_size=10))
def test_total_is_the_sum_of_rounded_lines(lines):
    opp = opportunity.new_opportunity(S, opp_id="abcd1234", name="Deal", customer="Acme",
                                owner="me", today=date(2026, 11, 26))
    for q, price, disc in lines:
        opp = products.add_product(opp, S, CATALOG[0], quantity=q, unit_price=price, discount=disc)
    assert opp.amount == sum(line_total(q, p, d) for q, p, d in lines)
