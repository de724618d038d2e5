"""The semantic three-way merge (oppcli.merge): pure functions, no git."""

from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal as D

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from oppcli.domain import checks, merge, opportunity
from oppcli.domain import products as product_rules
from oppcli.domain.model import (
    Activity,
    Catalog,
    CatalogItem,
    Note,
    Opportunity,
    Quote,
    QuoteLine,
    settings_from,
)
from oppcli.domain.money import line_total
from oppcli.domain.settings import Settings, Stage

S = Settings()
TODAY = date(2026, 11, 26)
SRV = CatalogItem(sku="SRV-01", name="Support plan", price=D("1200.00"))
LIC = CatalogItem(sku="LIC-10", name="Licence pack", price=D("99.99"))


def deal(**update) -> Opportunity:
    opp = opportunity.new_opportunity(S, opp_id="4k7qz2ma", name="Acme renewal", customer="Acme",
                                owner="alice", today=TODAY, amount=D("1000"))
    return opp.model_copy(update=update)


def d(opp) -> dict:
    return opp.model_dump(mode="python")


def run(base, ours, theirs, **kw) -> merge.Merged:
    return merge.merge_document(merge.OPPORTUNITY, d(base), d(ours), d(theirs), settings=S, **kw)


def note(id_, text="hello", hour=9) -> Note:
    return Note(id=id_, author="alice", date=datetime(2026, 11, 26, hour), text=text)


def activity(id_, subject="call the buyer") -> Activity:
    return Activity(id=id_, type="call", subject=subject, date=TODAY)


def add(opp, *items, panel="notes"):
    return opp.model_copy(update={panel: [*getattr(opp, panel), *items]})


# ---------------------------------------------------------------- fields


def test_a_field_changed_on_one_side_takes_that_side():
    base = deal()
    ours = base.model_copy(update={"name": "Acme renewal 2027"})
    theirs = base.model_copy(update={"close_date": date(2027, 1, 31)})
    merged = run(base, ours, theirs)
    assert merged.conflicts == []
    assert merged.data["name"] == "Acme renewal 2027"
    assert merged.data["close_date"] == date(2027, 1, 31)


def test_the_same_change_on_both_sides_is_no_conflict():
    base = deal()
    both = base.model_copy(update={"customer": "Acme Corp"})
    merged = run(base, both, both)
    assert merged.conflicts == [] and merged.data == d(both)


def test_different_changes_of_one_field_are_a_conflict_that_keeps_ours_for_now():
    base = deal()
    ours = opportunity.set_amount(base, S, D("2500"))
    theirs = opportunity.set_amount(base, S, D("3000"))
    merged = run(base, ours, theirs)
    assert [(c.field, c.base, c.ours, c.theirs) for c in merged.conflicts] == [
        ("amount", D("1000.00"), D("2500.00"), D("3000.00"))]
    assert merged.data["amount"] == D("2500.00")


def test_choices_settle_a_conflict_with_a_side_or_a_value():
    base = deal()
    ours = opportunity.set_amount(base, S, D("2500"))
    theirs = opportunity.set_amount(base, S, D("3000"))
    assert run(base, ours, theirs, default="theirs").data["amount"] == D("3000.00")
    merged = run(base, ours, theirs, choices={("amount",): ("value", D("2750.5"))})
    assert merged.conflicts == [] and merged.data["amount"] == D("2750.50")
    with pytest.raises(merge.MergeRefused, match="amount"):
        run(base, ours, theirs, choices={("amount",): ("value", D("-3"))})
    # a value is typed (opp resolve --value parses it as the field's command does): a
    # number as text is refused, as it is in a file
    with pytest.raises(merge.MergeRefused, match='amount: "2750.5" is text'):
        run(base, ours, theirs, choices={("amount",): ("value", "2750.5")})


# ---------------------------------------------------------------- panels


def test_alice_adds_an_activity_while_bob_moves_the_stage():
    base = deal()
    alice = add(base, activity("act001"), panel="activities")
    bob = opportunity.change_stage(base, S, S.stage("proposal"), today=TODAY)
    merged = run(base, alice, bob)
    assert merged.conflicts == []
    assert merged.data["stage"] == "proposal"
    assert [a["id"] for a in merged.data["activities"]] == ["act001"]


