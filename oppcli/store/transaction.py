"""The data repo: finding it, loading its files, and changing them one commit at a time.

This module alone knows where files live, how they are read and written, the lock,
and git. Every change goes through ``Repo.transaction`` (or its shorthand
``Repo.change`` for one opportunity): under an exclusive lock it loads fresh data,
refuses to overwrite uncommitted hand edits, lets the caller change the models,
checks every rule, writes atomically and commits exactly the files it wrote. An
exception anywhere restores the files and leaves history untouched.
"""

from __future__ import annotations

import os
import random
import re
import shlex
import stat
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..domain.settings import Settings
from ..errors import DataError, RepoError, RuleError
from . import files, journal, yamlio
from .early import COMMIT_READS, EarlyReads, clean_reads
from .files import (
    ACCOUNTS_DIR,
    MANY_PATHS,
    OPPORTUNITIES_DIR,
    PATHSPEC_STDIN,
    SETTINGS_FILE,
    atomic_write,
    pathspec,
    prune_empty,
)
from .git import (
    CHILD_ENV,
    CONFIG_READ,
    blob_id,
    git,
    git_config,
    git_int,
    git_reads,
    git_true,
    one_line,
)

if TYPE_CHECKING:
    from .repo import Repo


def opportunity_subject(opp, action: str) -> str:
    """The commit subject of a change: id, name, action (greppable, one line)."""
    name = one_line(opp.name, 40)
    return one_line(f"{opp.id} {name}: {action}")


def account_subject(account, action: str) -> str:
    """The commit subject of a change to an account: 'account ID NAME: action'."""
    name = one_line(account.name, 40)
    return one_line(f"account {account.id} {name}: {action}")


