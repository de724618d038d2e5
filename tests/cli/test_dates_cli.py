"""Every DATE option reads the same forms (cli.md, "Dates and periods"): words,
offsets, 'N days ago', and periods for the bounds of a window; output stays ISO."""

from __future__ import annotations

import os
from datetime import date, timedelta

import pytest

TODAY = "2026-11-26"


def at(day: str, hour: int = 10) -> dict[str, str]:
    stamp = f"{day}T{hour:02d}:00:00+00:00"
    return {"GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp}


@pytest.fixture
def dated(crm, monkeypatch, built):
    """Deals made on days around TODAY, closing in several quarters."""
    monkeypatch.setenv("OPP_TODAY", TODAY)

    def make():
        ids = {}
        ids["a"] = crm.new("Alpha", "--amount", "1000", "--close-date", "2026-12-15",
                           env=at("2026-11-10"))
        ids["b"] = crm.new("Beta", "--amount", "500", "--close-date", "2027-02-28",
                           env=at("2026-11-19"))
        crm("stage", ids["a"], "proposal", env=at("2026-11-25"))
        ids["c"] = crm.new("Gamma", "--amount", "300", "--close-date", "2027-04-01",
                           env=at("2026-11-26"))
        return ids

    crm.ids = built("dates-cli", crm.root, make)
    return crm


def test_as_of_yesterday_is_the_iso_day(dated):
    words = dated.json("pipeline", "--as-of", "yesterday")
    iso = dated.json("pipeline", "--as-of", "2026-11-25")
    assert words == iso and words["as_of"] == "2026-11-25"
    assert dated.json("pipeline", "--as-of", "-1d") == iso
    assert dated.json("pipeline", "--as-of", "1 day ago") == iso
    # a period as --as-of: its last day
    month = dated.json("forecast", "--as-of", "2026-11")
    assert month["as_of"] == "2026-11-30"


def test_changes_since_days_ago(dated):
    words = dated.json("changes", "--since", "7 days ago")
    iso = dated.json("changes", "--since", "2026-11-19")
    assert words == iso
    assert words["since"] == "2026-11-19"
    assert dated.json("changes", "--since", "-1w") == iso
    assert {c["name"] for c in words["changes"]} == {"Alpha", "Beta", "Gamma"}
    # a period as the window: first and last day
    quarter = dated.json("changes", "--since", "2026-Q4", "--until", "2026-Q4")
    assert (quarter["since"], quarter["until"]) == ("2026-10-01", "2026-12-31")
    assert dated.json("changes", "--since", "2026-11", "--until", "yesterday") == \
        dated.json("changes", "--since", "2026-11-01", "--until", "2026-11-25")
    assert dated.json("changes", "--since", "today")["since"] == TODAY


def test_forecast_from_a_quarter(dated):
    words = dated.json("forecast", "--by", "quarter", "--from", "2027-Q1", "--to", "2027")
    iso = dated.json("forecast", "--by", "quarter", "--from", "2027-01-01", "--to",
                     "2027-12-31")
    assert words == iso
    assert [r["group"] for r in words["rows"]] == ["2027-Q1", "2027-Q2"]
    only_q1 = dated.json("forecast", "--by", "quarter", "--from", "2027-Q1", "--to", "2027-Q1")
    assert [r["group"] for r in only_q1["rows"]] == ["2027-Q1"]
    assert dated.json("forecast", "--from", "+1m")["rows"] == \
        dated.json("forecast", "--from", "2026-12-26")["rows"]


def test_dashboard_takes_periods(dated, tmp_path):
    out = tmp_path / "d.html"
    dated("dashboard", "-o", out, "--from", "2026-Q4", "--to", "2027-Q1", "--as-of", "today")
    assert out.stat().st_size > 1000


def test_changing_commands_take_relative_days(dated):
    a = dated.ids["a"]
    new = dated.new("Delta", "--close-date", "+3m")
    assert dated.json("show", new)["close_date"] == "2027-02-26"
    dated("set", a, "close-date", "tomorrow")
    assert dated.json("show", a)["close_date"] == "2026-11-27"
    dated("set", a, "close-date", "Jan 31 2027", code=2)
    dated("activity", "add", a, "--type", "call", "--subject", "Follow up", "--date", "+2w")
    assert dated.json("show", a)["activities"][-1]["date"] == "2026-12-10"
    dated("close", new, "--won", "--date", "2 days ago")
    assert dated.json("show", new)["close_date"] == "2026-11-24"
    # the YAML file holds an ISO date, never the word
    assert "close_date: 2026-11-24" in dated.file(new).read_text()


@pytest.mark.parametrize("args, option", [
    (("pipeline", "--as-of", "last week"), "--as-of"),
    (("changes", "--since", "soon"), "--since"),
    (("forecast", "--from", "2027-Q5"), "--from"),
    (("forecast", "--to", "2027-13"), "--to"),
    (("new", "X", "--customer", "Y", "--close-date", "2026-Q4"), "--close-date"),
])
def test_a_bad_date_names_the_option_and_the_forms(dated, unchanged, args, option):
    with unchanged:
        r = dated(*args, code=2)
    assert option in r.stderr
    assert "YYYY-MM-DD" in r.stderr and "-7d" in r.stderr and "days ago" in r.stderr
    if option != "--close-date":
        assert "2026-Q4" in r.stderr  # a window bound names the periods too
    else:
        assert "2026-Q4" not in r.stderr.split("write", 1)[1]


def test_today_follows_opp_today(dated, monkeypatch):
    monkeypatch.setenv("OPP_TODAY", "2028-02-29")
    new = dated.new("Leap", "--close-date", "+1y")
    assert dated.json("show", new)["close_date"] == "2029-02-28"
    monkeypatch.delenv("OPP_TODAY")
    other = dated.new("Now", "--close-date", "today")
    assert dated.json("show", other)["close_date"] == date.today().isoformat() or \
        "FAKETIME" in os.environ


def test_help_examples_use_opp_forms_only():
    from click.testing import CliRunner

    from oppcli.cli import cli

    for command in ("changes", "pipeline", "forecast"):
        text = CliRunner().invoke(cli, [command, "--help"]).output
        assert "date -d" not in text and "$(date" not in text


def test_only_the_processes_tests_kill_run_without_libfaketime():
    """Under `faketime` (make test-clocks) a process the tests start sees the shifted day;
    one they SIGKILL runs without libfaketime (``conftest.unfaked``: a kill could leave
    the wrapper's shared semaphore taken for every later process)."""
    import subprocess
    import sys

    from conftest import unfaked

    day = [sys.executable, "-c", "import datetime; print(datetime.date.today())"]
    child = subprocess.run(day, capture_output=True, text=True, check=True).stdout.strip()
    assert child in {date.today().isoformat(),
                     (date.today() - timedelta(days=1)).isoformat()}  # (around midnight)
    env = unfaked({"LD_PRELOAD": "/x/libother.so /usr/$LIB/faketime/libfaketime.so.1",
                   "FAKETIME": "+400d", "FAKETIME_SHARED": "/s /m", "PATH": "/bin"})
    assert env == {"LD_PRELOAD": "/x/libother.so", "PATH": "/bin"}
    assert "LD_PRELOAD" not in unfaked({"LD_PRELOAD": "/usr/$LIB/faketime/libfaketime.so.1"})
