"""Team sync end to end: a bare remote, clones in temp folders, real git, no mocks.

Panel items are written through the models and committed with raw git (the panel
commands live elsewhere); raw git commits pass an identity with -c, as no git
identity is configured in tests.
"""

import os
import signal
import subprocess
import sys
from dataclasses import replace
from decimal import Decimal as D
from pathlib import Path

import pytest
import yaml

from conftest import Opp, unfaked
from oppcli.domain.model import Activity, Note
from oppcli.store import driver, yamlio
from oppcli.store.repo import Repo

T = ["-c", "user.name=T", "-c", "user.email=t@t"]


class Clone(Opp):
    """A salesperson's clone: ``alice("set", ID, ...)`` runs opp in it as Alice."""

    def __init__(self, root: Path, who: str):
        super().__init__(root)
        self.who = who

    def __call__(self, *args, code=0, input=None, env=None):
        env = {"OPP_USER": self.who, **(env or {})}
        return super().__call__("--repo", str(self.root), *args, code=code, input=input,
                                env=env)

    def raw_git(self, *args, check=True) -> subprocess.CompletedProcess:
        return subprocess.run(["git", *T, *args], cwd=self.root, capture_output=True,
                              text=True, check=check)

    def load(self, opp_id: str):
        return Repo(self.root).load(opp_id)

    def append(self, opp_id: str, panel: str, *items) -> None:
        """Add panel items through the models and commit them with plain git."""
        opp = self.load(opp_id)
        opp = opp.model_copy(update={panel: [*getattr(opp, panel), *items]})
        self.file(opp_id).write_text(yamlio.dump(opp.model_dump(mode="python")))
        self.raw_git("commit", "-qam", f"{opp_id}: add {panel}")

    def opp_files(self) -> list[Path]:
        return [self.root / "opp.yaml", self.root / "catalog.yaml",
                *sorted((self.root / "opportunities").glob("*.yaml"))]

    def assert_no_markers(self) -> None:
        for path in self.opp_files():
            text = path.read_text()
            assert "<<<<<<<" not in text and ">>>>>>>" not in text and "=======" not in text
            yaml.safe_load(text)


def _build_team(root: Path) -> str:
    """A bare remote and three clones in ``root`` (Alice made it; Bob and Carol cloned it);
    returns ``root``, the folder their remote addresses name."""
    remote = root / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    alice = Clone(root / "alice", "Alice")
    Opp(alice.root)("init", str(alice.root))
    alice.git("remote", "add", "origin", str(remote))
    alice("catalog", "add", "SRV-01", "--name", "Support plan", "--price", "1200")
    alice("catalog", "add", "LIC-10", "--name", "Licence pack", "--price", "99.99")
    alice("sync")
    for name in ("bob", "carol"):
        subprocess.run(["git", "clone", "-q", str(remote), name], cwd=root, check=True)
    return str(root)


@pytest.fixture
def team(tmp_path, monkeypatch, built):
    """A bare remote and three clones (Alice made it; Bob and Carol cloned it).

    Built once per test process and copied (``built``): the clones' remote address is
    rewritten to the copy's, so each test has its own remote (a team build was a tenth
    of the suite)."""
    monkeypatch.chdir(tmp_path)
    root = tmp_path / "team"
    made_in = built("team", root, lambda: _build_team(root))
    for name in ("alice", "bob", "carol"):
        config = root / name / ".git" / "config"
        config.write_text(config.read_text().replace(made_in, str(root)))
    remote = root / "remote.git"

    class Team:
        pass
    t = Team()
    t.remote = remote
    t.alice, t.bob, t.carol = (Clone(root / name, name.capitalize())
                               for name in ("alice", "bob", "carol"))
    t.upstream = "origin/" + t.alice.git("symbolic-ref", "--short", "HEAD").strip()
    return t


def activity(id_: str, subject: str) -> Activity:
    return Activity(id=id_, type="call", subject=subject, date="2026-11-20", author="Alice")


def note(id_: str, text: str, author: str) -> Note:
    return Note(id=id_, author=author, date="2026-11-21T10:00:00", text=text)


# ---------------------------------------------------------------- set-up and refusals


def test_init_commits_the_gitattributes_and_installs_the_driver(crm):
    assert crm.git("show", "HEAD~3:.gitattributes") == driver.GITATTRIBUTES
    config = (crm.root / ".git" / "config").read_text()
    assert '[merge "opp"]' in config
    assert f"driver = {sys.executable} -m oppcli merge-driver %O %A %B %P" in config


def test_any_opp_command_installs_the_driver_in_a_fresh_clone(team, tmp_path):
    subprocess.run(["git", "clone", "-q", str(team.remote), "dave"], cwd=tmp_path, check=True)
    config = tmp_path / "dave" / ".git" / "config"
    assert "merge-driver" not in config.read_text()  # git does not clone config
    Clone(tmp_path / "dave", "Dave")("list")
    assert driver.merge_driver_command() in config.read_text()


