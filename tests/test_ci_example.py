"""examples/ci/github-actions.yml is a workflow that runs: its steps, run in order on
the demo data repo, validate it and write Markdown to the job summary and JSON files."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
WORKFLOW = EXAMPLES / "ci" / "github-actions.yml"


def steps():
    data = yaml.safe_load(WORKFLOW.read_text())
    assert data["name"] and data[True]["push"]  # 'on:' reads as True in YAML 1.1
    (job,) = data["jobs"].values()
    return job["steps"]


def test_workflow_shape():
    all_steps = steps()
    checkout = all_steps[0]
    assert checkout["uses"].startswith("actions/checkout@")
    assert checkout["with"]["fetch-depth"] == 0  # history for changes and --as-of
    runs = " ".join(s.get("run", "") for s in all_steps)
    assert "opp validate" in runs and "GITHUB_STEP_SUMMARY" in runs
    assert "opp forecast --by month --format markdown" in runs
    assert "opp agenda --limit 30 --format markdown" in runs  # beside the forecast
    assert runs.index("opp agenda") < runs.index("opp pipeline --format markdown")
    assert any(s.get("uses", "").startswith("actions/upload-artifact@") for s in all_steps)
    assert "opp dashboard -o site/index.html" in runs
    uploads = [s["with"] for s in all_steps if s.get("uses", "").startswith(
        "actions/upload-artifact@")]
    assert {"name": "opp-dashboard", "path": "site/"} in uploads


def test_workflow_steps_run_on_the_demo_repo(tmp_path):
    repo = tmp_path / "crm"
    shutil.copytree(EXAMPLES / "demo-repo", repo)
    ident = ["-c", "user.name=CI", "-c", "user.email=ci@example.com"]
    for args in (["init", "-q"], ["add", "-A"], [*ident, "commit", "-q", "-m", "data"]):
        subprocess.run(["git", *args], cwd=repo, check=True)
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "opp").write_text(f"#!/bin/sh\nexec {sys.executable} -m oppcli \"$@\"\n")
    (bindir / "opp").chmod(0o755)
    summary = tmp_path / "summary.md"
    env = dict(os.environ, PATH=f"{bindir}:{os.environ['PATH']}",
               GITHUB_STEP_SUMMARY=str(summary))
    ran = 0
    for step in steps():
        if "run" not in step or step.get("id") == "install":
            continue
        r = subprocess.run(["bash", "-eo", "pipefail", "-c", step["run"]], cwd=repo, env=env,
                           capture_output=True, text=True)
        assert r.returncode == 0, f"{step.get('name')}: {r.stdout}{r.stderr}"
        ran += 1
    assert ran == 4
    text = summary.read_text()
    for heading in ("### Forecast by month", "### Forecast by owner", "### Agenda for",
                    "### Pipeline", "### Changes"):
        assert heading in text
    assert text.index("### Forecast by owner") < text.index("### Agenda for") < \
        text.index("### Pipeline")
    assert "| 2026-12 " in text and "14,400.00 EUR" in text
    forecast = json.loads((repo / "opp-report" / "forecast-month.json").read_text())
    assert forecast["by"] == "month" and forecast["rows"]
    pipeline = json.loads((repo / "opp-report" / "pipeline.json").read_text())
    assert {t["currency"] for t in pipeline["totals"]} == {"EUR", "USD"}
    json.loads((repo / "opp-report" / "changes.json").read_text())
    agenda = json.loads((repo / "opp-report" / "agenda.json").read_text())
    assert {"today", "overdue", "stale", "quotes_waiting"} <= set(agenda)
    page = (repo / "site" / "index.html").read_text()
    assert page.startswith("<!doctype html>") and 'id="opp-data"' in page
    assert page.count('role="img"') >= 3  # charts
