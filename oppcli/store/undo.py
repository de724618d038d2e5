"""``opp undo`` and ``opp redo``: walk back through opp's changes, and forward again.

Each undo is a new commit restoring, byte for byte, the files of the most recent
opp change not undone yet (``Opp-Reverts`` names it); repeated, it walks further
back. Each redo is a new commit reverting the most recent undo not redone yet, as
long as only undos and redos came since: any other change ends what can be redone.
The history alone says what is undone: a commit that an undo or redo reverted is
cancelled, and so is what it had itself reverted. The subjects and trailers of both
are built here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from ..errors import DataError, RepoError
from .files import OPPORTUNITIES_DIR
from .git import git, one_line, read_blobs
from .repo import Repo, yamlio

PAGE = 200  # commits read from git log at a time while walking back


@dataclass(frozen=True)
class Undone:
    """What ``undo_last`` or ``redo_last`` reverted: the commit, its subject, and the new
    commit's subject."""

    commit: str
    subject: str
    revert_subject: str


@dataclass(frozen=True)
class _Commit:
    sha: str
    parents: list[str]
    subject: str
    action: str
    opp_id: str
    reverts: str

    @property
    def short(self) -> str:
        return self.sha[:8]

    def words(self) -> str:
        return f"{self.short} \"{one_line(self.subject, 60)}\""


def _history(root) -> Iterator[_Commit]:
    """The commits from HEAD back along first parents, newest first."""
    trailer = "%(trailers:key={},valueonly,separator=%x2C)"
    fields = ["%H", "%P", "%s", trailer.format("Opp-Action"), trailer.format("Opp-Id"),
              trailer.format("Opp-Reverts")]
    skip = 0
    while True:
        out = git(root, "log", "--first-parent", "-z", f"--skip={skip}", f"-n{PAGE}",
                  "--format=" + "%x1f".join(fields), "HEAD", check=False)
        if out.returncode != 0:
            raise RepoError("nothing to undo or redo: the data repo has no commits yet")
        records = [r for r in out.stdout.split("\0") if r.strip()]
        for record in records:
            sha, parents, subject, action, opp_id, reverts = record.strip("\n").split("\x1f")
            yield _Commit(sha, parents.split(), subject, action.strip(), opp_id.strip(),
                          reverts.strip().split(",")[0].strip())
        if len(records) < PAGE:
            return
        skip += PAGE


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


def _undo_target(root) -> _Commit:
    """The most recent opp change not undone yet; refuses at a commit opp did not make."""
    cancelled: set[str] = set()
    for commit in _history(root):
        if commit.sha in cancelled:
            continue
        if len(commit.parents) > 1:
            raise RepoError(f"the next change to undo, {commit.words()}, is a merge; undo "
                            "does not revert merges; use git if you mean to: git revert -m 1 "
                            f"{commit.short}")
        if not commit.action:
            raise RepoError(f"the next change to undo, {commit.words()}, was not made by "
                            "opp (no Opp-Action trailer); undo reverts only opp's own "
                            f"changes; revert it with git if you mean to: git revert "
                            f"{commit.short}")
        if not commit.parents or commit.action == "init":
            raise RepoError("nothing to undo: every change since the data repo was created "
                            "is undone")
        if commit.action == "undo" and commit.reverts:
            cancelled.add(commit.reverts)
            continue
        return commit
    raise RepoError("nothing to undo")


def _redo_target(root) -> _Commit:
    """The most recent undo not redone yet, while only undos and redos came since."""
    cancelled: set[str] = set()
    redone: _Commit | None = None  # the latest redo, when the history starts with some
    for commit in _history(root):
        if commit.sha in cancelled:
            continue
        if commit.action == "undo" and commit.reverts:
            return commit
        if commit.action == "redo" and commit.reverts:
            cancelled.add(commit.reverts)
            redone = redone or commit
            continue
        last = (f"every undo is redone already, the last by {redone.words()}" if redone
                else f"the last change, {commit.words()}, is not an undo")
        raise RepoError(f"nothing to redo: {last} (redo re-applies what opp undo reverted, "
                        "until another change is made)")
    raise RepoError("nothing to redo")