def test_the_installed_driver_is_checked_without_running_git(crm, monkeypatch):
    def no_git(*args, **kwargs):
        raise AssertionError(f"git ran: {args}")
    monkeypatch.setattr(driver, "git", no_git)
    driver.ensure_merge_driver(crm.root)
    Repo.find(str(crm.root))


def test_sync_without_a_remote_says_how_to_add_one(crm, unchanged):
    with unchanged:
        r = crm("sync", code=1)
    assert "no git remote" in r.stderr and "git remote add origin URL" in r.stderr


def test_sync_refuses_a_dirty_tree(team):
    opp_id = team.alice.new("Deal")
    path = team.alice.file(opp_id)
    path.write_text(path.read_text().replace("name: Deal", "name: Edited by hand"))
    head = team.alice.head()
    r = team.alice("sync", code=1)
    assert f"uncommitted changes to opportunities/{opp_id}.yaml" in r.stderr
    assert "git commit -a" in r.stderr
    assert team.alice.head() == head and "Edited by hand" in path.read_text()


def test_first_push_of_a_new_branch_sets_its_upstream_then_nothing_to_do(team):
    team.alice.git("switch", "-q", "-c", "autumn")
    team.alice.new("Autumn deal")
    r = team.alice("sync")
    assert "pushed autumn to origin, a new branch there" in r.stderr
    assert team.alice.git("rev-parse", "--abbrev-ref", "autumn@{upstream}").strip() == \
        "origin/autumn"
    r = team.alice("sync")
    assert r.stderr == "already up to date with origin/autumn\n"


# ---------------------------------------------------------------- exchanging changes


def test_local_ahead_pushes_and_remote_ahead_fast_forwards(team):
    before = team.bob.commits()
    opp_id = team.alice.new("Deal")
    team.alice("stage", opp_id, "proposal")
    assert f"pushed 2 commits to {team.upstream}" in team.alice("sync").stderr
    r = team.bob("sync")
    assert f"fast-forwarded 2 commits from {team.upstream}" in r.stderr
    assert team.bob.commits() == before + 2 and team.bob.head() == team.alice.head()
    assert team.bob.json("show", opp_id)["stage"] == "proposal"


def test_concurrent_edits_of_one_deal_merge_through_sync_and_lose_nothing(team):
    opp_id = team.alice.new("Acme renewal")
    team.alice("add-product", opp_id, "SRV-01")
    team.alice("sync")
    team.bob("sync")
    # offline: Alice adds an activity, a note and a product; Bob moves the stage, adds a
    # note and a product, and changes the close date
    team.alice.append(opp_id, "activities", activity("act001", "Call the buyer"))
    team.alice.append(opp_id, "notes", note("alice1", "Buyer wants 3 years", "Alice"))
    team.alice("add-product", opp_id, "LIC-10", "--qty", "10")
    team.bob("stage", opp_id, "negotiation")
    team.bob.append(opp_id, "notes", note("bob001", "Legal review booked", "Bob"))
    team.bob("add-product", opp_id, "SRV-01", "--qty", "2", "--discount", "10")
    team.bob("set", opp_id, "close-date", "2027-01-31")
    assert "pushed" in team.alice("sync").stderr
    r = team.bob("sync")
    assert f"merged 3 commits from {team.upstream}" in r.stderr and "pushed" in r.stderr
    assert "fast-forwarded" in team.alice("sync").stderr
    assert team.alice.head() == team.bob.head()
    for clone in (team.alice, team.bob):
        clone.assert_no_markers()
        data = clone.json("show", opp_id)
        assert data["stage"] == "negotiation" and data["close_date"] == "2027-01-31"
        assert [a["id"] for a in data["activities"]] == ["act001"]
        assert {n["id"] for n in data["notes"]} == {"alice1", "bob001"}
        # Bob merged: his line first, then Alice's
        assert [(p["sku"], p["quantity"]) for p in data["products"]] == [
            ("SRV-01", "1"), ("SRV-01", "2"), ("LIC-10", "10")]
        assert data["amount"] == str(D("1200.00") + D("999.90") + D("2160.00"))
        assert data["amount_source"] == "products"
        clone("validate")
    # the merge commit is authored like other opp commits, with no git identity set
    assert team.bob.git("log", "-1", "--format=%an|%P").split("|")[0] == "Bob"
    assert len(team.bob.git("log", "-1", "--format=%P").split()) == 2
    assert "Opp-Action: sync" in team.bob.git("log", "-1", "--format=%b")


