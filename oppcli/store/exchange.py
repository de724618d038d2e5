"""``opp sync``: fetch, merge, check, push; and never a teammate's work dropped.

The local half of the repo is ``repo.py``; conflicts, the merge driver and ``opp
resolve`` are ``sync.py``'s; the record of a sync in progress and the repair of a
killed one are ``mergestate.py``'s. Here, in order:

1. under the repo lock (a killed sync is repaired on taking it), a stale
   ``.git/index.lock`` is refused with the command that removes it;
2. a merge in progress is concluded only when opp itself recorded it as stopped on
   conflicts (``.git/opp-merge`` naming MERGE_HEAD and HEAD) and every conflict is
   settled; any other half-done merge is refused with the command to take it back;
3. opp's files are checked to go to its driver (``git check-attr``; the lines are
   pinned in ``.git/info/attributes``);
4. fetch; fast-forward, or merge: the marker is written before ``git merge`` and a
   merge that fails without conflicts is taken back at once;
5. before pushing, every merge to push is checked to keep both sides' changes of every
   file either side changed (``domain.mergecheck``), and every data file to push to
   pass ``opp validate``; a merge made here that fails is taken back, anything else is
   refused with how to recover.
"""

from __future__ import annotations

import os
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from ..domain import merge, mergecheck
from ..domain.settings import Settings
from ..errors import DataError, RepoError, RuleError
from . import accounts as store_accounts
from . import mergestate, premerge, references
from .driver import pinned_lines
from .files import ACCOUNTS_DIR, CATALOG_FILE, OPPORTUNITIES_DIR, QUOTAS_FILE, SETTINGS_FILE
from .git import git, git_raw, head_commit, one_line, read_blobs
from .repo import Repo
from .sync import SyncConflict, conflict_message, finish_merge, parse_version, pending, unmerged

if TYPE_CHECKING:
    from pydantic import BaseModel

SYNC_ROUNDS = 5
SHOWN = 3



@dataclass
class Remote:
    name: str
    branch: str  # the branch on the remote
    tracking: str  # its remote-tracking ref here
    upstream: bool  # whether the local branch already tracks it

    @property
    def label(self) -> str:
        return f"{self.name}/{self.branch}"


def _remote(root: Path, branch: str) -> Remote:
    """The current branch's upstream, else origin/<branch> (or the only remote's)."""
    name = _config(root, f"branch.{branch}.remote")
    merge_ref = _config(root, f"branch.{branch}.merge")
    if name and name != "." and merge_ref and merge_ref.startswith("refs/heads/"):
        remote_branch = merge_ref[len("refs/heads/"):]
        tracking = git(root, "rev-parse", "--symbolic-full-name", f"{branch}@{{upstream}}",
                       check=False).stdout.strip() or f"refs/remotes/{name}/{remote_branch}"
        return Remote(name, remote_branch, tracking, True)
    remotes = git(root, "remote").stdout.split()
    if not remotes:
        raise RepoError("no git remote to sync with; add the team's shared repository with: "
                        "git remote add origin URL (then opp sync)")
    if "origin" in remotes:
        name = "origin"
    elif len(remotes) == 1:
        name = remotes[0]
    else:
        raise RepoError(f"several git remotes ({', '.join(remotes)}) and no 'origin'; choose "
                        f"one with: git branch --set-upstream-to REMOTE/{branch}")
    return Remote(name, branch, f"refs/remotes/{name}/{branch}", False)


def _refuse_dirty(repo: Repo) -> None:
    out = git(repo.root, "status", "--porcelain", "--untracked-files=no").stdout
    dirty = [line[3:] for line in out.splitlines() if line.strip()]
    if dirty:
        more = f" and {len(dirty) - 1} more" if len(dirty) > 1 else ""
        # git names the file from the top of the work tree: ':/' says so to git, from any
        # folder (the data repo may be a subfolder)
        named = shlex.quote((":/" if repo.place[0] else "") + dirty[0])
        raise RepoError(f"uncommitted changes to {dirty[0]}{more}; opp sync shares commits "
                        "only: commit them (git commit -a) or discard them "
                        f"(git checkout -- {named}) first")


