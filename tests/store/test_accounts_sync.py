"""Account files in team sync (#20): merged field by field like deals."""

from __future__ import annotations

import subprocess

import yaml
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


def _gamma(team):
    """Alice adds two spellings of one company and shares them; Bob has them; Alice
    then merges one into the other and pushes. Returns the merged-away account's id."""
    team.alice("account", "add", "Gamma Srl")
    gone = team.alice("account", "add", "Gamma Italia").stdout.strip()
    team.alice("sync")
    team.bob("sync")
    team.alice("account", "merge", "Gamma Italia", "Gamma Srl")
    team.alice("sync")
    return gone


def _remote_head(team) -> str:
    return subprocess.run(["git", "--git-dir", str(team.remote), "rev-parse", "HEAD"],
                          capture_output=True, text=True, check=True).stdout.strip()


def test_a_deal_for_an_account_merged_on_the_other_side_is_never_pushed(team):
    gone = _gamma(team)
    deal = team.bob("new", "Bob deal", "--customer", "Gamma Italia", "--amount", "10"
                    ).stdout.strip()
    remote, head = _remote_head(team), team.bob.head()
    r = team.bob("sync", code=1)
    assert _remote_head(team) == remote and team.bob.head() == head  # the merge taken back
    assert f"deal {deal} (Bob deal)" in r.stderr
    assert f"account {gone} (Gamma Italia) was merged into" in r.stderr
    assert f"opp set {deal} customer 'Gamma Srl'" in r.stderr
    assert "Nothing was merged or pushed" in r.stderr
    team.bob("set", deal, "customer", "Gamma Srl")
    team.bob("sync")
    team.alice("sync")
    for clone in (team.alice, team.bob):
        clone("validate")
        assert [d["id"] for d in clone.json("list", "--customer", "gamma")] == [deal]


def test_keeping_the_deletion_of_a_merged_account_with_resolve_is_never_pushed(team):
    gone = _gamma(team)
    deal = team.bob("new", "Bob deal", "--customer", "Gamma Italia").stdout.strip()
    team.bob("account", "edit", "Gamma Italia", "--city", "Roma")
    r = team.bob("sync", code=1)  # changed here, deleted there
    assert f"accounts/{gone}.yaml (Gamma Italia): changed here and deleted" in r.stderr
    rows = team.bob.json("conflicts")
    assert [(r["path"], r["name"], r["base"]) for r in rows] == [
        (f"accounts/{gone}.yaml", "Gamma Italia", "present")]
    team.bob("resolve", f"accounts/{gone}.yaml", "--theirs")
    remote = _remote_head(team)
    r = team.bob("sync", code=1)
    assert _remote_head(team) == remote
    assert f"nothing was pushed to {team.upstream}" in r.stderr
    assert f"deal {deal} (Bob deal)" in r.stderr
    assert f"opp set {deal} customer 'Gamma Srl'" in r.stderr
    team.bob("set", deal, "customer", "Gamma Srl")
    team.bob("sync")
    assert _remote_head(team) == team.bob.head()
    team.bob("validate")


def test_an_account_file_gone_is_checked_against_the_deals_that_name_it(team):
    """The deal is not changed in the range: the account file is; the deal is found."""
    deal = team.alice("new", "Old deal", "--customer", "Delta Spa").stdout.strip()
    account = team.alice.json("show", deal)["customer_id"]
    team.alice("sync")
    team.alice.raw_git("rm", "-q", f"accounts/{account}.yaml")
    team.alice.raw_git("commit", "-qm", "remove by hand")
    remote = _remote_head(team)
    r = team.alice("sync", code=1)
    assert _remote_head(team) == remote
    assert f"opportunities/{deal}.yaml" in r.stderr
    assert f"account {account} (Delta Spa) no longer exists" in r.stderr
    assert f"opp set {deal} customer ACCOUNT" in r.stderr


def test_a_deal_from_the_other_side_for_an_account_merged_here_says_to_merge_again(team):
    team.alice("account", "add", "Gamma Srl")
    team.alice("account", "add", "Gamma Italia")
    team.alice("sync")
    team.bob("sync")
    team.bob("account", "merge", "Gamma Italia", "Gamma Srl")
    deal = team.alice("new", "Alice deal", "--customer", "Gamma Italia").stdout.strip()
    team.alice("sync")
    remote = _remote_head(team)
    r = team.bob("sync", code=1)
    assert _remote_head(team) == remote
    assert f"deal {deal} (Alice deal)" in r.stderr and "comes from the other side" in r.stderr
    assert "opp account merge 'Gamma Italia' 'Gamma Srl'" in r.stderr
    team.bob("undo")
    team.bob("sync")
    team.bob("account", "merge", "Gamma Italia", "Gamma Srl")
    team.bob("sync")
    team.bob("validate")
    assert team.bob.json("show", deal)["customer"] == "Gamma Srl"


