"""Benchmarks of opp on a generated pipeline: ``make bench`` (N=10000 by default,
``make bench N=100000`` for the big run).

Two parts, both printed as tables:

- Speed at scale (#9): a data repo of N opportunities with a year of history (13
  monthly commits, made quickly through ``git fast-import``) is timed against the
  targets of issue #9 (reports warm, after a change, cold; show; one change; import;
  ``--help``; peak memory; ``--as-of`` a month back), beside the two floors measured
  in the same run: parsing every file with PyYAML's C loader, and ``yq`` where it is
  installed. Each figure is the median of several runs (``--runs``).
- Import and export (#6): measurements registered with ``@measurement("name")``,
  run in order on a fresh repo filled by ``opp import`` of a generated CSV.

Timings are wall-clock seconds of ``python -m oppcli`` in a subprocess, as a user
would see them (byte-compiled first, as an installed package is).

    python benchmarks/bench.py --n 10000            # everything
    python benchmarks/bench.py --n 2000 --only import
    python benchmarks/bench.py --n 100000 --skip-transfer
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

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


@measurement("account import of N/5 accounts, then opp new resolving a name (#20)")
def accounts_and_new(bench: Bench) -> Result:
    """Accounts at 10,000 deals / 2,000 accounts: the names are resolved from the index
    (each account file read and hashed, none parsed), and ``opp new`` creates the deal
    for an existing account in one commit."""
    count = max(1, bench.n // 5)
    path = bench.workdir / "accounts.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["name", "city", "ref"])
        writer.writerows([f"Bench Account {i:05d} S.r.l.", "Milano", f"ACC-{i:05d}"]
                         for i in range(count))
    imported = bench.timed("account", "import", path)
    bench.opp("account", "list", "--format", "json")  # the index learns every account
    time.sleep(3)  # the account files' stat data is trusted once it is 3 s old
    deal = bench.opp("new", "Bench note target", "--customer", "Bench Account 00000",
                     stdout=subprocess.PIPE).stdout.strip()
    env = bench.env()
    runs, notes = [], []
    for i in range(5):  # opp new against opp note, in turns: both see the same machine
        runs.append(run([sys.executable, "-m", "oppcli", "new", f"Bench deal {i}",
                         "--customer", f"bench account {i:05d} srl"], env))
        notes.append(run([sys.executable, "-m", "oppcli", "note", deal, f"bench {i}"], env))
    show = bench.timed("account", "show", "Bench Account 00001", "--format", "json")
    return Result("account import of N/5 accounts, then opp new resolving a name (#20)",
                  median([r.seconds for r in runs]),
                  f"{count} accounts imported in {imported:.2f} s; CPU opp new "
                  f"{median([r.cpu for r in runs]):.2f} s vs opp note "
                  f"{median([r.cpu for r in notes]):.2f} s in turns; "
                  f"account show {show:.2f} s")


# ---------------------------------------------------------------- no quadratic paths (#27)


def _side_repo(bench: Bench, name: str) -> Path:
    """A fresh data repo of its own beside the benchmark's."""
    root = bench.workdir / name
    subprocess.run([sys.executable, "-m", "oppcli", "init", str(root)], env=bench.env(),
                   check=True, capture_output=True)
    return root


@measurement("settings change with 20,000 stages (target < 1 s)")
def many_stages(bench: Bench) -> Result:
    from oppcli.store import yamlio

    root = _side_repo(bench, "stages")
    stages = [{"id": f"s{i}", "label": f"Stage {i}", "probability": 10, "kind": "open"}
              for i in range(20_000)]
    settings = yamlio.load((root / "opp.yaml").read_bytes(), "opp.yaml")[0]
    settings["stages"] = stages + [s for s in settings["stages"] if s["kind"] != "open"]
    settings["default_stage"] = "s0"
    (root / "opp.yaml").write_text(yamlio.dump(settings))
    subprocess.run(["git", "-c", "user.name=b", "-c", "user.email=b@b", "commit", "-qam",
                    "many stages"], cwd=root, check=True)
    env = dict(bench.env(), OPP_REPO=str(root))
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "oppcli", "config", "add", "stages", "extra",
                    "--probability", "20"], env=env, check=True, capture_output=True)
    seconds = time.perf_counter() - start
    return Result("settings change with 20,000 stages (target < 1 s)", seconds,
                  "opp config add stages, one commit")