def _count(root: Path, spec: str) -> int:
    return int(git(root, "rev-list", "--count", spec).stdout.strip() or 0)


def _fetch(root: Path, remote: Remote) -> None:
    out = git(root, "fetch", "-q", remote.name, check=False)
    if out.returncode != 0:
        raise RepoError(f"cannot fetch from {remote.name}: "
                        f"{one_line(out.stderr or out.stdout, 200)}; your commits are safe "
                        "here, run opp sync again when the remote can be reached")


# The receiving side of a push to a folder, started by git as a child of the push: in a
# session of its own, so that a kill of opp's whole process group (a terminal closed, a
# CI job cancelled) does not kill it while it updates the remote's branch and leave the
# remote's ref lock behind; it sees its pusher gone and ends cleanly, as a server's does.
DETACHED_RECEIVE_PACK = ("import os,sys;os.getpgrp()==os.getpid() or os.setsid();"
                         "os.execvp('git',['git','receive-pack',*sys.argv[1:]])")


def _runs_here(url: str) -> bool:
    """Whether git runs a push to ``url``'s receiving side on this machine: a path or
    file:// (git's own reading: a colon before any slash means host:path over ssh)."""
    if url.startswith("file://"):
        return True
    if "://" in url:
        return False
    colon, slash = url.find(":"), url.find("/")
    return colon < 0 or 0 <= slash < colon


def _receive_pack(root: Path, remote: Remote) -> list[str]:
    """``--receive-pack`` for a push to a folder remote (see DETACHED_RECEIVE_PACK),
    unless the remote's own ``receivepack`` is configured, setsid is not available or
    opp runs without a Python to start (a frozen build)."""
    if not hasattr(os, "setsid") or not sys.executable or getattr(sys, "frozen", False) \
            or _config(root, f"remote.{remote.name}.receivepack"):
        return []
    out = git(root, "remote", "get-url", "--push", "--all", remote.name, check=False)
    urls = [url for url in out.stdout.split("\n") if url]
    if out.returncode or not urls or not all(_runs_here(url) for url in urls):
        return []  # a URL as the remote (branch.X.remote), or an old git: as git does
    command = shlex.join([sys.executable, "-S", "-c", DETACHED_RECEIVE_PACK])
    return [f"--receive-pack={command}"]


def _push(root: Path, branch: str, remote: Remote) -> bool:
    """Push; False when the remote moved meanwhile (fetch, merge and push again)."""
    before = _ref(root, remote.tracking)
    args = ["push", "-q", "--porcelain", *_receive_pack(root, remote)]
    if not remote.upstream:
        args.append("--set-upstream")
    out = git(root, *args, remote.name, f"refs/heads/{branch}:refs/heads/{remote.branch}",
              check=False)
    if out.returncode == 0:
        remote.upstream = True
        return True
    _fetch(root, remote)
    if _ref(root, remote.tracking) != before:
        return False
    raise RepoError(f"git push to {remote.label} failed: "
                    f"{one_line(out.stderr or out.stdout, 300)}")





def _ref(root: Path, name: str) -> str | None:
    out = git(root, "rev-parse", "-q", "--verify", f"{name}^{{commit}}", check=False)
    return out.stdout.strip() or None if out.returncode == 0 else None


def _config(root: Path, key: str) -> str | None:
    out = git(root, "config", "--get", key, check=False)
    return out.stdout.strip() or None if out.returncode == 0 else None


def _head(repo: Repo) -> str:
    """HEAD's commit, read from git's files where they are plain, else asked of git."""
    return head_commit(repo.git_dir) or git(repo.root, "rev-parse", "HEAD").stdout.strip()


# ---------------------------------------------------------------- a merge in progress