@dataclass
class Transaction:
    """The files one change writes; committed together by ``Repo.transaction``."""

    repo: Repo
    subject: str = ""
    action: str = ""
    kind: str = ""
    opportunity: Any = None
    writes: dict[str, bytes | None] = field(default_factory=dict)
    trailers: dict[str, str] = field(default_factory=dict)
    progress: Callable[[int], None] | None = None  # told of each 100 files written
    early: EarlyReads | None = None  # git's answers asked ahead (``early.py``)

    def refuse_hand_edits(self, relpaths: list[str]) -> None:
        """Never overwrite uncommitted edits: refuse when any of these files is dirty."""
        if not relpaths or self._unchanged_since_head(relpaths):
            return
        scope, wanted = list(relpaths), None
        if len(scope) > MANY_PATHS:  # keep the command line short: ask about their folders
            scope = sorted({p.rsplit("/", 1)[0] if "/" in p else p for p in relpaths})
            # porcelain paths start at the top of the work tree, which may be above us
            prefix = self.repo.place[0]
            wanted = {prefix + p for p in relpaths}
        out = git(self.repo.root, "status", "--porcelain", "--untracked-files=all", "--",
                  *scope).stdout
        dirty = [line[3:] for line in out.splitlines()
                 if line.strip() and (wanted is None or line[3:] in wanted)]
        if dirty:
            who = self.repo.identity  # with no git identity, git commit alone would fail
            commit = "git commit" if who.from_git else (
                f"git -c user.name={shlex.quote(who.name)} -c user.email="
                f"{shlex.quote(who.email)} commit")
            raise RepoError(f"{dirty[0]} has uncommitted changes; commit them "
                            f"({commit} {dirty[0]}) or discard them "
                            f"(git checkout -- {dirty[0]}) first")

    def _unchanged_since_head(self, relpaths: list[str]) -> bool:
        """The quick proof that these few files are clean, without ``git status`` (which
        refreshes the whole index: 0.08 s at 100,000 files): each one is a plain file
        (mode 100644 in HEAD and the index, no x bit on disk) whose bytes hash to the blob
        HEAD and the index name, or it is in none of the three. Anything else, however
        harmless, says "not proven", and ``git status`` gives the answer."""

        if len(relpaths) > 8:
            return False
        root = self.repo.root
        early = self.early.take(("clean", tuple(relpaths))) if self.early else None
        if early is None:
            # the git settings the commit will need, read beside the two reads (not after)
            config = () if "git_config" in self.repo.__dict__ or self.repo.config_read \
                else (CONFIG_READ,)
            early = git_reads(root, *clean_reads(relpaths), *config)
            if config:
                self.repo.__dict__["git_config"] = git_config(root, early[2])
        staged, head = early[:2]
        if staged.returncode or head.returncode:
            return False  # no HEAD yet, or git unwell: ask git status
        found: dict[str, dict[str, str]] = {"index": {}, "HEAD": {}}
        for where, out in (("index", staged.stdout), ("HEAD", head.stdout)):
            for record in filter(None, out.split("\0")):
                meta, _, path = record.partition("\t")
                fields = meta.split()
                if path in found[where] or len(fields) != 3 or fields[0] != "100644" or \
                        (where == "index" and fields[2] != "0"):
                    return False  # a link, an executable, a folder, a conflict
                found[where][path] = fields[1] if where == "index" else fields[2]
        if not set(found["index"]) | set(found["HEAD"]) <= set(relpaths):
            return False  # a folder where a file should be
        for relpath in relpaths:
            try:
                info = os.lstat(root / relpath)
            except FileNotFoundError:
                work = None
            except OSError:
                return False
            else:
                if not stat.S_ISREG(info.st_mode) or info.st_mode & 0o111 or \
                        info.st_size > 1 << 20:
                    return False
                try:  # never follows a link, never waits on a FIFO swapped in meanwhile
                    data = files.read_data_file(root, relpath, 1 << 20, error=RepoError)
                except (RepoError, OSError):
                    return False
                work = None if data is None else blob_id(data)
            if not found["index"].get(relpath) == found["HEAD"].get(relpath) == work:
                return False
        return True

    def write(self, relpath: str, text: str | None) -> None:
        """Stage a file's new text (``None`` deletes it)."""
        self.writes[relpath] = None if text is None else text.encode("utf-8")

    def write_bytes(self, relpath: str, data: bytes) -> None:
        self.writes[relpath] = data

    def save_data(self, relpath: str, data: Any) -> None:
        """Stage data as YAML; opp's files start with the line naming their JSON Schema."""
        from .schemas import header

        self.write(relpath, yamlio.dump(data, header(relpath)))

    def save_model(self, relpath: str, model: Any) -> None:
        """Stage a model (its fields in model order)."""
        self.save_data(relpath, model.model_dump(mode="python"))

    def save_settings(self, settings: Settings) -> None:
        """Stage ``opp.yaml``."""
        self.save_data(SETTINGS_FILE, settings.as_data())

    def save_account(self, account: Any) -> None:
        """Stage an account file (``accounts/<ID>.yaml``)."""
        self.save_model(f"{ACCOUNTS_DIR}/{account.id}.yaml", account)

    def save_opportunity(self, opp: Any) -> None:
        """Stage an opportunity after checking every rule against the settings."""
        from ..domain.checks import problems

        found = problems(opp, self.repo.settings)
        if found:  # a rule function let something through: never store it
            raise RuleError(f"refusing to save {opp.id}: {found[0].message}")
        self.save_model(f"{OPPORTUNITIES_DIR}/{opp.id}.yaml", opp)

    # The steps of a journaled commit in their order (about 60 lines): split further, the
    # reader would lose what the journal protects at each step.
    def commit(self) -> None:
        """Write every staged file atomically and make one commit of exactly those files.

        All or nothing: a journal of the files as they were is written first
        (``journal.py``), so that a failure here, or opp killed at any point, leaves the
        files, the index and HEAD as they were before, or as they are after the commit.
        """
        root = self.repo.root
        files.check_paths(root, self.writes)  # never a path outside the data repo

        def current(relpath: str) -> bytes | None:
            return files.read_data_file(root, relpath, 1 << 62, error=RepoError)

        # a write that changes nothing is no change: it never makes a commit of its own
        self.writes = {p: d for p, d in self.writes.items() if d != current(p)}
        if not self.writes:
            return
        self.writes.update(self.repo.schema_refresh())
        files.check_paths(root, self.writes)
        previous: dict[str, bytes | None] = {p: current(p) for p in self.writes}
        paths = list(self.writes)
        batch = len(paths) > MANY_PATHS
        message = self._message()
        journal.begin(self.repo, previous, message)
        try:
            # only our files may go into the commit: is anything else staged already? When
            # not, a plain commit of the index does it: committing paths (--only) makes git
            # build a second index from HEAD, which costs more than all the rest in a repo
            # of 100,000 files (#9)
            # and, beside it, where HEAD is, its tree and the hooks folder (used below when
            # HEAD is still there once the tree is written)
            staged, early = (self.early and self.early.take("commit")) or \
                git_reads(root, *COMMIT_READS)
            alone = staged.returncode == 0
            self._write_and_stage(batch)
            tree = head = None
            if alone:
                # --missing-ok skips checking that each of the index's blobs exists (0.1 s
                # at 100,000 files): the changed ones were just written by update-index,
                # the others are HEAD's, which git checked when it was committed
                tree = git(root, "write-tree", "--missing-ok",
                           config=self.repo.quick_objects()).stdout.strip()
                head = journal.head(self.repo)
            hooks, same = None, False
            if alone and head:  # HEAD's tree, and where the hooks are: one git for both
                known = early.stdout.split("\n")
                if early.returncode == 0 and len(known) > 3 and known[0] == head:
                    head_tree, hooks = known[1:3]
                else:  # HEAD moved meanwhile (or was unborn): ask again
                    head_tree, hooks = git(root, "rev-parse", head + "^{tree}", "--git-path",
                                           "hooks").stdout.split("\n")[:2]
                same = tree == head_tree
            if same:
                pass  # the files are back as HEAD has them (a deletion undone): no commit
            elif alone and tree is not None and self.repo.plain_commit(hooks):
                self._plain_commit(message, tree, head)
            else:
                only = () if alone else PATHSPEC_STDIN
                git(root, "commit", "-q", "--no-status", "-m", message, *only,
                    input=None if alone else pathspec(paths), env=self.repo.identity.env())
        except BaseException as exc:
            error = journal.rollback(self.repo, exc)  # the files, index and HEAD as before
            if error is exc:
                raise
            raise error from None
        journal.end(self.repo)
        if not batch:  # caches (the index) may learn the files as written
            for hook in self.repo.on_commit:
                hook(self.repo, {p: d for p, d in self.writes.items() if d})
        self._housekeeping()

    def _message(self) -> str:
        """The commit message: the templated subject, then the trailers (the action first)."""
        message = one_line(self.subject or "opp: change") + "\n"
        trailers = {"Opp-Action": self.action_name(), **self.trailers}
        return message + "\n" + "".join(f"{k}: {one_line(v, 200)}\n"
                                         for k, v in trailers.items())

    def _write_and_stage(self, batch: bool) -> None:
        """Write (or remove) every staged file and put them in git's index: one fsync per
        file, or one sync and a bulk staging for a batch."""
        root = self.repo.root
        batch = batch and hasattr(os, "sync")  # (os.sync is POSIX's: elsewhere, each file)
        for count, (relpath, data) in enumerate(self.writes.items(), 1):
            if data is None:
                (root / relpath).unlink(missing_ok=True)
                prune_empty(root, (root / relpath).parent)
            else:
                atomic_write(root / relpath, data, fsync=not batch)
            if self.progress is not None and count % 100 == 0:
                self.progress(100)
        if batch:
            os.sync()  # one sync for the whole batch instead of one fsync per file
            _stage_many(self.repo, self.writes)
        else:
            git(root, "update-index", "--add", "--remove", "-z", "--stdin",
                input=pathspec(list(self.writes)), config=self.repo.quick_objects())

    def _plain_commit(self, message: str, tree: str, head: str | None) -> None:
        """The commit ``git commit`` would make of the index (its ``tree``), by git's
        plumbing: in a repo of 100,000 files it saves git's refresh of every file's stat
        data. HEAD moves only from the commit it was at (compare and swap; from none on an
        unborn branch), as one more guard against a race."""

        root, env = self.repo.root, self.repo.identity.env()
        parents = ("-p", head) if head else ()
        sha = git(root, "commit-tree", tree, *parents, "-F", "-", input=message,
                  env=env).stdout.strip()
        subject = message.split("\n", 1)[0]
        # the reflog entry git commit would write, by the same person
        git(root, "update-ref", "-m", f"commit{'' if head else ' (initial)'}: {subject}",
            "HEAD", sha, head or "", env=env)
        if random.random() < 1 / 32:  # git commit's own housekeeping, now and then
            git(root, "maintenance", "run", "--auto", "--quiet", check=False)

    def _housekeeping(self) -> None:
        """Pack the loose objects now and then, by their size rather than their number
        (``pack_chance``), in the background as ``git gc --auto`` does: the change is
        committed already, and neither its exit status nor the lock waits for the pack.
        Never when the user turned git's automatic housekeeping off."""

        config = self.repo.git_config
        auto = git_int(config.get("gc.auto", "6700"))
        if (auto is not None and auto <= 0) or \
                ("maintenance.auto" in config and not git_true(config["maintenance.auto"])):
            return
        if random.random() >= pack_chance(_index_bytes(self.repo.git_dir)):
            return
        env = {k: v for k, v in os.environ.items() if k != CHILD_ENV}
        # sh starts git and exits at once: nothing left to wait for, no lock passed on;
        # niced and on one thread, so that the next commands hardly feel it
        script = ('n=; command -v nice >/dev/null 2>&1 && n="nice -n 19"; '
                  "$n git -c pack.threads=1 repack -d -q -l </dev/null >/dev/null 2>&1 &")
        try:
            subprocess.run(["sh", "-c", script],
                           cwd=self.repo.root, env=dict(env, GIT_TERMINAL_PROMPT="0"),
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, start_new_session=True, timeout=10)
        except (OSError, subprocess.SubprocessError):
            pass

    def action_name(self) -> str:
        """The ``Opp-Action`` trailer: the command's name, e.g. add-product."""
        word = self.kind or (self.action.split(" ", 1)[0] if self.action else "change")
        return re.sub(r"[^a-z0-9-]+", "-", word.lower()).strip("-") or "change"


