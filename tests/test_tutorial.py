"""The README's examples are real: its tutorial, followed word for word as a new user
would, prints what the README shows, ids and dates aside.

Every ``console`` block of the README's "Tutorial" section is a list of ``$ `` commands,
each followed by what it prints (stdout and stderr, as a terminal shows them). The
commands run one after the other in bash, in an empty HOME with no git identity, each
in the folder the ``cd`` commands before it lead to; ``export NAME=VALUE`` and
``NAME=$(command)`` set variables for the commands after them, as a shell would. The
first ``console`` block of the README, the example at the top, runs in a copy of
examples/demo-repo.

Dates are pinned (``OPP_TODAY``, git's author and committer dates) so that the run is
the same on any day, and normalised as well as ids when compared: the README shows the
day it was written and the ids its run drew.

To refresh the README after changing what these commands print:

    python tests/test_tutorial.py --write     # runs them today and rewrites the blocks
"""

from __future__ import annotations

import difflib
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DEMO = ROOT / "examples" / "demo-repo"
TODAY = "2026-11-30"  # any day: the comparison normalises dates
FENCE = "```console"


@dataclass
class Step:
    command: str
    output: list[str]


@dataclass
class Block:
    start: int  # the line of the opening fence
    end: int  # the line of the closing fence
    steps: list[Step]


def console_blocks(lines: list[str], section: str | None = None) -> list[Block]:
    """The ``console`` blocks of the README, or of its section titled ``section``."""
    blocks: list[Block] = []
    inside = section is None
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("## ") and section is not None:
            inside = line[3:].strip().startswith(section)
        if inside and line.strip() == FENCE:
            end = lines.index("```", i + 1)
            steps: list[Step] = []
            for text in lines[i + 1:end]:
                if text.startswith("$ "):
                    steps.append(Step(text[2:], []))
                else:
                    assert steps, f"README.md:{i + 2}: output before any '$ ' command"
                    steps[-1].output.append(text)
            blocks.append(Block(i, end, steps))
            i = end
        i += 1
    return blocks


def environment(home: Path, bindir: Path, pinned: bool) -> dict[str, str]:
    """A new user's environment: opp on PATH, an empty HOME, no git identity, nothing
    of opp's settings; dates pinned unless ``pinned`` is false."""
    keep = ("PATH", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(PATH=f"{bindir}{os.pathsep}{env.get('PATH', os.defpath)}", HOME=str(home),
               GIT_CONFIG_NOSYSTEM="1", PYTHONUNBUFFERED="1", PYTHONIOENCODING="utf-8",
               TZ="UTC", USER="newcomer", LOGNAME="newcomer")
    if pinned:
        stamp = f"{TODAY}T10:00:00+00:00"
        env.update(OPP_TODAY=TODAY, GIT_AUTHOR_DATE=stamp, GIT_COMMITTER_DATE=stamp)
    return env


def opp_on_path(bindir: Path) -> None:
    """An ``opp`` command running this checkout's opp with this Python, or the installed
    ``opp`` that ``OPP_TUTORIAL_OPP`` names (tools/try-install, after the README's
    Install)."""
    bindir.mkdir(parents=True, exist_ok=True)
    script = bindir / "opp"
    installed = os.environ.get("OPP_TUTORIAL_OPP")
    command = f'"{installed}"' if installed else f'"{sys.executable}" -m oppcli'
    script.write_text(f'#!/bin/sh\nexec {command} "$@"\n')
    script.chmod(0o755)


ASSIGN = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=\$\((.*)\)$")


def run_steps(steps: list[Step], cwd: Path, env: dict[str, str]) -> list[list[str]]:
    """Run the commands as a shell session would; what each printed, as lines."""
    outputs = []
    for step in steps:
        command = step.command
        if command.startswith("cd "):
            cwd = (cwd / shlex.split(command[3:])[0]).resolve()
            outputs.append([])
            continue
        if command.startswith("export "):
            name, _, value = shlex.split(command[7:])[0].partition("=")
            env[name] = value
            outputs.append([])
            continue
        assign = ASSIGN.match(command)
        r = subprocess.run(["bash", "-c", assign.group(2) if assign else command], cwd=cwd,
                           env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE if assign else subprocess.STDOUT,
                           text=True, encoding="utf-8")
        shown = r.stderr if assign else r.stdout
        assert r.returncode == 0, f"$ {command}\nexit {r.returncode}\n{r.stdout}{r.stderr or ''}"
        if assign:
            env[assign.group(1)] = r.stdout.strip()
        outputs.append(shown.splitlines())
    return outputs


def demo_copy(where: Path, env: dict[str, str]) -> Path:
    """examples/demo-repo as a git repo of its own, as `make demo` makes it."""
    repo = where / "crm"
    shutil.copytree(DEMO, repo)
    ident = ["-c", "user.name=opp demo", "-c", "user.email=demo@opp.invalid"]
    for args in (["init", "-q"], ["add", "-A"], [*ident, "commit", "-q", "-m", "demo"]):
        subprocess.run(["git", *args], cwd=repo, env=env, check=True)
    return repo


# ------------------------------------------------------------------ comparing


DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}(?::\d{2})?")
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
PERIOD = re.compile(r"\b\d{4}-(?:\d{2}|Q[1-4])\b")
PATH = re.compile(r"(?<!\S)/\S*")
TOKEN = re.compile(r"[0-9A-Za-z]+|[^0-9A-Za-z]+")
ID = re.compile(r"[0-9a-z]{6}|[0-9a-z]{8}")


