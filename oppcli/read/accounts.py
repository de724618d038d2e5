"""``opp account show --timeline``: the story of the account file and of all its deals,
oldest first."""

from __future__ import annotations

import heapq
from collections.abc import Callable
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from ..store import accounts as store_accounts
from ..store.files import OPPORTUNITIES_DIR
from ..store.git import git
from .index.accounts import directory
from .source import of
from .timeline import timeline

if TYPE_CHECKING:
    from ..store.repo import Repo


def account_timeline(repo: Repo, ref: str, warn: Callable[[str], None] | None = None
                     ) -> list[dict[str, Any]]:
    """Every change and activity of the account's deals and of its file, oldest first;
    each entry names its deal (``opportunity``: id and name) or the account.

    Each deal's story (and the file's) keeps its own order, that of its history; the
    stories are interleaved by time, and changes made in the same second by the order
    of their commits (git's, parents first), never by which deal is listed first."""
    entry = directory(repo).resolve(ref)
    relpath = store_accounts.relpath_of(entry.id)
    log = git(repo.root, "log", "--topo-order", "--reverse",
              "--format=%H%x1f%aI%x1f%an%x1f%s", "--", relpath, check=False).stdout
    stories: list[list[dict[str, Any]]] = [[]]
    for line in log.splitlines():
        sha, at, author, subject = (line.split("\x1f", 3) + ["", "", ""])[:4]
        stories[0].append({"at": at, "author": author, "kind": "change", "summary": subject,
                           "changes": [], "commit": sha, "account": entry.id,
                           "opportunity": None})
    deals = [r for r in of(repo).records() if r.customer_id == entry.id]
    for r in deals:
        stories.append([{**item, "opportunity": {"id": r.id, "name": r.name}}
                        for item in timeline(repo, r.id, warn)])
    order = _commit_order(repo, [relpath, *(f"{OPPORTUNITIES_DIR}/{r.id}.yaml"
                                            for r in deals)])
    last = len(order)
    return list(heapq.merge(*stories, key=lambda e: (_moment(str(e["at"])),
                                                     order.get(e.get("commit") or "", last))))


def _commit_order(repo: Repo, paths: list[str]) -> dict[str, int]:
    """The commits that touched ``paths``, numbered oldest first in git's order
    (a commit after its parents, whatever their dates say)."""
    out = git(repo.root, "rev-list", "--topo-order", "--reverse", "--full-history", "HEAD",
              "--", *paths, check=False).stdout
    return {sha: i for i, sha in enumerate(out.split())}


def _moment(at: str) -> datetime:
    moment = datetime.fromisoformat(at.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
