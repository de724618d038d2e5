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

The parent takes a share of the walk itself, first (``Pending.share``): the stat data
of the first ``SHARE`` of the kept files, by name, whose digest it sends the child with
the token of the kept records it read and how many of those files are there; the child
takes the stat data of the other kept files, by name too, and only lists the folder:
both take it in the kept records' order and packed as they keep it
(``stats.in_order``), so that comparing it is one comparison of bytes, with no tuple
and no lookup by name per file. A name the folder lists beyond the kept and shared
files there is looked for and walked (a new file). Once done, the child waits for the
parent's digest, hashed into the key (``outputs.key_of``). A share of another writing of
the kept records, or none, and the child sends no key. The parent compares its share
with the kept records when the child has answered.

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
from typing import TYPE_CHECKING, Any, NamedTuple

from . import outputs
from .index import stats

if TYPE_CHECKING:
    from collections.abc import Sequence

# the records kept whole (~35,000 deals) from which the key is taken in a child
FORK_BYTES = 8 << 20
# the part of the kept files whose stat data the parent takes itself, before it gets
# ready, while the child takes the rest. At 100,000 deals, since both take it in the kept
# order (the child's work 0.33 -> 0.23 s), the parent is the longer: the first report
# after a note, nine runs of each (2026-12-05), pipeline / agenda 0.51 / 0.64 s with
# 0.35, 0.47 / 0.59-0.61 s with 0.2, 0.51 / 0.59 s with 0.15, 0.51 / 0.59 s with 0.1;
# a warm pipeline 0.37 s with 0.35, 0.33 s with 0.2
SHARE = 0.2
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


def share_names(head: stats.Head | None) -> list[str]:
    """The parent's share of the key's walk: the first ``SHARE`` of the kept files."""
    return head.files[:stats.first_of(len(head.files), SHARE)] if head is not None else []


class Pending:
    """A key being taken: at once (``forked`` False), or in a child, the parent taking
    its share of the walk (``share``)."""

    def __init__(self, key: outputs.Key | None = None, pid: int = 0, fd: int = -1,
                 records: str = "", share_fd: int = -1, root: str = ""):
        self.done, self.pid, self.fd, self.records = key, pid, fd, records
        self.forked = pid > 0
        self.share_fd, self.root = share_fd, root
        self.shared = 0  # how many files the parent's share holds (once sent)
        # how they stand against the kept records (``_against``); None: not compared
        self.diff: tuple[list[int], set[int], list[str], dict[str, tuple]] | None = None

    def answered(self) -> bool:
        """Whether the child has answered (then whatever is done ahead is better left
        to the report, which may be a replay)."""
        if not self.forked:
            return True
        return bool(select.select([self.fd], [], [], 0)[0])

    def share(self) -> None:
        """Take the parent's share of the walk (the stat data of the first kept files)
        and send the child its digest, with the token of the kept records it is of: the
        child waits for it once its own walk is done. Whatever fails, the child gets
        nothing, and then sends no key."""
        if self.share_fd < 0:
            return
        message, kept = b"", b""
        names: list[str] = []
        taken = stats.InOrder(b"", [], 0)
        try:
            head = stats.peek_first(self.records, SHARE)  # (share_names of its head)
            names, kept = (head.files, head.stats) if head else ([], b"")
            taken = outputs.share_in_order(self.root, names)
            message = marshal.dumps((head.head[4] if head else None,
                                     *outputs.shared_of(names, taken)))
        except Exception:  # whatever it is (a link among them…): no key, the careful way
            message = b""
        finally:
            try:
                outputs.write_all(self.share_fd, message)
            except OSError:
                pass  # the child is gone (it needed no share): its answer tells
            os.close(self.share_fd)
            self.share_fd = -1
        if message and names:  # compared now, the share let go before the report grows
            self.shared = len(names)
            try:
                self.diff = _against(names, kept, taken, [])
            except Exception:  # whatever it is: not compared, no key (``_joined``)
                self.diff = None

    def key(self) -> outputs.Key | None:
        if not self.forked:
            return self.done
        if self.share_fd >= 0:  # no share taken: the child waits no more, sends no key
            os.close(self.share_fd)
            self.share_fd = -1
        try:
            answer = _read_all(self.fd)
        finally:
            os.close(self.fd)
            os.waitpid(self.pid, 0)
        self.forked = False
        if not answer:
            return None  # the child failed, or found no key: the usual way
        try:
            found = marshal.loads(answer)
            folder, digest, trusted = found["key"]
            compared = {path: Ahead(token, changed, set(gone), new, lent) for
                        path, (token, changed, gone, new, lent) in found["compared"].items()}
            seen, share = found["seen"], found["share"]
        except (EOFError, ValueError, TypeError, KeyError):
            return None  # cut short (a child killed): no key, the usual way
        if share != self.shared or not self._joined(compared, seen):
            return None  # the child left out another share than the parent took
        outputs.lend(seen)
        _compared.update(compared)
        self.done = outputs.Key(Path(folder), digest, trusted)
        return self.done

    def _joined(self, compared: dict[str, Ahead], seen: dict[str, dict[str, tuple]]) -> bool:
        """The parent's share put in with what the child found of the rest of the deals'
        folder; False when it cannot be compared (no key then: the usual way)."""
        folder = os.path.join(self.root, _OPPORTUNITIES)
        if not self.shared:
            return True
        rest = compared.get(folder)
        if rest is None:  # a replay needs nothing of the walk; a child that lends the
            # folder's stat data could not compare it: no key
            return folder not in seen
        if self.diff is None:
            return False
        changed, gone, _, lent = self.diff  # (no new file: the share is of kept names)
        compared[folder] = Ahead(rest.token, changed + rest.changed, gone | rest.gone,
                                 rest.new, {**rest.lent, **lent})
        return True


