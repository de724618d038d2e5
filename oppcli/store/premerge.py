"""``opp sync`` merges opp's files in its own process, just before ``git merge``.

git starts the merge driver once for every file both sides changed: a Python process
of its own each time, most of it spent importing opp (0.15 to 0.2 s a file). opp sync
already holds opp in memory and knows the three commits, so it reads the three
versions of each such file (one ``git cat-file``), asks the driver's own function
(``sync.driver_outcome``) what the driver would do, and hands git, for this one merge,
a small shell script in place of the driver. For each file git asks about, the
script checks that git gave it exactly the versions opp merged (``cmp``), then writes
what the driver would have written (the merged file, the conflict record, the line
it says) and exits with the driver's code. Anything else (a version that differs, a
path opp did not foresee, a rename) runs the real driver, so the answer is always the
driver's.

The folder lives in ``.git/opp-premerge`` for the merge only: ``mergestate.clear``
removes it with the sync's marker, and a sync killed meanwhile leaves it to the next
sync, which rewrites it. A driver set in git's config other than opp's own (a user's
wrapper, a test's) is left alone: no script then.
"""

from __future__ import annotations

import shlex
from pathlib import Path

from ..domain import merge
from . import yamlio
from .driver import merge_driver_command
from .files import SETTINGS_FILE
from .git import git_reads, read_blobs
from .mergestate import PREMERGE_DIR, clear_premerge
from .repo import Repo
from .sync import UNREADABLE, Outcome, driver_outcome, record_bytes, record_path

FOLDER = PREMERGE_DIR
SCRIPT = "driver.sh"


def _version(blob: bytes | None) -> bytes:
    """A version as git hands it to the driver (an absent one as an empty file), read
    as ``sync._driver_input`` reads that file."""
    if blob is None:
        return b""
    return UNREADABLE if len(blob) > yamlio.MAX_FILE_BYTES else blob


def _both_changed(top: Path, base: str, ours: str, theirs: str) -> list[str]:
    """opp's files changed on both sides since ``base`` (as git names them to the
    driver: paths from the top of the work tree); none when git's config names a driver
    other than opp's own."""
    driver, *sides = git_reads(top, ("config", "--get", "merge.opp.driver"),
                               *(("diff", "--name-only", "--no-renames", "-z", base, side)
                                 for side in (ours, theirs)))
    if driver.stdout.strip() != merge_driver_command() or any(s.returncode for s in sides):
        return []
    mine, other = (set(side.stdout.split("\0")) - {""} for side in sides)
    return sorted(p for p in mine & other if merge.kind_of(p) and "\n" not in p)


def _settings_check(folder: Path, top: Path, path: str) -> str:
    """For a deal, the shell line that leaves the file to the real driver unless the
    settings it reads are still those opp merged with: git's merge-recursive (chosen with
    ``pull.twohead``) writes theirs into the work tree before it runs the drivers."""
    if merge.kind_of(path) != merge.OPPORTUNITY:
        return ""
    settings = (top / path).parent.parent / SETTINGS_FILE
    try:
        (folder / "settings").write_bytes(settings.read_bytes())
    except FileNotFoundError:
        return f"[ -e {shlex.quote(str(settings))} ] && return 0\n"
    return f'cmp -s {shlex.quote(str(settings))} "$d/settings" || return 0\n'


def _actions(folder: Path, outcome: Outcome, record_path: Path) -> str:
    """The shell lines doing what the driver does for one file (``$d`` is its folder,
    ``$2`` the file git reads the merge from)."""
    lines = []
    if outcome.written is not None:
        (folder / "result").write_bytes(outcome.written)
        lines.append('cp "$d/result" "$2" || exit 2')
    target = shlex.quote(str(record_path))
    if outcome.record is None:
        lines.append(f"rm -f {target}")
    else:
        (folder / "record").write_bytes(record_bytes(outcome.record))
        part = shlex.quote(f"{record_path}.part")
        lines.append(f"mkdir -p {shlex.quote(str(record_path.parent))} && "
                     f'cp "$d/record" {part} && mv -f {part} {target} || exit 2')
    if outcome.said:
        lines.append(f"printf '%s\\n' {shlex.quote(outcome.said)} >&2")
    lines.append(f"exit {outcome.code}")
    return "\n".join(lines) + "\n"


def prepare(repo: Repo, base: str, ours: str, theirs: str) -> dict[str, str]:
    """Merge ahead of git every opp file both ``ours`` and ``theirs`` changed since
    ``base``; the git config that hands git the script (none when there is nothing to
    merge, or when the driver is not opp's own)."""
    git_dir, top = repo.git_dir, repo.place[1]
    clear_premerge(git_dir)
    paths = _both_changed(top, base, ours, theirs) if base else []
    if not paths:
        return {}
    blobs = read_blobs(top, [f"{rev}:{p}" for p in paths for rev in (base, ours, theirs)])
    home = git_dir / FOLDER
    choose = []
    for i, path in enumerate(paths):
        raw = [_version(blobs[f"{rev}:{path}"]) for rev in (base, ours, theirs)]
        if not raw[1] or not raw[2]:
            continue  # gone (or empty) on a side: git's own affair, or the real driver's
        folder = home / str(i)
        folder.mkdir(parents=True)
        for name, data in zip(("base", "ours", "theirs"), raw, strict=True):
            (folder / name).write_bytes(data)
        check = _settings_check(folder, top, path)
        outcome = driver_outcome(str(merge.kind_of(path)), path, raw, top)
        actions = _actions(folder, outcome, record_path(git_dir, path))
        (folder / "do").write_bytes((check + actions).encode("utf-8"))
        choose.append(f"[ \"$4\" = {shlex.quote(path)} ] && d={shlex.quote(str(folder))}")
    if not choose:
        return {}
    real = merge_driver_command().replace("%O %A %B %P", '"$1" "$2" "$3" "$4"')
    (home / SCRIPT).write_bytes((
        "# written by opp sync for one git merge (oppcli/store/premerge.py)\nd=\n"
        + "\n".join(choose) + "\n"
        'if [ -n "$d" ] && cmp -s "$1" "$d/base" && cmp -s "$2" "$d/ours" && '
        'cmp -s "$3" "$d/theirs"; then\n    . "$d/do"\nfi\n'
        f"exec {real}\n").encode("utf-8"))
    # git expands % in the command (%O, %A…; %% is a %): a folder may hold one
    script = shlex.quote(str(home / SCRIPT)).replace("%", "%%")
    return {"merge.opp.driver": f"set -- %O %A %B %P; . {script}"}
