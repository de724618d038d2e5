"""The day each opportunity file was last changed by a commit: the author day (in the
author's own time zone) of the latest commit that touched it, for the agenda's stale
deals.

One ``git log --name-only`` over the history reads every file's day, never one git per
deal. A long history makes that slow (each commit's folder of files is compared with
its parent's: seconds at 10,000 files and 5,000 commits), so the index keeps the days
as of the commit it read up to, and the next run reads only the commits made since
(``KNOWN..HEAD``), after checking that the history still holds that commit (a rewritten
history is read again whole). The git work runs in a thread beside the reading of the
files (``start``), so that it costs a report no time of its own; when HEAD (read from
git's files) is the commit the index read up to, nothing is new, and no thread starts.

Merges list no files of their own: a file changed on two clones and merged takes the
later of the two sides' days. A file's day is the latest author day of the commits
that changed it, which is its last commit's in a history without rewritten dates.
"""

from __future__ import annotations

import threading
from datetime import date
from typing import TYPE_CHECKING

from ..store.files import OPPORTUNITIES_DIR
from ..store.git import git, git_raw, head_commit, history_view, loose_parents
from .index import db

if TYPE_CHECKING:
    from ..store.repo import Repo

ROWS = 64  # rows of days added to the index's since it wrote them whole, at most

_LOG = ("-c", "log.showSignature=false", "log", "-z", "--no-renames", "--relative",
        "--name-only", "--format=%x1e%as")


def _head(repo: Repo) -> str | None:
    """The commit HEAD names (from git's files when plain, else asking git); None before
    the first commit."""
    found = head_commit(repo.git_dir)
    if found:
        return found
    out = git(repo.root, "rev-parse", "-q", "--verify", "HEAD^{commit}", check=False)
    return out.stdout.strip() if out.returncode == 0 else None


def _days(repo: Repo, revisions: str) -> dict[str, str]:
    """opp id -> the latest author day of the commits of ``revisions`` that changed its
    file (one ``git log``)."""
    out = git_raw(repo.root, *_LOG, revisions, "--", OPPORTUNITIES_DIR)
    days: dict[str, str] = {}
    prefix = f"{OPPORTUNITIES_DIR}/".encode()
    for chunk in out.split(b"\x1e"):
        if len(chunk) < 10:
            continue
        day = chunk[:10].decode("ascii", "replace")
        for name in chunk[11:].lstrip(b"\n").split(b"\0"):
            if not name.startswith(prefix) or not name.endswith(b".yaml"):
                continue
            opp_id = name[len(prefix):-5]
            if b"/" in opp_id or opp_id.startswith(b"."):
                continue
            key = opp_id.decode("utf-8", "replace")
            if "\n" in key or "\x1f" in key:
                continue  # no such file is an opportunity; the index could not keep it
            if day > days.get(key, ""):
                days[key] = day
    return days


class Pending:
    """The days being read in a thread; ``result()`` waits for them."""

    def __init__(self, repo: Repo):
        self.repo = repo
        self.index = db.for_repo(repo)
        self.known: str | None = None
        self.cached: dict[str, str] = {}
        self.rows = 0  # rows of days the index added since it wrote them whole
        # the days are of a commit as git shows its history: in a shallow clone, with
        # grafts or replace refs, of that view too (a new one reads the history again)
        self.view = history_view(repo.git_dir)
        self.stamp: str | None = None  # the last row's, as read
        if self.index is not None:
            try:
                self.stamp, self.cached, self.rows = self.index.touches()
            except db.Corrupt:
                self.cached = {}
            known, _, view = (self.stamp or "").partition(" ")
            if self.stamp and view == self.view:
                self.known = known
            else:
                self.cached = {}
        self.head: str | None = None
        self.read: dict[str, str] = {}
        self.whole = True
        self.error: BaseException | None = None
        self.thread: threading.Thread | None = None
        plain = head_commit(repo.git_dir)  # from git's files: no git, no thread
        if plain is not None and plain == self.known:  # the usual case: nothing new
            self.head, self.whole = plain, False
            return
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.head = _head(self.repo)
            if self.head is None:
                return
            known = self.known
            if known == self.head:
                self.whole = False
                return
            if known and (known in (loose_parents(self.repo.git_dir, self.head) or ()) or git(
                    self.repo.root, "merge-base", "--is-ancestor", known, self.head,
                    check=False).returncode == 0):  # (a change's commit: its parent, read)
                self.whole = False
                self.read = _days(self.repo, f"{known}..{self.head}")
                return
            self.read = _days(self.repo, self.head)
        except BaseException as exc:  # raised again by result(), in the caller's thread
            self.error = exc

    def result(self) -> dict[str, date]:
        """opp id -> the day its file was last committed; files never committed are
        absent."""
        if self.thread is not None:
            self.thread.join()
        if self.error is not None:
            raise self.error
        if self.head is None:
            return {}
        if self.whole:
            days = self.read
        else:
            days = self.cached
            for key, day in self.read.items():
                if day > days.get(key, ""):
                    days[key] = day
        if self.index is not None and self.known != self.head:
            stamp = f"{self.head} {self.view}" if self.view else self.head
            if self.whole or self.rows >= ROWS or self.stamp is None:
                self.index.write(touches=(stamp, days))
            else:  # a row of the days read since (#25: not 100,000 again)
                self.index.write(touched=(self.stamp, stamp, self.read))
        as_date: dict[str, date] = {}  # a few hundred distinct days for 10,000 files
        distinct = set(days.values())
        for day in distinct:
            try:
                as_date[day] = date.fromisoformat(day)
            except ValueError:
                pass  # not a day: a commit date git could not write this way
        if len(as_date) < len(distinct):
            return {key: as_date[day] for key, day in days.items() if day in as_date}
        return dict(zip(days, map(as_date.__getitem__, days.values()), strict=True))  # C loops


def start(repo: Repo) -> Pending:
    """Start reading the days (in a thread, when there is anything new to read);
    ``.result()`` gives them."""
    return Pending(repo)
