"""opp pipeline, forecast and changes end to end: a hand-built book whose totals are
worked out by hand below, every format read back, history placed in time."""

import csv
import io
import json
import os
import re
import subprocess
from decimal import Decimal as D

import pytest

# ---------------------------------------------------------------- a hand-built book


@pytest.fixture
def book(crm, monkeypatch, built):
    """Seven deals, two currencies, every kind of stage, one without a close date.

    EUR  A Acme renewal   alice negotiation 75 %  2 x 1200 = 2400.00  obj 3000  2026-12-15
         B Globex pilot   bob   prospecting 10 %  1000.05             obj 1500  2026-11-20
         C Initech        bob   proposal    50 %  333.33              -         no date
         D Hooli          alice closed-won        5000.00             -         2026-10-15
         E Stark          carol closed-lost       800.00              -         2026-10-20
    USD  F Umbrella       carol qualification 25 % 999.99             obj 2000  2027-01-31
         G Wayne          alice closed-won        100.00              -         2026-11-01
    """
    monkeypatch.setenv("OPP_TODAY", "2026-11-26")
    crm.ids = built("reports-book", crm.root, lambda: make_book(crm))
    return crm


def make_book(crm) -> dict[str, str]:
    ids = {}
    ids["A"] = crm.new("Acme renewal", "--owner", "alice", "--stage", "negotiation",
                       "--objective", "3000", "--close-date", "2026-12-15")
    crm("add-product", ids["A"], "SRV-01", "--qty", "2")
    ids["B"] = crm.new("Globex pilot", "--customer", "Globex", "--owner", "bob",
                       "--amount", "1000.05", "--objective", "1500", "--close-date",
                       "2026-11-20")
    ids["C"] = crm.new("Initech", "--customer", "Initech", "--owner", "bob", "--amount",
                       "333.33", "--stage", "Proposal")
    ids["D"] = crm.new("Hooli", "--customer", "Hooli", "--owner", "alice", "--amount", "5000",
                       "--stage", "negotiation")
    crm("close", ids["D"], "--won", "--date", "2026-10-15")
    ids["E"] = crm.new("Stark", "--customer", "Stark", "--owner", "carol", "--amount", "800")
    crm("close", ids["E"], "--lost", "--reason", "price", "--date", "2026-10-20")
    ids["F"] = crm.new("Umbrella", "--customer", "Umbrella", "--owner", "carol", "--amount",
                       "999.99", "--currency", "USD", "--stage", "qualification",
                       "--objective", "2000", "--close-date", "2027-01-31")
    ids["G"] = crm.new("Wayne", "--customer", "Wayne", "--owner", "alice", "--amount", "100",
                       "--currency", "usd")
    crm("close", ids["G"], "--won", "--date", "2026-11-01")
    return ids


def by_stage(data, currency):
    return {r["stage"]: (r["count"], r["amount"], r["weighted"], r["objective"])
            for r in data["rows"] if r["currency"] == currency}


def test_pipeline_json_by_hand(book):
    data = book.json("pipeline")
    assert by_stage(data, "EUR") == {
        "prospecting": (1, "1000.05", "100.01", "1500.00"),    # 100.005 -> 100.01
        "qualification": (0, "0.00", "0.00", "0.00"),
        "proposal": (1, "333.33", "166.67", "0.00"),           # 166.665 -> 166.67
        "negotiation": (1, "2400.00", "1800.00", "3000.00"),
        "closed-won": (1, "5000.00", "5000.00", "0.00"),
        "closed-lost": (1, "800.00", "0.00", "0.00"),
    }
    assert by_stage(data, "USD") == {
        "prospecting": (0, "0.00", "0.00", "0.00"),
        "qualification": (1, "999.99", "250.00", "2000.00"),   # 249.9975 -> 250.00
        "proposal": (0, "0.00", "0.00", "0.00"),
        "negotiation": (0, "0.00", "0.00", "0.00"),
        "closed-won": (1, "100.00", "100.00", "0.00"),
        "closed-lost": (0, "0.00", "0.00", "0.00"),
    }
    assert [r["stage"] for r in data["rows"]][::2] == [
        "prospecting", "qualification", "proposal", "negotiation", "closed-won", "closed-lost"]
    totals = {t["currency"]: t for t in data["totals"]}
    assert set(totals) == {"EUR", "USD"}
    eur, usd = totals["EUR"], totals["USD"]
    assert (eur["open_count"], eur["open_amount"], eur["open_weighted"]) == (
        3, "3733.38", "2066.68")
    assert (eur["won_count"], eur["won_amount"], eur["lost_count"], eur["lost_amount"]) == (
        1, "5000.00", 1, "800.00")
    assert eur["win_rate"] == 0.5
    assert (usd["open_count"], usd["open_amount"], usd["open_weighted"]) == (
        1, "999.99", "250.00")
    assert (usd["won_count"], usd["lost_count"], usd["win_rate"]) == (1, 0, 1.0)
    assert data["as_of"] is None