def test_both_add_notes_and_both_are_kept_in_a_stable_order():
    base = add(deal(), note("n00000"))
    ours = add(base, note("n0ours", "mine"), note("n1ours", "mine too"))
    theirs = add(base, note("n0thei", "theirs", hour=8))
    merged = run(base, ours, theirs)
    assert merged.conflicts == []
    assert [n["id"] for n in merged.data["notes"]] == ["n00000", "n0ours", "n1ours", "n0thei"]


def test_both_add_products_and_the_amount_is_recomputed():
    base = product_rules.add_product(deal(), S, SRV, line_id="line01")
    ours = product_rules.add_product(base, S, LIC, quantity=D(3), line_id="line02")
    theirs = product_rules.add_product(base, S, SRV, quantity=D(2), discount=D(10),
                                       line_id="line03")
    merged = run(base, ours, theirs)
    assert merged.conflicts == []
    assert [p["id"] for p in merged.data["products"]] == ["line01", "line02", "line03"]
    expected = D("1200.00") + D("299.97") + D("2160.00")
    assert merged.data["amount"] == expected and merged.data["amount_source"] == "products"


def test_one_line_changed_in_different_fields_merges_inside_the_item():
    base = product_rules.add_product(deal(), S, SRV, line_id="line01")
    ours = product_rules.update_product(base, S, "line01", quantity=D(3))
    theirs = product_rules.update_product(base, S, "line01", discount=D(50))
    merged = run(base, ours, theirs)
    assert merged.conflicts == []
    line = merged.data["products"][0]
    assert (line["quantity"], line["discount"]) == (D(3), D(50))
    assert line["total"] == line_total(D(3), D("1200.00"), D(50)) == merged.data["amount"]


def test_one_line_changed_to_different_quantities_is_a_conflict_on_that_field():
    base = product_rules.add_product(deal(), S, SRV, line_id="line01")
    ours = product_rules.update_product(base, S, "line01", quantity=D(3))
    theirs = product_rules.update_product(base, S, "line01", quantity=D(5))
    merged = run(base, ours, theirs)
    assert [c.field for c in merged.conflicts] == ["products.line01.quantity"]
    assert merged.data["amount"] == D("3600.00")  # ours for now, the amount follows
    settled = run(base, ours, theirs, choices={("products", "line01", "quantity"):
                                                ("theirs", None)})
    assert settled.conflicts == [] and settled.data["amount"] == D("6000.00")


def test_removed_on_one_side_and_untouched_on_the_other_is_removed():
    base = add(deal(), note("n00001"), note("n00002"))
    ours = base.model_copy(update={"notes": [base.notes[1]]})
    theirs = add(base, note("n00003"))
    merged = run(base, ours, theirs)
    assert [n["id"] for n in merged.data["notes"]] == ["n00002", "n00003"]
    products = product_rules.add_product(
        product_rules.add_product(deal(), S, SRV, line_id="line01"), S, LIC, line_id="line02")
    merged = run(products, product_rules.remove_product(products, S, "line01"),
                 product_rules.remove_product(products, S, "line02"))
    assert merged.data["products"] == [] and merged.data["amount_source"] == "manual"
    assert merged.data["amount"] == D("0.00") and merged.conflicts == []


def test_removed_on_one_side_and_changed_on_the_other_is_a_conflict_losing_nothing():
    base = add(deal(), note("n00001", "draft"))
    ours = base.model_copy(update={"notes": []})
    theirs = base.model_copy(update={"notes": [note("n00001", "final words")]})
    merged = run(base, ours, theirs)
    (conflict,) = merged.conflicts
    assert conflict.field == "notes.n00001" and conflict.ours is None
    assert conflict.theirs["text"] == "final words" and merge.is_item(conflict)
    assert merged.data["notes"] == []  # ours for now; theirs is kept in the conflict
    assert run(base, ours, theirs, default="theirs").data["notes"][0]["text"] == "final words"
    # the other way round, ours keeps the changed note
    assert run(base, theirs, ours).data["notes"][0]["text"] == "final words"


