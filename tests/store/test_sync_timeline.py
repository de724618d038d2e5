"""Defects found by the QA try-out in sync, resolve and the timeline, end to end.

Clones of one bare remote (the ``team`` fixture of test_sync); commits placed in time
with GIT_*_DATE so that the order of two clones' changes is the test's choice.
"""

import random

import pytest
from click.testing import CliRunner
from test_sync import Clone, team  # noqa: F401  (the fixture)

from conftest import files_outside_git
from oppcli.cli import cli
from oppcli.domain import versions
from oppcli.store import yamlio


def at(day: str, clock: str = "10:00:00") -> dict:
    """The environment of a command run on 2026-<day> at <clock> (+01:00)."""
    moment = f"2026-{day}T{clock}+01:00"
    return {"GIT_AUTHOR_DATE": moment, "GIT_COMMITTER_DATE": moment, "OPP_NOW": moment,
            "OPP_TODAY": f"2026-{day}"}


class Frozen:
    """Asserts that a refusal in a clone wrote and committed nothing (as ``unchanged``)."""

    def __init__(self, clone: Clone):
        self.clone = clone

    def files(self) -> dict:
        return files_outside_git(self.clone.root)

    def __enter__(self):
        self.head, self.before = self.clone.head(), self.files()
        self.status = self.clone.status()
        self.conflicts = (self.clone.root / ".git" / "opp-conflicts")
        self.records = sorted(p.read_bytes() for p in self.conflicts.rglob("*") if p.is_file())
        return self

    def __exit__(self, *exc):
        if exc[0] is None:
            assert self.clone.head() == self.head and self.files() == self.before
            assert self.clone.status() == self.status
            assert sorted(p.read_bytes() for p in self.conflicts.rglob("*")
                          if p.is_file()) == self.records


def amount_conflict(team, alice_first: bool = True) -> str:
    """Alice sets 3000 and Bob 2500 on a deal at 1200; Alice syncs; Bob's sync stops."""
    opp_id = team.alice.new("Acme renewal", "--amount", "1200", env=at("03-01"))
    team.alice("sync")
    team.bob("sync")
    early, late = at("03-02", "10:00:00"), at("03-02", "11:00:00")
    team.alice("set", opp_id, "amount", "3000", env=early if alice_first else late)
    team.alice("sync")
    team.bob("set", opp_id, "amount", "2500", env=late if alice_first else early)
    team.bob("sync", code=1)
    return opp_id


# ---------------------------------------------------------------- opp resolve


def test_resolve_takes_exactly_one_of_ours_theirs_value(team):
    opp_id = amount_conflict(team)
    for args in (["--ours", "--theirs"], ["--theirs", "--ours"], ["--ours", "--value", "1"],
                 []):
        with Frozen(team.bob):
            r = team.bob("resolve", opp_id, "amount", *args, code=2)
        assert "give one of --ours, --theirs or --value" in r.stderr
    assert [c["field"] for c in team.bob.json("conflicts")] == ["amount"]


def test_resolve_reads_a_value_as_the_command_setting_the_field_does(team):
    opp_id = amount_conflict(team)
    for value, words in (("2,75", "amount '2,75' uses a comma; write decimals with a dot: "
                                   "2.75"),
                         ("1.234,50", "has a thousands separator"),
                         ("12.345", "has more than 2 decimals"),
                         ("-5", "amount must be at least 0"),
                         ("lots", "is not a number")):
        with Frozen(team.bob):
            r = team.bob("resolve", opp_id, "amount", "--value", value, code=2)
        assert r.stderr == f"error: invalid amount: {r.stderr.split('amount: ', 1)[1]}"
        assert words in r.stderr, r.stderr
    r = team.bob("resolve", opp_id, "amount", "--value", "2750.5")
    assert f"{opp_id} Acme renewal: amount set to 2750.50" in r.stderr
    assert team.bob.json("show", opp_id)["amount"] == "2750.50"
    team.bob("validate")