def test_plain_git_pull_uses_the_driver_too(team):
    opp_id = team.alice.new("Deal")
    team.alice("sync")
    team.bob("sync")
    team.alice.append(opp_id, "activities", activity("act001", "Visit"))
    team.alice("set", opp_id, "customer", "Acme Corp")
    team.alice("sync")
    team.bob("stage", opp_id, "qualification")
    team.bob.append(opp_id, "notes", note("bob001", "Seen at the fair", "Bob"))
    team.bob.raw_git("pull", "-q", "--no-rebase", "--no-edit")
    team.bob.assert_no_markers()
    data = team.bob.json("show", opp_id)
    assert (data["stage"], data["customer"]) == ("qualification", "Acme Corp")
    assert [a["id"] for a in data["activities"]] == ["act001"]
    assert [n["id"] for n in data["notes"]] == ["bob001"]


def test_a_push_rejected_because_someone_pushed_meanwhile_merges_again(team):
    carol_id = team.carol.new("Carol's deal")
    flag = team.alice.root.parent / "hook-ran"
    hook = team.alice.root / ".git" / "hooks" / "pre-push"
    # just before Alice's push lands, Carol pushes: Alice's push is rejected
    hook.write_text(f"""#!/bin/sh
[ -e '{flag}' ] && exit 0
touch '{flag}'
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_PREFIX
cd '{team.carol.root}' && git push -q origin HEAD 2>/dev/null
exit 0
""")
    hook.chmod(0o755)
    alice_id = team.alice.new("Alice's deal")
    r = team.alice("sync")
    assert flag.exists()
    assert f"{team.upstream} changed meanwhile; merging again" in r.stderr
    assert f"merged 1 commit from {team.upstream}" in r.stderr
    assert r.stderr.rstrip().endswith(f"to {team.upstream}")
    team.bob("sync")
    assert {alice_id, carol_id} <= {p.stem for p in (team.bob.root / "opportunities").glob("*")}
    assert team.bob.head() == team.alice.head()


def test_deals_created_offline_in_two_clones_never_collide(team):
    alice_ids = {team.alice.new(f"Alice deal {i}") for i in range(5)}
    bob_ids = {team.bob.new(f"Bob deal {i}") for i in range(5)}
    team.alice("catalog", "add", "CONS", "--name", "Consulting day", "--price", "950")
    team.bob("catalog", "add", "AAA-1", "--name", "First in line", "--price", "1")
    assert not alice_ids & bob_ids
    team.alice("sync")
    team.bob("sync")
    team.alice("sync")
    for clone in (team.alice, team.bob):
        listed = {row["id"] for row in clone.json("list")}
        assert listed == alice_ids | bob_ids
        assert [p["sku"] for p in clone.json("catalog", "list")] == [
            "AAA-1", "CONS", "LIC-10", "SRV-01"]
        clone("validate")


def test_settings_changed_in_two_clones_merge_key_by_key(team):
    def edit_settings(clone, change, message):
        from oppcli.domain.model import settings_from

        path = clone.root / "opp.yaml"
        settings = settings_from(yaml.safe_load(path.read_text()))
        path.write_text(yamlio.dump(change(settings).as_data()))
        clone.raw_git("commit", "-qam", message)

    edit_settings(team.alice, lambda s: replace(
        s, activity_types=(*s.activity_types, "demo")), "settings: demo")
    edit_settings(team.bob, lambda s: replace(s, stages=tuple(
        replace(st, probability=60) if st.id == "proposal" else st
        for st in s.stages)), "settings: proposal 60")
    team.alice("sync")
    team.bob("sync")
    settings = yaml.safe_load((team.bob.root / "opp.yaml").read_text())
    assert settings["activity_types"][-1] == "demo"
    assert next(s for s in settings["stages"] if s["id"] == "proposal")["probability"] == 60


def test_a_setting_and_a_deal_that_break_a_rule_together_are_not_merged(team):
    """Alice removes a stage no deal of hers is at; Bob moves a deal into it. Each
    file merges well, together they break R16: the sync takes its merge back, pushes
    nothing, says what breaks; once Bob moves the deal on, it goes through."""
    opp_id = team.alice.new("Acme renewal")
    team.alice("sync")
    team.bob("sync")
    team.alice("config", "remove", "stages", "qualification")
    team.alice("sync")
    team.bob("stage", opp_id, "qualification")
    head, pushed = team.bob.git("rev-parse", "HEAD"), team.alice.git("ls-remote", "origin")
    r = team.bob("sync", code=1)
    assert f"opportunities/{opp_id}.yaml:" in r.stderr and "unknown stage 'qualification'" \
        in r.stderr and "Nothing was merged or pushed" in r.stderr
    assert team.bob.git("rev-parse", "HEAD") == head and team.bob.git("status", "--short") == ""
    assert team.alice.git("ls-remote", "origin") == pushed
    team.bob("stage", opp_id, "proposal")
    team.bob("sync")
    team.alice("sync")
    for clone in (team.alice, team.bob):
        clone("validate")
        assert clone.json("show", opp_id)["stage"] == "proposal"


