"""The git reads a change needs whatever it writes, started as the change begins.

A change asks git: its settings (who commits, hooks, signing), whether anything is
staged already, where HEAD is (with its tree and the hooks folder) and, for the
opportunity it changes, that file's entries in the index and in HEAD. None of these
depends on what the change writes, so they start before the change takes the lock, and
git answers them on another CPU while opp imports its models, instead of after.

An answer is used only while it is still the answer. The index's own checksum (the
bytes git writes last into ``.git/index``: equal, the index is the same byte for byte)
and the commit HEAD names must be what they were before the reads started; otherwise
they are asked again, as they were before this module (as when another change committed
while this one waited for the lock). A repo where that cannot be told (git's index
elsewhere, ``index.skipHash``, a linked work tree, no commit yet) always asks again.
Should a read see another change half done and the index come back byte for byte, the
answer errs on the careful side: that change's file staged makes ``diff --cached`` say
"staged" (the slower ``git commit --only`` path), and a file's entries that no longer
match its bytes, read under the lock, send the check to ``git status``; HEAD's commit
is compared again under the lock whatever the mark says. git's settings are not under
the mark: an edit of git's config while the change waits for the lock is seen by the
next change, as an edit made during the change always was.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import RepoError
from .git import CONFIG_READ, GitResult, Started, head_commit

if TYPE_CHECKING:
    from .repo import Repo

COMMIT_READS = (("diff", "--cached", "--quiet"),
                ("rev-parse", "HEAD", "HEAD^{tree}", "--git-path", "hooks"))
"""Whether anything is staged already, and HEAD, its tree and the hooks folder."""


def clean_reads(relpaths: list[str]) -> tuple[tuple[str, ...], ...]:
    """The files' entries in the index and in HEAD (``Transaction.refuse_hand_edits``)."""
    return (("--literal-pathspecs", "ls-files", "-s", "-z", "--", *relpaths),
            ("--literal-pathspecs", "ls-tree", "-z", "HEAD", "--", *relpaths))


Mark = tuple[str, int, bytes]


def mark(git_dir: Path) -> Mark | None:
    """HEAD's commit, and the size and last bytes of the index (its checksum); None when
    they cannot vouch for the index and HEAD."""
    if "GIT_INDEX_FILE" in os.environ or "GIT_DIR" in os.environ:
        return None
    head = head_commit(git_dir)
    if head is None:
        return None
    try:
        with open(git_dir / "index", "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if size < 64:
                return None
            fh.seek(size - 32)
            tail = fh.read(32)
    except OSError:
        return None
    if not any(tail[-20:]):
        return None  # index.skipHash: git wrote no checksum
    return head, size, tail


class EarlyReads:
    """Groups of git reads started ahead of their use, each under the mark it began with."""

    def __init__(self, repo: Repo):
        self.repo = repo
        self.groups: dict[object, tuple[Mark, Started]] = {}
        if "git_config" not in repo.__dict__ and repo.config_read is None:
            repo.config_read = Started(repo.root, CONFIG_READ)

    def start(self, key: object, commands: tuple[tuple[str, ...], ...]) -> None:
        """Start ``commands`` as the group ``key``, unless the mark cannot be told."""
        found = mark(self.repo.git_dir)
        if found is not None and key not in self.groups:
            self.groups[key] = (found, Started(self.repo.root, *commands))

    def take(self, key: object) -> list[GitResult] | None:
        """The group's answers if the index and HEAD are still as they were before it
        started, else None (ask git again). Once only."""
        entry = self.groups.pop(key, None)
        if entry is None:
            return None
        then, started = entry
        results = started.results()
        return results if mark(self.repo.git_dir) == then else None

    def close(self) -> None:
        """Wait for every git still running (a change refused before it used them)."""
        for _, started in self.groups.values():
            try:
                started.results()
            except RepoError:
                pass  # no git: the change already said so, or will
        self.groups.clear()
        if self.repo.config_read is not None:
            try:
                self.repo.git_config  # noqa: B018 (read: its git is waited for)
            except RepoError:
                pass  # no git: the change already said so, or will
