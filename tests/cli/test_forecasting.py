"""Forecasts that know the history: probabilities from stage conversion, categories with
Salesforce's cumulative totals, backtests, quotas and attainment. Every figure is worked
out by hand below, on histories made on known days."""

from __future__ import annotations

import pytest
from test_insights import Day

TODAY = "2026-06-30"


def make_calibrated(crm) -> dict[str, str]:
    """Six deals through proposal (4 won, 2 lost), one through negotiation (won), and
    four open ones."""
    d = Day(crm)
    ids: dict[str, str] = {}
    for i in range(6):
        ids[f"p{i}"] = d.new("2026-01-05", f"P{i}", "--amount", "100", "--stage", "proposal")
    for i in range(6):
        if i < 4:
            d("2026-01-20", "close", ids[f"p{i}"], "--won", "--date", "2026-01-20")
        else:
            d("2026-01-20", "close", ids[f"p{i}"], "--lost", "--date", "2026-01-20",
              "--reason", "price")
    ids["n0"] = d.new("2026-01-05", "N0", "--amount", "100", "--stage", "negotiation")
    d("2026-01-21", "close", ids["n0"], "--won", "--date", "2026-01-21")
    ids["P"] = d.new("2026-02-01", "Open P", "--amount", "900", "--stage", "proposal")
    ids["N"] = d.new("2026-02-01", "Open N", "--amount", "1000", "--stage", "negotiation")
    ids["Q"] = d.new("2026-02-01", "Open Q", "--amount", "500", "--stage", "qualification")
    ids["Z"] = d.new("2026-02-01", "Open Z", "--amount", "200")
    ids["X"] = d.new("2026-02-01", "Open X", "--amount", "300")
    return ids


@pytest.fixture
def calibrated(crm, built, monkeypatch):
    monkeypatch.setenv("OPP_TODAY", TODAY)
    return built("forecasting-calibrated", crm.root, lambda: make_calibrated(crm))


def by_group(report) -> dict:
    return {r["group"]: r for r in report["rows"]}


def test_history_probabilities_replace_a_stage_with_five_closed_deals(crm, calibrated):
    report = crm.json("forecast", "--by", "stage", "--probabilities", "history",
                      "--since", "2026-01-01")
    rows = by_group(report)
    # proposal: 4 won of 6 closed: 900.00 x 4/6 = 600.00 (not 50 % = 450.00)
    assert rows["proposal"]["weighted"] == "600.00"
    # negotiation: 1 closed deal only: its 75 % stays; qualification 25 %, prospecting 10 %
    assert rows["negotiation"]["weighted"] == "750.00"
    assert rows["qualification"]["weighted"] == "125.00"
    assert rows["prospecting"]["weighted"] == "50.00"  # (200 + 300) x 10 %
    assert rows["closed-won"]["weighted"] == "500.00"
    probabilities = report["probabilities"]
    assert probabilities["source"] == "history"
    stages = {s["stage"]: s for s in probabilities["stages"]}
    assert {k: (s["probability"], s["from"], s["closed"]) for k, s in stages.items()} == {
        "prospecting": (10, "settings", 0), "qualification": (25, "settings", 0),
        "proposal": (66.67, "history", 6), "negotiation": (75, "settings", 1)}
    assert "fewer than 5" in stages["negotiation"]["why"]
    # without the option: the configured probabilities, and no "probabilities" key
    plain = crm.json("forecast", "--by", "stage")
    assert by_group(plain)["proposal"]["weighted"] == "450.00"
    assert "probabilities" not in plain
    table = crm("forecast", "--probabilities", "history", "--since", "2026-01-01").stdout
    assert "Probabilities from history" in table and "66.67 %" in table
    crm("forecast", "--since", "2026-01-01", code=2)  # --since belongs to history


def test_forecast_by_category_with_the_cumulative_totals(crm, calibrated):
    crm("set", calibrated["Q"], "category", "commit")
    crm("set", calibrated["X"], "category", "omitted")
    show = crm.json("show", calibrated["Q"])
    assert (show["category"], show["category_source"]) == ("commit", "set")
    show = crm.json("show", calibrated["P"])
    assert (show["category"], show["category_source"]) == ("best_case", "stage")
    assert crm.json("show", calibrated["p0"])["category"] == "closed"
    assert crm.json("show", calibrated["p5"])["category"] is None
    report = crm.json("forecast", "--by", "category")
    assert report["by"] == "category"
    assert [(r["group"], r["count"], r["amount"]) for r in report["rows"]] == [
        ("closed", 5, "500.00"), ("commit", 2, "1500.00"), ("best_case", 1, "900.00"),
        ("pipeline", 1, "200.00"), ("omitted", 1, "300.00")]
    # commit forecast = closed + commit; best case forecast = + best case; open pipeline =
    # pipeline + best case + commit
    assert report["totals"][0]["cumulative"] == {
        "commit_forecast": "2000.00", "best_case_forecast": "2900.00",
        "open_pipeline": "2600.00"}
    # none returns to the stage's category
    crm("set", calibrated["Q"], "category", "none")
    assert crm.json("show", calibrated["Q"])["category_source"] == "stage"
    assert by_group(crm.json("forecast", "--by", "category"))["pipeline"]["count"] == 2
    crm("set", calibrated["Q"], "category", "maybe", code=2)
    crm("set", calibrated["p0"], "category", "commit", code=1)  # a closed deal is read-only
    assert "Commit forecast" in crm("forecast", "--by", "category").stdout