# Every commit writes the tree of opportunities/ anew, as a loose object of about 41
# bytes per deal (uncompressed, ``Repo.quick_objects``): 4.1 MB at 100,000 deals. git gc
# --auto waits for 6,700 loose objects, some 1,700 changes and gigabytes at that size,
# so opp packs them by size too: once about LOOSE_BUDGET bytes have been written, on
# average (#9, #25).
LOOSE_BUDGET = 96 << 20


def _index_bytes(git_dir: Path) -> int:
    """The size of the index, its shared part included (``core.splitIndex``: the
    biggest ``sharedindex.*``, older ones wait for their expiry)."""
    index = shared = 0
    try:
        with os.scandir(git_dir) as entries:
            for entry in entries:
                if entry.name == "index":
                    index = entry.stat(follow_symlinks=False).st_size
                elif entry.name.startswith("sharedindex."):
                    shared = max(shared, entry.stat(follow_symlinks=False).st_size)
    except OSError:
        pass
    return index + shared


def pack_chance(index_bytes: int) -> float:
    """The chance that a change packs the loose objects: the bytes it wrote (about 0.4 of
    the index's size, 96 bytes per file there) over ``LOOSE_BUDGET``. A repack takes
    ~1 s at 100,000 deals, once in ~26 changes; at 1,000 deals it is left to git gc."""
    return min(1.0, index_bytes * 4 / 10 / LOOSE_BUDGET)