def test_forecast_json_by_hand(book):
    data = book.json("forecast")
    assert data["by"] == "month"
    rows = [(r["group"], r["currency"], r["count"], r["amount"], r["weighted"], r["objective"])
            for r in data["rows"]]
    assert rows == [
        ("2026-10", "EUR", 1, "5000.00", "5000.00", "0.00"),    # won at 100 %; lost E not
        ("2026-11", "EUR", 1, "1000.05", "100.01", "1500.00"),
        ("2026-11", "USD", 1, "100.00", "100.00", "0.00"),
        ("2026-12", "EUR", 1, "2400.00", "1800.00", "3000.00"),
        ("2027-01", "USD", 1, "999.99", "250.00", "2000.00"),
        ("unscheduled", "EUR", 1, "333.33", "166.67", "0.00"),
    ]
    totals = [(t["currency"], t["count"], t["amount"], t["weighted"], t["objective"])
              for t in data["totals"]]
    assert totals == [("EUR", 4, "8733.38", "7066.68", "4500.00"),
                      ("USD", 2, "1099.99", "350.00", "2000.00")]
    quarter = book.json("forecast", "--by", "quarter")
    assert [(r["group"], r["currency"], r["count"]) for r in quarter["rows"]] == [
        ("2026-Q4", "EUR", 3), ("2026-Q4", "USD", 1), ("2027-Q1", "USD", 1),
        ("unscheduled", "EUR", 1)]
    owner = book.json("forecast", "--by", "owner")
    assert [(r["group"], r["currency"], r["count"], r["amount"]) for r in owner["rows"]] == [
        ("alice", "EUR", 2, "7400.00"), ("alice", "USD", 1, "100.00"),
        ("bob", "EUR", 2, "1333.38"), ("carol", "USD", 1, "999.99")]
    stage = book.json("forecast", "--by", "stage")
    assert [r["group"] for r in stage["rows"]] == [
        "prospecting", "qualification", "proposal", "negotiation", "closed-won", "closed-won"]


def test_forecast_window_leaves_out_unscheduled_and_says_so(book):
    r = book("forecast", "--from", "2026-11-01", "--to", "2026-12-31", "--format", "json")
    data = json.loads(r.stdout)
    assert [(x["group"], x["currency"]) for x in data["rows"]] == [
        ("2026-11", "EUR"), ("2026-11", "USD"), ("2026-12", "EUR")]
    assert data["unscheduled_left_out"] == 1 and data["from"] == "2026-11-01"
    assert "1 open opportunity without a close date left out" in r.stderr
    r = book("forecast", "--from", "2027-01-01", "--to", "2026-01-01", code=2)
    assert "--to 2026-01-01 is before --from 2027-01-01" in r.stderr


def test_filters(book):
    bob = book.json("pipeline", "--owner", "BOB")
    assert sum(r["count"] for r in bob["rows"]) == 2
    assert [t["currency"] for t in bob["totals"]] == ["EUR"]
    globex = book.json("forecast", "--customer", "glob")
    assert [r["amount"] for r in globex["rows"]] == ["1000.05"]
    proposal = book.json("pipeline", "--stage", "Proposal")
    assert [(r["stage"], r["count"]) for r in proposal["rows"]] == [("proposal", 1)]
    nobody = book.json("pipeline", "--owner", "nobody")
    assert sum(r["count"] for r in nobody["rows"]) == 0
    assert nobody["totals"][0]["currency"] == "EUR" and nobody["totals"][0]["win_rate"] is None
    r = book("pipeline", "--stage", "propsal", code=1)
    assert "unknown stage 'propsal'" in r.stderr


# ---------------------------------------------------------------- formats