def _against(files: Sequence[str], kept: bytes, taken: stats.InOrder, others: list[tuple]
             ) -> tuple[list[int], set[int], list[str], dict[str, tuple]]:
    """How these kept files (``kept``: their stat data) stand against their stat data
    ``taken`` now, in their order, and the folder's other entries (``others``, as the
    walk takes them): the positions changed (``gone`` among them), the ids of new files,
    and the stat data of the changed and new ones, as lent."""
    changed = stats.changed_at(kept, taken.packed)
    gone = set(taken.gone)
    lent = {files[i]: stats.unpacked(outputs.DEALS, files[i], taken.packed, i)
            for i in changed if i not in gone}
    new: list[str] = []
    for entry in others:
        name = entry[1]
        if entry[0] == outputs.DEALS and stats.deal_file(name):
            new.append(name[:-5])
            lent[name] = entry
    return changed, gone, new, lent


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
    pipes: list[int] = []
    try:
        pipes += os.pipe()
        pipes += os.pipe()
        pid = os.fork()
    except OSError:  # no file descriptor or no process left (a limit, no memory): at once
        for fd in pipes:
            os.close(fd)
        return Pending(outputs.key_of(argv))
    read, write, share_read, share_write = pipes
    if pid == 0:  # the child: never returns
        try:
            gc.disable()  # short-lived, it makes 100,000 tuples at 100,000 files, no cycle
            os.close(read)
            os.close(share_write)
            found = _child(argv, root, records, share_read)
            outputs.write_all(write, marshal.dumps(found) if found is not None else b"")
        finally:
            os._exit(0)
    os.close(write)
    os.close(share_read)
    return Pending(pid=pid, fd=read, records=records, share_fd=share_write, root=root)


def _child(argv: list[str], root: str, records: str, share_fd: int) -> dict[str, Any] | None:
    head = stats.peek(records)
    share = share_names(head)
    skip = len(share)
    found = outputs.key_of(argv, share, lambda: _shared(share_fd, head),
                           head.files[skip:] if head is not None else ())
    if found is None:
        return None
    out: dict[str, Any] = {"key": (str(found.folder), found.digest, found.trusted),
                           "seen": {}, "compared": {}, "share": skip}
    if (found.folder / found.digest).exists():
        return out  # a replay: nothing of the walk is needed
    out["seen"] = outputs.lent_all()
    folder = os.path.join(root, _OPPORTUNITIES)
    ordered = outputs.taken_in_order(folder)
    if head is not None and ordered is not None:  # positions after the parent's share
        changed, gone, new, lent = _against(ordered.rest, head.stats[skip * stats.STAT.size:],
                                            ordered.taken, ordered.others)
        out["compared"][folder] = (head.head[4], [i + skip for i in changed],
                                   [i + skip for i in gone], new, lent)
    return out


def _read_all(fd: int) -> bytes:
    """What comes through the pipe ``fd`` until the other end is closed."""
    chunks: list[bytes] = []
    while True:
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _shared(fd: int, head: stats.Head | None) -> tuple[bytes, int, int]:
    """The digest, newest time and count of files there of the parent's share, once it
    sent them; ``Unsure`` when it sent nothing, or took them from another writing of the
    kept records."""
    try:
        token, digest, newest, there = marshal.loads(_read_all(fd))
    except (EOFError, ValueError, TypeError):
        raise outputs.Unsure from None
    if head is None or token != head.head[4] or type(digest) is not bytes or \
            type(newest) is not int or type(there) is not int:
        raise outputs.Unsure
    return digest, newest, there
