"""Account files in team sync (#20): merged field by field like deals."""

from __future__ import annotations

from test_sync import team  # noqa: F401  (the fixture: a bare remote and clones)


def test_a_rename_and_a_new_deal_for_that_account_both_survive_sync(team):
    team.alice("account", "add", "Acme")
    team.alice("sync")
    team.bob("sync")
    team.alice("account", "edit", "acme", "--name", "Acme Italia SpA")
    team.alice("account", "edit", "acme italia", "--city", "Milano")
    deal = team.bob("new", "Bob's deal", "--customer", "Acme").stdout.strip()
    team.bob("person", "add", "acme", "Jane")
    team.alice("sync")
    team.bob("sync")
    team.alice("sync")
    assert team.alice.head() == team.bob.head()
    for clone in (team.alice, team.bob):
        card = clone.json("account", "show", "acme")
        assert card["name"] == "Acme Italia SpA" and card["city"] == "Milano"
        assert [p["name"] for p in card["people"]] == ["Jane"]
        assert [d["id"] for d in card["deals"]] == [deal]
        assert clone.json("show", deal)["customer"] == "Acme Italia SpA"
        clone("validate")