def test_csv_is_plain_numbers_and_adds_up(book):
    rows = list(csv.DictReader(io.StringIO(book("pipeline", "--format", "csv").stdout)))
    assert list(rows[0]) == ["stage", "stage_label", "kind", "probability", "currency",
                             "count", "amount", "weighted", "objective", "objective_count"]
    assert {r["amount"] for r in rows} >= {"1000.05", "2400.00", "5000.00", "999.99"}
    assert not any("," in r["amount"] or " " in r["amount"] for r in rows)
    eur = [r for r in rows if r["currency"] == "EUR"]
    assert sum(D(r["amount"]) for r in eur) == D("9533.38")
    assert sum(D(r["weighted"]) for r in eur if r["kind"] == "open") == D("2066.68")
    rows = list(csv.DictReader(io.StringIO(book("forecast", "--by", "owner", "--format",
                                                "csv").stdout)))
    assert [(r["group"], r["currency"], r["weighted"]) for r in rows] == [
        ("alice", "EUR", "6800.00"), ("alice", "USD", "100.00"), ("bob", "EUR", "266.68"),
        ("carol", "USD", "250.00")]


def markdown_tables(text):
    """Every pipe table of a Markdown text, as lists of cell lists; checks the structure."""
    tables, current = [], []
    for line in text.splitlines() + [""]:
        if line.startswith("|"):
            current.append(line)
            continue
        if current:
            assert len(current) >= 2, current
            assert re.fullmatch(r"\|(:?-+:?\|)+", current[1]), current[1]
            cells = [[c.strip() for c in re.split(r"(?<!\\)\|", row)[1:-1]] for row in current]
            assert len({len(c) for c in cells}) == 1, "ragged table"
            tables.append([cells[0]] + cells[2:])
            current = []
    return tables


def test_markdown_is_a_pipe_table_fit_for_a_job_summary(book):
    text = book("pipeline", "--format", "markdown").stdout
    assert text.startswith("### Pipeline\n")
    pipeline, totals = markdown_tables(text)
    assert pipeline[0] == ["Stage", "Probability", "Count", "Amount", "Weighted", "Objective"]
    assert ["Negotiation", "75 %", "1", "2,400.00 EUR", "1,800.00 EUR", "3,000.00 EUR"] \
        in pipeline
    assert ["Qualification", "25 %", "0", "-", "-", "-"] not in pipeline  # USD holds one
    assert totals[1][0] == "EUR" and totals[1][-1] == "50.0 %"
    assert totals[2][0] == "USD" and totals[2][-1] == "100.0 %"
    forecast, ftotals = markdown_tables(book("forecast", "--format", "markdown").stdout)
    assert forecast[0] == ["Month", "Count", "Amount", "Weighted", "Objective"]
    assert forecast[-1][0] == "unscheduled"
    assert ftotals[1] == ["EUR", "4", "8,733.38 EUR", "7,066.68 EUR", "4,500.00 EUR"]


def test_markdown_escapes_pipes_in_names(book):
    book("set", book.ids["B"], "owner", "a|b")
    forecast, _ = markdown_tables(book("forecast", "--by", "owner", "--format",
                                       "markdown").stdout)
    assert ["a\\|b", "1", "1,000.05 EUR", "100.01 EUR", "1,500.00 EUR"] in forecast


def test_table_is_aligned_with_separators_and_currency(book):
    text = book("pipeline").stdout
    block = text.split("\n\n")[1].splitlines()
    assert len({len(line) for line in block}) == 1, "columns are not aligned"
    assert "2,400.00 EUR" in text and "999.99 USD" in text and "50.0 %" in text
    # a stage shows once per currency it holds
    assert re.search(r"^Qualification +25 % +1 +999\.99 USD", text, re.M)
    text = book("forecast", "--by", "quarter").stdout
    assert "Forecast by quarter" in text and "8,733.38 EUR" in text


# ---------------------------------------------------------------- invalid data


def test_an_invalid_file_refuses_every_report(book):
    path = book.file(book.ids["B"])
    path.write_text(path.read_text().replace("amount: 1000.05", "amount: 1000.055"))
    for command in (["pipeline"], ["forecast"], ["forecast", "--format", "json"],
                    ["pipeline", "--format", "markdown"]):
        r = book(*command, code=1)
        assert f"opportunities/{book.ids['B']}.yaml" in r.stderr
        assert "no report while a file is invalid" in r.stderr
        assert r.stdout == ""
    path.write_text("name: [unclosed\n")
    r = book("pipeline", code=1)
    assert f"opportunities/{book.ids['B']}.yaml:" in r.stderr