# ---------------------------------------------------------------- true conflicts


def both_change_the_amount(team) -> str:
    opp_id = team.alice.new("Acme renewal", "--amount", "1200")
    team.alice("sync")
    team.bob("sync")
    team.alice("set", opp_id, "amount", "2500")
    team.alice.append(opp_id, "notes", note("alice1", "Asked for 2500", "Alice"))
    team.alice("sync")
    team.bob("set", opp_id, "amount", "3000")
    team.bob("stage", opp_id, "proposal")
    return opp_id


def test_a_true_conflict_stops_the_sync_and_one_command_settles_it(team):
    opp_id = both_change_the_amount(team)
    r = team.bob("sync", code=1)
    message = r.stderr
    assert f"{opp_id} Acme renewal: amount is 3000.00 here and 2500.00 on {team.upstream} " \
           "(was 1200.00)" in message
    assert f"opp resolve {opp_id} amount --ours (or --theirs" in message
    # no markers, a valid file taking ours for now, the other changes merged
    team.bob.assert_no_markers()
    data = team.bob.json("show", opp_id)
    assert (data["amount"], data["stage"]) == ("3000.00", "proposal")
    assert [n["id"] for n in data["notes"]] == ["alice1"]
    # both sides stay in git
    path = f"opportunities/{opp_id}.yaml"
    assert "amount: 3000.00" in team.bob.git("show", f"HEAD:{path}")
    assert "amount: 2500.00" in team.bob.git("show", f"MERGE_HEAD:{path}")
    assert "amount: 2500.00" in team.bob.git("show", f":3:{path}")
    # listed, and no other change goes in meanwhile
    (row,) = team.bob.json("conflicts")
    assert (row["id"], row["name"], row["field"]) == (opp_id, "Acme renewal", "amount")
    assert (row["base"], row["ours"], row["theirs"]) == ("1200.00", "3000.00", "2500.00")
    assert "amount" in team.bob("conflicts").stdout
    r = team.bob("set", opp_id, "name", "Other", code=1)
    assert "a merge is in progress" in r.stderr
    r = team.bob("sync", code=1)
    assert "amount is 3000.00 here" in r.stderr
    # settle it with one command, then sync again
    r = team.bob("resolve", opp_id[:4], "amount", "--theirs")
    assert "amount set to 2500.00 (theirs)" in r.stderr and "merge committed" in r.stderr
    assert team.bob.status() == ""
    assert f"Opp-Resolved: {opp_id} Acme renewal: amount set to 2500.00 (theirs)" in \
        team.bob.git("log", "-1", "--format=%b")
    assert "pushed" in team.bob("sync").stderr
    team.alice("sync")
    assert team.alice.head() == team.bob.head()
    for clone in (team.alice, team.bob):
        data = clone.json("show", opp_id)
        assert (data["amount"], data["stage"]) == ("2500.00", "proposal")
        assert team.bob.json("conflicts") == []


def test_a_conflict_from_git_pull_is_settled_with_a_value(team):
    opp_id = both_change_the_amount(team)
    team.bob("list")
    pulled = team.bob.raw_git("pull", "-q", "--no-rebase", "--no-edit", check=False)
    assert pulled.returncode != 0
    assert f"opp: {opp_id} Acme renewal: amount is 3000.00 here and 2500.00 there" in \
        pulled.stderr
    team.bob.assert_no_markers()
    r = team.bob("resolve", opp_id, "amount", "--value", "2750", code=0)
    assert f"{opp_id} Acme renewal: amount set to 2750.00\n" in r.stderr
    assert team.bob.json("show", opp_id)["amount"] == "2750.00"
    assert team.bob.status() == "" and len(team.bob.git("log", "-1", "--format=%P").split()) == 2
    team.bob("sync")


