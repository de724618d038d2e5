"""The sample data repo in examples/ is valid and complete, and the demo runs."""

import os
import subprocess
import sys
from pathlib import Path

import yaml

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
DEMO = EXAMPLES / "demo-repo"


def test_demo_repo_is_valid(tmp_path):
    r = subprocess.run([sys.executable, "-m", "oppcli", "--repo", str(DEMO), "validate"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_demo_repo_is_a_complete_sample():
    """Every stage, two currencies, quotes in every state, every panel."""
    opps = [yaml.safe_load(p.read_text()) for p in sorted((DEMO / "opportunities").glob("*.yaml"))]
    settings = yaml.safe_load((DEMO / "opp.yaml").read_text())
    assert len(opps) >= 12
    assert {o["stage"] for o in opps} == {s["id"] for s in settings["stages"]}
    assert {o["currency"] for o in opps} == {"EUR", "USD"}
    quotes = [q for o in opps for q in o["quotes"]]
    assert {q["status"] for q in quotes} == {"draft", "sent", "accepted", "rejected",
                                             "superseded"}
    won_by_quote = [o for o in opps if o["amount_source"] == "quote"]
    assert won_by_quote and all(o["stage"] == "closed-won" for o in won_by_quote)
    assert any(q["sku"] is None for o in won_by_quote for q in o["quotes"][-1]["lines"])
    for panel in ("products", "contacts", "partners", "competitors", "activities", "documents",
                  "notes"):
        assert any(o[panel] for o in opps), panel
    for doc in (d for o in opps for d in o["documents"]):
        assert (DEMO / doc["path"]).stat().st_size == doc["size"]


def run_demo(tmp_path, today: str) -> subprocess.CompletedProcess:
    bindir = tmp_path / "bin"
    bindir.mkdir(exist_ok=True)
    (bindir / "opp").write_text(f"#!/bin/sh\nexec {sys.executable} -m oppcli \"$@\"\n")
    (bindir / "opp").chmod(0o755)
    env = dict(os.environ, PATH=f"{bindir}:{os.environ['PATH']}",
               OPP_DEMO_DIR=str(tmp_path / "demo"), OPP_TODAY=today)
    r = subprocess.run(["bash", str(EXAMPLES / "demo.sh")], capture_output=True, text=True,
                       env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    return r


def test_demo_tells_the_same_story_on_any_day(tmp_path):
    """The sample's dates move with today, by whole weeks: two years on, the open deals
    still close in the coming months, none is overdue, and the totals are the same."""
    r = run_demo(tmp_path, "2028-12-01")  # 105 weeks after the sample's 2026-11-26
    forecast = r.stdout.split("$ opp forecast")[1]
    assert "2029-01" in forecast and "2027-" not in forecast
    assert "7,507.50 EUR" in r.stdout and "23,500.00 USD" in r.stdout
    closes = [yaml.safe_load(p.read_text()).get("close_date")
              for p in (tmp_path / "demo" / "crm" / "opportunities").glob("*.yaml")]
    assert max(closes).isoformat() > "2028-12-01"
    listed = r.stdout.split("$ opp list --status open")[1].split("$ opp show")[0]
    assert "overdue" not in listed.lower()


def test_demo_script_runs(tmp_path):
    r = run_demo(tmp_path, "2026-11-26")  # the sample's own day: its dates as written
    assert "Wayne Enterprises rollout" in r.stdout
    assert "7,507.50 EUR" in r.stdout
    # it ends with the pipeline and the forecast
    assert r.stdout.index("$ opp pipeline") < r.stdout.index("$ opp forecast")
    assert "Pipeline" in r.stdout and "Forecast by month" in r.stdout
    assert "2027-01" in r.stdout.split("$ opp forecast")[1]
    assert "Oscorp lab licences" in r.stdout and "23,500.00 USD" in r.stdout
    assert "negotiation" in r.stdout and "Negotiation" in r.stdout
    # and a salesperson's day: Alice's negotiation call to come
    agenda = r.stdout.split('$ opp agenda --owner Alice Martin')[1]
    assert "Agenda for 2026-11-26 (Alice Martin)" in agenda and "Upcoming" in agenda