def _stage_many(repo: Repo, writes: dict[str, bytes | None]) -> None:
    """Stage many files fast: the blobs go into one pack through ``git fast-import``
    instead of one loose object file each (file creation is what costs), the index
    gets their ids, then a refresh records the files' stat data. Used for batches
    (imports) only: it skips clean filters, which opp's own YAML files never need."""
    root = repo.root
    written = [(p, d) for p, d in writes.items() if d is not None]
    removed = [p for p, d in writes.items() if d is None]
    if written:
        marks = repo.git_dir / f"opp-marks.{os.getpid()}"
        try:
            git(root, "fast-import", "--quiet", f"--export-marks={marks}",
                input=b"".join(b"blob\nmark :%d\ndata %d\n%s\n" % (i, len(d), d)
                               for i, (_, d) in enumerate(written, 1)))
            ids = dict(line.split(" ", 1) for line in marks.read_text().splitlines())
        finally:
            marks.unlink(missing_ok=True)
        # --index-info takes paths from the top of the work tree, which may be above us
        prefix = repo.place[0]
        git(root, "update-index", "-z", "--index-info",
            input="".join(f"100644 {ids[f':{i}']}\t{prefix}{p}\0"
                          for i, (p, _) in enumerate(written, 1)))
    if removed:
        git(root, "update-index", "--remove", "-z", "--stdin", input=pathspec(removed))
    git(root, "update-index", "-q", "--refresh", check=False)


