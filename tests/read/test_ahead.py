"""The replay key taken in a child process while the report gets ready (``read/ahead.py``,
#25): the same key as taken at once, the kept records compared in the child, and the
answer of a full parse whatever changed."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_index import deals, edit_objective, run

from conftest import needs_real_file_times
from oppcli.read import ahead, outputs
from oppcli.read.index import stats, worktree

__all__ = ["deals"]  # a fixture, shared with test_index

ARGV = ["pipeline", "--format", "json"]
# the console script with the key taken in a child whatever the size of the kept records
FORKING = ("import sys; from oppcli.read import ahead; ahead.FORK_BYTES = 0; "
           "from oppcli.cli import main; main()")
REPORTS = (ARGV, ["forecast", "--format", "json"], ["list", "--format", "json"],
           ["agenda", "--format", "json"], ["pipeline"])


def opp(root: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", FORKING, *args], cwd=root,
                          capture_output=True, env={**os.environ, **env})


def same_through_the_child(root: Path) -> None:
    for argv in REPORTS:
        reference = opp(root, *argv, OPP_NO_INDEX="1")
        for _ in range(2):
            found = opp(root, *argv)
            assert (found.returncode, found.stdout, found.stderr) == (
                reference.returncode, reference.stdout, reference.stderr), argv


@pytest.fixture
def ready(deals, monkeypatch):
    """The deals' records kept whole, every stat datum trusted, the key taken in a child."""
    monkeypatch.chdir(deals.root)
    monkeypatch.setattr(outputs, "RACY_SECONDS", 0)
    monkeypatch.setattr(worktree, "RACY_SECONDS", -60)
    monkeypatch.setattr(ahead, "FORK_BYTES", 0)
    run("pipeline")  # (the first report of a repo keeps its files table, not its records)
    run("pipeline")
    assert (deals.root / ".git" / "opp-index.records").is_file()
    time.sleep(0.01)
    return deals


def started() -> ahead.Pending:
    """The key being taken in a child, the parent's share taken."""
    pending = ahead.start(ARGV)
    assert pending is not None and pending.forked
    pending.share()
    return pending


def key_here(root: Path) -> outputs.Key | None:
    """The key as the child and the parent take it together, taken in this process."""
    head = stats.peek(str(root / ".git" / "opp-index.records"))
    assert head is not None
    share = ahead.share_names(head)
    return outputs.key_of(ARGV, share, rest=head.files[len(share):])


def test_the_key_taken_in_a_child_is_the_key(ready):
    folder = str(ready.root / "opportunities")
    head = stats.peek(str(ready.root / ".git" / "opp-index.records"))
    assert head is not None and ahead.share_names(head) == head.files[:1]  # 1 deal in 4
    first = stats.peek_first(str(ready.root / ".git" / "opp-index.records"), ahead.SHARE)
    assert first == head._replace(files=head.files[:1], stats=head.stats[:stats.STAT.size])
    found = started().key()
    assert found == key_here(ready.root)
    assert found != outputs.key_of(ARGV)  # the share's stat data hashed on its own
    compared = ahead.compared(folder)
    assert compared is not None and compared.token == head.head[4]
    assert compared.changed == [] and compared.new == [] and compared.lent == {}
    assert ahead.compared(folder) is None  # once
    # a: the parent's share (the first kept file); b edited and d deleted: the child's
    a = head.files[0][:-5]
    b, d = [opp_id for opp_id in ready.ids if opp_id != a][:2]
    edit_objective(ready.file(b), "4321.00")
    ready.file(d).unlink()
    new = ready.new("Hooli", "--amount", "10")
    ready.file(a).write_text(ready.file(a).read_text() + "# in the parent's share\n")
    outputs.lent_all()  # (what the in-process key lent, not the child)
    assert started().key() == key_here(ready.root)
    compared = ahead.compared(folder)
    assert compared is not None
    assert [head.files[i] for i in compared.changed] == sorted(
        [f"{a}.yaml", f"{b}.yaml", f"{d}.yaml"])
    assert [head.files[i] for i in compared.gone] == [f"{d}.yaml"]
    assert compared.new == [new]
    assert set(compared.lent) == {f"{a}.yaml", f"{b}.yaml", f"{new}.yaml"}
    ready.file(a).unlink()  # gone from the parent's share
    outputs.lent_all()
    assert started().key() == key_here(ready.root)
    compared = ahead.compared(folder)
    assert compared is not None
    assert [head.files[i] for i in sorted(compared.gone)] == sorted([f"{a}.yaml", f"{d}.yaml"])


