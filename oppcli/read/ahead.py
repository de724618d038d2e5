"""The replay key taken in a process of its own, while opp gets the report ready (#25).

At 100,000 files the key's walk (one ``stat`` per file) takes about 0.35 s, and a report
after a change then needs as long again to start (imports) and read the records kept
whole. The two are independent until the report reads anything, and this machine has
two CPUs, so when the records kept whole are large (``FORK_BYTES``) opp forks: the child
takes the key exactly as ``outputs.key_of`` does, and compares the kept records' stat
data with the files' it just took; the parent meanwhile imports what the report needs
and reads the kept records (a cache of facts, each checked against the child's stat
data afterwards: reading it early is safe). The parent then waits for the child and
reads nothing of the data repo before it has the key, as before.

The child sends back the key and what the report needs of its walk: the stat data lent
of the small folders (``outputs.taken``) and, for the opportunities, only which files
differ from the kept records (``compared``), or all their stat data when no records
are kept. When a kept output already answers the key, it sends the key alone. A child
that fails sends nothing: the run then goes on without a key, the usual careful way.
"""

from __future__ import annotations

import gc
import marshal
import os
import select
from pathlib import Path
from typing import Any, NamedTuple

from . import outputs
from .index import stats

# the records kept whole (~35,000 deals) from which the key is taken in a child
FORK_BYTES = 8 << 20
_OPPORTUNITIES = "opportunities"


class Ahead(NamedTuple):
    """Which files differ from the records kept whole (their copy's ``token``): their
    positions (``gone`` among them), the names of new files, and the stat data of the
    changed and new ones, as lent."""

    token: str
    changed: list[int]
    gone: set[int]
    new: list[str]
    lent: dict[str, tuple]


_compared: dict[str, Ahead] = {}  # folder path -> what the child found


def compared(folder: str) -> Ahead | None:
    """What the key's child found of ``folder`` against the records kept whole, once."""
    return _compared.pop(folder, None)


class Pending:
    """A key being taken: at once (``forked`` False), or in a child."""

    def __init__(self, key: outputs.Key | None = None, pid: int = 0, fd: int = -1,
                 records: str = ""):
        self.done, self.pid, self.fd, self.records = key, pid, fd, records
        self.forked = pid > 0

    def answered(self) -> bool:
        """Whether the child has answered (then whatever is done ahead is better left
        to the report, which may be a replay)."""
        if not self.forked:
            return True
        return bool(select.select([self.fd], [], [], 0)[0])

    def key(self) -> outputs.Key | None:
        if not self.forked:
            return self.done
        chunks = []
        try:
            while True:
                chunk = os.read(self.fd, 1 << 20)
                if not chunk:
                    break
                chunks.append(chunk)
        finally:
            os.close(self.fd)
            os.waitpid(self.pid, 0)
        self.forked = False
        if not chunks:
            return None  # the child failed, or found no key: the usual way
        try:
            found = marshal.loads(b"".join(chunks))
            folder, digest, trusted = found["key"]
            compared = {path: Ahead(token, changed, set(gone), new, lent) for
                        path, (token, changed, gone, new, lent) in found["compared"].items()}
            seen = found["seen"]
        except (EOFError, ValueError, TypeError, KeyError):
            return None  # cut short (a child killed): no key, the usual way
        outputs.lend(seen)
        _compared.update(compared)
        self.done = outputs.Key(Path(folder), digest, trusted)
        return self.done


def start(argv: list[str]) -> Pending | None:
    """The key of this command line, taken in a child when the records kept whole are
    large; None when the command is no report this cache serves."""
    if not outputs.wanted(argv):
        return None
    try:
        root = outputs.root_of(argv)
    except (outputs.Unsure, OSError, ValueError):
        return None
    records = os.path.join(root, ".git", "opp-index.records")
    try:
        large = os.stat(records).st_size >= FORK_BYTES
    except OSError:
        large = False
    if not large or not hasattr(os, "fork"):
        return Pending(outputs.key_of(argv))
    try:
        read, write = os.pipe()
    except OSError:  # no file descriptor left: the key at once
        return Pending(outputs.key_of(argv))
    try:
        pid = os.fork()
    except OSError:  # no process left (a limit, no memory): the key at once
        os.close(read)
        os.close(write)
        return Pending(outputs.key_of(argv))
    if pid == 0:  # the child: never returns
        try:
            gc.disable()  # short-lived, it makes 100,000 tuples at 100,000 files, no cycle
            os.close(read)
            found = _child(argv, root, records)
            data = marshal.dumps(found) if found is not None else b""
            view = memoryview(data)
            while view:
                view = view[os.write(write, view):]
        finally:
            os._exit(0)
    os.close(write)
    return Pending(pid=pid, fd=read, records=records)


def _child(argv: list[str], root: str, records: str) -> dict[str, Any] | None:
    found = outputs.key_of(argv)
    if found is None:
        return None
    out: dict[str, Any] = {"key": (str(found.folder), found.digest, found.trusted),
                           "seen": {}, "compared": {}}
    if (found.folder / found.digest).exists():
        return out  # a replay: nothing of the walk is needed
    seen = outputs.lent_all()
    folder = os.path.join(root, _OPPORTUNITIES)
    lent = seen.get(folder)
    head = stats.peek(records) if lent is not None else None
    packed = stats.packed_now(lent, head.files) if lent is not None and head is not None \
        else None
    if head is not None and packed is not None:
        assert lent is not None
        diff = stats.compare(head.files, head.stats, packed, lent)
        names = [head.files[i] for i in diff.changed if i not in diff.gone]
        names += [f"{opp_id}.yaml" for opp_id in diff.new]
        out["compared"][folder] = (head.head[4], diff.changed, list(diff.gone), diff.new,
                                   {name: lent[name] for name in names})
        del seen[folder]
    out["seen"] = seen
    return out