def refuse_during_merge(git_dir: Path) -> None:
    """No opp change while a merge waits for its conflicts to be settled."""
    if (git_dir / "MERGE_HEAD").exists():
        raise RepoError("a merge is in progress (opp sync or git pull stopped on a conflict); "
                        "list what is left with 'opp conflicts', settle it with "
                        "'opp resolve ID FIELD --ours|--theirs', then run opp sync")


@contextmanager
def transaction(repo: Repo, subject: str = "", clean: tuple[str, ...] = ()
                ) -> Iterator[Transaction]:
    """Lock, let the caller stage writes, then write and commit them all or nothing.
    ``clean``: files the change will check for hand edits, whose git reads start early."""
    early = EarlyReads(repo)
    try:
        # git answers what the change will ask while the models load, before the lock:
        # an answer is used only while HEAD and the index are as they were (early.py),
        # and the lock is not held while pydantic is imported
        early.start("commit", COMMIT_READS)
        if clean:
            early.start(("clean", clean), clean_reads(list(clean)))
        from ..domain import model  # noqa: F401  (the models every change validates with)

        with repo.lock():
            refuse_during_merge(repo.git_dir)
            journal.refuse_git_operation(repo.git_dir)
            # a fresh look at the data now that we hold the lock
            for name in ("settings", "catalog", "_directory"):
                repo.__dict__.pop(name, None)
            tx = Transaction(repo, subject, early=early)
            yield tx
            tx.commit()
    finally:
        early.close()


@contextmanager
def change(repo: Repo, ref: str, kind: str, action: str = "") -> Iterator[Transaction]:
    """A change to one opportunity: ``tx.opportunity`` is loaded under the lock.

    ``kind`` names the command (the ``Opp-Action`` trailer), ``action`` the change
    in words for the subject; the body may refine it once it knows the result.
    """
    # a whole id names its file: its git reads start before the lock (used only for the
    # file the id resolves to under the lock)
    named = repo.named_file(ref)
    with transaction(repo, clean=(named,) if named else ()) as tx:
        tx.kind = kind
        opp_id = repo.resolve(ref)
        relpath = f"{OPPORTUNITIES_DIR}/{opp_id}.yaml"
        tx.refuse_hand_edits([relpath])
        try:
            before = repo.load(opp_id)
        except DataError as exc:  # opp changes only what it can read: say how to mend it
            raise DataError(f"{exc.message}; opp changes only valid files: fix this one "
                            f"by hand (opp validate lists every problem) or undo the "
                            f"edit with git", exc.path, exc.line, exc.column) from None
        tx.opportunity = before
        tx.action = action
        yield tx
        if tx.opportunity is not None and tx.opportunity != before:
            tx.save_opportunity(tx.opportunity)
        if tx.writes:
            tx.subject = tx.subject or opportunity_subject(tx.opportunity, tx.action)
            tx.trailers.setdefault("Opp-Id", opp_id)