def test_resolve_refusals(team, tmp_path):
    opp_id = both_change_the_amount(team)
    r = team.bob("resolve", opp_id, "amount", code=2)
    assert "--ours, --theirs or --value" in r.stderr
    assert "no conflict to settle" in team.bob("resolve", opp_id, "--ours", code=1).stderr
    team.bob("sync", code=1)
    r = team.bob("resolve", opp_id, "stage", "--ours", code=1)
    assert "no conflict on 'stage'" in r.stderr and "amount" in r.stderr
    r = team.bob("resolve", "zzzz", "--ours", code=1)
    assert f"conflicts are on: {opp_id}" in r.stderr
    r = team.bob("resolve", opp_id, "--value", "3", code=2)
    assert "give the FIELD" in r.stderr
    r = team.bob("resolve", opp_id, "amount", "--value", "-5", code=2)
    assert "amount" in r.stderr and team.bob.json("conflicts")
    # a hand edit of the file since the merge is not overwritten
    path = team.bob.file(opp_id)
    path.write_text(path.read_text().replace("amount: 3000.00", "amount: 2999.00"))
    r = team.bob("resolve", opp_id, "--ours", code=1)
    assert "edited since the merge" in r.stderr and "amount: 2999.00" in path.read_text()
    # dropped by recreating the merge (through the driver again) ...
    team.bob.git("checkout", "-m", f"opportunities/{opp_id}.yaml")
    assert "amount: 3000.00" in path.read_text() and team.bob.json("conflicts")
    path.write_text(path.read_text().replace("amount: 3000.00", "amount: 2999.00"))
    # ... and can be kept the git way: stage it, and sync commits the merge and pushes
    team.bob.git("add", f"opportunities/{opp_id}.yaml")
    r = team.bob("sync")
    assert "merge committed" in r.stderr and "pushed" in r.stderr
    assert team.bob.json("show", opp_id)["amount"] == "2999.00"


def test_a_deal_deleted_on_one_side_and_changed_on_the_other(team):
    opp_id = team.alice.new("Doomed deal")
    team.alice("sync")
    team.bob("sync")
    team.alice.raw_git("rm", "-q", f"opportunities/{opp_id}.yaml")
    team.alice.raw_git("commit", "-qm", "drop it")
    team.alice("sync")
    team.bob("set", opp_id, "customer", "Still interested")
    r = team.bob("sync", code=1)
    assert f"{opp_id} Doomed deal: changed here and deleted on {team.upstream}" in r.stderr
    r = team.bob("resolve", opp_id, "--ours")
    assert f"opportunities/{opp_id}.yaml: kept the version of ours" in r.stderr
    team.bob("sync")
    team.alice("sync")
    assert team.alice.json("show", opp_id)["customer"] == "Still interested"
    # the other way round: the deletion kept, and said so
    team.alice("set", opp_id, "customer", "Changed again")
    team.alice("sync")
    team.bob.raw_git("rm", "-q", f"opportunities/{opp_id}.yaml")
    team.bob.raw_git("commit", "-qm", "drop it")
    team.bob("sync", code=1)
    r = team.bob("resolve", opp_id, "--ours")
    assert f"opportunities/{opp_id}.yaml: kept the deletion of ours" in r.stderr
    team.bob("sync")
    assert not team.bob.file(opp_id).exists()


def test_conflicts_of_one_deal_can_be_settled_one_by_one(team):
    opp_id = team.alice.new("Deal", "--amount", "10")
    team.alice("sync")
    team.bob("sync")
    team.alice("set", opp_id, "amount", "20")
    team.alice("set", opp_id, "close-date", "2027-02-01")
    team.alice("sync")
    team.bob("set", opp_id, "amount", "30")
    team.bob("set", opp_id, "close-date", "2027-03-01")
    r = team.bob("sync", code=1)
    assert "2 conflicts" in r.stderr and "close_date is 2027-03-01 here" in r.stderr
    r = team.bob("resolve", opp_id, "amount", "--ours")
    assert "amount set to 30.00 (ours)" in r.stderr
    assert "still has 1 conflict(s): close_date" in r.stderr
    assert [c["field"] for c in team.bob.json("conflicts")] == ["close_date"]
    r = team.bob("resolve", opp_id, "close-date", "--value", "2027-02-15")
    assert "merge committed" in r.stderr
    data = team.bob.json("show", opp_id)
    assert (data["amount"], data["close_date"]) == ("30.00", "2027-02-15")
    body = team.bob.git("log", "-1", "--format=%b")
    assert "amount set to 30.00 (ours)" in body and "close_date set to 2027-02-15" in body