def test_resolve_reads_dates_and_stages_as_opp_set_and_opp_stage_do(team):
    opp_id = team.alice.new("Deal")
    team.alice("sync")
    team.bob("sync")
    team.alice("set", opp_id, "close-date", "2027-02-01")
    team.alice("stage", opp_id, "proposal")
    team.alice("sync")
    team.bob("set", opp_id, "close-date", "2027-03-01")
    team.bob("stage", opp_id, "negotiation")
    team.bob("sync", code=1)
    with Frozen(team.bob):
        r = team.bob("resolve", opp_id, "close_date", "--value", "2027-02-30", code=2)
    assert "'2027-02-30' is not a real date" in r.stderr
    with Frozen(team.bob):
        r = team.bob("resolve", opp_id, "close_date", "--value", "01/02/2027", code=2)
    assert "write it as YYYY-MM-DD" in r.stderr
    with Frozen(team.bob):
        r = team.bob("resolve", opp_id, "stage", "--value", "nowhere", code=1)
    assert "unknown stage 'nowhere'" in r.stderr
    team.bob("resolve", opp_id, "close-date", "--value", "2027-02-15")
    r = team.bob("resolve", opp_id, "stage", "--value", "Qualification")  # a label
    assert "stage set to 'qualification'" in r.stderr and "merge committed" in r.stderr
    data = team.bob.json("show", opp_id)
    assert (data["close_date"], data["stage"]) == ("2027-02-15", "qualification")


# ---------------------------------------------------------------- rule conflicts


def quote_against_product(team) -> tuple[str, str]:
    """Alice wins the deal by accepting a quote; Bob, offline, adds a product."""
    opp_id = team.alice.new("Acme renewal", env=at("04-01"))
    team.alice("add-product", opp_id, "SRV-01", env=at("04-01", "10:05:00"))
    quote = team.alice("quote", "new", opp_id, env=at("04-01", "10:10:00")).stdout.strip()
    team.alice("quote", "send", opp_id, quote, env=at("04-01", "10:15:00"))
    team.alice("sync")
    team.bob("sync")
    team.alice("close-quote", opp_id, quote, "--accepted", env=at("04-02", "09:00:00"))
    team.alice("sync")
    team.bob("add-product", opp_id, "LIC-10", "--qty", "5", env=at("04-02", "11:00:00"))
    return opp_id, quote


def test_a_quote_accepted_there_and_a_product_added_here_is_one_named_conflict(team):
    opp_id, quote = quote_against_product(team)
    r = team.bob("sync", code=1)
    assert (f"{opp_id} Acme renewal: products (with stage, amount, amount_source, close_date, "
            f"quotes) cannot take both sides: added product LIC-10 x5 here, closed won by "
            f"quote {quote} (1200.00) on {team.upstream}, and products should be the catalog "
            f"lines of accepted quote {quote} (R14); a closed opportunity is read-only until "
            "reopened (R17)") in r.stderr
    assert f"opp resolve {opp_id} products --ours (or --theirs)" in r.stderr
    team.bob.assert_no_markers()
    (row,) = team.bob.json("conflicts")
    assert (row["id"], row["name"], row["field"]) == (opp_id, "Acme renewal", "products")
    assert row["fields"] == ["stage", "amount", "amount_source", "close_date", "quotes"]
    assert row["rule"].startswith(f"products should be the catalog lines of accepted quote "
                                  f"{quote} (R14)")
    assert row["shown"] == {"base": "prospecting, amount 1200.00, 1 product",
                            "ours": "added product LIC-10 x5",
                            "theirs": f"closed won by quote {quote} (1200.00)"}
    text = team.bob("conflicts").stdout
    assert "(whole file)" not in text and "added product LIC-10 x5" in text
    assert f"{opp_id} products (with stage, amount, amount_source, close_date, quotes): " \
           "products should be the catalog lines" in text
    # meanwhile the file is a valid deal: ours, as a whole
    data = team.bob.json("show", opp_id)
    assert (data["stage"], data["amount"]) == ("prospecting", "1699.95")
    team.bob("validate")
    with Frozen(team.bob):
        r = team.bob("resolve", opp_id, "products", "--value", "x", code=2)
    assert "products is not a single value" in r.stderr
    r = team.bob("resolve", opp_id, "products", "--theirs")
    assert "as theirs (closed won by quote" in r.stderr and "merge committed" in r.stderr
    body = team.bob.git("log", "-1", "--format=%b")
    assert f"Opp-Settled: opportunities/{opp_id}.yaml products,stage,amount,amount_source," \
           "close_date,quotes theirs" in body
    data = team.bob.json("show", opp_id)
    assert (data["status"], data["amount"], len(data["products"])) == ("won", "1200.00", 1)
    team.bob("validate")
    team.bob("sync")


