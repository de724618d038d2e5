"""--owner matches like --customer (case-insensitive, part of the name; 'me' is who opp
commits as) on every command that filters; an empty objective reads '-' for people
and stays null in JSON."""

from __future__ import annotations

import pytest


@pytest.fixture
def team(crm, monkeypatch):
    monkeypatch.setenv("OPP_TODAY", "2026-11-26")
    monkeypatch.setenv("OPP_USER", "Marco Rossi")
    crm.ids = {
        "mine": crm.new("Mine", "--amount", "100", "--close-date", "2026-12-01"),
        "marcella": crm.new("Hers", "--owner", "Marcella Bianchi", "--amount", "200",
                            "--objective", "250", "--close-date", "2026-12-02"),
        "bob": crm.new("Bob's", "--owner", "bob", "--amount", "300",
                       "--close-date", "2026-12-03"),
    }
    return crm


def names(rows) -> set[str]:
    return {r["name"] for r in rows}


def test_owner_matches_part_of_the_name_in_list(team):
    assert names(team.json("list", "--owner", "marco")) == {"Mine"}
    assert names(team.json("list", "--owner", "MAR")) == {"Mine", "Hers"}
    assert names(team.json("list", "--owner", "bianchi")) == {"Hers"}
    assert names(team.json("list", "--owner", "me")) == {"Mine"}
    assert names(team.json("list", "--owner", "ME")) == {"Mine"}
    assert team.json("list", "--owner", "nobody") == []


def test_owner_filters_reports_alike(team):
    def open_amount(*args):
        return team.json("pipeline", *args)["totals"][0]["open_amount"]

    assert open_amount("--owner", "marco") == "100.00"
    assert open_amount("--owner", "Mar") == "300.00"
    assert open_amount("--owner", "me") == "100.00"
    forecast = team.json("forecast", "--owner", "mar")
    assert forecast["totals"][0]["amount"] == "300.00"
    changes = team.json("changes", "--since", "2026-01-01", "--owner", "me")
    assert {c["name"] for c in changes["changes"]} == {"Mine"}
    agenda = team.json("agenda", "--owner", "bian", "--days", "30")
    assert {d["name"] for d in agenda["past_close"] + agenda["stale"]} <= {"Hers"}


def test_an_empty_objective_reads_a_dash_and_stays_null(team):
    mine = team.json("show", team.ids["mine"])
    assert mine["objective"] is None
    assert {r["name"]: r["objective"] for r in team.json("list")}["Mine"] is None
    assert "objective   -" in team("show", team.ids["mine"]).stdout
    # a stage whose deals have no objective reads '-', not 0.00
    table = team("pipeline", "--owner", "marco").stdout
    prospecting = next(line for line in table.splitlines() if line.startswith("Prospecting"))
    assert prospecting.split()[-1] == "-" and "100.00 EUR" in prospecting
    both = team("pipeline", "--owner", "mar").stdout
    prospecting = next(line for line in both.splitlines() if line.startswith("Prospecting"))
    assert prospecting.endswith("250.00 EUR")
    forecast = team("forecast", "--owner", "bob").stdout
    row = forecast.split("Totals")[0].split("2026-12", 1)[1].split("\n")[0]
    assert row.split()[-1] == "-" and "300.00 EUR" in row
    # JSON keeps the sum and says how many deals have one
    row = next(r for r in team.json("pipeline", "--owner", "marco")["rows"]
               if r["stage"] == "prospecting")
    assert row["objective"] == "0.00"