def test_closing_by_a_quote_while_the_other_side_adds_a_product_is_a_conflict():
    base = product_rules.add_product(deal(), S, SRV, line_id="line01")
    quote = Quote(id="q00001", status="accepted", created=TODAY, sent=TODAY, closed=TODAY,
                  lines=[QuoteLine(id="ql0001", sku="SRV-01", description="Support plan",
                                   quantity=D(2), unit_price=D("1000.00"),
                                   total=D("2000.00")),
                         QuoteLine(id="ql0002", description="Set-up", quantity=D(1),
                                   unit_price=D("500.00"), total=D("500.00"))],
                  total=D("2500.00"))
    ours = base.model_copy(update={"quotes": [quote]})
    ours = opportunity.change_stage(ours, S, S.stage("closed-won"), today=TODAY)  # R14 via R7
    assert ours.amount == D("2500.00") and ours.amount_source == "quote"
    theirs = product_rules.add_product(base, S, LIC, line_id="line02")
    merged = run(base, ours, theirs)
    assert [c.field for c in merged.conflicts] == ["products"]
    assert merged.data["amount"] == D("2500.00") and merged.data["stage"] == "closed-won"
    assert [p["id"] for p in merged.data["products"]] == ["ql0001"]
    (conflict,) = merged.conflicts
    assert conflict.rule.startswith("products should be the catalog lines of accepted quote "
                                    "q00001 (R14)")
    assert "read-only until reopened (R17)" in conflict.rule
    assert conflict.shown["ours"] == "closed won by quote q00001 (2500.00)"
    assert conflict.shown["theirs"] == "added product LIC-10 x1"
    # keeping the product takes the fields R14 ties to it from that side too: still open
    kept = run(base, ours, theirs, choices={("products",): ("theirs", None)})
    assert kept.conflicts == [] and kept.data["stage"] == "prospecting"
    assert [p["id"] for p in kept.data["products"]] == ["line01", "line02"]
    assert kept.data["amount"] == D("1299.99") and kept.data["quotes"] == []
    # keeping the closing side settles it; R14 holds
    assert run(base, ours, theirs, default="ours").conflicts == []


def test_a_product_added_here_while_a_quote_was_accepted_there_is_one_named_conflict():
    """The QA case: ours' products alone cannot stand beside theirs' accepted quote, so
    the fields R14 ties together are taken from one side as a group."""
    base = product_rules.add_product(deal(), S, SRV, line_id="line01")
    quote = Quote(id="q00001", status="sent", created=TODAY, sent=TODAY,
                  lines=[QuoteLine(id="line01", sku="SRV-01", description="Support plan",
                                   quantity=D(1), unit_price=D("1200.00"),
                                   total=D("1200.00"))], total=D("1200.00"))
    base = base.model_copy(update={"quotes": [quote]})
    from oppcli.domain import quotes

    theirs = quotes.close_quote(base, S, "q00001", accepted=True, today=TODAY)
    ours = product_rules.add_product(base, S, SRV, quantity=D(5), line_id="line02")
    merged = run(base, ours, theirs)
    assert not merged.whole_file
    (conflict,) = merged.conflicts
    assert conflict.field == "products"
    assert set(conflict.fields) >= {"stage", "quotes", "amount_source"}
    assert conflict.rule.startswith("products should be the catalog lines of accepted quote "
                                    "q00001 (R14)")
    assert conflict.shown == {"base": "prospecting, amount 1200.00, 1 product",
                              "ours": "added product SRV-01 x5",
                              "theirs": "closed won by quote q00001 (1200.00)"}
    # ours for now, as a whole: open, both products, the quote still sent
    assert merged.data["stage"] == "prospecting" and merged.data["amount"] == D("7200.00")
    assert merged.data["quotes"][0]["status"] == "sent"
    assert (merged.id, merged.name) == ("4k7qz2ma", "Acme renewal")
    for how, stage in (("ours", "prospecting"), ("theirs", "closed-won")):
        settled = run(base, ours, theirs, choices={("products",): (how, None)},
                      pending=[("products",)])
        assert settled.conflicts == [] and settled.data["stage"] == stage
        assert checks.problems(Opportunity.model_validate(settled.data), S) == []
    # settling another conflict of the deal leaves this one waiting, ours for now
    other = run(base, ours.model_copy(update={"name": "A"}),
                theirs.model_copy(update={"name": "B"}))
    assert [c.field for c in other.conflicts] == ["name", "products"]
    left = run(base, ours.model_copy(update={"name": "A"}), theirs.model_copy(
        update={"name": "B"}), choices={("name",): ("theirs", None)},
        pending=[("name",), ("products",)])
    assert [c.field for c in left.conflicts] == ["products"]
    assert left.data["name"] == "B" and left.data["stage"] == "prospecting"


def test_fields_tied_by_a_rule_follow_the_side_chosen_for_the_conflict():
    base = deal()
    ours = opportunity.close(base, S, won=False, today=TODAY, reason="price")
    theirs = opportunity.change_stage(base, S, S.stage("proposal"), today=TODAY)
    merged = run(base, ours, theirs)
    assert [c.field for c in merged.conflicts] == ["stage"]
    assert merged.data["lost_reason"] == "price"
    settled = run(base, ours, theirs, choices={("stage",): ("theirs", None)})
    assert settled.conflicts == []
    assert (settled.data["stage"], settled.data["lost_reason"]) == ("proposal", None)


