"""``opp undo``: revert opp's last change, as a new commit."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import DataError, RepoError
from .files import OPPORTUNITIES_DIR
from .git import git, one_line, read_blobs
from .repo import Repo, yamlio


@dataclass(frozen=True)
class Undone:
    """What ``undo_last`` reverted: the commit, its subject, and the new commit's subject."""

    commit: str
    subject: str
    revert_subject: str


def _undo_subject(subject: str, prefixes: list[str]) -> str:
    """``<id> <name>: undo <action>`` (``undo: <subject>`` for other commits); undoing an
    undo says redo, and back. ``prefixes`` are the ``<id> <name>: `` the subject may carry."""
    prefix = next((p for p in prefixes if subject.startswith(p)), "")
    action = subject[len(prefix):]
    for word, other in (("undo ", "redo "), ("redo ", "undo "), ("undo: ", "redo: "),
                        ("redo: ", "undo: ")):
        if action.startswith(word):
            return one_line(prefix + other + action[len(word):])
    return one_line(f"{prefix}undo {action}" if prefix else f"undo: {subject}")


def _name_in(data: bytes | None) -> str:
    """The ``name`` of an opportunity file's bytes, or '' when it has none."""
    if not data:
        return ""
    try:
        loaded, _ = yamlio.load(data, "")
    except DataError:
        return ""
    name = loaded.get("name")
    return name if isinstance(name, str) else ""


def undo_last(repo: Repo) -> Undone:
    """Revert the last commit when opp made it: one new commit restoring, byte for byte,
    every file it touched as it was before (the last commit reverts cleanly by
    construction). Refuses a commit without an ``Opp-Action`` trailer, a merge, the
    creation of the repo, and files with uncommitted changes. Undoing an undo re-applies.
    """
    with repo.transaction() as tx:
        root = repo.root
        head = git(root, "log", "-1", "--format=%H%x1f%P%x1f%s%x1f"
                   "%(trailers:key=Opp-Action,valueonly,separator=%x2C)%x1f"
                   "%(trailers:key=Opp-Id,valueonly,separator=%x2C)", "HEAD", check=False)
        if head.returncode != 0:
            raise RepoError("nothing to undo: the data repo has no commits yet")
        sha, parents, subject, action, opp_id = head.stdout.rstrip("\n").split("\x1f")
        short = sha[:8]
        if len(parents.split()) > 1:
            raise RepoError(f"the last commit {short} is a merge; undo does not revert merges; "
                            f"use git if you mean to: git revert -m 1 {short}")
        if not action.strip():
            raise RepoError(f"the last commit {short} \"{one_line(subject, 60)}\" was not made "
                            "by opp (no Opp-Action trailer); undo only reverts opp's own last "
                            f"change; revert it with git if you mean to: git revert {short}")
        if not parents.strip() or action.strip() == "init":
            raise RepoError("nothing to undo: the last commit created the data repo")
        raw = git(root, "diff-tree", "-r", "-z", "--raw", "--no-renames", "--no-abbrev",
                  "--relative", f"{sha}^", sha).stdout.split("\0")
        entries = []  # (path, blob before, blob after); None where the file is absent
        for meta, path in zip(raw[0::2], raw[1::2], strict=False):
            old_mode, new_mode, old_blob, new_blob, _status = meta.lstrip(":").split(" ")
            # a file opp writes keeps its mode, so an executable one changed in place is
            # restored exactly too; anything else (links, a mode changed) is git's job
            if {old_mode, new_mode} - {"000000", "100644"} and \
                    not old_mode == new_mode == "100755":
                raise RepoError(f"the last commit {short} changed {path} in a way undo cannot "
                                f"restore exactly (mode {old_mode} -> {new_mode}); use git: "
                                f"git revert {short}")
            entries.append((path, None if old_mode == "000000" else old_blob,
                            None if new_mode == "000000" else new_blob))
        if not entries:
            raise RepoError(f"the last commit {short} changed no file of this data repo; "
                            "nothing to undo")
        tx.refuse_hand_edits([path for path, _, _ in entries])
        opp_id = opp_id.strip()
        opp_file = f"{OPPORTUNITIES_DIR}/{opp_id}.yaml"
        blobs = read_blobs(root, [blob for path, old, new in entries
                                  for blob in (old, new if path == opp_file else None) if blob])
        prefixes = []
        for path, old, new in entries:
            if old is None:
                tx.write(path, None)
            elif (content := blobs[old]) is None:
                raise RepoError(f"git does not have {path} as it was before {short}; "
                                "cannot undo")
            else:
                tx.write_bytes(path, content)
            if path == opp_file:  # the subject names the opportunity as it was then
                for blob in (new, old):
                    name = _name_in(blobs.get(blob)) if blob else ""
                    if name:
                        prefixes.append(f"{opp_id} {one_line(name, 40)}: ")
        tx.kind = "undo"
        tx.subject = _undo_subject(subject, prefixes)
        tx.trailers["Opp-Reverts"] = sha
        if opp_id:
            tx.trailers["Opp-Id"] = opp_id
    return Undone(sha, subject, tx.subject)