def _conclude(repo: Repo) -> list[str]:
    """A merge in progress: concluded only when opp recorded it as stopped on conflicts
    and nothing is left to settle; any other one is refused with how to recover."""
    git_dir = repo.git_dir
    theirs = mergestate.merge_head(git_dir)
    if theirs is None:
        return []
    marker = mergestate.read(git_dir)
    left = pending(repo)
    ours = _head(repo)
    if marker is not None and marker.state == mergestate.STOPPED and \
            marker.theirs == theirs and marker.ours == ours:
        if left:
            raise SyncConflict(conflict_message(left, "here", "on the remote",
                                                "run opp sync again"))
        return [finish_merge(repo).split(";")[0]]
    if left:  # a merge of git's own (git pull) stopped on conflicts: opp resolve ends it
        raise SyncConflict(conflict_message(left, "here", "on the other side",
                                            "run opp sync again"))
    raise RepoError(f"git left a merge of {theirs[:8]} half-done here (MERGE_HEAD), not one "
                    "opp stopped on conflicts: it may hold only this side's files, so opp "
                    "will not commit it. Take it back with: git merge --abort (your commits "
                    "stay), then run opp sync again")


# ---------------------------------------------------------------- the driver's attributes


def _check_attributes(repo: Repo) -> None:
    """opp's files must reach its driver whatever a pushed ``.gitattributes`` says:
    ``git check-attr`` gives the attribute git will use."""
    prefix, top = repo.place
    samples = [f"{prefix}{OPPORTUNITIES_DIR}/x.yaml", f"{prefix}{CATALOG_FILE}",
               f"{prefix}{SETTINGS_FILE}", f"{prefix}{QUOTAS_FILE}"]
    out = git(top, "check-attr", "-z", "merge", "--", *samples).stdout.split("\0")
    wrong = [out[i] for i in range(0, len(out) - 2, 3) if out[i + 2] != "opp"]
    if wrong:
        raise RepoError(f"git would not merge {wrong[0]} with opp's driver (its merge "
                        "attribute is overridden); put these lines at the end of "
                        ".git/info/attributes and run opp sync again: "
                        + "; ".join(pinned_lines(prefix)))


# ---------------------------------------------------------------- the check before a push


def _data_paths(root: Path, a: str | None, b: str, prefix: str) -> list[str]:
    """opp's data files (paths from the top) that differ between ``a`` and ``b``."""
    args = ["diff", "--name-only", "--no-renames", "-z", a, b] if a else \
        ["ls-tree", "-r", "-z", "--name-only", b]
    out = git_raw(root, *args).decode("utf-8", "replace").split("\0")
    return [p for p in out if p.startswith(prefix)
            and merge.kind_of(p[len(prefix):]) is not None
            and p[len(prefix):].count("/") <= 1]


def _parsed(data: bytes | None, path: str) -> Any:
    try:
        return parse_version(data, path)
    except DataError:
        return None


def lost_by_merge(root: Path, commit: str, prefix: str) -> list[str]:
    """What merge ``commit`` lacks of either parent's changes, per file, in words."""
    from pydantic import ValidationError

    from ..domain.model import settings_from

    parents = git(root, "rev-list", "--parents", "-n", "1", commit).stdout.split()[1:]
    if len(parents) != 2:
        return []
    ours, theirs = parents
    base = git(root, "merge-base", ours, theirs, check=False).stdout.strip()
    if not base:
        return []
    paths = sorted(set(_data_paths(root, base, ours, prefix))
                   | set(_data_paths(root, base, theirs, prefix)))
    if not paths:
        return []
    names = [f"{rev}:{p}" for p in [*paths, f"{prefix}{SETTINGS_FILE}"]
             for rev in (base, ours, theirs, commit)]
    blobs = read_blobs(root, names)
    try:
        settings = settings_from(_parsed(blobs[f"{commit}:{prefix}{SETTINGS_FILE}"],
                                         SETTINGS_FILE))
    except (ValidationError, ValueError, TypeError):
        settings = Settings()
    found = []
    for path in paths:
        kind = merge.kind_of(path)
        assert kind is not None  # _data_paths keeps opp's files only
        b, o, t, m = (_parsed(blobs[f"{rev}:{path}"], path)
                      for rev in (base, ours, theirs, commit))
        words = mergecheck.lost(kind, b, o, t, m, settings if kind == merge.OPPORTUNITY
                                else None)
        if words:
            name = Path(path).stem if kind == merge.OPPORTUNITY else path[len(prefix):]
            found.append(f"{name}: {'; '.join(words)}")
    return found