def test_a_stage_only_the_other_side_settings_know_is_not_a_conflict():
    base = deal()
    theirs = base.model_copy(update={"stage": "demo"})
    merged = run(base, base.model_copy(update={"name": "X"}), theirs)
    assert merged.conflicts == [] and merged.data["stage"] == "demo"


def test_unreadable_data_is_a_whole_file_conflict():
    merged = merge.merge_document(merge.OPPORTUNITY, d(deal()), ["not", "a", "mapping"],
                                  d(deal(name="B")), settings=S)
    assert merged.whole_file and merged.conflicts[0].path == ()


# ---------------------------------------------------------------- catalog and settings


def catalog(*items) -> dict:
    return Catalog(products=list(items)).model_dump(mode="python")


def test_catalog_merges_by_sku_and_stays_sorted():
    base = catalog(SRV)
    ours = catalog(SRV, CatalogItem(sku="ZZ-1", name="Zed", price=D(1)))
    theirs = catalog(CatalogItem(sku="AA-1", name="Aa", price=D(2)),
                     SRV.model_copy(update={"price": D("1300.00")}))
    merged = merge.merge_document(merge.CATALOG, base, ours, theirs)
    assert merged.conflicts == []
    assert [(p["sku"], p["price"]) for p in merged.data["products"]] == [
        ("AA-1", D("2.00")), ("SRV-01", D("1300.00")), ("ZZ-1", D("1.00"))]


def test_catalog_same_sku_added_with_two_prices_is_a_conflict():
    ours = catalog(CatalogItem(sku="NEW", name="New", price=D(1)))
    theirs = catalog(CatalogItem(sku="new", name="New", price=D(2)))
    merged = merge.merge_document(merge.CATALOG, catalog(), ours, theirs)
    assert [c.field for c in merged.conflicts] == ["products.NEW.sku", "products.NEW.price"]
    assert [p["sku"] for p in merged.data["products"]] == ["NEW"]


def test_settings_merge_by_key_by_stage_id_and_by_word():
    base = S.as_data()
    ours = replace(S, activity_types=(*S.activity_types, "demo"), currency="USD").as_data()
    stages = list(S.stages)
    stages.insert(2, Stage(id="demo", label="Demo", probability=40))
    stages[0] = replace(stages[0], probability=5)
    theirs = replace(S, stages=tuple(stages), lost_reasons=("price", "other")).as_data()
    merged = merge.merge_document(merge.SETTINGS, base, ours, theirs)
    assert merged.conflicts == []
    data = merged.data
    assert data["currency"] == "USD" and data["activity_types"][-1] == "demo"
    assert [s["id"] for s in data["stages"]][:4] == ["prospecting", "qualification", "demo",
                                                     "proposal"]
    assert data["stages"][0]["probability"] == 5
    assert data["lost_reasons"] == ["price", "other"]


def test_settings_that_break_together_become_a_conflict_on_the_field():
    base = S.as_data()
    ours_stages = tuple(replace(s, label="Demo") if s.id == "proposal" else s
                        for s in S.stages)
    ours = replace(S, stages=ours_stages).as_data()
    theirs = replace(S, stages=(*S.stages, Stage(id="demo", label="Demo", probability=40))
                     ).as_data()
    merged = merge.merge_document(merge.SETTINGS, base, ours, theirs)
    assert [c.field for c in merged.conflicts] == ["stages"]
    assert settings_from(merged.data).stages == ours_stages


def test_kind_of_paths():
    assert merge.kind_of("opportunities/4k7qz2ma.yaml") == merge.OPPORTUNITY
    assert merge.kind_of("crm/opportunities/4k7qz2ma.yaml") == merge.OPPORTUNITY
    assert merge.kind_of("crm/catalog.yaml") == merge.CATALOG
    assert merge.kind_of("opp.yaml") == merge.SETTINGS
    assert merge.kind_of("documents/x/opp.txt") is None


def test_describe_says_values_in_few_words():
    assert merge.describe(D("2500.00")) == "2500.00"
    assert merge.describe(None) == "(none)" and merge.describe(None, item=True) == "(removed)"
    assert merge.describe("Acme") == "'Acme'" and merge.describe(True) == "yes"
    assert merge.describe({"id": "x", "sku": "SRV-01", "quantity": D(2)}) == "[SRV-01]"