def test_the_product_side_can_win_the_rule_conflict_too(team):
    opp_id, quote = quote_against_product(team)
    team.bob("sync", code=1)
    team.bob("resolve", opp_id, "--ours")
    data = team.bob.json("show", opp_id)
    assert (data["status"], data["amount"]) == ("open", "1699.95")
    assert [q["status"] for q in data["quotes"]] == ["sent"]
    team.bob("validate")


def test_a_whole_file_conflict_names_the_deal_and_why(team):
    opp_id = team.alice.new("Acme renewal")
    team.alice("sync")
    team.bob("sync")
    path = f"opportunities/{opp_id}.yaml"
    team.alice.file(opp_id).write_text("name: [unclosed\n")
    team.alice.raw_git("commit", "-qam", "broken by hand")
    team.alice("sync", code=1)  # opp pushes no invalid file; plain git does
    team.alice.raw_git("push", "-q")
    team.bob("set", opp_id, "name", "Acme renewal 2")
    r = team.bob("sync", code=1)
    assert f"{opp_id} Acme renewal 2: the file cannot be merged field by field (not readable " \
           "as YAML (theirs: " in r.stderr
    assert ": readable here, not readable on" in r.stderr
    (row,) = team.bob.json("conflicts")
    assert (row["id"], row["name"], row["field"]) == (opp_id, "Acme renewal 2", None)
    assert row["rule"].startswith("not readable as YAML") and path == row["path"]
    team.bob("resolve", opp_id, "--ours")
    assert team.bob.json("show", opp_id)["name"] == "Acme renewal 2"


# ---------------------------------------------------------------- the timeline after a merge


def last_shown(entries: list[dict]) -> tuple[dict, dict]:
    """The last value the timeline shows for each field, and whether each product line
    is there as the timeline tells it."""
    fields, products = {}, {}
    for e in entries:
        for c in e["changes"]:
            if c["field"] == "products":
                products[c["item"]] = c["new"] is not None
            elif "item" not in c and c["field"] != "file":
                fields[c["field"]] = c["new"]
    return fields, products


def assert_timeline_ends_on_the_file(clone: Clone, opp_id: str) -> None:
    entries = clone.json("timeline", opp_id)
    fields, products = last_shown(entries)
    data, _ = yamlio.load(clone.file(opp_id).read_bytes(), "x")
    data["customer"] = clone.json("show", opp_id)["customer"]  # an account, by name (#20)
    for field, shown in fields.items():
        assert shown == versions.value_text(data.get(field)), (field, entries)
    assert {i for i, there in products.items() if there} == {p["id"] for p in data["products"]}


@pytest.mark.parametrize("alice_first", [True, False])
@pytest.mark.parametrize("side", ["--ours", "--theirs"])
def test_the_timeline_lists_the_conflict_a_merge_settled(team, side, alice_first):
    opp_id = amount_conflict(team, alice_first)
    team.bob("resolve", opp_id, "amount", side, env=at("03-03"))
    entries = team.bob.json("timeline", opp_id)
    merge = entries[-1]
    assert merge["action"] == "sync" and merge["merge"] and merge["resolution"]
    won = "2500.00" if side == "--ours" else "3000.00"
    assert merge["changes"] == [{"field": "amount", "old": "2500.00", "new": won,
                                 "conflict": True, "ours": "2500.00", "theirs": "3000.00"}]
    text = team.bob("timeline", opp_id).stdout.splitlines()
    assert text[-2].endswith(": sync: merge origin/master into master (conflict resolution)")
    if side == "--ours":
        assert text[-1] == "      amount: kept 2500.00 (conflict settled: ours 2500.00, " \
                           "theirs 3000.00)"
    else:
        assert text[-1] == "      amount: 2500.00 → 3000.00 (conflict settled: ours 2500.00, " \
                           "theirs 3000.00)"
    assert_timeline_ends_on_the_file(team.bob, opp_id)
    team.bob("sync")
    team.alice("sync")
    assert_timeline_ends_on_the_file(team.alice, opp_id)