@measurement("merge driver on 30,000 notes (target < 2 s)")
def many_notes(bench: Bench) -> Result:
    from oppcli.store import yamlio

    root = _side_repo(bench, "notes")
    deal = {"id": "abcd1234", "name": "Busy deal", "customer": "Acme", "stage": "prospecting",
            "currency": "EUR", "owner": "bench", "created": date(2026, 1, 1)}
    when = datetime(2026, 1, 1, 10, 0, tzinfo=timezone.utc)
    notes = [{"id": f"n{i:06d}", "author": "bench", "date": when, "text": f"note {i}"}
             for i in range(30_000)]
    folder = root / "merge"
    folder.mkdir()
    for name, kept in (("base", notes[:10_000]), ("ours", notes[:20_000]),
                       ("theirs", notes[:10_000] + notes[20_000:])):
        (folder / name).write_text(yamlio.dump({**deal, "notes": kept}))
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "oppcli", "merge-driver", "merge/base",
                           "merge/ours", "merge/theirs", "opportunities/abcd1234.yaml"],
                          cwd=root, env=bench.env(), capture_output=True, text=True)
    seconds = time.perf_counter() - start
    merged = yamlio.load((folder / "ours").read_bytes(), "ours")[0]
    note = f"{len(merged['notes']):,} notes kept, exit {proc.returncode}"
    return Result("merge driver on 30,000 notes (target < 2 s)", seconds, note)


# ---------------------------------------------------------------- speed at scale (#9)

PROJECT = Path(__file__).resolve().parents[1]
HISTORY_MONTHS = 12  # a commit a month for a year, then today's


@dataclass
class Figure:
    """One row of the scale table: a measured value against its target."""

    name: str
    value: float | None  # seconds, MB or a ratio; None when not measured
    target: float | None = None
    unit: str = "s"
    note: str = ""

    def verdict(self) -> str:
        if self.value is None or self.target is None:
            return ""
        return "pass" if self.value <= self.target else "FAIL"


# the targets of issues #9 and #25: (10,000 opportunities, 100,000 opportunities)
TARGETS = {
    "warm": (0.12, 0.5), "after change": (0.2, 0.6), "cold ratio": (1.0, 1.0),
    "show": (0.2, 0.25), "change": (0.2, 0.3), "import": (20.0, 200.0), "help": (0.12, 0.12),
    "memory": (150.0, 150.0), "as-of": (1.0, 5.0), "warm / yq": (0.1, 0.1),
}


def target(name: str, n: int) -> float:
    small, big = TARGETS[name]
    if n <= 10_000:
        return small
    if n >= 100_000:
        return big
    return small + (big - small) * (n - 10_000) / 90_000  # in between: interpolated


@dataclass
class Run:
    seconds: float
    peak_mb: float
    stdout: str
    cpu: float = 0.0  # user + system seconds of the command and the processes it waited for


def run(cmd: list[str], env: dict, cwd: Path | None = None, check: bool = True) -> Run:
    """Run a command; its wall time, peak memory (maximum resident set size) and CPU
    time (which other jobs on the machine move less than the wall time)."""
    try:
        import resource
    except ImportError:
        resource = None  # type: ignore[assignment]  # Windows has no resource module
    before = resource.getrusage(resource.RUSAGE_CHILDREN) if resource else None
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    out, err = proc.communicate()
    seconds = time.perf_counter() - start
    peak_mb = cpu = 0.0
    if resource and before:
        # communicate() reaped it; ru_maxrss of the children is the largest so far, so
        # each command is also measured alone below where its memory matters
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        peak_mb = after.ru_maxrss / 1024
        cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    if check and proc.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, cmd))} failed: {err.decode().strip()}")
    return Run(seconds, peak_mb, out.decode(), cpu)


def peak_memory(cmd: list[str], env: dict) -> float:
    """Peak resident memory of one command, in MB, read by a fresh measuring process."""
    probe = ("import resource, subprocess, sys; "
             "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True); "
             "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", probe, *cmd], env=env, capture_output=True,
                         text=True, check=True).stdout
    return int(out.strip()) / 1024


