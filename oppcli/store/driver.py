"""opp's merge driver in a clone's git config: git clones files but not config, so
``.gitattributes`` (committed by ``opp init``) names the driver and every opp command
installs its definition when it is missing.
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

from .git import git

GITATTRIBUTES = """\
# opp merges its files field by field and item by item (see README, Team sync)
opportunities/*.yaml merge=opp
accounts/*.yaml merge=opp
catalog.yaml merge=opp
opp.yaml merge=opp
"""


def merge_driver_command() -> str:
    """The driver command for git: this very Python running opp, whatever the PATH."""
    python = shlex.quote(sys.executable) if sys.executable else "python3"
    return f"{python} -m oppcli merge-driver %O %A %B %P"


def _git_config_path(root: Path) -> Path | None:
    """The config file of the git repo holding ``root``, found without running git."""
    for folder in (root, *root.parents):
        dot_git = folder / ".git"
        if dot_git.is_dir():
            return dot_git / "config"
        if dot_git.is_file():  # a linked worktree or submodule: "gitdir: PATH"
            try:
                text = dot_git.read_text().strip()
                gitdir = (folder / text.split(":", 1)[1].strip()).resolve()
                common = gitdir / "commondir"
                if common.is_file():
                    gitdir = (gitdir / common.read_text().strip()).resolve()
            except (OSError, IndexError):
                return None
            return gitdir / "config"
    return None


def ensure_merge_driver(root: Path) -> None:
    """Define opp's merge driver in the repo's git config unless it already is.

    Cheap when installed: one small file read, no git process. Concurrent opp
    processes may race to write it; git's own config lock keeps the file whole,
    and a process that loses the race leaves it to the winner.
    """
    config = _git_config_path(root)
    if config is None:
        return
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
    git(root, "config", "merge.opp.name", "opp: merge opportunities, catalog and settings "
        "field by field", check=False)
    git(root, "config", "merge.opp.driver", command, check=False)