def test_the_timeline_shows_the_product_a_resolution_dropped(team):
    opp_id, quote = quote_against_product(team)
    team.bob("sync", code=1)
    team.bob("resolve", opp_id, "products", "--theirs", env=at("04-03"))
    entries = team.bob.json("timeline", opp_id)
    assert entries[-2]["summary"].endswith("add product LIC-10 x5")
    merge = entries[-1]
    assert merge["resolution"]
    changes = {(c["field"], c.get("label")): c for c in merge["changes"]}
    assert changes[("amount", None)]["new"] == "1200.00"
    dropped = changes[("products", "LIC-10")]
    assert (dropped["old"].startswith("LIC-10"), dropped["new"], dropped["conflict"]) == (
        True, None, True)
    assert changes[("stage", None)]["new"] == "closed-won"
    assert_timeline_ends_on_the_file(team.bob, opp_id)
    text = team.bob("timeline", opp_id).stdout
    assert "- product LIC-10 Licence pack x5 at 99.99 = 499.95 (conflict settled" in text


def test_a_clean_merge_is_listed_only_when_the_story_needs_it(team):
    """Each side's change reads once; a merge adds nothing when the story already ends
    on the merged file."""
    opp_id = team.alice.new("Deal", env=at("05-01"))
    team.alice("sync")
    team.bob("sync")
    team.alice("set", opp_id, "owner", "carol", env=at("05-02", "10:00:00"))
    team.alice("sync")
    team.bob("stage", opp_id, "proposal", env=at("05-02", "11:00:00"))
    team.bob("sync")
    entries = team.bob.json("timeline", opp_id)
    assert [e["action"] for e in entries] == ["new", "set", "stage"]
    assert_timeline_ends_on_the_file(team.bob, opp_id)


def test_a_value_changed_and_changed_back_on_one_side_does_not_hide_the_other(team):
    """Bob's amount goes 1200 -> 1500 -> 1200 after Alice's 3000 (by date): the merge
    keeps 3000 (only Alice changed it since the base), so the merge says so."""
    opp_id = team.alice.new("Deal", "--amount", "1200", env=at("05-01"))
    team.alice("sync")
    team.bob("sync")
    team.alice("set", opp_id, "amount", "3000", env=at("05-02", "09:00:00"))
    team.alice("sync")
    team.bob("set", opp_id, "amount", "1500", env=at("05-02", "10:00:00"))
    team.bob("set", opp_id, "amount", "1200", env=at("05-02", "11:00:00"))
    team.bob("sync", env=at("05-02", "12:00:00"))
    assert team.bob.json("show", opp_id)["amount"] == "3000.00"
    entries = team.bob.json("timeline", opp_id)
    assert entries[-1]["merge"] and not entries[-1]["resolution"]
    assert entries[-1]["changes"] == [{"field": "amount", "old": "1200.00", "new": "3000.00"}]
    assert_timeline_ends_on_the_file(team.bob, opp_id)


OPS = ("amount", "name", "close", "stage", "product", "note")


def random_work(clone: Clone, opp_id: str, rng: random.Random, day: str) -> None:
    for n in range(rng.randint(1, 3)):
        env = at(day, f"{rng.randint(8, 18):02d}:{rng.randint(0, 59):02d}:{n:02d}")
        op = rng.choice(OPS)
        if op == "amount" and not clone.json("show", opp_id)["products"]:
            clone("set", opp_id, "amount", str(rng.choice([100, 200, 300])), env=env)
        elif op == "name":
            clone("set", opp_id, "name", rng.choice(["A", "B", "C"]), env=env)
        elif op == "close":
            clone("set", opp_id, "close-date", rng.choice(["2027-01-01", "2027-02-01"]),
                  env=env)
        elif op == "stage":
            target = rng.choice(["qualification", "proposal", "negotiation"])
            if clone.json("show", opp_id)["stage"] != target:
                clone("stage", opp_id, target, env=env)
        elif op == "product":
            clone("add-product", opp_id, rng.choice(["SRV-01", "LIC-10"]), "--qty",
                  str(rng.randint(1, 3)), env=env)
        else:
            clone("note", opp_id, f"note {rng.random():.3f}", env=env)


@pytest.mark.parametrize("seed", range(8))
def test_the_last_value_the_timeline_shows_is_the_files(team, seed):
    """The invariant, over random work in two clones, synced, conflicts settled either
    way: for every field, the last value the timeline shows is the file's."""
    rng = random.Random(seed)
    opp_id = team.alice.new("Deal", "--amount", "50", env=at("06-01"))
    team.alice("sync")
    team.bob("sync")
    for round_ in range(2):
        day = f"06-{2 + round_:02d}"
        random_work(team.alice, opp_id, rng, day)
        random_work(team.bob, opp_id, rng, day)
        team.alice("sync")
        out = CliRunner().invoke(cli, ["--repo", str(team.bob.root), "sync"],
                                 env={"OPP_USER": "Bob", **at(day, "20:00:00")})
        if out.exit_code:
            assert out.exit_code == 1 and "conflict" in out.stderr, out.stderr
            for row in team.bob.json("conflicts"):
                team.bob("resolve", opp_id, row["field"], rng.choice(["--ours", "--theirs"]),
                         env=at(day, "20:30:00"))
            team.bob("sync", env=at(day, "20:40:00"))
        team.alice("sync")
        for clone in (team.alice, team.bob):
            assert clone.head() == team.bob.head()
            assert_timeline_ends_on_the_file(clone, opp_id)
            clone("validate")


