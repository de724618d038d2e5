"""Benchmarks of opp on a generated pipeline: ``make bench`` (N=10000 rows by default).

Each measurement is a function registered with ``@measurement("name")``: it gets the
``Bench`` (a fresh data repo, the generated CSV, a way to run opp) and returns what
it timed. They run in the order they are registered, each on the repo as the
previous ones left it; add one by writing a function below. Timings are wall-clock
seconds of ``python -m oppcli`` in a subprocess, as a user would see them.

    python benchmarks/bench.py --n 10000            # all measurements
    python benchmarks/bench.py --n 2000 --only import
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Callable, Optional

STAGES = ["prospecting", "qualification", "proposal", "negotiation", "closed-won",
          "closed-lost"]
CUSTOMERS = ["Acme Corp", "Globex", "Initech", "Umbrella", "Hooli", "Stark Industries",
             "Wayne Enterprises", "Wonka Industries", "Tyrell Corp", "Cyberdyne Systems",
             "Soylent", "Massive Dynamic", "Société Générale", "Müller GmbH"]
OWNERS = ["Ann Lee", "Bo Chen", "Cleo Diaz", "Dev Patel", "Eva Novak"]
PRODUCTS = [("SRV-01", "Support plan", "1200.00"), ("LIC-10", "Licence pack", "99.99"),
            ("CONS", "Consulting day", "950.00"), ("HW-200", "Appliance", "4821.00")]


# ---------------------------------------------------------------- the harness


@dataclass
class Result:
    name: str
    seconds: float
    note: str = ""


@dataclass
class Bench:
    n: int
    workdir: Path
    repo: Path = field(init=False)
    csv_path: Path = field(init=False)

    def __post_init__(self) -> None:
        self.repo = self.workdir / "crm"
        self.csv_path = self.workdir / "pipeline.csv"

    def env(self) -> dict:
        return dict(os.environ, OPP_USER="bench", OPP_REPO=str(self.repo))

    def opp(self, *args: str, stdout=subprocess.DEVNULL) -> subprocess.CompletedProcess:
        """Run opp; a failure stops the benchmark with opp's message."""
        proc = subprocess.run([sys.executable, "-m", "oppcli", *map(str, args)], env=self.env(),
                              stdout=stdout, stderr=subprocess.PIPE, text=True)
        if proc.returncode != 0:
            raise SystemExit(f"opp {' '.join(map(str, args))} failed: {proc.stderr.strip()}")
        return proc

    def timed(self, *args: str) -> float:
        start = time.perf_counter()
        self.opp(*args)
        return time.perf_counter() - start

    def git(self, *args: str) -> str:
        return subprocess.run(["git", *args], cwd=self.repo, capture_output=True, text=True,
                              check=True).stdout


MEASUREMENTS: list[tuple[str, Callable[[Bench], Result]]] = []


def measurement(name: str):
    """Register a measurement; it returns a Result (or seconds)."""
    def register(fn):
        def run(bench: Bench) -> Result:
            out = fn(bench)
            return out if isinstance(out, Result) else Result(name, out)
        MEASUREMENTS.append((name, run))
        return fn
    return register


# ---------------------------------------------------------------- generated data


def generate_rows(n: int, seed: int = 6) -> list[dict]:
    """N plausible opportunities: refs, every stage, amounts, dates, some products."""
    rng = random.Random(seed)
    today = date.today()
    rows = []
    for i in range(n):
        stage = rng.choices(STAGES, weights=[20, 15, 15, 10, 25, 15])[0]
        closed = stage.startswith("closed")
        close = today - timedelta(days=rng.randint(1, 700)) if closed else \
            today + timedelta(days=rng.randint(1, 365))
        product = rng.choice(PRODUCTS)[0] if rng.random() < 0.3 else ""
        rows.append({
            "ref": f"CRM-{i:07d}",
            "name": f"{rng.choice(['Renewal', 'Expansion', 'New logo', 'Upsell'])} {i}",
            "customer": rng.choice(CUSTOMERS),
            "stage": stage,
            "amount": f"{rng.randint(0, 5_000_000) / 100:.2f}" if rng.random() < 0.9 else "",
            "objective": f"{rng.randint(1000, 90000)}.00" if rng.random() < 0.5 else "",
            "close_date": close.isoformat(),
            "owner": rng.choice(OWNERS),
            "lost_reason": rng.choice(["price", "competitor", "timing"])
            if stage == "closed-lost" else "",
            "product": product,
        })
    return rows


