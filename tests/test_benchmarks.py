"""`make bench` still builds its repo: the generator imports opp's own modules, and a
change to them once broke it unseen (a helper it used had moved). Here at 60 deals."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _bench_module():
    spec = importlib.util.spec_from_file_location("bench", ROOT / "benchmarks" / "bench.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def test_the_benchmark_repo_is_built_and_valid(tmp_path, monkeypatch):
    monkeypatch.delenv("OPP_TODAY", raising=False)
    scale = _bench_module().Scale(60, tmp_path, runs=1)
    scale.build()
    assert len(scale.ids) == 60
    checked = subprocess.run([sys.executable, "-m", "oppcli", "validate"], env=scale.env(),
                             capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    agenda = json.loads(scale.opp("agenda", "--format", "json").stdout)  # fails loudly
    assert agenda["stale"] or agenda["upcoming"] or agenda["overdue"]