def invalid_files(repo: Repo, since: list[str | None], here: str | None = None) -> list[str]:
    """Data files changed since any of ``since`` (all files for a None) that fail ``opp
    validate``, as the work tree (clean: HEAD) has them; with the references between
    files (``references.broken``): those of the deals changed, and of the deals that
    name an account changed or gone. ``here``: the revision a refused merge goes back to."""
    from ..domain.model import Catalog, Quotas, SettingsFile

    models: dict[str, type[BaseModel]] = {SETTINGS_FILE: SettingsFile, CATALOG_FILE: Catalog,
                                          QUOTAS_FILE: Quotas}
    root = repo.root
    prefix = repo.place[0]
    paths = sorted({p[len(prefix):] for rev in since
                    for p in _data_paths(root, rev, "HEAD", prefix)})
    fresh = Repo(root)  # the settings as they are now
    errors: list[DataError] = []
    deals: dict[str, Any] = {}
    for rel in ([SETTINGS_FILE] if SETTINGS_FILE in paths else []) + \
            [p for p in paths if p != SETTINGS_FILE]:
        if not Path(root, rel).exists() and not Path(root, rel).is_symlink():
            continue  # deleted
        if rel in models:
            try:
                data, node = fresh.read_yaml(rel)
            except DataError as exc:
                errors.append(exc)
                continue
            model = fresh.model_errors(models[rel], rel, data, node)
            if isinstance(model, list):
                errors += model
            continue
        try:
            found = (store_accounts.load_errors(fresh, rel)
                     if rel.startswith(f"{ACCOUNTS_DIR}/") else fresh.load_errors(rel))
        except DataError as exc:
            found = [exc]
        if isinstance(found, list):
            errors += found
        elif rel.startswith(f"{OPPORTUNITIES_DIR}/"):
            deals[rel] = found
    accounts = [Path(p).stem for p in paths if p.startswith(f"{ACCOUNTS_DIR}/")
                and p.endswith(".yaml")]
    return [str(e) for e in errors] + references.broken(fresh, deals, accounts, since, here)


@dataclass
class Checked:
    """What the check after a merge covered, at HEAD ``head``: the merges it found to keep
    both sides (with their bases), and the revisions since which it validated files.
    The check before the push that follows does not do that again."""
    head: str
    merges: dict[str, str | None]  # merge commit: its base
    since: set[str | None]


def _problems(repo: Repo, since: str | None, merges: list[str], here: str | None = None,
              checked: Checked | None = None) -> tuple[list[str], Checked]:
    """What keeps HEAD from being pushed: merges that dropped a side's change, and data
    files that fail validate among those changed since ``since`` and, for each merge,
    since its base (a merge brings the other side's files, and pushes them on). Nothing
    ``checked`` covered at this HEAD is checked again. Also returns what was covered."""
    root = repo.root
    prefix = repo.place[0]
    found = []
    head = _head(repo)
    done = checked if checked is not None and checked.head == head else None
    covered = Checked(head, {}, {since})
    bases: list[str | None] = [since]
    for commit in merges:
        if done is not None and commit in done.merges:
            base = done.merges[commit]
        else:
            found += [f"merge {commit[:8]} drops {w}"
                      for w in lost_by_merge(root, commit, prefix)]
            base = git(root, "merge-base", f"{commit}^1", f"{commit}^2",
                       check=False).stdout.strip() or None
        covered.merges[commit] = base
        if base:
            bases.append(base)
    covered.since.update(bases)
    if done is not None:
        bases = [b for b in bases if b not in done.since]
    return found + (invalid_files(repo, bases, here) if bases else []), covered


def _shown(problems: list[str]) -> str:
    more = f"; and {len(problems) - SHOWN} more" if len(problems) > SHOWN else ""
    return "; ".join(problems[:SHOWN]) + more


