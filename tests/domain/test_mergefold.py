"""Twins a merge would make, folded (oppcli.domain.mergefold through merge_document):
a deal lists an organisation once per panel and a person once (#20)."""

from datetime import date
from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import depth
from oppcli.domain import merge, opportunity, panels
from oppcli.domain.model import Competitor, Contact, Opportunity, Partner
from oppcli.domain.settings import Settings

S = Settings()
TODAY = date(2026, 11, 26)
GLOBEX = "g10bex2a"  # an account id


def deal(**update) -> Opportunity:
    opp = opportunity.new_opportunity(S, opp_id="4k7qz2ma", name="Acme renewal", customer="Acme",
                                      owner="alice", today=TODAY, amount=D("1000"))
    return opp.model_copy(update=update)


def add(opp: Opportunity, panel: str, *items) -> Opportunity:
    return opp.model_copy(update={panel: [*getattr(opp, panel), *items]})


def run(base, ours, theirs, **kw) -> merge.Merged:
    return merge.merge_document(merge.OPPORTUNITY, *(o.model_dump(mode="python")
                                                     for o in (base, ours, theirs)),
                                settings=S, **kw)


def both(merged: merge.Merged, other: merge.Merged) -> dict:
    """The one result whichever clone merged (the two runs are byte for byte alike)."""
    assert merged.data == other.data
    return merged.data


def test_one_partner_account_added_on_both_sides_is_listed_once_whoever_merges():
    base = deal()
    alice = add(base, "partners", Partner(id="zz9a", account=GLOBEX, role="reseller"))
    bob = add(base, "partners", Partner(id="ab3c", account=GLOBEX, role="reseller"))
    one, other = run(base, alice, bob), run(base, bob, alice)
    assert one.conflicts == other.conflicts == []
    assert both(one, other)["partners"] == [{"id": "ab3c", "account": GLOBEX,
                                              "role": "reseller"}]
    assert panels.twins(Opportunity.model_validate(one.data)) == []


def test_the_kept_entry_is_the_smaller_id_its_blanks_filled_from_the_other():
    base = add(deal(), "partners", Partner(id="p0", account="k1n8aa2b", role="supplier"))
    alice = add(base, "competitors", Competitor(id="c2", account="Initech S.r.l.",
                                                role="incumbent"))
    bob = add(base, "competitors", Competitor(id="c9", account="INITECH spa",
                                              products="CRM Suite", notes="cheap"))
    one, other = run(base, alice, bob), run(base, bob, alice)
    assert one.conflicts == other.conflicts == []
    # two spellings of one company given as text: one entry, the kept one's spelling
    assert both(one, other)["competitors"] == [
        {"id": "c2", "account": "Initech S.r.l.", "role": "incumbent",
         "products": "CRM Suite", "notes": "cheap"}]
    assert one.data["partners"] == base.model_dump(mode="python")["partners"]


def test_one_contact_person_added_on_both_sides_is_listed_once():
    base = deal()
    alice = add(base, "contacts", Contact(id="x7", name="Jane Doe", role="buyer",
                                          person="pj4n"))
    bob = add(base, "contacts", Contact(id="b1", name="Jane Doe", role="buyer",
                                        email="jane@acme.example", person="pj4n"))
    one, other = run(base, alice, bob), run(base, bob, alice)
    assert one.conflicts == other.conflicts == []
    assert both(one, other)["contacts"] == [
        {"id": "b1", "name": "Jane Doe", "role": "buyer", "email": "jane@acme.example",
         "phone": None, "person": "pj4n"}]


def test_roles_that_differ_are_a_conflict_on_the_kept_entry_settled_like_any_field():
    base = deal()
    alice = add(base, "partners", Partner(id="zz9a", account=GLOBEX, role="reseller"))
    bob = add(base, "partners", Partner(id="ab3c", account=GLOBEX, role="integrator"))
    one, other = run(base, alice, bob), run(base, bob, alice)
    assert [(c.path, c.base, c.ours, c.theirs) for c in one.conflicts] == [
        (("partners", "ab3c", "role"), None, "reseller", "integrator")]
    assert [(c.path, c.ours, c.theirs) for c in other.conflicts] == [
        (("partners", "ab3c", "role"), "integrator", "reseller")]
    # ours for now, one entry either way
    assert one.data["partners"] == [{"id": "ab3c", "account": GLOBEX, "role": "reseller"}]
    assert other.data["partners"] == [{"id": "ab3c", "account": GLOBEX, "role": "integrator"}]
    # settled as opp resolve settles a field: a side, every conflict, or a value
    path = ("partners", "ab3c", "role")
    for settled in (run(base, alice, bob, choices={path: ("theirs", None)}),
                    run(base, alice, bob, default="theirs"),
                    run(base, bob, alice, choices={path: ("ours", None)}),
                    run(base, bob, alice, choices={path: ("value", "integrator")})):
        assert settled.conflicts == []
        assert settled.data["partners"] == [{"id": "ab3c", "account": GLOBEX,
                                             "role": "integrator"}]
    assert merge.value_at(one.data, path) == "reseller"


