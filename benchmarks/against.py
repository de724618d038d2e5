"""opp's hot paths side by side with the code of another revision, run in turns.

    python benchmarks/against.py REV --n 100000 --runs 5
    python benchmarks/against.py REV --n 100000 --runs 9 --only cold

One repo of N deals with a year of history is generated (as ``bench.py`` does), and
copied, so that each code keeps its own index and kept outputs. The code of REV is
checked out from this project's git into a folder and put first on ``PYTHONPATH`` for
its runs. Each measurement runs the two in turns, one run of each at a time, so that
both see the same machine; the table gives the medians of wall time and of CPU time
(user + system, which other jobs on the machine move less), and after / before.

The repo's files are as REV writes them (``shared_settings``), which both codes read. The
two codes must print the same pipeline and forecast JSON on their copies: the
script checks that first, so that it never compares two programs doing different
things.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import PROJECT, Run, Scale, forget_index, median, run  # bench.py, beside this file


class Side:
    """One code (this tree, or REV's) and its copy of the repo."""

    def __init__(self, name: str, scale: Scale, repo: Path, code: Path | None):
        self.name, self.scale, self.repo, self.code = name, scale, repo, code

    def env(self) -> dict:
        env = self.scale.env()
        env["OPP_REPO"] = str(self.repo)
        if self.code is not None:
            env["PYTHONPATH"] = str(self.code)
        return env

    def opp(self, *args: str) -> Run:
        return run([sys.executable, "-m", "oppcli", *map(str, args)], self.env(),
                   cwd=self.repo)


def checkout(rev: str, into: Path) -> Path:
    """REV's ``oppcli`` package in ``into``, byte-compiled as an installed one is."""
    into.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(PROJECT), "archive", rev, "oppcli"],
                             capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(into / "oppcli")],
                   check=True)
    return into


def shared_settings(scale: Scale, code: Path, scratch: Path) -> None:
    """Commit, in the generated repo, the files as REV writes them: opp.yaml as its ``opp
    init`` does, deals without the (empty) fields it does not know yet (a deal's forecast
    category). A newer opp reads an older one's files (and must), while an older one
    refuses fields it does not know."""
    env = dict(scale.env(), PYTHONPATH=str(code))
    env.pop("OPP_REPO")
    # run from the scratch folder's parent: ``python -m`` puts the current folder first
    subprocess.run([sys.executable, "-m", "oppcli", "init", str(scratch)], env=env,
                   cwd=scratch.parent, capture_output=True, check=True)
    shutil.copyfile(scratch / "opp.yaml", scale.repo / "opp.yaml")
    for path in (scale.repo / "opportunities").iterdir():  # a deal's category came later
        text = path.read_bytes()
        if b"\ncategory: null\n" in text:
            path.write_bytes(text.replace(b"\ncategory: null\n", b"\n"))
    # gc.auto off: a gc that git detaches would repack while the repo is being copied
    done = subprocess.run(["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com",
                           "-c", "gc.auto=0", "commit", "-q", "-a", "-m",
                           "the files as the older code writes them"],
                          cwd=scale.repo, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"committing opp.yaml failed: {done.stderr.strip() or done.stdout}")