# ---------------------------------------------------------------- timeline wording and places


def test_timeline_says_quote_once(crm):
    opp_id = crm.new("Deal")
    crm("add-product", opp_id, "SRV-01")
    quote = crm("quote", "new", opp_id).stdout.strip()
    crm("quote", "update-line", opp_id, quote, "SRV-01", "--qty", "2")
    crm("quote", "send", opp_id, quote)
    text = crm("timeline", opp_id).stdout
    assert "quote quote" not in text
    assert f"      + quote {quote} (draft, 1200.00)" in text
    assert f"      quote {quote} line SRV-01: quantity 1 → 2" in text
    assert f"      quote {quote}: status draft → sent" in text


def test_an_activity_of_today_comes_after_the_change_that_created_the_deal(crm):
    opp_id = crm.new("Deal", env=at("07-01", "10:00:00"))
    crm("stage", opp_id, "qualification", env=at("07-01", "10:01:00"))
    crm("activity", "add", opp_id, "--type", "call", "--subject", "Kick-off", "--done",
        env=at("07-01", "10:05:00"))
    crm("stage", opp_id, "proposal", env=at("07-01", "10:10:00"))
    # logged late: done yesterday, before the deal existed in opp
    crm("activity", "add", opp_id, "--type", "visit", "--subject", "Fair", "--done",
        "--date", "2026-06-30", env=at("07-01", "10:20:00"))
    entries = crm.json("timeline", opp_id)
    assert [(e["kind"], e.get("subject") or e["summary"].split(": ", 1)[1])
            for e in entries] == [
        ("change", "new opportunity for Acme Corp"),
        ("activity", "Fair"),
        ("change", "stage prospecting -> qualification"),
        ("activity", "Kick-off"),
        ("change", "stage qualification -> proposal")]
    assert entries[3]["at"].startswith("2026-07-01T00:00:00")  # its day; placed by commit


def test_the_timeline_of_a_deleted_deal_ends_with_its_deletion(crm, unchanged):
    opp_id = crm.new("Doomed", env=at("08-01"))
    crm("set", opp_id, "amount", "10", env=at("08-02"))
    crm("note", opp_id, "last words", env=at("08-03"))
    crm.git("rm", "-q", f"opportunities/{opp_id}.yaml")
    crm.git("-c", "user.name=Hand", "-c", "user.email=h@e", "commit", "-qm", "drop it",
            "--date=2026-08-04T10:00:00+01:00")
    with unchanged:
        r = crm("timeline", opp_id)
        entries = crm.json("timeline", opp_id)
    assert f"{opp_id} was deleted" in r.stderr
    assert r.stdout.splitlines()[-2:] == ["2026-08-04 10:00  Hand: drop it",
                                          "      the opportunity was deleted (its file removed)"]
    assert [e["kind"] for e in entries] == ["change", "change", "note", "change"]
    assert entries[-1]["deleted"] and entries[-1]["changes"] == [
        {"field": "file", "old": "present", "new": None}]
    assert entries[2]["text"] == "last words"
    with unchanged:
        r = crm("timeline", opp_id[:4], code=1)  # a prefix names living deals only
    assert f"no opportunity '{opp_id[:4]}'" in r.stderr
    with unchanged:
        crm("show", opp_id, code=1)