def test_no_key_without_the_parents_share(ready):
    """A child is never left waiting for the share: without it, no key."""
    pending = ahead.start(ARGV)
    assert pending is not None and pending.forked and pending.key() is None


@pytest.mark.parametrize("child_saw", ["another writing", "none"])
def test_no_key_when_the_share_is_of_another_writing_of_the_kept_records(ready, child_saw,
                                                                        monkeypatch):
    real = stats.peek

    def other(path):  # the kept records written again between the child's and the parent's
        head = real(path)
        return head._replace(head=(*head.head[:4], "another token")) \
            if child_saw == "another writing" else None
    monkeypatch.setattr(stats, "peek", other)
    pending = ahead.start(ARGV)
    monkeypatch.setattr(stats, "peek", real)
    assert pending is not None
    pending.share()
    assert pending.key() is None


@pytest.mark.parametrize("where", ["share_in_order", "changed_at"])
def test_no_key_when_the_share_fails_whatever_the_error(ready, where, monkeypatch):
    def boom(*args):
        raise RuntimeError("unexpected")
    pending = ahead.start(ARGV)
    assert pending is not None
    monkeypatch.setattr(outputs if where == "share_in_order" else stats, where, boom)
    pending.share()  # raises nothing
    assert pending.key() is None


def test_no_key_when_a_file_of_the_share_is_no_file(ready):
    head = stats.peek(str(ready.root / ".git" / "opp-index.records"))
    assert head is not None
    shared = ready.root / "opportunities" / head.files[0]
    shared.unlink()
    shared.symlink_to(ready.root / "opportunities" / head.files[1])
    assert started().key() is None
    assert key_here(ready.root) is None


@pytest.mark.parametrize("where", ["share", "rest"])
def test_no_key_when_a_kept_file_is_now_a_folder(ready, where):
    head = stats.peek(str(ready.root / ".git" / "opp-index.records"))
    assert head is not None
    name = head.files[0 if where == "share" else -1]
    (ready.root / "opportunities" / name).unlink()
    (ready.root / "opportunities" / name).mkdir()
    assert started().key() is None
    assert key_here(ready.root) is None


def compared_now(ready) -> tuple[stats.Head, ahead.Ahead]:
    """The key taken through a child, the same as taken here; what the child compared."""
    head = stats.peek(str(ready.root / ".git" / "opp-index.records"))
    assert head is not None
    found = started().key()
    assert found is not None and found == key_here(ready.root)
    outputs.lent_all()  # (what the in-process key lent)
    outputs.taken_in_order(str(ready.root / "opportunities"))
    compared = ahead.compared(str(ready.root / "opportunities"))
    assert compared is not None
    return head, compared