def forget_index(repo: Path) -> None:
    """No index and no kept outputs (``read.outputs``) in ``repo``: a cold run."""
    index = repo / ".git" / "opp-index.sqlite3"
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{index}{suffix}").unlink(missing_ok=True)
    shutil.rmtree(repo / ".git" / "opp-outputs", ignore_errors=True)


def median(values: list[float]) -> float:
    return statistics.median(values)


class Scale:
    """A data repo of N opportunities with a year of history, and the timings."""

    def __init__(self, n: int, workdir: Path, runs: int):
        self.n = n
        self.runs = runs
        self.repo = workdir / "scale"
        self.rng = random.Random(9)
        self.ids: list[str] = []

    def env(self, **extra: str) -> dict:
        env = dict(os.environ, OPP_USER="bench", OPP_REPO=str(self.repo), **extra)
        env.pop("OPP_NO_INDEX", None)
        return env

    def opp(self, *args: str, **env: str) -> Run:
        return run([sys.executable, "-m", "oppcli", *map(str, args)], self.env(**env))

    def git(self, *args: str, input: bytes | None = None, env: dict | None = None
            ) -> str:
        return subprocess.run(["git", *args], cwd=self.repo, input=input, capture_output=True,
                              check=True, env=env).stdout.decode()

    # -------------------------------------------------------- generating

    def build(self) -> None:
        """``opp init`` a year ago, then one commit a month adding that month's deals and
        moving some older ones on (through ``git fast-import``), then check out."""
        sys.path.insert(0, str(PROJECT))
        from oppcli.domain.model import Activity, Opportunity, Quote, QuoteLine, Settings
        from oppcli.store.yamlio import dump

        def dated_items(created: date, closed: bool) -> dict:
            """Activities (2 deals in 5), and a sent quote (1 open deal in 10): what the
            agenda reads, some overdue, some due soon."""
            out: dict = {}
            if rng.random() < 0.4:
                kinds = ["call", "visit", "meeting", "email", "task"]
                acts = []
                for k in range(rng.randint(1, 3)):
                    planned = not closed and rng.random() < 0.5
                    day = (today + timedelta(days=rng.randint(-20, 40)) if planned
                           else created + timedelta(days=rng.randint(0, 10)))
                    acts.append(Activity(id=f"a{k}{rng.randint(1000, 9999)}",
                                         type=rng.choice(kinds), subject=f"Follow-up {k + 1}",
                                         date=min(day, today) if not planned else day,
                                         done=not planned))
                out["activities"] = acts
            if not closed and rng.random() < 0.1:
                sku, name, price = rng.choice(PRODUCTS)
                line = QuoteLine(id="l1", sku=sku, description=name, quantity=Decimal(1),
                                 unit_price=Decimal(price), total=Decimal(price))
                sent = min(created + timedelta(days=rng.randint(0, 20)), today)
                out["quotes"] = [Quote(id="q1", status="sent", created=created, sent=sent,
                                       lines=[line], total=Decimal(price))]
            return out

        today = date.today()
        start = today - timedelta(days=30 * (HISTORY_MONTHS + 1))
        stamp = f"{start.isoformat()}T09:00:00+00:00"
        dated = dict(GIT_AUTHOR_DATE=stamp, GIT_COMMITTER_DATE=stamp)
        self.opp("init", self.repo, **dated)
        for sku, name, price in PRODUCTS:
            self.opp("catalog", "add", sku, "--name", name, "--price", price, **dated)
        self.git("config", "core.untrackedCache", "true")
        settings = Settings()
        alphabet = "0123456789abcdefghjkmnpqrstvwxyz"
        taken: set[str] = set()
        opps: dict[str, Opportunity] = {}
        rng = self.rng
        stream: list[bytes] = []
        mark = 0
        branch = self.git("symbolic-ref", "HEAD").strip()
        parent = self.git("rev-parse", "HEAD").strip()
        per_month = [self.n // (HISTORY_MONTHS + 1)] * (HISTORY_MONTHS + 1)
        per_month[-1] += self.n - sum(per_month)
        open_stages = [s for s in settings.stages if s.kind == "open"]
        for month, count in enumerate(per_month):
            day = start + timedelta(days=30 * (month + 1))
            if month == HISTORY_MONTHS:
                day = today
            changed: dict[str, Opportunity] = {}
            # a few older open deals move on a stage
            for opp_id in rng.sample(sorted(opps), min(len(opps), count // 20)):
                opp = opps[opp_id]
                ranks = [s.id for s in open_stages]
                if opp.stage in ranks and ranks.index(opp.stage) + 1 < len(ranks):
                    changed[opp_id] = opp.model_copy(
                        update={"stage": ranks[ranks.index(opp.stage) + 1]})
            for _ in range(count):
                while True:
                    opp_id = "".join(rng.choice(alphabet) for _ in range(8))
                    if opp_id not in taken:
                        break
                taken.add(opp_id)
                stage = rng.choices(settings.stages, weights=[20, 15, 15, 10, 25, 15])[0]
                closed = stage.kind != "open"
                created = day - timedelta(days=rng.randint(0, 25))
                close = (day - timedelta(days=rng.randint(0, 25)) if closed
                         else day + timedelta(days=rng.randint(1, 365)))
                changed[opp_id] = Opportunity(
                    id=opp_id, name=f"{rng.choice(['Renewal', 'Expansion', 'Upsell'])} "
                    f"{len(taken)}", customer=rng.choice(CUSTOMERS), stage=stage.id,
                    amount=Decimal(rng.randint(0, 5_000_000)) / 100,
                    objective=Decimal(rng.randint(1000, 90000)) if rng.random() < 0.5
                    else None, currency="EUR" if rng.random() < 0.95 else "USD",
                    close_date=close, owner=rng.choice(OWNERS),
                    lost_reason=rng.choice(["price", "timing"]) if stage.kind == "lost"
                    else None, ref=f"CRM-{len(taken):07d}", created=created,
                    **dated_items(created, closed))
            opps.update(changed)
            files = []
            for opp_id, opp in changed.items():
                data = dump(opp.model_dump(mode="python")).encode()
                mark += 1
                stream.append(b"blob\nmark :%d\ndata %d\n%s\n" % (mark, len(data), data))
                files.append(b"M 100644 :%d opportunities/%s.yaml\n" % (mark, opp_id.encode()))
            when = int(time.mktime(day.timetuple())) + 10 * 3600
            message = f"bench: {count} new, {len(changed) - count} moved on".encode()
            stream.append(b"commit %s\ncommitter bench <bench@opp.invalid> %d +0000\n"
                          b"data %d\n%s\n" % (branch.encode(), when, len(message), message))
            if parent:
                stream.append(b"from %s\n" % parent.encode())
                parent = ""
            stream.extend(files)
            stream.append(b"\n")
        self.git("fast-import", "--quiet", input=b"".join(stream))
        self.git("reset", "-q", "--hard")
        self.ids = sorted(opps)
        self.open_ids = sorted(i for i, o in opps.items()  # catalog prices are in EUR
                               if settings.stage(o.stage).kind == "open" and o.currency == "EUR")

    def reuse(self) -> None:
        """Take the repo a previous run kept (``--keep``, then ``--reuse DIR``)."""
        rows = list(csv.DictReader(self.opp("list", "--format", "csv").stdout.splitlines()))
        self.ids = sorted(r["id"] for r in rows)
        self.open_ids = sorted(r["id"] for r in rows
                               if r["status"] == "open" and r["currency"] == "EUR")

    # -------------------------------------------------------- floors

    def floor_c_loader(self) -> float:
        """Parse every opportunity file with PyYAML's C loader, in a fresh process."""
        code = ("import os, yaml\n"
                "folder = 'opportunities'\n"
                "for name in os.listdir(folder):\n"
                "    with open(os.path.join(folder, name), 'rb') as fh:\n"
                "        yaml.load(fh.read(), Loader=yaml.CSafeLoader)\n")
        return median([run([sys.executable, "-c", code], self.env(), cwd=self.repo).seconds
                       for _ in range(self.runs)])

    def floor_yq(self) -> tuple[float | None, str]:
        """Sum the amounts of every file with ``yq`` (the jq wrapper, or mikefarah's)."""
        yq = shutil.which("yq")
        if not yq:
            return None, "yq not installed"
        version = subprocess.run([yq, "--version"], capture_output=True, text=True)
        text = (version.stdout + version.stderr).strip()
        if "mikefarah" in text or "version v4" in text:  # the Go yq: one value per file
            script = ("find opportunities -name '*.yaml' -print0 | xargs -0 "
                      f"{yq} ea -N '.amount' | awk '{{s+=$1}} END {{print s}}'")
        else:  # kislyuk's yq: jq over every file (--slurp), xargs batches, awk adds up
            script = ("find opportunities -name '*.yaml' -print0 | xargs -0 "
                      f"{yq} -s 'map(.amount) | add' | awk '{{s+=$1}} END {{print s}}'")
        runs = max(1, min(self.runs, 3 if self.n <= 20_000 else 1))
        seconds = median([run(["bash", "-c", script], self.env(), cwd=self.repo).seconds
                          for _ in range(runs)])
        return seconds, f"{yq} ({text.splitlines()[0] if text else '?'}), {runs} run(s)"

    # -------------------------------------------------------- opp

    def timed(self, *args: str, runs: int | None = None, before=None) -> float:
        values = []
        for i in range(runs or self.runs):
            if before is not None:
                before(i)
            values.append(self.opp(*args).seconds)
        return median(values)

    def paired(self, one: tuple[str, ...], other: tuple[str, ...]
               ) -> tuple[float, float, float, float]:
        """Medians of two commands run in turns, one run of each at a time: wall time of
        each, then CPU time of each. Each run has a variable of its own, so that neither
        replays its kept output (``read/outputs.py``): both are computed from the index."""
        firsts, seconds = [], []
        tag = f"{time.time_ns()}"  # a later call replays none of these runs either
        for i in range(max(self.runs, 15)):  # 15 turns at least: a ratio of close medians
            firsts.append(self.opp(*one, OPP_BENCH_RUN=f"{tag}-{i}a"))
            seconds.append(self.opp(*other, OPP_BENCH_RUN=f"{tag}-{i}b"))
        return (median([r.seconds for r in firsts]), median([r.seconds for r in seconds]),
                median([r.cpu for r in firsts]), median([r.cpu for r in seconds]))

    def drop_index(self, _i: int = 0) -> None:
        forget_index(self.repo)

    def hand_edit(self, i: int) -> None:
        """Edit one file as a person would (its objective), without opp."""
        path = self.repo / "opportunities" / f"{self.open_ids[i]}.yaml"
        text = path.read_text()
        lines = [f"objective: {1000 + i}.00" if line.startswith("objective:") else line
                 for line in text.splitlines()]
        path.write_text("\n".join(lines) + "\n")

    def figures(self, c_floor: float, yq: float | None = None) -> list[Figure]:
        n, out = self.n, []
        fig = out.append
        fig(Figure("opp --help", self.timed("--help", runs=max(self.runs, 9)),
                   target("help", n)))
        cold = self.timed("pipeline", before=self.drop_index)
        fig(Figure("opp pipeline, cold (no index)", cold, None,
                   note=f"{cold / c_floor:.2f} x the C loader floor"))
        fig(Figure("  cold / C-loader floor", cold / c_floor, target("cold ratio", n), "x"))
        fig(Figure("opp pipeline, warm", self.timed("pipeline"), target("warm", n)))
        # the agenda against the pipeline, run in turns so that both see the same machine;
        # its first run reads the history once (then the index keeps the days)
        first = self.opp("agenda").seconds
        pipeline_warm, agenda_warm, pipeline_cpu, agenda_cpu = self.paired(("pipeline",),
                                                                           ("agenda",))
        fig(Figure("opp agenda, warm", agenda_warm, pipeline_warm,
                   note=f"target: opp pipeline warm in turn with it; first run {first:.2f} s"))
        fig(Figure("  CPU time, agenda / pipeline", agenda_cpu / pipeline_cpu, 1.0, "x",
                   note=f"{agenda_cpu:.2f} s / {pipeline_cpu:.2f} s, medians in turn"))
        fig(Figure("opp agenda --format json, warm", self.timed("agenda", "--format", "json")))
        fig(Figure("opp forecast, warm", self.timed("forecast"), target("warm", n)))
        pipeline_json = self.timed("pipeline", "--format", "json")
        fig(Figure("opp pipeline --format json, warm", pipeline_json, target("warm", n)))
        if yq:
            fig(Figure("  warm / yq sum of the same files", pipeline_json / yq,
                       target("warm / yq", n), "x",
                       note=f"{yq / pipeline_json:.1f} times faster than yq"))
        fig(Figure("opp forecast --format json, warm",
                   self.timed("forecast", "--format", "json"), target("warm", n)))
        fig(Figure("opp list --format json, warm", self.timed("list", "--format", "json"),
                   target("warm", n)))

        # a change made with opp, then the first report
        for report, stride in (("pipeline", 7), ("forecast", 11), ("agenda", 13)):
            after = []
            for i in range(self.runs):
                self.opp("note", self.ids[i * stride % len(self.ids)], f"bench note {i}")
                after.append(self.opp(report).seconds)
            fig(Figure(f"opp {report}, first run after opp note", median(after),
                       target("after change", n)))
        after = []
        for i in range(self.runs):
            self.hand_edit(i)
            after.append(self.opp("pipeline").seconds)
        self.git("checkout", "-q", "--", "opportunities")
        fig(Figure("opp pipeline, first run after a hand edit", median(after),
                   target("after change", n), note="parses the file: imports pydantic"))
        self.opp("pipeline")

        fig(Figure("opp show ID", median([self.opp("show", self.ids[i * 13 % n]).seconds
                                          for i in range(self.runs)]), target("show", n)))
        fig(Figure("opp show ID --format json",
                   median([self.opp("show", self.ids[i * 17 % n], "--format", "json").seconds
                           for i in range(self.runs)])))
        fig(Figure("opp note ID TEXT (commit included)",
                   median([self.opp("note", self.ids[i * 19 % n], f"change {i}").seconds
                           for i in range(self.runs)]), target("change", n)))
        fig(Figure("opp add-product ID SKU (commit included)",
                   median([self.opp("add-product", self.open_ids[i * 23 % len(self.open_ids)],
                                    "SRV-01").seconds for i in range(self.runs)]),
                   target("change", n)))

        self.opp("pipeline")
        fig(Figure("peak memory, opp pipeline warm",
                   peak_memory([sys.executable, "-m", "oppcli", "pipeline"], self.env()),
                   target("memory", n), "MB"))
        self.drop_index()
        fig(Figure("peak memory, opp pipeline cold",
                   peak_memory([sys.executable, "-m", "oppcli", "pipeline"], self.env()),
                   target("memory", n), "MB"))
        month_ago = (date.today() - timedelta(days=30)).isoformat()
        first = self.opp("pipeline", "--as-of", month_ago).seconds
        fig(Figure("opp pipeline --as-of a month back", self.timed("pipeline", "--as-of",
                                                                  month_ago),
                   target("as-of", n), note=f"first run {first:.2f} s"))
        fig(Figure("opp forecast --as-of a month back", self.timed("forecast", "--as-of",
                                                                  month_ago),
                   target("as-of", n)))
        week_ago = (date.today() - timedelta(days=7)).isoformat()
        fig(Figure("opp changes --since a week back", self.timed("changes", "--since",
                                                                week_ago)))
        return out


def import_figure(n: int, workdir: Path) -> Figure:
    """``opp import`` of N generated rows into a fresh repo (once: it is slow)."""
    bench = Bench(n, workdir / "import")
    bench.workdir.mkdir()
    setup(bench)
    seconds = bench.timed("import", bench.csv_path)
    return Figure("opp import N rows (fresh repo, one commit)", seconds, target("import", n),
                  note=f"{n / seconds:,.0f} rows/s")


def scale_table(n: int, figures: list[Figure], floors: list[Figure]) -> str:
    width = max(len(f.name) for f in figures + floors)
    lines = [f"opp at scale, N = {n:,} opportunities, {os.cpu_count()} CPU(s), "
             f"python {sys.version.split()[0]}, medians",
             f"{'measurement':<{width}}  {'value':>9}  {'target':>9}  verdict  note",
             f"{'-' * width}  {'-' * 9}  {'-' * 9}  -------  ----"]

    def show(value: float | None, unit: str) -> str:
        if value is None:
            return "-"
        return f"{value:.2f} {unit}" if unit != "MB" else f"{value:.0f} MB"

    for f in floors + figures:
        tgt = "" if f.target is None else ("<= " + show(f.target, f.unit))
        lines.append(f"{f.name:<{width}}  {show(f.value, f.unit):>9}  {tgt:>9}  "
                     f"{f.verdict():<7}  {f.note}")
    return "\n".join(lines)


def scale(n: int, workdir: Path, runs: int, with_import: bool,
          reuse: Path | None = None) -> str:
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(PROJECT / "oppcli")],
                   check=True)
    s = Scale(n, reuse or workdir, runs)
    began = time.perf_counter()
    if reuse:
        s.reuse()
        n = s.n = len(s.ids)
    else:
        s.build()
    built = time.perf_counter() - began
    c_floor = s.floor_c_loader()
    yq_seconds, yq_note = s.floor_yq()
    floors = [Figure("floor: parse every file, PyYAML C loader", c_floor),
              Figure("floor: yq, sum of amount over every file", yq_seconds, note=yq_note)]
    figures = s.figures(c_floor, yq_seconds)
    if with_import:
        figures.append(import_figure(n, workdir))
    return scale_table(n, figures, floors) + f"\n(repo of {n:,} files and 13 monthly " \
        f"commits generated in {built:.1f} s)"


# ---------------------------------------------------------------- main


def setup(bench: Bench) -> None:
    bench.opp("init", bench.repo)
    catalog = bench.workdir / "catalog.csv"
    with open(catalog, "w", newline="") as fh:
        csv.writer(fh).writerows([("sku", "name", "price"), *PRODUCTS])
    bench.opp("catalog", "import", catalog)
    write_csv(bench.csv_path, generate_rows(bench.n))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--n", type=int, default=10_000, help="rows to generate (10000)")
    parser.add_argument("--runs", type=int, default=5, help="runs per median (5)")
    parser.add_argument("--only", action="append", default=[],
                        help="run only import/export measurements whose name holds this text "
                             "(repeatable; later ones still run on the state the skipped ones "
                             "would leave); skips the scale part")
    parser.add_argument("--skip-scale", action="store_true", help="only import and export")
    parser.add_argument("--skip-transfer", action="store_true",
                        help="only the scale part (with its one timed import)")
    parser.add_argument("--skip-history", action="store_true",
                        help="skip opp insights over N deals with ~5 N commits (#23)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument("--reuse", type=Path, metavar="DIR",
                        help="time the scale repo a --keep run left in DIR (skips building)")
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="opp-bench-"))
    results: list[Result] = []
    try:
        if not args.skip_scale and not args.only:
            print(scale(args.n, workdir, args.runs, with_import=not args.reuse,
                        reuse=args.reuse), flush=True)
            print()
        if not args.skip_history and not args.only:
            sys.path.insert(0, str(Path(__file__).resolve().parent))
            import history  # benchmarks/history.py: opp insights over a long history

            print(history.run(args.n, workdir, min(args.runs, 3)), flush=True)
            print()
        if not args.skip_transfer:
            bench = Bench(args.n, workdir / "transfer")
            bench.workdir.mkdir()
            setup(bench)
            for name, run_one in MEASUREMENTS:
                wanted = not args.only or any(o in name for o in args.only)
                # the repo must hold the imported rows for everything after the import
                if wanted or name == "import N rows into a fresh repo":
                    result = run_one(bench)
                    if wanted:
                        results.append(result)
    finally:
        if args.keep:
            print(f"work folder kept: {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    if results:
        width = max(len(r.name) for r in results)
        print(f"opp import and export, N = {args.n:,} rows, {os.cpu_count()} CPU(s), "
              f"python {sys.version.split()[0]}")
        print(f"{'measurement':<{width}}  {'seconds':>8}  note")
        print(f"{'-' * width}  {'-' * 8}  ----")
        for r in results:
            print(f"{r.name:<{width}}  {r.seconds:>8.2f}  {r.note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