def _check_push(repo: Repo, remote: Remote, checked: Checked | None = None) -> None:
    """Refuse to push a merge that dropped either side's changes, or an invalid file
    (what ``checked`` covered after this sync's merge is not checked again)."""
    root = repo.root
    tracking = _ref(root, remote.tracking)
    spec = f"{remote.tracking}..HEAD" if tracking else "HEAD"
    merges = git(root, "rev-list", "--merges", spec).stdout.split()
    problems, _ = _problems(repo, tracking, merges, checked=checked)
    if problems and all(isinstance(p, references.Reference) for p in problems):
        raise RuleError(f"nothing was pushed to {remote.label}: {_shown(problems)}")
    if problems:
        first = merges[-1] if merges else None
        how = (f"take the merge back with: git reset --keep {first}^1 (your own commits "
               "stay), then run opp sync again" if merges and problems[0].startswith("merge")
               else "mend it (opp validate names every problem), commit, and run opp sync "
               "again")
        raise RuleError(f"nothing was pushed to {remote.label}: {_shown(problems)}. To "
                        f"recover, {how}")


# ---------------------------------------------------------------- merging


def _merge(repo: Repo, remote: Remote, branch: str, behind: int
           ) -> tuple[str, Checked | None]:
    """Fast-forward or merge; what happened, in words, and what the check after a merge
    covered."""
    root, git_dir = repo.root, repo.git_dir
    commits = f"{behind} commit{'s' if behind > 1 else ''}"
    if _count(root, f"{remote.tracking}..HEAD") == 0:
        git(root, "merge", "-q", "--ff-only", remote.tracking)
        return f"fast-forwarded {commits} from {remote.label}", None
    message = f"sync: merge {remote.label} into {branch}\n\nOpp-Action: sync\n"
    ours = _head(repo)
    theirs = _ref(root, remote.tracking) or ""
    base = git(root, "merge-base", ours, theirs, check=False).stdout.strip()
    marker = mergestate.read(git_dir) or mergestate.begin(git_dir)
    marker.state, marker.ours, marker.theirs, marker.base = (mergestate.MERGING, ours, theirs,
                                                             base)
    mergestate.write(git_dir, marker)
    # opp's files both sides changed are merged here, in this process: git then needs
    # no driver process per file (premerge.py)
    premerged = premerge.prepare(repo, base, ours, theirs)
    out = git(root, "merge", "-q", "--no-edit", "-m", message, theirs, check=False,
              env=repo.identity.env(), config=premerged or None)
    mergestate.clear_premerge(git_dir)
    if out.returncode == 0:
        problems, checked = _problems(repo, ours, [_head(repo)], ours)
        if problems:  # each file merged, but not well: take the merge back
            git(root, "reset", "-q", "--keep", ours)
            if all(isinstance(p, references.Reference) for p in problems):
                raise RuleError(f"merging {remote.label} would leave a deal naming an "
                                f"account that is gone: {_shown(problems)}. Nothing was "
                                "merged or pushed")
            raise RuleError(f"merging {remote.label} would give what opp validate refuses or "
                            f"lose a side's change: {_shown(problems)}. Nothing was merged or "
                            "pushed; mend it on either side (e.g. opp stage ID STAGE, or put "
                            "the setting back with opp config; a file a teammate pushed is "
                            "theirs to mend), then run opp sync again")
        return f"merged {commits} from {remote.label}", checked
    left = pending(repo) if mergestate.merge_head(git_dir) == theirs else []
    if left and not (git_dir / "index.lock").exists():
        marker.state = mergestate.STOPPED
        mergestate.write(git_dir, marker)
        raise SyncConflict(conflict_message(left, "here", f"on {remote.label}",
                                            "run opp sync again"))
    _take_back(repo, remote, ours, theirs, out.stderr or out.stdout)


