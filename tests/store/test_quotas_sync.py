"""quotas.yaml in team sync (#23): merged quota by quota, like the other opp files.

A bare remote and real clones (the ``team`` fixture of test_sync): quotas set in two
clones both survive ``opp sync``; one quota set to two values is a conflict that ``opp
conflicts`` lists and ``opp resolve`` settles.
"""

from __future__ import annotations

from test_sync import team  # noqa: F401  (the fixture: a bare remote and clones)

from oppcli.store import driver


def amounts(clone) -> dict[tuple[str, str], str]:
    return {(q["owner"], q["period"]): q["amount"] for q in clone.json("quota", "list")}


def test_quotas_go_to_opps_driver(team):
    assert "quotas.yaml merge=opp" in driver.GITATTRIBUTES
    assert team.alice.git("check-attr", "merge", "--", "quotas.yaml").strip() == \
        "quotas.yaml: merge: opp"
    team.bob("list")  # any command pins opp's lines
    pinned = (team.bob.root / ".git" / "info" / "attributes").read_text()
    assert "quotas.yaml merge=opp" in pinned


def test_two_owners_quotas_set_on_two_clones_both_survive_sync(team):
    team.alice("quota", "set", "carol", "2026-Q1", "900")
    team.alice("sync")
    team.bob("sync")
    team.alice("quota", "set", "ann", "2026-Q4", "120000")
    team.alice("quota", "remove", "carol", "2026-Q1")
    team.bob("quota", "set", "bob", "2026-11", "30000")
    team.bob("quota", "set", "bob", "2026-Q4", "90000", "--currency", "USD")
    team.alice("sync")
    r = team.bob("sync")
    assert "merged" in r.stderr and "pushed" in r.stderr
    team.alice("sync")
    assert team.alice.head() == team.bob.head()
    for clone in (team.alice, team.bob):
        assert clone.json("quota", "list") == [
            {"owner": "ann", "period": "2026-Q4", "amount": "120000.00", "currency": "EUR"},
            {"owner": "bob", "period": "2026-Q4", "amount": "90000.00", "currency": "USD"},
            {"owner": "bob", "period": "2026-11", "amount": "30000.00", "currency": "EUR"}]
        clone("validate")
        text = (clone.root / "quotas.yaml").read_text()
        assert "<<<<<<<" not in text and text.startswith("# yaml-language-server")


def test_one_quota_set_to_two_values_is_a_conflict_settled_by_resolve(team):
    team.alice("quota", "set", "ann", "2026-Q4", "100000")
    team.alice("sync")
    team.bob("sync")
    team.alice("quota", "set", "ann", "2026-Q4", "120000")
    team.alice("quota", "set", "Bob Rossi", "2026-11", "1000")
    team.alice("sync")
    team.bob("quota", "set", "ann", "2026-Q4", "125000")
    team.bob("quota", "set", "Bob Rossi", "2026-11", "2000")
    r = team.bob("sync", code=1)
    assert "quotas.yaml: quotas.ann 2026-Q4 EUR.amount is 125000.00 here and 120000.00 " \
           f"on {team.upstream} (was 100000.00)" in r.stderr
    assert "opp resolve quotas 'quotas.ann 2026-Q4 EUR.amount' --ours" in r.stderr
    rows = team.bob.json("conflicts")
    assert [(row["path"], row["field"], row["base"], row["ours"], row["theirs"])
            for row in rows] == [
        ("quotas.yaml", "quotas.ann 2026-Q4 EUR.amount", "100000.00", "125000.00",
         "120000.00"),
        ("quotas.yaml", "quotas.Bob Rossi 2026-11 EUR.amount", None, "2000.00", "1000.00")]
    assert "quotas.ann 2026-Q4 EUR.amount" in team.bob("conflicts").stdout
    # ours stands for now, the file stays valid YAML without markers
    assert amounts(team.bob) == {("ann", "2026-Q4"): "125000.00",
                                 ("Bob Rossi", "2026-11"): "2000.00"}
    r = team.bob("resolve", "quotas", "quotas.ann 2026-Q4 EUR.amount", "--theirs")
    assert "quotas.ann 2026-Q4 EUR.amount set to 120000.00 (theirs)" in r.stderr
    assert "still has 1 conflict(s)" in r.stderr
    r = team.bob("resolve", "quotas.yaml", "quotas.bob rossi 2026-11 eur.amount",
                 "--value", "1500")
    assert "merge committed" in r.stderr
    assert team.bob.json("conflicts") == []
    assert "pushed" in team.bob("sync").stderr
    team.alice("sync")
    for clone in (team.alice, team.bob):
        assert amounts(clone) == {("ann", "2026-Q4"): "120000.00",
                                  ("Bob Rossi", "2026-11"): "1500.00"}
        clone("validate")


def test_a_merge_that_dropped_a_quota_is_not_pushed(team):
    """The pre-push check knows quotas.yaml: a merge made without opp's driver that
    kept one side's quotas only is refused."""
    team.alice("quota", "set", "ann", "2026-Q4", "100000")
    team.alice("sync")
    team.bob("sync")
    team.alice("quota", "set", "carol", "2026-11", "5000")
    team.alice("sync")
    team.bob("quota", "set", "bob", "2026-11", "3000")
    team.bob.raw_git("fetch", "-q")
    team.bob.raw_git("merge", "-q", "-s", "ours", "--no-edit", team.upstream)
    r = team.bob("sync", code=1)
    assert "nothing was pushed" in r.stderr and "quotas.yaml" in r.stderr
    assert "carol 2026-11 EUR" in r.stderr


def test_an_invalid_quotas_file_is_not_pushed(team):
    team.bob("quota", "set", "ann", "2026-Q4", "100000")
    path = team.bob.root / "quotas.yaml"
    path.write_text(path.read_text().replace("2026-Q4", "2026-Q7"))
    team.bob.raw_git("commit", "-qam", "a hand edit")
    r = team.bob("sync", code=1)
    assert "nothing was pushed" in r.stderr and "quotas.yaml" in r.stderr \
        and "period" in r.stderr


def test_upgrade_adds_the_quotas_line_to_gitattributes(team):
    attributes = team.alice.root / ".gitattributes"
    attributes.write_text(driver.GITATTRIBUTES.replace("quotas.yaml merge=opp\n", "")
                          .replace("accounts/*.yaml merge=opp\n", ""))
    team.alice.raw_git("commit", "-qam", "an old repo's attributes")
    team.alice("init", "--upgrade")
    text = attributes.read_text()
    assert text.endswith("accounts/*.yaml merge=opp\nquotas.yaml merge=opp\n")
    assert text.count("quotas.yaml merge=opp") == 1
    before = team.alice.head()
    team.alice("init", "--upgrade")
    assert attributes.read_text() == text
    assert team.alice.head() == before or "quotas" not in team.alice.git(
        "show", "--stat", "HEAD")
