"""opp's merge driver in a clone's git config: git clones files but not config, so
``.gitattributes`` (committed by ``opp init``) names the driver and every opp command
installs its definition when it is missing.
"""

from __future__ import annotations

import os
import re
import shlex
import sys
from pathlib import Path

from .files import atomic_write, git_text
from .git import git

GITATTRIBUTES = """\
# opp merges its files field by field and item by item (see README, Team sync)
opportunities/*.yaml merge=opp
accounts/*.yaml merge=opp
catalog.yaml merge=opp
opp.yaml merge=opp
quotas.yaml merge=opp
"""


def merge_driver_command() -> str:
    """The driver command for git: this very Python running opp, whatever the PATH."""
    python = shlex.quote(sys.executable) if sys.executable else "python3"
    return f"{python} -m oppcli merge-driver %O %A %B %P"


def _git_config_path(root: Path) -> Path | None:
    """The config file of the git repo holding ``root``, found without running git."""
    found = _git_folder(root)
    return found[0] / "config" if found else None


def _git_folder(root: Path) -> tuple[Path, Path] | None:
    """(the git common dir, the work tree's top) of the repo holding ``root``, found
    without running git."""
    for folder in (root, *root.parents):
        dot_git = folder / ".git"
        if dot_git.is_dir():
            return dot_git, folder
        if dot_git.is_file():  # a linked worktree or submodule: "gitdir: PATH"
            try:
                text = git_text(dot_git)
                gitdir = (folder / text.split(":", 1)[1].strip()).resolve()
                common = gitdir / "commondir"
                if common.is_file():
                    gitdir = (gitdir / git_text(common)).resolve()
            except (OSError, IndexError):
                return None
            return gitdir, folder
    return None


def pinned_lines(prefix: str) -> list[str]:
    """opp's attribute lines for a data repo at ``prefix`` (``''`` or ``sub/``) of the
    work tree. The folder's name is matched as it is: its glob characters and a leading
    ``!`` are escaped, and a pattern with a blank, a quote or a leading ``#`` is quoted
    C-style, as git reads it (``"my data/opportunities/*.yaml" merge=opp``)."""
    folder = re.sub(r"([*?\[\\])", r"\\\1", prefix)
    if folder.startswith("!"):  # a leading ! would make the line a negation, ignored
        folder = "\\" + folder
    out = []
    for line in GITATTRIBUTES.splitlines():
        if not line or line.startswith("#"):
            continue
        pattern, attributes = line.split(" ", 1)
        pattern = folder + pattern
        if re.search(r'[\s"]', pattern) or pattern.startswith("#"):
            quoted = pattern.replace("\\", "\\\\").replace('"', '\\"')
            pattern = '"' + quoted.replace("\n", "\\n").replace("\t", "\\t") + '"'
        out.append(f"{pattern} {attributes}")
    return out


def missing_attributes(text: str) -> list[str]:
    """opp's attribute lines a ``.gitattributes`` lacks (``opp init --upgrade`` adds them:
    account files came with #20, quotas.yaml with #23)."""
    have = {" ".join(line.split()) for line in text.splitlines()}
    return [line for line in pinned_lines("") if line not in have]


def pin_attributes(root: Path) -> None:
    """opp's lines in ``.git/info/attributes``, which git reads before any committed
    ``.gitattributes``: a pushed ``.gitattributes`` (``* -merge``, ``merge=binary``,
    ``binary``) cannot take opp's files away from its driver. Cheap when pinned: one
    small file read."""
    found = _git_folder(root)
    if found is None:
        return
    git_dir, top = found
    try:
        prefix = root.resolve().relative_to(top.resolve()).as_posix()
    except ValueError:
        return
    lines = pinned_lines("" if prefix == "." else prefix + "/")
    local = git_dir / "info" / "attributes"
    try:
        existing = local.read_bytes()[:1 << 20].decode("utf-8", "replace")
    except FileNotFoundError:
        existing = ""
    except OSError:
        return
    have = existing.splitlines()
    # last lines win in an attributes file: opp's must come after any other
    if have[-len(lines):] == lines:
        return
    kept = [line for line in have if line not in lines and line != PIN_HEADER]
    text = "\n".join([*kept, PIN_HEADER, *lines]) + "\n"
    try:
        local.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(local, text.encode("utf-8"))
    except OSError:
        return


PIN_HEADER = "# opp: its files go to its merge driver, whatever .gitattributes says"


def ensure_merge_driver(root: Path) -> None:
    """Define opp's merge driver in the repo's git config unless it already is.

    Cheap when installed: one small file read, no git process. Concurrent opp
    processes may race to write it; git's own config lock keeps the file whole,
    and a process that loses the race leaves it to the winner.
    """
    config = _git_config_path(root)
    if config is None:
        return
    pin_attributes(root)
    command = merge_driver_command()
    try:
        text = config.read_text(errors="replace")
    except OSError:
        return
    if f"driver = {command}\n" in text:
        return
    # another Python that runs opp's driver (python vs python3, another venv) is as good
    # while it exists: rewriting the config on every command from another one costs a write
    for line in text.splitlines():
        if line.strip().startswith("driver = ") and line.rstrip().endswith(
                "-m oppcli merge-driver %O %A %B %P"):
            try:
                python = shlex.split(line.strip()[len("driver = "):])[0]
            except (ValueError, IndexError):
                break
            if os.access(python, os.X_OK):
                return
            break
    git(root, "config", "merge.opp.name", "opp: merge opportunities, accounts, catalog, "
        "settings and quotas field by field", check=False)
    git(root, "config", "merge.opp.driver", command, check=False)