@pytest.mark.parametrize("first, value, then", [
    ("amount", "2750.5", ["close-date", "--theirs"]),
    ("close-date", "2027-03-31", ["amount", "--ours"]),
    ("amount", "2750.5", ["--theirs"]),
    ("stage", "Negotiation", ["--ours"]),
])
def test_a_value_chosen_first_is_kept_as_its_type_by_later_choices(team, first, value,
                                                                    then):
    """A --value is kept typed while other conflicts of the deal wait: a money value
    chosen first was re-read as text, and every later resolve refused the deal."""
    opp_id = team.alice.new("Deal", "--amount", "10")
    team.alice("sync")
    team.bob("sync")
    team.alice("set", opp_id, "amount", "20")
    team.alice("set", opp_id, "close-date", "2027-01-10")
    team.alice("stage", opp_id, "proposal")
    team.alice("sync")
    team.bob("set", opp_id, "amount", "30")
    team.bob("set", opp_id, "close-date", "2027-03-01")
    team.bob("stage", opp_id, "qualification")
    team.bob("sync", code=1)
    r = team.bob("resolve", opp_id, "amount", "--value", "none", code=2)
    assert r.stderr == "error: invalid amount: amount cannot be empty\n"
    r = team.bob("resolve", opp_id, "stage", "--value", "none", code=2)
    assert r.stderr == "error: invalid stage: stage cannot be empty\n"
    team.bob("resolve", opp_id, first, "--value", value)
    r = team.bob("resolve", opp_id, *then)
    if "merge committed" not in r.stderr:  # the stage is left: the rest at once
        r = team.bob("resolve", opp_id, "--theirs")
    assert "merge committed" in r.stderr
    data = team.bob.json("show", opp_id)
    chosen = {"amount": "2750.50", "close_date": "2027-03-31",
              "stage": "negotiation"}[first.replace("-", "_")]
    assert data[first.replace("-", "_")] == chosen
    team.bob("validate")
    team.bob("sync")


def test_the_whole_deal_can_take_one_side(team):
    opp_id = team.alice.new("Deal", "--amount", "10")
    team.alice("sync")
    team.bob("sync")
    team.alice("set", opp_id, "amount", "20")
    team.alice("set", opp_id, "name", "Alice's name")
    team.alice("sync")
    team.bob("set", opp_id, "amount", "30")
    team.bob("set", opp_id, "name", "Bob's name")
    team.bob("set", opp_id, "owner", "bob")
    assert "2 conflicts" in team.bob("sync", code=1).stderr
    r = team.bob("resolve", opp_id, "--theirs")
    assert "merge committed" in r.stderr
    data = team.bob.json("show", opp_id)
    assert (data["amount"], data["name"], data["owner"]) == ("20.00", "Alice's name", "bob")


# ---------------------------------------------------------------- many processes, one clone


def opp_process(root: Path, *args: str, env=None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "oppcli", *args], cwd=root,
                            env={**os.environ, **(env or {})}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def test_twenty_parallel_changes_give_twenty_commits_and_lose_nothing(crm):
    opp_id = crm.new("Busy deal")
    before = crm.commits()
    procs = [opp_process(crm.root, "add-product", opp_id, "SRV-01", "--qty", str(n),
                         env={"OPP_LOCK_TIMEOUT": "600"}) for n in range(1, 21)]
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    assert crm.commits() == before + 20 and crm.status() == ""
    data = crm.json("show", opp_id)
    assert sorted(int(p["quantity"]) for p in data["products"]) == list(range(1, 21))
    assert data["amount"] == str(D("1200.00") * 210)
    subjects = crm.git("log", "-20", "--format=%s").splitlines()
    assert all(s.startswith(f"{opp_id} Busy deal: add product SRV-01 x") for s in subjects)
    crm("validate")


def test_a_lock_left_by_a_killed_process_is_recovered(crm):
    opp_id = crm.new("Deal")
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom oppcli.store.repo import Repo\n"
         "with Repo(sys.argv[1]).lock():\n    print('locked', flush=True)\n"
         "    time.sleep(600)\n", str(crm.root)], env=unfaked(), stdout=subprocess.PIPE,
        text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        waiting = opp_process(crm.root, "set", opp_id, "name", "Waited",
                              env={"OPP_LOCK_TIMEOUT": "0.2"})
        _, err = waiting.communicate(timeout=60)
        assert waiting.returncode == 1 and "another opp is still changing this repo" in err
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    done = opp_process(crm.root, "set", opp_id, "name", "After the crash",
                       env={"OPP_LOCK_TIMEOUT": "30"})
    _, err = done.communicate(timeout=60)
    assert done.returncode == 0, err
    assert crm.json("show", opp_id)["name"] == "After the crash"


def test_a_stale_git_index_lock_is_refused_with_a_clear_message(crm, unchanged):
    opp_id = crm.new("Deal")
    lock = crm.root / ".git" / "index.lock"
    lock.write_text("")
    unchanged.__enter__()
    r = crm("set", opp_id, "name", "Blocked", code=1)
    unchanged.__exit__(None, None, None)
    assert "index.lock exists" in r.stderr and "rm .git/index.lock" in r.stderr
    lock.unlink()
    crm("set", opp_id, "name", "Free again")
    assert crm.json("show", opp_id)["name"] == "Free again"