# ---------------------------------------------------------------- history


def at(day, hour=10):
    stamp = f"{day}T{hour:02d}:00:00+00:00"
    return {"GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp}


def hand_commit(crm, message, day):
    """Commit the work tree as a person would with git, on ``day``."""
    env = {**__import__("os").environ, **at(day)}
    for args in (["add", "-A"], ["-c", "user.name=Hand", "-c", "user.email=hand@example.com",
                                 "commit", "-q", "-m", message]):
        subprocess.run(["git", *args], cwd=crm.root, env=env, check=True)


@pytest.fixture
def hist(tmp_path, monkeypatch, built):
    """A data repo whose history is placed in time (see the dates below)."""
    from conftest import Opp

    monkeypatch.setenv("OPP_TODAY", "2026-12-31")
    monkeypatch.setenv("OPP_USER", "Rita")
    monkeypatch.chdir(tmp_path)
    crm = Opp(tmp_path / "crm")
    crm.ids = built("reports-hist", crm.root, lambda: make_hist(crm))
    monkeypatch.chdir(crm.root)
    return crm


def make_hist(crm) -> dict[str, str]:
    crm("init", str(crm.root), env=at("2026-10-01"))
    os.chdir(crm.root)
    ids = {}
    ids["a"] = crm.new("Alpha", "--owner", "alice", "--amount", "1000", "--close-date",
                       "2026-12-01", env=at("2026-10-02"))
    ids["b"] = crm.new("Beta", "--owner", "bob", "--amount", "500", "--currency", "USD",
                       "--stage", "proposal", env=at("2026-10-03"))
    # the week of 2026-11-02
    crm("stage", ids["a"], "proposal", env=at("2026-11-02"))
    crm("set", ids["a"], "amount", "1200", env=at("2026-11-02", 11))
    crm("set", ids["a"], "close-date", "2027-01-15", env=at("2026-11-03"))
    crm("close", ids["b"], "--won", "--date", "2026-11-04", env=at("2026-11-04"))
    ids["c"] = crm.new("Gamma", "--owner", "carol", "--amount", "300", "--close-date",
                       "2026-11-30", env=at("2026-11-05"))
    crm("stage", ids["a"], "prospecting", env=at("2026-11-06"))
    # the next week
    crm("set", ids["c"], "close-date", "2026-11-20", env=at("2026-11-10"))
    crm("close", ids["c"], "--lost", "--reason", "price", "--date", "2026-11-11",
        env=at("2026-11-11"))
    return ids


def test_as_of_reads_the_repo_as_it_was(hist):
    data = hist.json("pipeline", "--as-of", "2026-10-02")
    assert [(r["stage"], r["count"], r["amount"]) for r in data["rows"] if r["count"]] == [
        ("prospecting", 1, "1000.00")]
    assert data["as_of"] == "2026-10-02"
    assert data["as_of_commit"] == hist.git("rev-list", "-1", "--before=2026-10-02T23:59:59Z",
                                            "HEAD").strip()
    # end of the day: the 2026-11-02 11:00 amount change is in, 2026-11-03 is not
    data = hist.json("pipeline", "--as-of", "2026-11-02")
    rows = {(r["stage"], r["currency"]): r for r in data["rows"] if r["count"]}
    assert set(rows) == {("proposal", "EUR"), ("proposal", "USD")}
    assert rows[("proposal", "EUR")]["amount"] == "1200.00"
    f = hist.json("forecast", "--as-of", "2026-11-02")
    assert [(r["group"], r["currency"]) for r in f["rows"]] == [
        ("2026-12", "EUR"), ("unscheduled", "USD")]
    today = hist.json("forecast")
    assert [(r["group"], r["currency"]) for r in today["rows"]] == [
        ("2026-11", "USD"), ("2027-01", "EUR")]  # Gamma is lost now


def test_as_of_uses_the_settings_of_then(hist):
    settings = hist.root / "opp.yaml"
    settings.write_text(settings.read_text().replace("probability: 10\n", "probability: 20\n"))
    hand_commit(hist, "prospects are likelier now", "2026-11-20")
    before = hist.json("pipeline", "--as-of", "2026-11-19")
    after = hist.json("pipeline", "--as-of", "2026-11-20")

    def prospecting(data):
        return next((r["probability"], r["amount"], r["weighted"]) for r in data["rows"]
                    if r["stage"] == "prospecting" and r["currency"] == "EUR")

    assert prospecting(before) == (10, "1200.00", "120.00")
    assert prospecting(after) == (20, "1200.00", "240.00")


def test_as_of_ignores_uncommitted_edits_and_refuses_before_the_first_commit(hist):
    hist.file(hist.ids["a"]).write_text("garbage: [\n")
    assert hist.json("pipeline", "--as-of", "2026-12-31")["totals"]
    hist("pipeline", code=1)  # today's files are invalid
    r = hist("pipeline", "--as-of", "2026-09-30", code=1)
    assert "no commit on or before 2026-09-30" in r.stderr and "2026-10-01" in r.stderr
    hist("forecast", "--as-of", "2026-13-01", code=2)


def test_as_of_refuses_an_invalid_file_of_then_naming_file_and_commit(hist):
    path = hist.file(hist.ids["c"])
    good = path.read_text()
    path.write_text(good.replace("owner: carol", "owner: carol\nsurprise: 1"))
    hand_commit(hist, "hand edit", "2026-11-20")
    sha = hist.head()[:10]
    r = hist("forecast", "--as-of", "2026-11-20", code=1)
    assert f"opportunities/{hist.ids['c']}.yaml:" in r.stderr
    assert "unknown field" in r.stderr and f"commit {sha}" in r.stderr
    hist("forecast", "--as-of", "2026-11-19")
    path.write_text(good)
    hand_commit(hist, "fixed", "2026-11-21")
    hist("forecast", "--as-of", "2026-11-21")
    # a window that ends on the invalid version refuses, naming it
    r = hist("changes", "--since", "2026-11-20", "--until", "2026-11-20", code=1)
    assert f"commit {sha}" in r.stderr and "unknown field" in r.stderr
    # one that holds the mending commit too steps over it, and says so
    r = hist("changes", "--since", "2026-11-20")
    assert (f"skipped the invalid version of opportunities/{hist.ids['c']}.yaml made by "
            f"commit {sha} of 2026-11-20 (surprise: unknown field); a later commit mended "
            "it") in r.stderr
    data = hist.json("changes", "--since", "2026-11-20")
    assert data["changes"] == [] and data["commits"] == 2
    assert data["skipped"] == [{"path": f"opportunities/{hist.ids['c']}.yaml",
                                "commit": hist.git("rev-parse", "HEAD~1").strip(),
                                "message": "surprise: unknown field", "mended": True}]
    # one that starts after it leaves out the change from it: nobody can say what moved
    r = hist("changes", "--since", "2026-11-21")
    assert "left out the change of" in r.stderr and "the version before it is invalid " \
        "(surprise: unknown field)" in r.stderr
    assert hist.json("changes", "--since", "2026-11-21")["changes"] == []
    hist("dashboard", "-o", "page.html")  # its last 7 days hold both commits


def test_changes_over_an_opp_yaml_wrong_for_a_while_and_filters_on_skipped(hist):
    """A deal's last version read wrongly only because opp.yaml was wrong then is read
    with opp.yaml as the window leaves it; a skipped version follows the filters."""
    settings, deal = hist.root / "opp.yaml", hist.file(hist.ids["c"])
    good_settings, good_deal = settings.read_text(), deal.read_text()
    settings.write_text(good_settings.replace("probability: 25", "probability: 250"))
    deal.write_text(good_deal.replace("owner: carol", "owner: dave"))
    hand_commit(hist, "both", "2026-11-20")
    settings.write_text(good_settings)
    hand_commit(hist, "opp.yaml mended", "2026-11-21")
    data = hist.json("changes", "--since", "2026-11-20")
    assert [(c["id"], c["kind"], c["old"], c["new"]) for c in data["changes"]] == [
        (hist.ids["c"], "owner", "carol", "dave")]
    # a file broken then mended: its note is for those who look at its deal
    path = hist.file(hist.ids["a"])
    good = path.read_text()
    path.write_text(good.replace("owner: alice", "owner: alice\nsurprise: 1"))
    hand_commit(hist, "oops", "2026-11-22")
    path.write_text(good)
    hand_commit(hist, "mended", "2026-11-23")
    r = hist("changes", "--since", "2026-11-22", "--owner", "alice")
    assert "skipped the invalid version" in r.stderr
    r = hist("changes", "--since", "2026-11-22", "--owner", "bob")
    assert "skipped" not in r.stderr
    assert hist.json("changes", "--since", "2026-11-22", "--owner", "bob")["skipped"] == []


def test_changes_limit_lists_the_latest_and_totals_them_all(hist):
    full = hist.json("changes", "--since", "2026-10-01")
    assert len(full["changes"]) > 3
    data = hist.json("changes", "--since", "2026-10-01", "--limit", "2")
    assert data["changes"] == full["changes"][-2:] and data["totals"] == full["totals"]
    assert data["left_out"] == len(full["changes"]) - 2
    r = hist("changes", "--since", "2026-10-01", "--limit", "2", "--format", "markdown")
    assert f"_{len(full['changes']) - 2} earlier changes not listed (--limit 2); the totals " \
        "count them_" in r.stdout
    rows = list(csv.DictReader(io.StringIO(hist("changes", "--since", "2026-10-01",
                                                "--limit", "0", "--format", "csv").stdout)))
    assert rows == []
    hist("changes", "--since", "2026-10-01", "--limit", "-1", code=2)


def test_changes_in_a_week(hist):
    data = hist.json("changes", "--since", "2026-11-02", "--until", "2026-11-08")
    a, b, c = (hist.ids[k] for k in "abc")
    got = [(x["at"][:10], x["id"], x["kind"], x["direction"], x["old"], x["new"])
           for x in data["changes"]]
    assert got == [
        ("2026-11-02", a, "stage", "forward", "prospecting", "proposal"),
        ("2026-11-02", a, "amount", "up", "1000.00", "1200.00"),
        ("2026-11-03", a, "close_date", "slipped", "2026-12-01", "2027-01-15"),
        ("2026-11-04", b, "won", None, "proposal", "closed-won"),
        ("2026-11-05", c, "new", None, None, "prospecting"),
        ("2026-11-06", a, "stage", "back", "proposal", "prospecting"),
    ]
    assert data["since"] == "2026-11-02" and data["until"] == "2026-11-08"
    assert data["changes"][0]["author"] == "Rita" and len(data["changes"][0]["commit"]) == 40
    totals = {t["currency"]: t for t in data["totals"]}
    assert (totals["EUR"]["forward_count"], totals["EUR"]["back_count"],
            totals["EUR"]["slipped_count"], totals["EUR"]["new_count"],
            totals["EUR"]["new_amount"], totals["EUR"]["amount_change"]) == (
        1, 1, 1, 1, "300.00", "200.00")
    assert (totals["USD"]["won_count"], totals["USD"]["won_amount"]) == (1, "500.00")
    later = hist.json("changes", "--since", "2026-11-09")
    assert [(x["kind"], x["direction"]) for x in later["changes"]] == [
        ("close_date", "pulled-in"), ("lost", None)]
    assert later["until"] is None
    assert hist.json("changes", "--since", "2026-11-07", "--until", "2026-11-09")[
        "changes"] == []
    bob = hist.json("changes", "--since", "2026-10-01", "--owner", "bob")
    assert [x["kind"] for x in bob["changes"]] == ["new", "won"]


def test_changes_sees_deleted_deals_and_hand_commits(hist):
    (hist.file(hist.ids["a"])).unlink()
    hand_commit(hist, "drop alpha", "2026-11-15")
    data = hist.json("changes", "--since", "2026-11-15")
    assert [(x["kind"], x["id"], x["old"], x["author"]) for x in data["changes"]] == [
        ("deleted", hist.ids["a"], "prospecting", "Hand")]
    assert data["totals"][0]["deleted_count"] == 1


def test_changes_formats(hist):
    args = ("changes", "--since", "2026-11-02", "--until", "2026-11-08")
    rows = list(csv.DictReader(io.StringIO(hist(*args, "--format", "csv").stdout)))
    assert [r["kind"] for r in rows] == ["stage", "amount", "close_date", "won", "new",
                                         "stage"]
    assert rows[1]["old"] == "1000.00" and rows[1]["new"] == "1200.00"
    text = hist(*args).stdout
    assert "close date 2026-12-01 -> 2027-01-15 (slipped 45 days)" in text
    assert "amount 1,000.00 -> 1,200.00 EUR (+200.00)" in text
    assert "won 500.00 USD (from proposal)" in text
    changes, totals = markdown_tables(hist(*args, "--format", "markdown").stdout)
    assert changes[0] == ["Date", "Opportunity", "Owner", "Change", "By"]
    assert len(changes) == 7
    assert totals[1][0] == "EUR" and totals[1][-1] == "+200.00 EUR"
    empty = hist("changes", "--since", "2030-01-01", "--format", "markdown")
    assert "_No changes from 2030-01-01 to now._" in empty.stdout


def test_changes_usage(hist):
    hist("changes", code=2)
    r = hist("changes", "--since", "2026-11-10", "--until", "2026-11-01", code=2)
    assert "--until 2026-11-01 is before --since 2026-11-10" in r.stderr
    hist("changes", "--since", "11/10/2026", code=2)


def test_history_of_a_data_repo_inside_a_bigger_git_repo(tmp_path, monkeypatch):
    from conftest import Opp

    outer = tmp_path / "outer"
    outer.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=outer, check=True)
    monkeypatch.chdir(outer)
    monkeypatch.setenv("OPP_USER", "Rita")
    crm = Opp(outer / "sales")
    crm("init", "sales", env=at("2026-10-01"))
    monkeypatch.chdir(outer / "sales")
    opp_id = crm.new("Alpha", "--amount", "10", env=at("2026-10-02"))
    crm("stage", opp_id, "proposal", env=at("2026-10-03"))
    assert crm.json("pipeline", "--as-of", "2026-10-02")["totals"][0]["open_weighted"] == "1.00"
    kinds = [x["kind"] for x in crm.json("changes", "--since", "2026-10-01")["changes"]]
    assert kinds == ["new", "stage"]