def undo_last(repo: Repo) -> Undone:
    """Revert the most recent opp change not undone yet, as one new commit (see the
    module's docstring)."""
    with repo.transaction() as tx:
        target = _undo_target(repo.root)
        _revert(repo, tx, target)
        tx.kind = "undo"
    return Undone(target.sha, target.subject, tx.subject)


def redo_last(repo: Repo) -> Undone:
    """Re-apply the change the most recent undo reverted, as one new commit."""
    with repo.transaction() as tx:
        target = _redo_target(repo.root)
        _revert(repo, tx, target)
        tx.kind = "redo"
    return Undone(target.sha, target.subject, tx.subject)


def _changed_files(root, commit: _Commit) -> list[tuple[str, str | None, str | None]]:
    """(path, blob before, blob after) of every file ``commit`` changed; None where the
    file is absent. Refuses what cannot be restored exactly."""
    raw = git(root, "diff-tree", "-r", "-z", "--raw", "--no-renames", "--no-abbrev",
              "--relative", f"{commit.sha}^", commit.sha).stdout.split("\0")
    entries = []
    for meta, path in zip(raw[0::2], raw[1::2], strict=False):
        old_mode, new_mode, old_blob, new_blob, _status = meta.lstrip(":").split(" ")
        # a file opp writes keeps its mode, so an executable one changed in place is
        # restored exactly too; anything else (links, a mode changed) is git's job
        if {old_mode, new_mode} - {"000000", "100644"} and \
                not old_mode == new_mode == "100755":
            raise RepoError(f"{commit.short} changed {path} in a way undo cannot restore "
                            f"exactly (mode {old_mode} -> {new_mode}); use git: "
                            f"git revert {commit.short}")
        entries.append((path, None if old_mode == "000000" else old_blob,
                        None if new_mode == "000000" else new_blob))
    if not entries:
        raise RepoError(f"{commit.words()} changed no file of this data repo; nothing to "
                        "revert")
    # HEAD must hold the files as the commit left them: then restoring them is exact
    listed = git(root, "ls-tree", "-z", "HEAD", "--", *[p for p, _, _ in entries]).stdout
    now = {rec.split("\t", 1)[1]: rec.split("\t", 1)[0].split()[2]
           for rec in listed.split("\0") if "\t" in rec}
    for path, _, new in entries:
        if now.get(path) != new:
            raise RepoError(f"{path} changed after {commit.words()} in a way opp did not "
                            "undo; it cannot be restored exactly; use git: "
                            f"git revert {commit.short}")
    return entries


def _revert(repo: Repo, tx, commit: _Commit) -> None:
    """Stage every file ``commit`` changed as it was before it, with the subject and
    trailers that say so."""
    root = repo.root
    entries = _changed_files(root, commit)
    tx.refuse_hand_edits([path for path, _, _ in entries])
    opp_file = f"{OPPORTUNITIES_DIR}/{commit.opp_id}.yaml"
    blobs = read_blobs(root, [blob for path, old, new in entries
                              for blob in (old, new if path == opp_file else None) if blob])
    prefixes = []
    for path, old, new in entries:
        if old is None:
            tx.write(path, None)
        elif (content := blobs[old]) is None:
            raise RepoError(f"git does not have {path} as it was before {commit.short}; "
                            "cannot revert it")
        else:
            tx.write_bytes(path, content)
        if path == opp_file:  # the subject names the opportunity as it was then
            for blob in (new, old):
                name = _name_in(blobs.get(blob)) if blob else ""
                if name:
                    prefixes.append(f"{commit.opp_id} {one_line(name, 40)}: ")
    tx.subject = _undo_subject(commit.subject, prefixes)
    tx.trailers["Opp-Reverts"] = commit.sha
    if commit.opp_id:
        tx.trailers["Opp-Id"] = commit.opp_id