def test_catalog_conflicts_are_settled_by_sku(team):
    team.alice("catalog", "add", "NEW-1", "--name", "New thing", "--price", "10")
    team.alice("sync")
    team.bob("catalog", "add", "NEW-1", "--name", "New thing", "--price", "12")
    team.bob("catalog", "add", "BOB-1", "--name", "Bob's thing", "--price", "1")
    r = team.bob("sync", code=1)
    assert f"catalog.yaml: products.NEW-1.price is 12.00 here and 10.00 on {team.upstream}" \
        in r.stderr
    assert "opp resolve catalog products.NEW-1.price --ours" in r.stderr
    team.bob.assert_no_markers()
    team.bob("resolve", "catalog", "--theirs")
    rows = {p["sku"]: p["price"] for p in team.bob.json("catalog", "list")}
    assert rows == {"BOB-1": "1.00", "LIC-10": "99.99", "NEW-1": "10.00", "SRV-01": "1200.00"}


def test_the_driver_command_survives_spaces_in_the_python_path(team, tmp_path, monkeypatch):
    folder = tmp_path / "my python"
    folder.mkdir()
    wrapper = folder / "python"
    wrapper.write_text(f"#!/bin/sh\nexec '{sys.executable}' \"$@\"\n")
    wrapper.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(wrapper))
    opp_id = team.alice.new("Deal")
    team.alice("sync")
    team.bob("sync")
    config = (team.bob.root / ".git" / "config").read_text()
    assert "driver = '" + str(wrapper) + "' -m oppcli merge-driver %O %A %B %P" in config
    team.alice.append(opp_id, "notes", note("alice1", "from Alice", "Alice"))
    team.alice("sync")
    team.bob.append(opp_id, "notes", note("bob001", "from Bob", "Bob"))
    team.bob("sync")
    assert [n["id"] for n in team.bob.json("show", opp_id)["notes"]] == ["bob001", "alice1"]


def test_the_merge_keeps_the_comment_lines_heading_a_file():
    from oppcli.store.sync import header_of

    text = b"# yaml-language-server: $schema=../schemas/opportunity.schema.json\nid: x\n"
    assert header_of(text) == "# yaml-language-server: $schema=../schemas/opportunity.schema.json\n"
    assert header_of(b"id: x\n# not a header\n") == "" and header_of(None) == ""


def test_a_repo_without_the_gitattributes_lines_is_routed_locally(team):
    """Every opp command pins the driver's lines in .git/info/attributes."""
    team.alice.raw_git("rm", "-q", ".gitattributes")
    team.alice.raw_git("commit", "-qm", "an older data repo")
    opp_id = team.alice.new("Deal")
    team.alice("sync")
    team.bob("sync")
    team.alice.append(opp_id, "notes", note("alice1", "from Alice", "Alice"))
    team.alice("sync")
    team.bob.append(opp_id, "notes", note("bob001", "from Bob", "Bob"))
    team.bob("sync")
    assert {n["id"] for n in team.bob.json("show", opp_id)["notes"]} == {"alice1", "bob001"}
    assert "opportunities/*.yaml merge=opp" in \
        (team.bob.root / ".git" / "info" / "attributes").read_text()


def test_an_existing_driver_of_another_python_is_kept(crm):
    """python vs python3 (or another venv) must not rewrite .git/config on every command."""
    import shutil

    other = shutil.which("python3") or shutil.which("python")
    crm.git("config", "merge.opp.driver", f"{other} -m oppcli merge-driver %O %A %B %P")
    before = (crm.root / ".git" / "config").read_text()
    crm("list")
    assert (crm.root / ".git" / "config").read_text() == before
    crm.git("config", "merge.opp.driver", "/nonexistent/python -m oppcli merge-driver %O %A %B %P")
    crm("list")
    assert "/nonexistent/" not in (crm.root / ".git" / "config").read_text()


def test_the_merge_driver_runs_without_click_and_refuses_in_one_line(crm, tmp_path):
    """git starts the driver for each file both sides changed, so it loads no click: it
    merges the three versions as ever. A command line opp never configures is click's to
    refuse (exit 2); a driver that cannot run says why in one line."""
    opp_id = crm.new("Acme renewal")
    path = f"opportunities/{opp_id}.yaml"
    versions = {"base": crm.file(opp_id).read_bytes()}
    for side in ("ours", "theirs"):
        crm("note", opp_id, f"from {side}")
        versions[side] = crm.file(opp_id).read_bytes()
        crm("undo")  # back to the base
    for side, data in versions.items():
        (tmp_path / side).write_bytes(data)
    files = [str(tmp_path / side) for side in ("base", "ours", "theirs")]

    def driver(*args: str, cwd: Path = crm.root, **env: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-X", "importtime", "-m", "oppcli",
                               "merge-driver", *args], cwd=cwd, capture_output=True,
                              text=True, env={**os.environ, **env})

    merged = driver(*files, path)
    assert merged.returncode == 0, merged.stderr
    merged_bytes = (tmp_path / "ours").read_bytes()
    notes = yaml.safe_load((tmp_path / "ours").read_text())["notes"]
    assert {n["text"] for n in notes} == {"from ours", "from theirs"}
    imported = {line.split("|")[-1].strip() for line in merged.stderr.splitlines()}
    assert "click" not in imported and "oppcli.store.sync" in imported

    # a data repo in a folder whose name starts with a dash: a path, not an option
    (tmp_path / "ours").write_bytes(versions["ours"])
    dashed = driver(*files, f"-x/{path}")
    assert dashed.returncode == 0, dashed.stderr
    assert (tmp_path / "ours").read_bytes() == merged_bytes
    usage = driver("--ours", *files)
    assert usage.returncode == 2 and "click" in usage.stderr
    # a malformed opp variable is refused as by every command: git leaves the conflict
    bad = driver(*files, path, OPP_TODAY="someday")
    said = [line for line in bad.stderr.splitlines() if "import time" not in line]
    assert bad.returncode == 2 and len(said) == 1 and "OPP_TODAY" in said[0], said
    assert (tmp_path / "ours").read_bytes() == merged_bytes
    outside = tmp_path / "not a repo"
    outside.mkdir()
    failed = driver(*files, path, cwd=outside)
    said = [line for line in failed.stderr.splitlines() if "import time" not in line]
    assert failed.returncode == 1 and len(said) == 1 and said[0].startswith("error: "), said


