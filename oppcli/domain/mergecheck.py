"""Whether a merge kept both sides' work: the check ``opp sync`` runs before it pushes.

A merge commit can hold less than it should: git stopped halfway (a stale lock, a
kill, a full disk) and someone committed what was there, or the merge driver was
switched off and a line merge took one side. Here, for one file, the merged version
is compared with a fresh three-way merge of base, ours and theirs (``merge.py``):
every value and item either side changed since the base must be in the merge as the
fresh merge has it. Where the fresh merge has a conflict, a person chose (``opp
resolve``): those values, the fields a rule ties to them and what the rules derive
from them (amounts, totals) may be either side's or a new value. A file that cannot
be merged field by field at all was settled by taking one side: nothing to compare.

Pure: the storage layer reads the four versions and the settings, this only decides.
"""

from __future__ import annotations

from typing import Any

from . import merge
from .mergevalues import key_of

DERIVED = ("total", "amount", "amount_source")
SHOWN = 3  # differences spelled out per file


def lost(kind: str, base: Any, ours: Any, theirs: Any, merged: Any, settings: Any = None
         ) -> list[str]:
    """What of either side's changes ``merged`` lacks, in words ([] when it kept both).
    Each version is parsed YAML (a dict) or None when the file is absent there."""
    if ours is None or theirs is None:
        return []  # deleted on one side: git settles it whole (or a person did)
    if merged is None:
        return ["the file is gone, though both sides have it"]
    fresh = merge.merge_document(kind, base, ours, theirs, settings=settings)
    if fresh.whole_file or fresh.data is None:
        return []
    skip = {c.path for c in fresh.conflicts}
    skip |= {(f,) for c in fresh.conflicts for f in c.fields}
    settled = bool(fresh.conflicts)
    out: list[str] = []
    _compare(fresh.data, merge.normalize(kind, merged), (), skip, settled, out)
    return out


def _skipped(path: tuple, skip: set, settled: bool) -> bool:
    if any(path[:len(p)] == p for p in skip):
        return True
    return settled and bool(path) and path[-1] in DERIVED


def _compare(want: Any, have: Any, path: tuple, skip: set, settled: bool,
             out: list[str]) -> None:
    if len(out) >= SHOWN or _skipped(path, skip, settled):
        return
    if isinstance(want, dict) and isinstance(have, dict):
        for k in dict.fromkeys([*want, *have]):
            _compare(want.get(k, merge.MISSING), have.get(k, merge.MISSING), (*path, k),
                     skip, settled, out)
        return
    if isinstance(want, list) and isinstance(have, list):
        key = key_of([want, have])
        if key is not None:
            wanted = {key(x): x for x in want}
            had = {key(x): x for x in have}
            for k in dict.fromkeys([*wanted, *had]):
                label = merge.describe_key(wanted.get(k, had.get(k)))
                _compare(wanted.get(k, merge.MISSING), had.get(k, merge.MISSING),
                         (*path, label), skip, settled, out)
            return
    if merge.same(want, have):
        return
    where = ".".join(str(p) for p in path) or "the file"
    if have is merge.MISSING:
        out.append(f"{where} is missing ({merge.describe(want, item=True)} on a side)")
    elif want is merge.MISSING:
        out.append(f"{where} is there ({merge.describe(have, item=True)}) though a side "
                   "removed it")
    else:
        out.append(f"{where} is {merge.describe(have)}, not {merge.describe(want)}")