def write_csv(path: Path, rows: list[dict]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


# ---------------------------------------------------------------- measurements


@measurement("import N rows into a fresh repo")
def fresh_import(bench: Bench) -> Result:
    seconds = bench.timed("import", bench.csv_path)
    files = len(bench.git("ls-files", "opportunities").splitlines())
    commits = bench.git("rev-list", "--count", "HEAD").strip()
    return Result("import N rows into a fresh repo", seconds,
                  f"{bench.n / seconds:,.0f} rows/s; {files} files, {commits} commits in all")


@measurement("re-import, nothing changed")
def reimport_unchanged(bench: Bench) -> Result:
    head = bench.git("rev-parse", "HEAD")
    seconds = bench.timed("import", bench.csv_path)
    same = bench.git("rev-parse", "HEAD") == head
    return Result("re-import, nothing changed", seconds, "no commit" if same else "COMMITTED")


@measurement("re-import, 1% of open rows changed")
def reimport_some(bench: Bench) -> Result:
    with open(bench.csv_path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    changed = 0
    for row in rows:
        if not row["stage"].startswith("closed") and changed < max(1, bench.n // 100):
            row["objective"] = "12345.00"
            changed += 1
    path = bench.workdir / "changed.csv"
    write_csv(path, rows)
    seconds = bench.timed("import", path)
    return Result("re-import, 1% of open rows changed", seconds, f"{changed} updated, one commit")


@measurement("export --format csv")
def export_csv(bench: Bench) -> float:
    return bench.timed("export")


@measurement("export --format json")
def export_json(bench: Bench) -> float:
    return bench.timed("export", "--format", "json")


@measurement("list --format json")
def list_json(bench: Bench) -> float:
    return bench.timed("list", "--format", "json")


# ---------------------------------------------------------------- main


def setup(bench: Bench) -> None:
    bench.opp("init", bench.repo)
    catalog = bench.workdir / "catalog.csv"
    with open(catalog, "w", newline="") as fh:
        csv.writer(fh).writerows([("sku", "name", "price"), *PRODUCTS])
    bench.opp("catalog", "import", catalog)
    write_csv(bench.csv_path, generate_rows(bench.n))


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--n", type=int, default=10_000, help="rows to generate (10000)")
    parser.add_argument("--only", action="append", default=[],
                        help="run only measurements whose name holds this text (repeatable; "
                             "later ones still run on the state the skipped ones would leave)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="opp-bench-"))
    bench = Bench(args.n, workdir)
    results: list[Result] = []
    try:
        setup(bench)
        for name, run in MEASUREMENTS:
            wanted = not args.only or any(o in name for o in args.only)
            # the repo must hold the imported rows for everything after the import
            if wanted or name == "import N rows into a fresh repo":
                result = run(bench)
                if wanted:
                    results.append(result)
    finally:
        if args.keep:
            print(f"work folder kept: {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    width = max(len(r.name) for r in results)
    print(f"opp benchmarks, N = {args.n:,} rows, {os.cpu_count()} CPU(s), "
          f"python {sys.version.split()[0]}")
    print(f"{'measurement':<{width}}  {'seconds':>8}  note")
    print(f"{'-' * width}  {'-' * 8}  ----")
    for r in results:
        print(f"{r.name:<{width}}  {r.seconds:>8.2f}  {r.note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