def test_new_commands_have_help_with_an_example(crm):
    for command in ("pipeline", "forecast", "changes"):
        text = crm(command, "--help").stdout
        assert "Example:" in text and "--format" in text


def test_history_is_first_parent_a_merge_counts_when_made(hist):
    a = hist.ids["a"]

    def git(*args, day=None):
        env = {**__import__("os").environ, **(at(day) if day else {})}
        subprocess.run(["git", "-c", "user.name=Hand", "-c", "user.email=hand@example.com",
                        *args], cwd=hist.root, env=env, check=True, capture_output=True)

    git("checkout", "-q", "-b", "other")
    hist("stage", a, "negotiation", env=at("2026-11-12"))
    git("checkout", "-q", "-")
    hist.new("Delta", "--amount", "40", env=at("2026-11-13"))
    git("merge", "-q", "--no-ff", "-m", "merge other", "other", day="2026-11-14")
    # on 2026-11-12 the branch's commit was not on this line of history yet
    as_of = hist.json("pipeline", "--as-of", "2026-11-12")
    assert [(r["stage"], r["count"]) for r in as_of["rows"]
            if r["currency"] == "EUR" and r["count"]] == [("prospecting", 1),
                                                         ("closed-lost", 1)]
    data = hist.json("changes", "--since", "2026-11-12")
    assert [(x["at"][:10], x["kind"], x["direction"], x["author"]) for x in data["changes"]] \
        == [("2026-11-13", "new", None, "Rita"), ("2026-11-14", "stage", "forward", "Hand")]
    assert data["commits"] == 2


