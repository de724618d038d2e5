"""Where reports and lists get their data: one ``Source`` of settings, records and
``show`` details, for today's files or for the repo as it was on a past day.

Both come from the index (``read/index``, keyed by git blob id) unless
``OPP_NO_INDEX`` is set, and are the same either way: the index is a cache behind
this interface, and storage knows nothing of it. Every read refuses (naming the
file) rather than skip an invalid opportunity: totals must never silently miss data.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from ..domain.accounts import with_accounts
from ..domain.records import Dated, Record, dated, record
from ..domain.settings import Settings
from .index import accounts, db, worktree
from .index.accounts import names as account_names
from .index.detail import working_detail

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import date

    from ..domain.model import Opportunity
    from ..store.repo import Repo
    from .history import Commit, Snapshot


class Source(Protocol):
    """What reports read: ``commit`` is None for today's files."""

    commit: Commit | None

    def settings(self) -> Settings: ...

    def records(self) -> list[Record]: ...

    def detail(self, opp_id: str) -> dict[str, Any]: ...

    def dated(self) -> list[tuple[Record, Dated]]:
        """The open deals, and the closed ones with an activity to do, with their dated
        items: what the agenda and the calendar read."""
        ...


class WorkingTree:
    """The data repo's files as they are now."""

    commit: Commit | None = None

    def __init__(self, repo: Repo):
        self.repo = repo

    def settings(self) -> Settings:
        """The settings as reports and lists read them, from the index when it knows this
        ``opp.yaml``: no pydantic on that path."""
        if db.enabled():
            return worktree.report_settings(self.repo)
        return self.repo.settings

    def records(self) -> list[Record]:
        """Every opportunity as a plain ``Record``, in id order."""
        if db.enabled():
            return worktree.working_records(self.repo)
        settings = self.repo.settings
        names = account_names(self.repo)
        return [record(opp, settings, names) for opp in self.repo.load_all()]

    def dated(self) -> list[tuple[Record, Dated]]:
        """Every open opportunity as ``records`` gives it, and every closed one with an
        activity to do, with what of it has a day (its activities, its quotes awaiting an
        answer; of a closed deal, its activities to do): what the agenda reads. From the
        index's entries, as fast as ``records``; every file is checked either way."""
        if db.enabled():
            return worktree.working_dated(self.repo)
        return _agenda_items(self.repo.load_all(), self.repo.settings,
                             account_names(self.repo))

    def detail(self, opp_id: str) -> dict[str, Any]:
        """``opp show --format json`` of one opportunity, as ``Repo.load`` checks it."""
        if db.enabled():
            found = working_detail(self.repo, opp_id)
        else:
            from ..domain.views import detail  # pydantic's path: only without the index

            found = detail(self.repo.load(opp_id), self.repo.settings)
        return with_accounts(found, accounts.directory(self.repo))


class Past(WorkingTree):
    """The data repo as it was at one commit (``history.snapshot``): its files and
    settings of then. The index shares its entries with today's files: most blobs of a
    month ago are today's too."""

    def __init__(self, snapshot: Snapshot):
        super().__init__(snapshot)
        self.snapshot = snapshot
        self.commit = snapshot.commit

    def records(self) -> list[Record]:
        if not db.enabled():
            return super().records()
        snap = self.snapshot
        items = [(i, snap.files[snap.path_key(i)]) for i in snap.ids()]
        return worktree.records_of_blobs(snap, items, lambda blobs: snap.read(*blobs),
                                         snap.here)

    def dated(self) -> list[tuple[Record, Dated]]:
        return _agenda_items(self.snapshot.load_all(), self.snapshot.settings,
                             account_names(self.repo))


def of(repo: Repo, as_of: date | None = None) -> WorkingTree:
    """Today's files, or the data repo as of the end of a day (read from git)."""
    if as_of is None:
        return WorkingTree(repo)
    from .history import snapshot

    return Past(snapshot(repo, as_of))


def remember(repo: Repo, written: dict[str, bytes]) -> None:
    """A commit hook (``Repo.on_commit``): the next report finds these files parsed."""
    if db.enabled():
        worktree.remember(repo, written)
        accounts.remember(repo, written)


def _agenda_items(opps: Iterable[Opportunity], settings: Settings, names: dict[str, str]
                  ) -> list[tuple[Record, Dated]]:
    """``Source.dated`` of loaded opportunities: the open ones, and the closed ones with
    an activity to do."""
    out = []
    for opp in opps:
        r = record(opp, settings, names)
        items = dated(opp, r.status != "open")
        if r.status == "open" or items.planned:
            out.append((r, items))
    return out