def measure(sides: list[Side], runs: int, ids: list[str], only: tuple[str, ...] = ()
            ) -> list[tuple[str, list, list]]:
    """(name, [wall medians], [CPU medians]) per measurement, the sides in turns; with
    ``only``, the measurements whose name holds one of those texts."""
    rows = []

    def turns(name: str, each) -> None:
        if only and not any(text in name for text in only):
            return
        got: list[list[Run]] = [[] for _ in sides]
        for i in range(runs):
            for k, side in enumerate(sides):
                got[k].append(each(side, i))
        rows.append((name, [median([r.seconds for r in g]) for g in got],
                     [median([r.cpu for r in g]) for g in got]))

    def cold(side: Side, _i: int) -> Run:
        forget_index(side.repo)
        return side.opp("pipeline")

    def after_note(side: Side, i: int) -> Run:
        side.opp("note", ids[i * 7 % len(ids)], f"against {i}")
        return side.opp("pipeline")

    turns("opp --help", lambda s, _i: s.opp("--help"))
    turns("opp pipeline, cold (no index)", cold)
    for side in sides:  # warm again after the cold runs
        side.opp("pipeline")
    turns("opp pipeline, warm", lambda s, _i: s.opp("pipeline"))
    turns("opp forecast, warm", lambda s, _i: s.opp("forecast"))
    turns("opp pipeline --format json, warm",
          lambda s, _i: s.opp("pipeline", "--format", "json"))
    turns("opp list --format json, warm", lambda s, _i: s.opp("list", "--format", "json"))
    turns("opp show ID", lambda s, i: s.opp("show", ids[i * 13 % len(ids)]))
    turns("opp note ID TEXT (commit included)",
          lambda s, i: s.opp("note", ids[i * 19 % len(ids)], f"change {i}"))
    turns("opp pipeline, first run after opp note", after_note)

    def after_hand_edit(side: Side, i: int) -> Run:  # as bench.py's: the objective
        path = side.repo / "opportunities" / f"{ids[i * 11 % len(ids)]}.yaml"
        path.write_text("".join(f"objective: {1000 + i}.00\n" if line.startswith("objective:")
                                else line for line in path.read_text().splitlines(True)))
        return side.opp("pipeline")

    turns("opp pipeline, first run after a hand edit", after_hand_edit)
    return rows


def table(n: int, rev: str, rows: list[tuple[str, list, list]]) -> str:
    width = max(len(name) for name, _, _ in rows)
    lines = [f"N = {n:,} deals; before = {rev}, after = this tree; medians in turns",
             f"{'measurement':<{width}}  {'wall before':>11}  {'wall after':>10}  "
             f"{'CPU before':>10}  {'CPU after':>9}  {'CPU after/before':>16}",
             f"{'-' * width}  {'-' * 11}  {'-' * 10}  {'-' * 10}  {'-' * 9}  {'-' * 16}"]
    for name, wall, cpu in rows:
        ratio = cpu[1] / cpu[0] if cpu[0] else float("nan")
        lines.append(f"{name:<{width}}  {wall[0]:>9.3f} s  {wall[1]:>8.3f} s  "
                     f"{cpu[0]:>8.3f} s  {cpu[1]:>7.3f} s  {ratio:>16.2f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("rev", help="the revision to compare with (a commit, a tag)")
    parser.add_argument("--n", type=int, default=10_000, help="deals to generate (10000)")
    parser.add_argument("--runs", type=int, default=5, help="runs of each, in turns (5)")
    parser.add_argument("--only", action="append", default=[], metavar="TEXT",
                        help="only the measurements whose name holds TEXT (repeatable)")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="opp-against-"))
    try:
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(PROJECT / "oppcli")],
                       check=True)
        scale = Scale(args.n, workdir, args.runs)
        scale.build()
        code = checkout(args.rev, workdir / "code-before")
        shared_settings(scale, code, workdir / "init-before")
        while (scale.repo / ".git" / "gc.pid").exists():  # a gc opp started, still running
            time.sleep(0.5)
        copy = workdir / "scale-before"
        subprocess.run(["cp", "-a", str(scale.repo), str(copy)], check=True)
        before = Side("before", scale, copy, code)
        after = Side("after", scale, scale.repo, None)
        sides = [before, after]
        for report in ("pipeline", "forecast"):
            outputs = [json.loads(s.opp(report, "--format", "json").stdout) for s in sides]
            if outputs[0] != outputs[1]:
                raise SystemExit(f"the two codes print different {report} JSON; "
                                 "nothing to compare")
        print(table(args.n, args.rev, measure(sides, args.runs, scale.open_ids, tuple(args.only))))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