def test_a_data_repo_in_a_subfolder_beside_other_files(tmp_path):
    """A bigger work tree holding the data repo in 'my crm/': a conflict in a file beside
    it is git's to settle (opp says so, and takes the merge back: running opp sync again
    would only fail again); a file changed beside it is named so that git finds it from
    the data repo's folder."""
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    top = tmp_path / "alice"
    subprocess.run(["git", "init", "-q", str(top)], check=True)
    (top / "dati").mkdir()
    (top / "dati" / "a.txt").write_text("base\n")
    alice = Clone(top / "my crm", "Alice")
    Opp(alice.root)("init", str(alice.root))
    alice.raw_git("add", "-A", "..")
    alice.raw_git("commit", "-qm", "the rest of the work tree")
    alice.raw_git("remote", "add", "origin", str(remote))
    alice("sync")
    subprocess.run(["git", "clone", "-q", str(remote), "bob"], cwd=tmp_path, check=True)
    bob = Clone(tmp_path / "bob" / "my crm", "Bob")
    deal = alice.new("Acme renewal")
    (top / "dati" / "a.txt").write_text("Alice's\n")
    alice.raw_git("commit", "-qam", "Alice's text")
    alice("sync")
    bob("note", bob.new("Globex deal"), "from Bob")
    (bob.root.parent / "dati" / "a.txt").write_text("Bob's\n")
    bob.raw_git("commit", "-qam", "Bob's text")
    head = bob.head()
    said = bob("sync", code=1).stderr
    assert "conflicts in files beside the data repo, which opp does not merge: dati/a.txt;" \
        in said and "git pull --no-rebase" in said
    assert bob.head() == head and bob.status() == ""
    assert not (bob.root.parent / ".git" / "MERGE_HEAD").exists()
    # the way the message gives, then opp sync: both sides' work arrives
    bob.raw_git("pull", "-q", "--no-rebase", "--no-edit", check=False)
    (bob.root.parent / "dati" / "a.txt").write_text("Alice's and Bob's\n")
    bob.raw_git("commit", "-qam", "both texts")
    bob("sync")
    assert deal in {d["id"] for d in bob.json("list")}
    # a file changed beside the data repo: the command given works from its folder
    (bob.root.parent / "dati" / "a.txt").write_text("not committed\n")
    said = bob("sync", code=1).stderr
    assert "git checkout -- :/dati/a.txt" in said
    subprocess.run(["git", "checkout", "--", ":/dati/a.txt"], cwd=bob.root, check=True)
    assert bob.status() == ""


def test_a_merge_settled_but_not_committed_says_what_it_waits_for(team):
    """An opp resolve killed after staging its last file and before its commit: nothing is
    left to settle, and the commands say that the merge waits, and for what."""
    opp_id = both_change_the_amount(team)
    team.bob("sync", code=1)
    path = f"opportunities/{opp_id}.yaml"
    team.bob.raw_git("add", "--", path)  # the merged file as the driver wrote it: ours
    waits = "a merge waits to be committed: run opp sync (it commits the merge and pushes it)"
    assert team.bob("conflicts").stderr == f"no conflicts; {waits}\n"
    r = team.bob("resolve", opp_id, "amount", "--theirs", code=1)
    assert f"there is no conflict to settle; {waits}" in r.stderr
    team.bob("sync")
    data = team.bob.json("show", opp_id)
    assert (data["amount"], data["stage"], len(data["notes"])) == ("3000.00", "proposal", 1)
    assert team.bob("conflicts").stderr == "no conflicts\n"