# ---------------------------------------------------------------- one party, listed once


def _shared_deal(team) -> str:
    """A deal for Acme (with Jane Doe among its people) and the account Globex, shared."""
    team.alice("account", "add", "Globex S.p.A.")
    deal = team.alice("new", "Acme renewal", "--customer", "Acme").stdout.strip()
    team.alice("person", "add", "acme", "Jane Doe")
    team.alice("sync")
    team.bob("sync")
    return deal


def _entries(clone, deal: str, panel: str) -> list[dict]:
    return clone.json("show", deal)[panel]


def _remote_file(team, deal: str) -> str:
    return subprocess.run(["git", "--git-dir", str(team.remote), "show",
                           f"HEAD:opportunities/{deal}.yaml"], capture_output=True, text=True,
                          check=True).stdout


def _everyone_has_one(team, deal: str, panel: str) -> dict:
    """Both clones and the remote hold one entry of ``panel``, alike, and opp validate
    passes in both clones. Returns the entry (as show JSON gives it)."""
    assert team.alice.head() == team.bob.head() == _remote_head(team)
    (entry,) = _entries(team.alice, deal, panel)
    assert _entries(team.bob, deal, panel) == [entry]
    remote = yaml.safe_load(_remote_file(team, deal))
    assert [e["id"] for e in remote[panel]] == [entry["id"]]
    assert team.alice.file(deal).read_text() == team.bob.file(deal).read_text() \
        == _remote_file(team, deal)
    for clone in (team.alice, team.bob):
        clone("validate")
        assert clone.status() == ""
    return entry


def _both_add(team, word: str, alice: tuple, bob: tuple) -> tuple[str, str]:
    """The shared deal, one entry (a partner, a contact) added to it in each clone, not
    synced yet. Returns the deal's id and the smaller of the two item ids (the one kept)."""
    deal = _shared_deal(team)
    team.alice(word, "add", deal, *alice)
    team.bob(word, "add", deal, *bob)
    return deal, min(e["id"] for clone in (team.alice, team.bob)
                     for e in _entries(clone, deal, f"{word}s"))


def test_one_partner_added_in_both_clones_is_listed_once_after_sync(team):
    deal, kept = _both_add(team, "partner", ("Globex", "--role", "reseller"),
                           ("GLOBEX spa", "--role", "reseller"))
    team.alice("sync")
    team.bob("sync")
    team.alice("sync")
    entry = _everyone_has_one(team, deal, "partners")
    assert (entry["id"], entry["account"], entry["role"]) == (kept, "Globex S.p.A.",
                                                              "reseller")


def test_one_contact_added_in_both_clones_is_listed_once_with_both_details(team):
    deal, kept = _both_add(team, "contact", ("Jane Doe", "--role", "buyer"),
                           ("jane doe", "--role", "buyer", "--email", "jane@acme.example"))
    team.bob("sync")
    team.alice("sync")  # Alice merges this time
    team.bob("sync")
    entry = _everyone_has_one(team, deal, "contacts")
    assert (entry["id"], entry["email"]) == (kept, "jane@acme.example")
    person = team.alice.json("account", "show", "acme")["people"][0]["id"]
    assert entry["person_id"] == person


def test_one_partner_added_with_two_roles_is_a_conflict_settled_by_resolve(team):
    deal, kept = _both_add(team, "partner", ("Globex", "--role", "reseller"),
                           ("Globex", "--role", "integrator"))
    team.alice("sync")
    remote = _remote_head(team)
    r = team.bob("sync", code=1)
    assert f"partners.{kept}.role is 'integrator' here and 'reseller' on" in r.stderr
    assert f"opp resolve {deal} partners.{kept}.role --ours (or --theirs" in r.stderr
    assert _remote_head(team) == remote
    (row,) = team.bob.json("conflicts")
    assert (row["field"], row["ours"], row["theirs"]) == (f"partners.{kept}.role",
                                                          "integrator", "reseller")
    assert [e["role"] for e in _entries(team.bob, deal, "partners")] == ["integrator"]
    r = team.bob("resolve", deal, f"partners.{kept}.role", "--theirs")
    assert "merge committed" in r.stderr
    team.bob("sync")
    team.alice("sync")
    entry = _everyone_has_one(team, deal, "partners")
    assert (entry["id"], entry["role"]) == (kept, "reseller")