def test_the_entry_in_the_base_is_kept_when_an_edit_makes_the_twin():
    base = add(deal(), "partners", Partner(id="zz", account="k1n8aa2b", role="reseller"))
    alice = base.model_copy(update={"partners": [Partner(id="zz", account=GLOBEX,
                                                         role="reseller")]})
    bob = add(base, "partners", Partner(id="aa", account=GLOBEX, role="reseller"))
    one, other = run(base, alice, bob), run(base, bob, alice)
    assert one.conflicts == other.conflicts == []
    assert both(one, other)["partners"] == [{"id": "zz", "account": GLOBEX,
                                              "role": "reseller"}]


def test_a_twin_one_side_already_had_is_left_for_validate():
    twins = [Partner(id="p1", account=GLOBEX, role="reseller"),
             Partner(id="p2", account=GLOBEX, role="supplier")]
    base = deal()
    alice = add(base, "partners", *twins)  # a hand edit
    bob = base.model_copy(update={"name": "Acme renewal 2027"})
    merged = run(base, alice, bob)
    assert merged.conflicts == []
    assert [p["id"] for p in merged.data["partners"]] == ["p1", "p2"]
    assert merged.data["name"] == "Acme renewal 2027"


def test_different_parties_and_an_id_beside_a_text_stay_apart():
    base = deal()
    alice = add(base, "partners", Partner(id="a1", account=GLOBEX, role="reseller"),
                Partner(id="a2", account="Umbrella", role="supplier"))
    # "Globex" may be the name of account g10bex2a: only the accounts tell, and the
    # merge reads none (opp validate reports such a pair)
    bob = add(base, "partners", Partner(id="b1", account="Globex", role="reseller"),
              Partner(id="b2", account="Hooli", role="supplier"))
    merged = run(base, alice, bob)
    assert merged.conflicts == []
    assert [p["id"] for p in merged.data["partners"]] == ["a1", "a2", "b1", "b2"]


def test_the_same_organisation_may_be_partner_and_competitor():
    base = deal()
    alice = add(base, "partners", Partner(id="a1", account=GLOBEX, role="reseller"))
    bob = add(base, "competitors", Competitor(id="b1", account=GLOBEX))
    merged = run(base, alice, bob)
    assert merged.conflicts == []
    assert len(merged.data["partners"]) == len(merged.data["competitors"]) == 1


def test_contacts_named_alike_with_two_person_ids_conflict_on_the_person():
    base = deal()
    alice = add(base, "contacts", Contact(id="a1", name="Jane Doe", role="buyer",
                                          person="pa11"))
    bob = add(base, "contacts", Contact(id="b1", name="jane  doe", role="buyer",
                                        person="pb22"))
    merged = run(base, alice, bob)
    assert [(c.field, c.ours, c.theirs) for c in merged.conflicts] == [
        ("contacts.a1.person", "pa11", "pb22")]
    assert [c["name"] for c in merged.data["contacts"]] == ["Jane Doe"]


# ---------------------------------------------------------------- whoever merges


PARTIES = [GLOBEX, "k1n8aa2b", "Initech S.r.l.", "INITECH spa", "Hooli"]


@st.composite
def side(draw, base: Opportunity, prefix: str) -> Opportunity:
    """A side adding partners (one per party, as opp partner add allows) and maybe
    changing the role of a partner of the base."""
    chosen = draw(st.lists(st.sampled_from(PARTIES[:4]), unique=True, max_size=3))
    taken = {panels.party("partners", p) for p in base.partners}
    added = []
    for n, account in enumerate(chosen):
        key = panels.party("partners", Partner(id="xx", account=account, role="other"))
        if key in taken:
            continue
        taken.add(key)
        added.append(Partner(id=f"{prefix}{draw(st.integers(0, 9))}{n}", account=account,
                             role=draw(st.sampled_from(["reseller", "integrator"]))))
    opp = add(base, "partners", *added)
    if opp.partners and draw(st.booleans()):
        first = opp.partners[0].model_copy(update={"role": "supplier"})
        opp = opp.model_copy(update={"partners": [first, *opp.partners[1:]]})
    return opp


@st.composite
def three(draw):
    pool = [Partner(id="b0", account="Hooli", role="other"),
            Partner(id="b1", account="k1n8aa2b", role="other")]
    base = add(deal(), "partners", *draw(st.sampled_from([[], pool[:1], pool[1:], pool])))
    return base, draw(side(base, "o")), draw(side(base, "t"))


@settings(max_examples=depth(200), deadline=None)
@given(three())
def test_whoever_merges_a_party_both_sides_added_is_listed_once(sides):
    base, ours, theirs = sides
    one, other = run(base, ours, theirs), run(base, theirs, ours)
    assert sorted((c.path, c.ours, c.theirs) for c in one.conflicts) == sorted(
        (c.path, c.theirs, c.ours) for c in other.conflicts)
    for merged in (one, other):
        for how in ((None, {}) if not merged.conflicts else ("ours", "theirs")):
            result = merged if how is None else run(base, ours, theirs, default=how)
            opp = Opportunity.model_validate(result.data)
            assert panels.twins(opp) == []
            # every party either side names is there
            parties = {panels.party("partners", p) for p in opp.partners}
            assert parties == {panels.party("partners", p)
                               for s in (ours, theirs) for p in s.partners}
    if not one.conflicts:
        assert sorted(one.data["partners"], key=lambda p: p["id"]) == sorted(
            other.data["partners"], key=lambda p: p["id"])
