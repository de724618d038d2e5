"""The sample data repo in examples/ is valid, and the demo runs."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_demo_repo_is_valid(tmp_path):
    r = subprocess.run([sys.executable, "-m", "oppcli", "--repo", str(EXAMPLES / "demo-repo"),
                        "validate"], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_demo_script_runs(tmp_path):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "opp").write_text(f"#!/bin/sh\nexec {sys.executable} -m oppcli \"$@\"\n")
    (bindir / "opp").chmod(0o755)
    env = dict(os.environ, PATH=f"{bindir}:{os.environ['PATH']}",
               OPP_DEMO_DIR=str(tmp_path / "demo"))
    r = subprocess.run(["bash", str(EXAMPLES / "demo.sh")], capture_output=True, text=True,
                       env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Wayne Enterprises rollout" in r.stdout
    assert "7,507.50 EUR" in r.stdout
    # it ends with the pipeline and the forecast
    assert r.stdout.index("$ opp pipeline") < r.stdout.index("$ opp forecast")
    assert "Pipeline" in r.stdout and "Forecast by month" in r.stdout
    assert "2027-01" in r.stdout.split("$ opp forecast")[1]
