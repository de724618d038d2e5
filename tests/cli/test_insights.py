"""``opp insights``: histories made on known days (GIT_AUTHOR_DATE, GIT_COMMITTER_DATE,
OPP_TODAY pinned); every figure is worked out by hand below."""

from __future__ import annotations

import json
import subprocess

import pytest

from conftest import Opp

TODAY = "2026-06-30"


def on(day: str) -> dict[str, str]:
    """The environment of a command run on ``day`` (noon, Central European Time)."""
    stamp = f"{day}T12:00:00+01:00"
    return {"GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp, "OPP_TODAY": day}


class Day:
    """``crm.on("2026-01-05")("new", ...)``: opp run on that day."""

    def __init__(self, opp: Opp):
        self.opp = opp

    def __call__(self, day: str, *args: str, **kw):
        return self.opp(*args, env=on(day), **kw)

    def new(self, day: str, name: str, *args: str) -> str:
        return self(day, "new", name, "--customer", f"{name} Corp", "--create",
                    *args).stdout.strip()


def make_history(crm: Opp) -> dict[str, str]:
    """Six deals (figures in test_insights_figures_worked_by_hand)."""
    d = Day(crm)
    ids = {}
    ids["A"] = d.new("2026-01-05", "A", "--amount", "1000", "--owner", "ann")
    ids["B"] = d.new("2026-01-05", "B", "--amount", "500", "--owner", "bob",
                     "--stage", "qualification")
    ids["D"] = d.new("2026-01-01", "D", "--amount", "800", "--owner", "bob",
                     "--stage", "proposal")
    d("2026-01-08", "close", ids["D"], "--won", "--date", "2026-01-08")
    ids["C"] = d.new("2026-01-10", "C", "--amount", "3000", "--owner", "ann",
                     "--stage", "negotiation")
    d("2026-01-15", "stage", ids["A"], "qualification")
    d("2026-01-21", "reopen", ids["D"], "--stage", "proposal")
    d("2026-01-25", "stage", ids["A"], "proposal")
    d("2026-01-30", "close", ids["C"], "--won", "--date", "2026-01-30")
    d("2026-01-31", "close", ids["D"], "--lost", "--date", "2026-01-31", "--reason", "price")
    d("2026-02-04", "close", ids["A"], "--won", "--date", "2026-02-04")
    d("2026-02-14", "close", ids["B"], "--lost", "--date", "2026-02-14", "--reason", "price")
    ids["E"] = d.new("2026-03-01", "E", "--amount", "200", "--currency", "USD",
                     "--owner", "ann")
    ids["F"] = d.new("2026-03-01", "F", "--amount", "700", "--owner", "ann",
                     "--stage", "qualification")
    return ids


@pytest.fixture
def history(crm, built, monkeypatch):
    monkeypatch.setenv("OPP_TODAY", TODAY)
    return built("insights-history", crm.root, lambda: make_history(crm))


def stage_rows(report) -> dict:
    return {s["stage"]: s for s in report["stages"]}


def test_insights_figures_worked_by_hand(crm, history):
    report = crm.json("insights", "--since", "2026-01-01", "--until", "2026-06-30")
    assert report["since"] == "2026-01-01" and report["until"] == "2026-06-30"
    assert [s["stage"] for s in report["stages"]] == [
        "prospecting", "qualification", "proposal", "negotiation"]
    rows = stage_rows(report)
    # closed in the window: A won (prospecting, qualification, proposal), B lost
    # (qualification: created there), C won (negotiation only: created there),
    # D lost (proposal, twice: won, reopened, lost; counted once)
    assert {k: (r["entered"], r["won"], r["lost"], r["conversion"]) for k, r in rows.items()} \
        == {"prospecting": (1, 1, 0, 1.0), "qualification": (2, 1, 1, 0.5),
            "proposal": (2, 1, 1, 0.5), "negotiation": (1, 1, 0, 1.0)}
    # stays ended in the window: prospecting A 01-05..01-15 = 10; qualification
    # A 01-15..01-25 = 10, B 01-05..02-14 = 40; proposal A 01-25..02-04 = 10,
    # D 01-01..01-08 = 7, D again 01-21..01-31 = 10; negotiation C 01-10..01-30 = 20
    assert {k: (r["stays"], r["median_days"], r["mean_days"]) for k, r in rows.items()} == {
        "prospecting": (1, 10, 10), "qualification": (2, 25, 25),
        "proposal": (3, 10, 9), "negotiation": (1, 20, 20)}
    # cycle: won A 01-05..02-04 = 30, C 01-10..01-30 = 20 (median 25); lost B
    # 01-05..02-14 = 40, D 01-01..01-31 = 30 (median 35); average won (1000 + 3000) / 2;
    # velocity = 1 open EUR deal (F) x 0.5 x 2000.00 / 25 = 40.00 a day
    eur, usd = report["cycle"]
    assert eur == {"currency": "EUR", "won_count": 2, "lost_count": 2, "win_rate": 0.5,
                   "won_median_days": 25, "lost_median_days": 35, "won_mean_days": 25,
                   "won_amount": "4000.00", "average_won": "2000.00", "open_count": 1,
                   "velocity": "40.00"}
    assert usd["currency"] == "USD" and usd["open_count"] == 1
    assert usd["win_rate"] is None and usd["velocity"] is None
    assert report["owners"] == [
        {"owner": "ann", "currency": "EUR", "won_count": 2, "lost_count": 0, "win_rate": 1.0,
         "won_amount": "4000.00"},
        {"owner": "bob", "currency": "EUR", "won_count": 0, "lost_count": 2, "win_rate": 0.0,
         "won_amount": "0.00"}]


def test_insights_filters_and_windows(crm, history):
    ann = crm.json("insights", "--since", "2026-01-01", "--owner", "ANN")
    rows = stage_rows(ann)
    assert {k: (r["entered"], r["won"], r["lost"]) for k, r in rows.items()} == {
        "prospecting": (1, 1, 0), "qualification": (1, 1, 0), "proposal": (1, 1, 0),
        "negotiation": (1, 1, 0)}
    assert rows["proposal"]["median_days"] == 10  # A's stay only
    assert [o["owner"] for o in ann["owners"]] == ["ann"]
    beta = crm.json("insights", "--since", "2026-01-01", "--customer", "b corp")
    assert stage_rows(beta)["qualification"]["lost"] == 1
    assert beta["cycle"][0]["lost_median_days"] == 40
    # a window ending 2026-01-20: D closed won then (on 01-08), A and B still open
    early = crm.json("insights", "--since", "2026-01-01", "--until", "2026-01-20")
    rows = stage_rows(early)
    assert rows["proposal"] == {"stage": "proposal", "stage_label": "Proposal", "entered": 1,
                                "won": 1, "lost": 0, "conversion": 1.0, "stays": 1,
                                "median_days": 7, "mean_days": 7}
    assert rows["qualification"]["entered"] == 0 and rows["prospecting"]["stays"] == 1
    # the default window is the 365 days up to today
    default = crm.json("insights")
    assert (default["since"], default["until"]) == ("2025-06-30", TODAY)
    # nothing closed in a later window: nulls, never a division by zero
    later = crm.json("insights", "--since", "2026-05-01")
    assert all(r["conversion"] is None and r["median_days"] is None
               for r in later["stages"])


def test_insights_in_every_format(crm, history):
    table = crm("insights", "--since", "2026-01-01").stdout
    assert "Proposal" in table and "Velocity per day" in table and "40.00" in table
    assert crm("insights", "--since", "2026-01-01", "--format", "text").stdout == table
    markdown = crm("insights", "--since", "2026-01-01", "--format", "markdown").stdout
    assert markdown.startswith("### Stages") and "| Proposal" in markdown
    csv = crm("insights", "--since", "2026-01-01", "--format", "csv").stdout.splitlines()
    assert csv[0] == "stage,stage_label,entered,won,lost,conversion,stays,median_days,mean_days"
    assert csv[3] == "proposal,Proposal,2,1,1,0.5,3,10,9"
    tsv = crm("insights", "--since", "2026-01-01", "--format", "tsv", "--part", "owners")
    assert tsv.stdout.splitlines()[1] == "ann\tEUR\t2\t0\t1.0\t4000.00"
    crm("insights", "--since", "2026-07-01", "--until", "2026-06-01", code=2)
    crm("insights", "--since", "June", code=2)


def test_the_index_and_the_plain_reading_agree(crm, history):
    first = crm.json("insights", "--since", "2026-01-01")
    again = crm.json("insights", "--since", "2026-01-01")  # warm: the log from the index
    plain = json.loads(crm("insights", "--since", "2026-01-01", "--format", "json",
                           env={"OPP_NO_INDEX": "1"}).stdout)
    assert first == again == plain
    # a commit made since is read on top of the kept log
    Day(crm)("2026-06-01", "close", history["F"], "--won", "--date", "2026-06-01")
    after = crm.json("insights", "--since", "2026-01-01")
    assert stage_rows(after)["qualification"]["won"] == 2
    assert after == json.loads(crm("insights", "--since", "2026-01-01", "--format", "json",
                                   env={"OPP_NO_INDEX": "1"}).stdout)


def test_an_imported_deal_has_a_cycle_from_its_import_commit(crm, tmp_path, monkeypatch):
    monkeypatch.setenv("OPP_TODAY", TODAY)
    sheet = tmp_path / "old.csv"
    sheet.write_text("name,customer,stage,amount,close_date,owner\n"
                     "Old win,Acme,closed-won,900.00,2025-11-20,ann\n"
                     "Recent,Acme,proposal,100.00,2026-04-30,ann\n")
    Day(crm)("2026-03-05", "import", str(sheet))
    report = crm.json("insights", "--since", "2025-07-01")
    # the history before the import is unknown: the won deal came in closed on
    # 2026-03-05 with a close date before it, a cycle of 0 days; it counts for the
    # stage it came in at only (closed-won: no open stage entered)
    assert report["cycle"][0]["won_count"] == 1
    assert report["cycle"][0]["won_median_days"] == 0
    assert all(r["entered"] == 0 for r in report["stages"])
    assert report["cycle"][0]["open_count"] == 1
    # an imported open deal closed later has a cycle from its import commit
    recent = next(line.split(",")[0] for line in
                  crm("list", "--format", "csv").stdout.splitlines() if "Recent" in line)
    Day(crm)("2026-04-30", "close", recent, "--won", "--date", "2026-04-30")
    report = crm.json("insights", "--since", "2025-07-01")
    assert report["cycle"][0]["won_count"] == 2
    assert report["cycle"][0]["won_median_days"] == 28  # (0 + 56) / 2: 03-05..04-30 = 56
    assert stage_rows(report)["proposal"]["stays"] == 1
    assert stage_rows(report)["proposal"]["median_days"] == 56


def test_merges_from_two_clones_count_each_stage_change_once(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OPP_TODAY", TODAY)
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    alice = Opp(tmp_path / "alice")
    alice("init", str(alice.root), env=on("2026-01-01"))
    alice.git("remote", "add", "origin", str(remote))
    monkeypatch.chdir(alice.root)
    a = Day(alice)
    deal = a.new("2026-01-01", "Shared", "--amount", "1000")
    a("2026-01-01", "sync")
    subprocess.run(["git", "clone", "-q", str(remote), "bob"], cwd=tmp_path, check=True)
    bob = Opp(tmp_path / "bob")
    b = Day(bob)
    # Alice moves it on the 3rd; Bob, unaware, makes the same move on the 4th and adds a
    # note on the 5th; each syncs (Bob's sync merges on the 6th)
    a("2026-01-03", "stage", deal, "qualification")
    a("2026-01-03", "sync")
    monkeypatch.chdir(bob.root)
    b("2026-01-04", "stage", deal, "qualification")
    b("2026-01-05", "note", deal, "called them")
    b("2026-01-06", "sync")
    b("2026-01-10", "close", deal, "--won", "--date", "2026-01-10")
    merges = bob.git("rev-list", "--merges", "HEAD").split()
    assert merges, "the sync made a merge"
    report = bob.json("insights", "--since", "2026-01-01")
    rows = stage_rows(report)
    assert (rows["prospecting"]["stays"], rows["prospecting"]["median_days"]) == (1, 2)
    # one stay at qualification, from Alice's commit of the 3rd to the close of the 10th
    assert (rows["qualification"]["entered"], rows["qualification"]["stays"],
            rows["qualification"]["median_days"]) == (1, 1, 7)
    assert report["cycle"][0]["won_median_days"] == 9
