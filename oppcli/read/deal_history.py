"""Every deal's path through the stages, from the whole git history (``opp insights``,
``opp forecast --probabilities history``, ``opp backtest``).

Two git processes at most, however long the history: one ``git log --raw --cc`` over
every commit (merged clones included, each commit once) lists the blob ids of each
opportunity file's versions, and the blobs' parsed entries come from the index (keyed
by blob id, as for today's files; parsed once and remembered otherwise, read by one
``git cat-file --batch``). The log itself is kept in the index as of the commit it read
up to, and the next run reads only the commits made since (``KNOWN..HEAD``).

Each version is read with today's ``opp.yaml`` (the stage ids are what count: their
kinds and order are today's). A version that is not a valid opportunity is skipped.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from ..domain.categories import CATEGORIES
from ..domain.settings import Settings
from ..domain.stays import DealPath, DealState, Version, fold
from ..store.files import OPPORTUNITIES_DIR
from ..store.git import git, git_raw, head_commit
from ..store.repo import Repo
from .history import read_blobs
from .index import db, worktree
from .index.entry import REC_FIELDS, SEP, Entry, parse

# --full-history: a side of a merge whose result matches the other side still counts (git
# would prune it from a path's history: Alice's move, made again by Bob, would be lost)
_LOG = ("-c", "log.showSignature=false", "log", "-z", "--raw", "--cc", "--full-history",
        "--no-renames", "--no-abbrev", "--relative", "--topo-order", "--reverse",
        "--format=%x1e%H%x1f%P%x1f%aI")
_NULL = "0" * 40
_F = {name: i for i, name in enumerate(REC_FIELDS)}


def _head(repo: Repo) -> str | None:
    found = head_commit(repo.git_dir)
    if found:
        return found
    out = git(repo.root, "rev-parse", "-q", "--verify", "HEAD^{commit}", check=False)
    return out.stdout.strip() if out.returncode == 0 else None


def _log(repo: Repo, revisions: str) -> list[str]:
    """The commits of ``revisions`` that touched an opportunity file, oldest first, as
    lines: ``C sha merge author-date`` then ``F id old-blob new-blob`` per file (a blob
    ``-`` when the file is absent on that side; ``old`` of a merge is ``-`` too)."""
    out = git_raw(repo.root, *_LOG, revisions, "--", OPPORTUNITIES_DIR)
    lines: list[str] = []
    for chunk in out.split(b"\x1e"):
        if not chunk.strip():
            continue
        header, _, raw = chunk.partition(b"\0")
        sha, parents, at = header.decode("ascii", "replace").strip().split("\x1f")
        merge = len(parents.split()) > 1
        files = []
        tokens = [t for t in (x.strip(b"\n") for x in raw.split(b"\0")) if t]
        for meta, path in zip(tokens[0::2], tokens[1::2], strict=False):
            fields = meta.decode("ascii", "replace").lstrip(":").split()
            name = path.decode("utf-8", "replace")
            folder, _, file = name.partition("/")
            if (folder != OPPORTUNITIES_DIR or "/" in file or not file.endswith(".yaml")
                    or file.startswith(".") or "\n" in file or " " in file):
                continue
            blobs = [b for b in fields if len(b) == 40]
            old = "-" if merge or not blobs or blobs[0] == _NULL else blobs[0]
            new = "-" if not blobs or blobs[-1] == _NULL else blobs[-1]
            files.append(f"F {file[:-5]} {old} {new}")
        if files:
            lines.append(f"C {sha} {int(merge)} {at}")
            lines += files
    return lines


def log_lines(repo: Repo) -> list[str]:
    """The log of every commit up to HEAD (``_log``), from the index when it has read
    up to HEAD or to one of its ancestors (then only the commits since are asked)."""
    head = _head(repo)
    if head is None:
        return []
    index = db.for_repo(repo)
    known: str | None = None
    cached: list[str] = []
    if index is not None:
        try:
            known, cached = index.history()
        except db.Corrupt:
            known, cached = None, []
    if known == head:
        return cached
    if known and git(repo.root, "merge-base", "--is-ancestor", known, head,
                     check=False).returncode == 0:
        lines = cached + _log(repo, f"{known}..{head}")
    else:
        lines = _log(repo, head)
    if index is not None:
        index.write(history=(head, lines))
    return lines


def _entries(repo: Repo, blobs: set[str]) -> dict[str, Entry]:
    if db.enabled():
        return worktree.entries_for(repo, blobs, lambda wanted: read_blobs(repo.root, wanted))
    return {b: parse(data) for b, data in read_blobs(repo.root, blobs).items()}


def _states(entries: dict[str, Entry], settings: Settings) -> dict[str, DealState]:
    """The state of each valid version (a blob), read with ``settings``."""
    kinds = {s.id: s.kind for s in settings.stages}
    words: dict[str, str] = {}
    out: dict[str, DealState] = {}
    i_stage, i_owner, i_customer, i_currency = _F["stage"], _F["owner"], _F["customer"], \
        _F["currency"]
    i_amount, i_close, i_category = _F["amount"], _F["close_date"], _F["category"]
    days: dict[str, date] = {}
    for blob, entry in entries.items():
        if entry.rec is None:
            continue
        f = entry.rec.split(SEP)
        stage = f[i_stage]
        close = f[i_close]
        if close and close not in days:
            days[close] = date.fromisoformat(close)
        category = f[i_category] if f[i_category] in CATEGORIES else None
        out[blob] = DealState(stage, kinds.get(stage, "open"),
                              words.setdefault(f[i_owner], f[i_owner]),
                              words.setdefault(f[i_customer], f[i_customer]),
                              words.setdefault(f[i_currency], f[i_currency]),
                              Decimal(f[i_amount]), days.get(close) if close else None,
                              category)
    return out


def deal_paths(repo: Repo, settings: Settings) -> list[DealPath]:
    """Every deal the history knows (deleted ones too), its stays and states."""
    lines = log_lines(repo)
    blobs: set[str] = set()
    for line in lines:
        if line[0] == "F":
            _, _, old, new = line.split(" ")
            blobs.update(b for b in (old, new) if b != "-")
    states = _states(_entries(repo, blobs), settings)
    stage_of = {b: s.stage for b, s in states.items()}
    versions: dict[str, list[Version]] = {}
    sha, merge, at = "", False, datetime.min
    times: dict[str, datetime] = {}
    for seq, line in enumerate(lines):
        if line[0] == "C":
            _, sha, flag, stamp = line.split(" ")
            merge = flag == "1"
            at = times.get(stamp) or times.setdefault(stamp, datetime.fromisoformat(stamp))
            continue
        _, deal, old, new = line.split(" ")
        if new != "-" and new not in states:
            continue  # a version that is not a valid opportunity: skipped
        before = None if old == "-" else stage_of.get(old)
        versions.setdefault(deal, []).append(
            Version(at, seq, sha, merge, before, states.get(new) if new != "-" else None))
    return [p for deal, vs in sorted(versions.items()) for p in [fold(deal, vs)] if p]