def test_the_timeline_tells_a_deletion_refused_in_a_merge(team):
    opp_id = team.alice.new("Doomed deal", env=at("09-01"))
    team.alice("sync")
    team.bob("sync")
    team.alice.raw_git("rm", "-q", f"opportunities/{opp_id}.yaml")
    team.alice.raw_git("commit", "-qm", "drop it")
    team.alice("sync")
    team.bob("set", opp_id, "customer", "Still interested", env=at("09-02"))
    team.bob("sync", code=1)
    team.bob("resolve", opp_id, "--ours", env=at("09-03"))
    entries = team.bob.json("timeline", opp_id)
    assert [e["summary"] for e in entries if e.get("deleted")] == ["drop it"]
    merge = entries[-1]
    assert merge["resolution"] and merge["changes"][0] == {
        "field": "file", "old": "present", "new": "present", "conflict": True,
        "ours": "present", "theirs": "deleted"}
    # after the deletion it told, the timeline tells the file the merge kept
    assert {"field": "customer", "old": None, "new": "Still interested"} in merge["changes"]
    assert "file: kept present (conflict settled: ours present, theirs deleted)" in \
        team.bob("timeline", opp_id).stdout
    assert_timeline_ends_on_the_file(team.bob, opp_id)


def test_values_are_read_by_the_parser_of_their_field():
    from datetime import date, datetime
    from decimal import Decimal

    from oppcli.cli.sync import parse_conflict_value as read
    from oppcli.domain.settings import Settings
    from oppcli.errors import NotFound, UsageError

    s = Settings()
    assert read("opportunity", ("amount",), " 2750.5 ", s) == Decimal("2750.50")
    assert read("opportunity", ("objective",), "none", s) is None
    assert read("opportunity", ("products", "abc123", "quantity"), "2.5", s) == Decimal("2.5")
    assert read("opportunity", ("products", "abc123", "discount"), "12.5", s) == Decimal("12.5")
    assert read("opportunity", ("close_date",), "2027-01-31", s) == date(2027, 1, 31)
    assert read("opportunity", ("stage",), "Closed won", s) == "closed-won"
    assert read("opportunity", ("currency",), "usd", s) == "USD"
    assert read("opportunity", ("activities", "a1", "done"), "yes", s) is True
    assert read("opportunity", ("notes", "n1", "date"), "2026-01-02T10:00:00+01:00", s) == \
        datetime.fromisoformat("2026-01-02T10:00:00+01:00")
    assert read("opportunity", ("notes", "n1", "text"), "two\nlines", s) == "two\nlines"
    assert read("catalog", ("products", "SRV-01", "price"), "1200", s) == Decimal("1200.00")
    assert read("settings", ("stages", "proposal", "probability"), "40", s) == 40
    assert read("opportunity", ("documents", "d1", "size"), "1234", s) == 1234
    assert read("settings", ("modules", "quotes"), "false", s) is False
    for path, text, words in ((("amount",), "2,75", "uses a comma; write decimals with a dot"),
                              (("products", "x", "quantity"), "0", "greater than zero"),
                              (("products", "x", "discount"), "101", "at most 100"),
                              (("close_date",), "31/01/2027", "YYYY-MM-DD"),
                              (("catalog",), "maybe", None),
                              (("stages", "p", "probability"), "101", "at most 100"),
                              (("name",), "two\nlines", "one line")):
        try:
            read("settings" if path[0] in ("stages", "catalog") else "opportunity", path, text, s)
        except UsageError as exc:
            assert exc.exit_status == 2 and (words is None or words in str(exc)), str(exc)
        else:
            assert path == ("catalog",)  # not under modules: plain text
    with pytest.raises(UsageError, match="not yes or no"):
        read("settings", ("modules", "catalog"), "maybe", s)
    with pytest.raises(NotFound, match="unknown stage"):
        read("opportunity", ("stage",), "nowhere", s)


def test_a_merge_of_other_work_between_two_changes_adds_nothing(team):
    """Alice's change (not shared yet) is dated before Bob's merge of Carol's unrelated
    deal: that merge holds Bob's version of the deal, but decided nothing about it."""
    opp_id = team.alice.new("Deal", "--amount", "1200", env=at("10-01"))
    team.alice("sync")
    team.bob("sync")
    team.carol("sync")
    team.alice("set", opp_id, "amount", "3000", env=at("10-02", "10:00:00"))
    team.carol.new("Carol's deal", env=at("10-02", "10:30:00"))
    team.carol("sync")
    team.bob.new("Bob's deal", env=at("10-02", "10:45:00"))
    assert "merged" in team.bob("sync", env=at("10-02", "11:00:00")).stderr
    team.alice("sync", env=at("10-02", "12:00:00"))
    entries = team.alice.json("timeline", opp_id)
    assert [e["action"] for e in entries] == ["new", "set"]
    assert_timeline_ends_on_the_file(team.alice, opp_id)