def test_a_stage_category_comes_from_opp_yaml(crm, calibrated):
    settings = crm.root / "opp.yaml"
    settings.write_text(settings.read_text().replace("category: best_case", "category: commit"))
    rows = by_group(crm.json("forecast", "--by", "category"))
    assert rows["commit"]["amount"] == "1900.00" and "best_case" not in rows
    settings.write_text(settings.read_text().replace("category: commit", "category: sure", 1))
    crm("forecast", "--by", "category", code=1)


def test_list_rows_end_with_the_deals_category(crm, calibrated):
    crm("set", calibrated["Q"], "category", "commit")
    rows = {r["id"]: r for r in crm.json("list")}
    first = rows[calibrated["Q"]]
    assert list(first) == ["id", "name", "customer", "customer_id", "stage", "stage_label",
                           "status", "probability", "amount", "amount_source", "objective",
                           "currency", "close_date", "owner", "ref", "category"]
    assert {name: rows[calibrated[name]]["category"] for name in ("Q", "P", "N", "Z", "p0",
                                                                   "p5")} == {
        "Q": "commit", "P": "best_case", "N": "commit", "Z": "pipeline", "p0": "closed",
        "p5": None}
    for fmt, sep in (("csv", ","), ("tsv", "\t")):
        lines = crm("list", "--format", fmt).stdout.splitlines()
        assert lines[0].endswith(f"{sep}ref{sep}category")
        assert next(line for line in lines if line.startswith(calibrated["P"])).endswith(
            f"{sep}best_case")
    # a stage's category changed in opp.yaml shows at once
    settings = crm.root / "opp.yaml"
    settings.write_text(settings.read_text().replace("category: best_case", "category: commit"))
    assert {r["id"]: r for r in crm.json("list")}[calibrated["P"]]["category"] == "commit"


def make_backtest(crm) -> dict[str, str]:
    d = Day(crm)
    ids = {}
    ids["K1"] = d.new("2026-01-10", "K1", "--amount", "1000", "--stage", "proposal",
                      "--close-date", "2026-02-15", "--owner", "ann")
    ids["K2"] = d.new("2026-01-10", "K2", "--amount", "2000", "--stage", "negotiation",
                      "--close-date", "2026-02-20", "--owner", "bob")
    ids["K3"] = d.new("2026-01-10", "K3", "--amount", "400", "--close-date", "2026-03-10",
                      "--owner", "ann")
    ids["K4"] = d.new("2026-02-05", "K4", "--amount", "300", "--owner", "ann")
    d("2026-02-10", "close", ids["K4"], "--won", "--date", "2026-02-10")
    d("2026-02-15", "close", ids["K1"], "--won", "--date", "2026-02-15")
    d("2026-02-20", "close", ids["K2"], "--lost", "--date", "2026-02-20", "--reason", "price")
    ids["K5"] = d.new("2026-02-21", "K5", "--amount", "600", "--stage", "proposal",
                      "--close-date", "2026-03-20", "--owner", "ann")
    ids["K6"] = d.new("2026-02-21", "K6", "--amount", "350", "--stage", "negotiation",
                      "--close-date", "2026-03-25", "--owner", "Ann")
    return ids


@pytest.fixture
def february(crm, built, monkeypatch):
    monkeypatch.setenv("OPP_TODAY", TODAY)
    return built("forecasting-february", crm.root, lambda: make_backtest(crm))


def test_backtest_compares_the_forecast_of_the_day_before_with_what_was_won(crm, february):
    report = crm.json("backtest", "2026-02")
    # as of 2026-01-31: K1 1000 x 50 % + K2 2000 x 75 % = 2000.00 closing in February
    # (K3 closes in March); won in February: K1 1000 + K4 300 (new since) = 1300.00
    assert report["period"] == "2026-02" and report["as_of"] == "2026-01-31"
    assert report["totals"] == [{"currency": "EUR", "forecast": "2000.00", "won": "1300.00",
                                 "error": "-700.00", "error_pct": -0.35,
                                 "forecast_count": 2, "won_count": 2}]
    owners = by_group(crm.json("backtest", "2026-02", "--by", "owner"))
    assert (owners["ann"]["forecast"], owners["ann"]["won"], owners["ann"]["error"],
            owners["ann"]["error_pct"]) == ("500.00", "1300.00", "800.00", 1.6)
    assert (owners["bob"]["error"], owners["bob"]["error_pct"]) == ("-1500.00", -1.0)
    stages = by_group(crm.json("backtest", "2026-02", "--by", "stage"))
    assert stages["proposal"]["won"] == "1000.00"  # K1, as it stood before February
    assert stages["closed-won"]["won"] == "300.00"  # K4, not open before
    # a period before the history: nothing was forecast, and the note says why
    early = crm("backtest", "2025-Q4", "--format", "json")
    assert "history starts after" in early.stderr
    # the quarter: as of 2025-12-31 there was no repo yet
    q1 = crm.json("backtest", "2026-Q1")
    assert q1["totals"][0]["forecast"] == "0.00" and q1["totals"][0]["won"] == "1300.00"
    assert q1["totals"][0]["error_pct"] is None
    assert "-700.00 EUR" in crm("backtest", "2026-02").stdout
    assert crm("backtest", "2026-02", "--format", "csv").stdout.splitlines()[1] == \
        "2026-02,EUR,2000.00,1300.00,-700.00,-0.35,2,2"
    crm("backtest", "February", code=2)