def normalise(line: str) -> str:
    line = DATE_TIME.sub("YYYY-MM-DD HH:MM", line)
    line = DATE.sub("YYYY-MM-DD", line)
    line = PERIOD.sub("YYYY-PP", line)
    return PATH.sub("/PATH", line).rstrip()


def same(expected: list[str], actual: list[str], ids: dict[str, str]) -> bool:
    """Whether the lines match once normalised, an id of the README standing for the id
    the run drew in its place, the same one wherever it appears (``ids`` keeps that)."""
    if len(expected) != len(actual):
        return False
    for want, got in zip(expected, actual):
        want_tokens = TOKEN.findall(normalise(want))
        got_tokens = TOKEN.findall(normalise(got))
        if len(want_tokens) != len(got_tokens):
            return False
        for w, g in zip(want_tokens, got_tokens):
            if w == g and ids.get(w, g) == g:
                continue
            if not (ID.fullmatch(w) and ID.fullmatch(g) and len(w) == len(g)):
                return False
            if ids.setdefault(w, g) != g or list(ids.values()).count(g) > 1:
                return False
    return True


def check(steps: list[Step], outputs: list[list[str]]) -> None:
    ids: dict[str, str] = {}
    for step, actual in zip(steps, outputs):
        if not same(step.output, actual, ids):
            diff = "\n".join(difflib.unified_diff(step.output, actual, "README.md", "actual",
                                                  lineterm=""))
            raise AssertionError(f"$ {step.command}\nprints otherwise than the README shows "
                                 f"(ids and dates aside):\n{diff}")


# ------------------------------------------------------------------ the tests


def test_the_tutorial_runs_as_the_readme_shows(tmp_path):
    blocks = console_blocks(README.read_text(encoding="utf-8").splitlines(), "Tutorial")
    steps = [step for block in blocks for step in block.steps]
    commands = " ".join(s.command for s in steps)
    for needed in ("opp init", "opp catalog add", "opp new", "opp add-product",
                   "opp quote new", "opp quote send", "opp close-quote", "--accepted",
                   "opp pipeline", "opp forecast", "opp timeline"):
        assert needed in commands, f"the tutorial lost '{needed}'"
    home = tmp_path / "home"
    home.mkdir()
    opp_on_path(tmp_path / "bin")
    env = environment(home, tmp_path / "bin", pinned=True)
    check(steps, run_steps(steps, home, env))


def test_the_example_at_the_top_is_the_sample_repo_s(tmp_path):
    (block, *_) = console_blocks(README.read_text(encoding="utf-8").splitlines())
    opp_on_path(tmp_path / "bin")
    env = environment(tmp_path, tmp_path / "bin", pinned=True)
    repo = demo_copy(tmp_path, env)
    check(block.steps, run_steps(block.steps, repo, env))


def test_the_comparison_tells_ids_and_dates_from_changes():
    ids: dict[str, str] = {}
    assert same(["4k7qz2ma: closed 2026-12-02", "quote 4b7t16 of 4k7qz2ma"],
                ["x9x9x9x9: closed 2031-01-17", "quote 7hq2ab of x9x9x9x9"], ids)
    assert ids == {"4k7qz2ma": "x9x9x9x9", "4b7t16": "7hq2ab"}
    assert not same(["4k7qz2ma: closed"], ["x9x9x9x9: lost"], {})
    assert not same(["quote 4b7t16 of 4k7qz2ma"], ["quote 7hq2ab of 7hq2ab00"],
                    {"4k7qz2ma": "x9x9x9x9"})  # one README id, two ids in the run
    assert not same(["a", "b"], ["a"], {})
    assert not same(["total 4,965.00 EUR"], ["total 4,966.00 EUR"], {})


# ------------------------------------------------------------------ refreshing the README


def write() -> None:
    """Run the README's console blocks today and write what they print into them."""
    lines = README.read_text(encoding="utf-8").splitlines()
    tutorial = console_blocks(lines, "Tutorial")
    top = console_blocks(lines)[0]
    with tempfile.TemporaryDirectory() as tmp:
        where = Path(tmp)
        opp_on_path(where / "bin")
        home = where / "home"
        home.mkdir()
        env = environment(home, where / "bin", pinned=False)
        runs = [(top, run_steps(top.steps, demo_copy(where, env), dict(env)))]
        outputs = run_steps([s for b in tutorial for s in b.steps], home, env)
        for block in tutorial:
            runs.append((block, outputs[:len(block.steps)]))
            outputs = outputs[len(block.steps):]
    for block, outs in sorted(runs, key=lambda run: run[0].start, reverse=True):
        # the temporary HOME reads as a user's home (the test normalises paths anyway)
        text = [line.replace(str(home), "/home/ann") for step, out in zip(block.steps, outs)
                for line in [f"$ {step.command}", *out]]
        lines[block.start + 1:block.end] = text
    README.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit(__doc__)
    write()