# ---------------------------------------------------------------- properties

ids = iter(range(10**9))
word = st.text("abcdefgh ", min_size=1, max_size=12).map(str.strip).filter(bool)


@st.composite
def edits(draw, base: Opportunity, prefix: str) -> Opportunity:
    """A side's offline work: random changes of fields and panels, with its own new ids."""
    opp = base
    for n in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(["name", "customer", "objective", "close", "note",
                                     "activity", "product", "drop-note", "qty", "stage"]))
        new_id = f"{prefix}{n:05d}"
        if kind in ("name", "customer"):
            opp = opp.model_copy(update={kind: draw(word)})
        elif kind == "objective":
            opp = opp.model_copy(update={"objective": draw(st.sampled_from(
                [None, D("10.00"), D("20.00")]))})
        elif kind == "close":
            opp = opp.model_copy(update={"close_date": draw(st.sampled_from(
                [None, date(2027, 1, 1), date(2027, 2, 1)]))})
        elif kind == "note":
            opp = add(opp, note(new_id, draw(word)))
        elif kind == "activity":
            opp = add(opp, activity(new_id, draw(word)), panel="activities")
        elif kind == "product":
            opp = product_rules.add_product(opp, S, draw(st.sampled_from([SRV, LIC])),
                                    quantity=D(draw(st.integers(1, 5))), line_id=new_id)
        elif kind == "drop-note" and opp.notes:
            opp = opp.model_copy(update={"notes": opp.notes[1:]})
        elif kind == "qty" and opp.products:
            opp = product_rules.update_product(opp, S, opp.products[0].id,
                                       quantity=D(draw(st.integers(1, 5))))
        elif kind == "stage":
            opp = opp.model_copy(update={"stage": draw(st.sampled_from(
                ["qualification", "proposal"]))})
    return opp


@st.composite
def three(draw):
    base = draw(edits(deal(), "b"))
    return base, draw(edits(base, "o")), draw(edits(base, "t"))


def canonical(data: dict) -> dict:
    """Order of panel items aside (ours' additions come first), the document."""
    out = dict(data)
    for panel in ("products", "notes", "activities"):
        out[panel] = sorted(out[panel], key=lambda x: x["id"])
    return out


@hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(three())
def test_merging_a_side_with_itself_or_with_the_base_gives_that_side(sides):
    base, ours, _ = sides
    assert run(base, ours, ours).data == d(ours)
    assert run(base, base, ours).data == d(ours)
    assert run(base, ours, base).data == d(ours)


@hsettings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(three())
def test_merge_is_symmetric_and_loses_no_added_item(sides):
    base, ours, theirs = sides
    one, other = run(base, ours, theirs), run(base, theirs, ours)
    assert {c.field for c in one.conflicts} == {c.field for c in other.conflicts}
    for c in one.conflicts:
        mirror = next(x for x in other.conflicts if x.field == c.field)
        assert (mirror.ours, mirror.theirs) == (c.theirs, c.ours)
    if not one.conflicts:
        assert canonical(one.data) == canonical(other.data)
        result = Opportunity.model_validate(one.data)
        assert checks.problems(result, S) == []
        for side in (ours, theirs):
            for panel in ("notes", "activities", "products"):
                added = {x.id for x in getattr(side, panel)} - {
                    x.id for x in getattr(base, panel)}
                assert added <= {x["id"] for x in one.data[panel]}
    else:
        # each side's settlement passes the rules
        for side in merge.SIDES:
            settled = run(base, ours, theirs, default=side)
            assert settled.conflicts == []
            assert checks.problems(Opportunity.model_validate(settled.data), S) == []


_PLAIN = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5) | st.dates()
    | st.decimals(allow_nan=False, allow_infinity=False, places=2),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=3), inner,
                                                                max_size=4),
    max_leaves=20)


def _containers(data) -> list:
    found = [data] if isinstance(data, (dict, list)) else []
    for item in (data.values() if isinstance(data, dict) else
                 data if isinstance(data, list) else ()):
        found += _containers(item)
    return found


@given(_PLAIN)
def test_the_merge_copies_parsed_data_as_deepcopy_does_and_shares_nothing(data):
    import copy

    copied = merge._copied(data)
    assert copied == copy.deepcopy(data)
    mine = {id(c) for c in _containers(copied)}
    assert not mine & {id(c) for c in _containers(data)}