def test_quotas_and_attainment(crm, february):
    crm("quota", "set", "ann", "2026-Q1", "2000")
    crm("quota", "set", "carol", "2026-03", "500")
    before = crm.commits()
    crm("quota", "set", "carol", "2026-03", "450.50")
    assert crm.commits() == before + 1
    assert crm.json("quota", "list") == [
        {"owner": "ann", "period": "2026-Q1", "amount": "2000.00", "currency": "EUR"},
        {"owner": "carol", "period": "2026-03", "amount": "450.50", "currency": "EUR"}]
    report = crm.json("attainment", "2026-Q1")
    rows = {r["owner"]: r for r in report["rows"]}
    # ann: won 1000 + 300 = 1300 of 2000: gap 700, attainment 0.65; open closing in Q1:
    # commit K6 350 (owner "Ann": the same owner), best case K5 600, pipeline K3 400:
    # coverage 1350 / 700 = 1.9286
    ann = rows["ann"]
    assert {k: ann[k] for k in ("quota", "won", "gap", "attainment", "commit", "best_case",
                                "pipeline", "coverage")} == {
        "quota": "2000.00", "won": "1300.00", "gap": "700.00", "attainment": 0.65,
        "commit": "350.00", "best_case": "600.00", "pipeline": "400.00", "coverage": 1.9286}
    # carol: a quota of one of the quarter's months, nothing won or open
    assert (rows["carol"]["quota"], rows["carol"]["gap"], rows["carol"]["attainment"],
            rows["carol"]["coverage"]) == ("450.50", "450.50", 0.0, 0.0)
    assert "bob" not in rows  # no quota, only a lost deal
    # February alone: ann has no monthly quota
    feb = {r["owner"]: r for r in crm.json("attainment", "2026-02")["rows"]}
    assert feb["ann"]["quota"] is None and feb["ann"]["attainment"] is None
    assert feb["ann"]["won"] == "1300.00"
    # a quota reached: no gap, no coverage; attainment passes 1
    crm("quota", "set", "ann", "2026-02", "1000")
    feb = {r["owner"]: r for r in crm.json("attainment", "2026-02")["rows"]}
    assert (feb["ann"]["gap"], feb["ann"]["attainment"], feb["ann"]["coverage"]) == (
        "0.00", 1.3, None)
    assert "65.0 %" in crm("attainment", "2026-Q1").stdout
    # the year: Q1's own 2000 (not February's 1000, nor both): 1300 / 2000
    year = {r["owner"]: r for r in crm.json("attainment", "2026")["rows"]}
    assert (year["ann"]["quota"], year["ann"]["attainment"]) == ("2000.00", 0.65)
    assert year["carol"]["quota"] == "450.50"  # Q1 from its months
    crm("quota", "remove", "carol", "2026-03")
    crm("quota", "remove", "carol", "2026-03", code=1)
    crm("quota", "set", "ann", "2026", "1", code=2)  # a month or a quarter
    crm("quota", "set", "ann", "2026-05", "-1", code=2)
    assert crm("validate").exit_code == 0
    (crm.root / "quotas.yaml").write_text("quotas:\n- owner: ann\n  period: 2026-13\n"
                                          "  amount: 1.00\n  currency: EUR\n")
    assert "quotas.yaml" in crm("validate", code=1).stderr + crm(
        "validate", "--format", "json", code=1).stdout


def test_the_dashboard_shows_what_the_history_knows(crm, february):
    import json
    import re

    crm("quota", "set", "ann", "2026-Q2", "1000")
    text = crm("dashboard", "-o", "-").stdout
    block = re.search(r'<script type="application/json" id="opp-data">(.*?)</script>', text,
                      re.S)
    history = json.loads(block.group(1))["history"]
    assert history["insights"] == crm.json("insights", "--until", TODAY)
    assert history["attainment"] == crm.json("attainment", "2026-Q2")
    assert history["backtest"] == crm.json("backtest", "2026-05")
    assert 'data-table="conversion"' in text and 'data-table="attainment"' in text
    assert "<meter" in text and "Last backtest" in text