def test_new_files_are_found_whatever_else_is_gone_or_there(ready):
    """The child takes the kept files in their order and only lists the folder: a
    name it listed beyond the kept and shared files there is looked for by name. A
    shared file gone and a new one made (as many names listed as before), a stray file
    and a folder of other files: each found, each a new key."""
    root = ready.root
    keys = {key_here(root)}
    head, compared = compared_now(ready)
    assert compared.changed == [] and compared.new == []
    (root / "opportunities" / head.files[0]).unlink()  # in the parent's share
    new = ready.new("Hooli", "--amount", "10")
    head, compared = compared_now(ready)
    assert [head.files[i] for i in compared.gone] == [head.files[0]]
    assert compared.new == [new] and set(compared.lent) == {f"{new}.yaml"}
    keys.add(key_here(root))
    (root / "opportunities" / "README.txt").write_text("not a deal\n")
    head, compared = compared_now(ready)
    assert compared.new == [new]
    keys.add(key_here(root))
    (root / "opportunities" / "old").mkdir()
    (root / "opportunities" / "old" / "x.yaml").write_text("id: x\n")
    keys.add(key_here(root))
    (root / "opportunities" / "old" / "x.yaml").write_text("id: y\n")
    keys.add(key_here(root))
    assert len(keys) == 5 and None not in keys
    (root / "opportunities" / "old" / "x.yaml").unlink()
    (root / "opportunities" / "old").rmdir()
    (root / "opportunities" / "README.txt").unlink()
    same_through_the_child(root)


def test_no_key_when_the_child_fails(ready, monkeypatch):
    def boom(*args):
        raise RuntimeError("the child failed")
    monkeypatch.setattr(ahead, "_child", boom)
    assert started().key() is None


@pytest.mark.parametrize("failing", ["fork", "pipe", "second pipe"])
def test_without_a_process_or_a_pipe_the_key_is_taken_at_once(ready, failing, monkeypatch):
    opened: list[int] = []
    real = os.pipe

    def refused(*args):
        if failing == "second pipe" and not opened:
            opened.extend(real())
            return tuple(opened)
        raise BlockingIOError(11, "Resource temporarily unavailable")
    monkeypatch.setattr(os, failing.split()[-1], refused)
    pending = ahead.start(ARGV)
    assert pending is not None and not pending.forked
    assert pending.key() == outputs.key_of(ARGV)
    for fd in opened:  # the first pipe closed again
        with pytest.raises(OSError):
            os.fstat(fd)


def test_a_replay_needs_nothing_of_the_walk(ready):
    found = key_here(ready.root)
    assert found is not None
    outputs.lent_all()
    outputs.keep(found.folder, found.digest, b"kept\n", b"")
    assert started().key() == found
    assert outputs.taken(str(ready.root / "opportunities")) is None
    assert ahead.compared(str(ready.root / "opportunities")) is None


@pytest.mark.parametrize("trusted", [True, pytest.param(False, marks=needs_real_file_times)])
def test_reports_through_the_child_give_a_full_parses_answer(ready, trusted, monkeypatch):
    """The console script, the key taken in a child, after each kind of change; with
    the records kept trusted, or every one of them too recent to trust (built again)."""
    root, (a, b, c, d) = ready.root, ready.ids
    if not trusted:
        monkeypatch.setattr(worktree, "RACY_SECONDS", 3)
        (root / ".git" / "opp-index.records").unlink()
        run("pipeline")  # kept again: every file younger than 3 s
        found = stats.peek(str(root / ".git" / "opp-index.records"))
        assert found is not None and found.stats == stats.UNTRUSTED * len(found.files)
    same_through_the_child(root)
    first = stats.peek(str(root / ".git" / "opp-index.records"))
    assert first is not None  # its first file is in the parent's share: edited by hand
    edit_objective(root / "opportunities" / first.files[0], "777.00")
    same_through_the_child(root)
    ready.git("checkout", "--", f"opportunities/{first.files[0]}")  # (changes follow)
    ready("note", b, "called back")
    ready("add-product", a, "SRV-01")
    same_through_the_child(root)
    ready.new("Hooli", "--customer", "Hooli", "--amount", "10")
    ready.file(d).unlink()
    same_through_the_child(root)
    ready("account", "edit", "Globex", "--name", "Globex Corporation")
    same_through_the_child(root)
    ready.file(c).write_text(ready.file(c).read_text().replace("stage: ", "stage: nowhere-"))
    refused = opp(root, *ARGV)
    assert refused.returncode == 1 and f"opportunities/{c}.yaml" in refused.stderr.decode()
    same_through_the_child(root)

