"""``opp account show --timeline``: the story of the account file and of all its deals,
oldest first."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from ..store import accounts as store_accounts
from ..store.git import git
from .index.accounts import directory
from .source import of
from .timeline import timeline

if TYPE_CHECKING:
    from ..store.repo import Repo


def account_timeline(repo: Repo, ref: str, warn: Callable[[str], None] | None = None
                     ) -> list[dict[str, Any]]:
    """Every change and activity of the account's deals and of its file, oldest first;
    each entry names its deal (``opportunity``: id and name) or the account."""
    entry = directory(repo).resolve(ref)
    out: list[dict[str, Any]] = []
    relpath = store_accounts.relpath_of(entry.id)
    log = git(repo.root, "log", "--format=%H%x1f%aI%x1f%an%x1f%s", "--",
              relpath, check=False).stdout
    for line in log.splitlines():
        sha, at, author, subject = (line.split("\x1f", 3) + ["", "", ""])[:4]
        out.append({"at": at, "author": author, "kind": "change", "summary": subject,
                    "changes": [], "commit": sha, "account": entry.id,
                    "opportunity": None})
    for r in of(repo).records():
        if r.customer_id == entry.id:
            for item in timeline(repo, r.id, warn):
                out.append({**item, "opportunity": {"id": r.id, "name": r.name}})
    out.sort(key=lambda e: _moment(str(e["at"])))
    return out


def _moment(at: str) -> datetime:
    moment = datetime.fromisoformat(at.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)