def _take_back(repo: Repo, remote: Remote, ours: str, theirs: str, said: str) -> NoReturn:
    """git failed without conflicts opp settles (a lock, a full disk, or conflicts in files
    beside the data repo, in a bigger work tree): the merge is taken back now."""
    git_dir, (prefix, top) = repo.git_dir, repo.place
    beside = sorted(p for p in unmerged(top) if not p.startswith(prefix)) \
        if prefix and mergestate.merge_head(git_dir) == theirs else []
    why = one_line(said, 300)
    try:
        mergestate.refuse_index_lock(git_dir)
        mergestate.take_back(git_dir, top, ours, theirs)
    except RepoError:
        raise RepoError(f"git merge of {remote.label} failed ({why}) and could not be taken "
                        "back yet; run opp sync again once nothing else uses the repo (it "
                        "repairs the merge first)") from None
    mergestate.clear(git_dir)
    if beside:
        more = f" and {len(beside) - SHOWN} more" if len(beside) > SHOWN else ""
        raise RepoError(f"git merge of {remote.label} stopped on conflicts in files beside "
                        f"the data repo, which opp does not merge: {', '.join(beside[:SHOWN])}"
                        f"{more}; it was taken back, nothing was lost. Merge them with git "
                        "(git pull --no-rebase, settle those files, git commit), then run opp "
                        "sync again")
    raise RepoError(f"git merge of {remote.label} failed: {why}; it was taken back, nothing "
                    "was lost: run opp sync again")


# ---------------------------------------------------------------- opp sync


def sync(repo: Repo) -> list[str]:
    """Fetch, merge the remote branch, check, push; commits nothing but a merge.

    Stops with ``SyncConflict`` (the merge left in progress) on a true conflict.
    Returns what happened, in words.
    """
    root = repo.root
    with repo.lock():  # a sync killed halfway is repaired on taking it
        mergestate.refuse_index_lock(repo.git_dir)
        said = _conclude(repo)
        _refuse_dirty(repo)
        branch = git(root, "symbolic-ref", "-q", "--short", "HEAD", check=False).stdout.strip()
        if not branch:
            raise RepoError("not on a branch (detached HEAD); check one out first: "
                            "git switch BRANCH")
        remote = _remote(root, branch)
        _check_attributes(repo)
        mergestate.begin(repo.git_dir)
        try:
            said += _rounds(repo, remote, branch)
        except SyncConflict:
            raise  # the marker says 'stopped': opp resolve and opp sync conclude it
        except BaseException:
            marker = mergestate.read(repo.git_dir)
            if marker is not None and marker.state == mergestate.MERGING:
                try:
                    mergestate.recover(repo.git_dir, root)
                except RepoError:
                    pass  # the next opp repairs it
            else:
                mergestate.clear(repo.git_dir)
            raise
        mergestate.clear(repo.git_dir)
        return said


def _rounds(repo: Repo, remote: Remote, branch: str) -> list[str]:
    root = repo.root
    said: list[str] = []
    for _ in range(SYNC_ROUNDS):
        _fetch(root, remote)
        theirs = _ref(root, remote.tracking)
        if theirs is None:
            _check_push(repo, remote)
            if _push(root, branch, remote):
                said.append(f"pushed {branch} to {remote.name}, a new branch there "
                            f"(now tracked as {remote.label})")
                return said
            continue
        behind = _count(root, f"HEAD..{remote.tracking}")
        checked = None
        if behind:
            words, checked = _merge(repo, remote, branch, behind)
            said.append(words)
        ahead = _count(root, f"{remote.tracking}..HEAD")
        if not ahead:
            if not remote.upstream:
                git(root, "branch", "-q", f"--set-upstream-to={remote.label}", branch)
                remote.upstream = True
            if not behind:
                said.append(f"already up to date with {remote.label}")
            return said
        _check_push(repo, remote, checked)
        if _push(root, branch, remote):
            said.append(f"pushed {ahead} commit{'s' if ahead > 1 else ''} to {remote.label}")
            return said
        said.append(f"{remote.label} changed meanwhile; merging again")
    raise RepoError(f"{remote.label} kept changing while opp synced ({SYNC_ROUNDS} tries); "
                    "your commits are safe here, run opp sync again")
