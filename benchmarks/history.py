"""The history benchmark (#23): ``opp insights`` over N deals with about 5 N commits of
history, each commit one deal's move (created, moved on, won or lost), made in seconds
through ``git fast-import`` rather than 5 N runs of opp. Warm target: 2 s at 10,000
deals (50,000 commits).

    python benchmarks/history.py --n 2000     # alone, at a small size
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
TARGET_WARM = 2.0  # seconds at 10,000 deals and 50,000 commits
OPEN = ["prospecting", "qualification", "proposal", "negotiation"]


def deal_yaml(i: int, stage: str, amount: int, created: date, close: date | None,
              lost: bool) -> bytes:
    close_text = close.isoformat() if close else "null"
    return (f"id: h{i:07d}\nname: Deal {i}\ncustomer: Customer {i % 700}\nstage: {stage}\n"
            f"amount: {amount}.00\namount_source: manual\nobjective: null\ncurrency: EUR\n"
            f"close_date: {close_text}\nowner: owner{i % 25}\n"
            f"lost_reason: {'price' if lost else 'null'}\ncategory: null\nref: null\n"
            f"created: {created.isoformat()}\nproducts: []\nquotes: []\ncontacts: []\n"
            f"partners: []\ncompetitors: []\nactivities: []\ndocuments: []\nnotes: []\n"
            ).encode()


def build(repo: Path, n: int, seed: int = 23) -> int:
    """``opp init``, then ~5 commits per deal over the year before today; returns the
    number of commits made."""
    rng = random.Random(seed)
    env = dict(os.environ, OPP_USER="bench")
    subprocess.run([sys.executable, "-m", "oppcli", "init", str(repo)], env=env, check=True,
                   capture_output=True)
    today = date.today()
    start = today - timedelta(days=365)
    events: list[tuple[datetime, str, bytes]] = []
    for i in range(n):
        created = start + timedelta(days=rng.randint(0, 300))
        amount = rng.randint(1, 500) * 100
        stage_index = rng.choice([0, 0, 0, 1, 2])  # some deals start late
        day = created
        moves = [(day, OPEN[stage_index], None, False)]
        while stage_index < len(OPEN) - 1 and rng.random() < 0.7:
            stage_index += 1
            day += timedelta(days=rng.randint(1, 30))
            moves.append((day, OPEN[stage_index], None, False))
        if rng.random() < 0.8:
            day += timedelta(days=rng.randint(1, 30))
            won = rng.random() < 0.45
            moves.append((day, "closed-won" if won else "closed-lost", day, not won))
        edits = []  # amount edits between moves: about 5 commits per deal in all
        for when, stage, close, _lost in moves:
            if close is None:
                edits += [(when + timedelta(days=k), stage, None, False) for k in (1, 2)
                          if rng.random() < 0.55]
        for when, stage, close, lost in sorted(moves + edits, key=lambda m: m[0]):
            when = min(when, today)
            amount += 100 if close is None and rng.random() < 0.5 else 0
            stamp = datetime(when.year, when.month, when.day, rng.randint(8, 18),
                             tzinfo=timezone.utc)
            events.append((stamp, f"opportunities/h{i:07d}.yaml",
                           deal_yaml(i, stage, amount, created, min(close, today)
                                     if close else None, lost)))
    events.sort(key=lambda e: e[0])
    branch = subprocess.run(["git", "symbolic-ref", "--short", "HEAD"], cwd=repo,
                            capture_output=True, text=True, check=True).stdout.strip()
    stream = []
    for k, (stamp, path, data) in enumerate(events):
        seconds = int(stamp.timestamp()) + k % 3600
        who = f"bench <bench@example.invalid> {seconds} +0000"
        message = f"{path[14:-5]}: change {k}".encode()
        stream.append(f"commit refs/heads/{branch}\nauthor {who}\ncommitter {who}\n"
                      f"data {len(message)}\n".encode() + message + b"\n")
        if k == 0:
            stream.append(f"from refs/heads/{branch}^0\n".encode())
        stream.append(f"M 100644 inline {path}\ndata {len(data)}\n".encode() + data + b"\n")
    subprocess.run(["git", "fast-import", "--quiet"], cwd=repo, input=b"".join(stream),
                   check=True)
    subprocess.run(["git", "reset", "-q", "--hard", branch], cwd=repo, check=True)
    return len(events)


def timed(repo: Path, *args: str, run: int | None = None) -> float:
    """One run's wall time. With ``run``, a variable of its own keeps opp from replaying
    the kept output of the same command (``read/outputs.py``): the history is read from
    its cache and the report computed, as after any new commit."""
    env = dict(os.environ, OPP_USER="bench", OPP_REPO=str(repo))
    if run is not None:
        env["OPP_BENCH_RUN"] = str(run)
    began = time.perf_counter()
    subprocess.run([sys.executable, "-m", "oppcli", *args], env=env, check=True,
                   capture_output=True)
    return time.perf_counter() - began


def run(n: int, workdir: Path, runs: int = 3) -> str:
    repo = workdir / "history"
    began = time.perf_counter()
    commits = build(repo, n)
    built = time.perf_counter() - began
    cold = timed(repo, "insights", "--format", "json")
    warm = statistics.median(timed(repo, "insights", "--format", "json", run=k)
                             for k in range(runs))
    replayed = statistics.median(timed(repo, "insights", "--format", "json")
                                 for _ in range(runs))
    history = statistics.median(timed(repo, "forecast", "--probabilities", "history",
                                      "--format", "json", run=k) for k in range(runs))
    goal = TARGET_WARM * max(1.0, n / 10_000)
    verdict = "pass" if warm <= goal else "FAIL"
    return (f"opp insights, {n:,} deals, {commits:,} commits of history "
            f"(built in {built:.1f} s)\n"
            f"  cold (reads the log, parses every version): {cold:6.2f} s\n"
            f"  warm (median of {runs}):                      {warm:6.2f} s  "
            f"target {goal:.1f} s  {verdict}\n"
            f"  the same output replayed (nothing changed):  {replayed:6.2f} s\n"
            f"  forecast --probabilities history, warm:      {history:6.2f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--n", type=int, default=10_000, help="deals (10000)")
    parser.add_argument("--runs", type=int, default=3, help="warm runs per median (3)")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="opp-bench-history-"))
    try:
        print(run(args.n, workdir, args.runs))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