def test_no_history_yet_is_refused(tmp_path, monkeypatch):
    from conftest import Opp

    root = tmp_path / "crm"
    root.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    (root / "opp.yaml").write_text("currency: EUR\n")
    monkeypatch.chdir(root)
    crm = Opp(root)
    assert crm.json("pipeline")["totals"][0]["open_count"] == 0
    for args in (["pipeline", "--as-of", "2026-01-01"], ["changes", "--since", "2026-01-01"]):
        r = crm(*args, code=1)
        assert "no commits yet" in r.stderr


def test_history_uses_a_few_git_processes_not_one_per_file(hist, monkeypatch):
    for i in range(6):
        hist.new(f"Deal {i}", "--amount", str(i + 1), env=at("2026-11-16"))
    calls = []
    real_run = subprocess.run

    def counting(args, *a, **kw):
        calls.append(args[3] if args[:3] == ["git", "-c", "core.quotepath=off"] else args)
        return real_run(args, *a, **kw)

    monkeypatch.setattr(subprocess, "run", counting)
    assert sum(r["count"] for r in hist.json("pipeline", "--as-of", "2026-11-16")["rows"]) == 9
    assert calls == ["log", "ls-tree", "cat-file"]
    calls.clear()
    assert len(hist.json("changes", "--since", "2026-10-01")["changes"]) > 9
    assert calls == ["log", "cat-file"]
