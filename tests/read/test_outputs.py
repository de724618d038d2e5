"""Reports replayed (``read.outputs``, #25): a report printed again from its kept output
only while nothing it depends on has changed, and always the answer a full run gives.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import needs_real_file_times
from oppcli.read import outputs

ARGV = ["pipeline", "--format", "json"]


@pytest.fixture
def keyed(crm, monkeypatch):
    """The crm fixture with three deals, as the current folder, with every stat trusted."""
    for name in ("Acme renewal", "Beta rollout", "Gamma pilot"):
        crm.new(name, "--amount", "1000")
    monkeypatch.chdir(crm.root)
    monkeypatch.setattr(outputs, "RACY_SECONDS", 0)
    time.sleep(0.01)  # the files' times are now in the past
    return crm


def digest(argv=ARGV) -> str | None:
    key = outputs.key_of(argv)
    return None if key is None else key.digest


def test_the_key_is_stable_and_names_the_command_line(keyed, monkeypatch):
    first = outputs.key_of(ARGV)
    assert first is not None and first.trusted
    assert first.folder == keyed.root / ".git" / "opp-outputs"
    assert digest() == first.digest
    others = {digest(["pipeline"]), digest(["forecast", "--format", "json"]),
              digest(["list", "--format", "json"]), digest(["-q", *ARGV]),
              digest(["--repo", str(keyed.root), *ARGV]), first.digest}
    assert len(others) == 6
    monkeypatch.setenv("OPP_TODAY", "2030-01-01")
    assert digest() != first.digest


@pytest.mark.parametrize("argv", [["show", "x"], ["new", "A"], ["pipeline", "--help"],
                                  ["--version"], [], ["dashboard"], ["sync"]])
def test_only_reports_are_kept(keyed, argv):
    assert outputs.key_of(argv) is None


def test_no_key_without_the_index_or_on_a_terminal(keyed, monkeypatch):
    monkeypatch.setenv("OPP_NO_INDEX", "1")
    assert outputs.key_of(ARGV) is None
    monkeypatch.delenv("OPP_NO_INDEX")
    monkeypatch.setattr(os, "isatty", lambda fd: True)
    assert outputs.key_of(ARGV) is None


@needs_real_file_times
def test_recent_files_are_not_trusted(keyed, monkeypatch):
    monkeypatch.setattr(outputs, "RACY_SECONDS", 3)
    keyed.new("Fresh deal")
    key = outputs.key_of(ARGV)
    assert key is not None and not key.trusted


def test_every_change_a_report_could_see_changes_the_key(keyed, monkeypatch):
    seen = {digest()}
    deal = next((keyed.root / "opportunities").glob("*.yaml"))

    def changed() -> None:
        now = digest()
        assert now is not None and now not in seen
        seen.add(now)

    # a hand edit of the same size, with the file's time put back: the ctime tells
    text = deal.read_text()
    before = deal.stat()
    deal.write_text(text.replace("Acme", "Acne").replace("Beta", "Bota").replace("Gamma",
                                                                                   "Gimma"))
    os.utime(deal, ns=(before.st_atime_ns, before.st_mtime_ns))
    changed()
    (keyed.root / "opportunities" / "ZZZZ.yaml").write_text("id: ZZZZ\n")  # a new file
    changed()
    (keyed.root / "opportunities" / "ZZZZ.yaml").unlink()
    assert digest() in seen  # the same files as before: the same key
    settings = keyed.root / "opp.yaml"
    settings.write_text(settings.read_text() + "\n")
    changed()
    (keyed.root / "notes.txt").write_text("any file of the data repo counts")
    changed()
    keyed.git("-c", "user.name=T", "-c", "user.email=t@t", "commit", "-q", "--allow-empty",
              "-m", "moves HEAD")  # what --as-of and changes read
    changed()
    (keyed.root / ".git" / "MERGE_HEAD").write_text(keyed.head() + "\n")
    changed()
    (keyed.root / ".git" / "MERGE_HEAD").unlink()
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Somebody Else")  # who "me" is
    changed()
    (Path(os.environ["HOME"]) / ".gitconfig").write_text("[user]\n\tname = Ann\n")
    changed()
    # what changes the history git shows of HEAD (what --as-of and the agenda read)
    keyed.git("-c", "user.name=T", "-c", "user.email=t@t", "replace", "--graft", "HEAD")
    changed()
    (keyed.root / ".git" / "shallow").write_text(keyed.head() + "\n")
    changed()
    (keyed.root / ".git" / "info").mkdir(exist_ok=True)
    (keyed.root / ".git" / "info" / "grafts").write_text(keyed.head() + "\n")
    changed()
    # what is not the data repo's: documents and git's own files
    (keyed.root / "documents").mkdir(exist_ok=True)
    (keyed.root / "documents" / "big.pdf").write_bytes(b"%PDF")
    (keyed.root / ".git" / "anything").write_text("x")
    assert digest() in seen


@pytest.mark.parametrize("case", ["link", "journal", "subfolder"])
def test_what_the_careful_path_handles_is_never_keyed(keyed, case, tmp_path):
    if case == "link":
        (keyed.root / "opportunities" / "LINK.yaml").symlink_to(tmp_path / "elsewhere")
    elif case == "journal":
        (keyed.root / ".git" / "opp-journal").write_text("{}")
    else:
        inner = keyed.root / "crm"
        inner.mkdir()
        (inner / "opp.yaml").write_text((keyed.root / "opp.yaml").read_text())
        os.chdir(inner)
    assert outputs.key_of(ARGV) is None


def test_a_large_output_is_not_kept(monkeypatch):
    monkeypatch.setattr(outputs, "LARGEST", 10)
    copying = outputs._Copying(io.BytesIO(), io.BytesIO())
    copying.write(b"12345")
    assert copying.copy.getvalue() == b"12345"
    copying.write(b"678901")
    assert copying.copy is None


def test_a_kept_output_is_replayed_a_piece_at_a_time(tmp_path, monkeypatch, capfd):
    """The copy goes to a file as the report writes (never held whole), and the replay
    copies it back in pieces: the same bytes, stdout and stderr each their own."""
    monkeypatch.setattr(outputs, "CHUNK", 7)
    key = outputs.Key(tmp_path / "out", "k", True)
    out = b"".join(b"line %d \xc3\xa9\n" % i for i in range(100))
    outputs.keep(key.folder, key.digest, out, b"a note\n")
    assert outputs.replay(key)
    captured = capfd.readouterr()
    assert captured.out.encode() == out and captured.err == "a note\n"
    (key.folder / "k").write_bytes(b"999\nshort")  # damaged: no replay, nothing printed
    assert not outputs.replay(key)
    assert capfd.readouterr() == ("", "")


def test_the_outputs_kept_have_a_budget_and_no_leftovers(tmp_path, monkeypatch):
    monkeypatch.setattr(outputs, "KEPT_BYTES", 30)
    folder = tmp_path / "out"
    for i in range(3):
        outputs.keep(folder, f"k{i}", b"x" * 10, b"")
        os.utime(folder / f"k{i}", ns=((i + 1) * 10**9, (i + 1) * 10**9))
    leftover = folder / ".k9.123"  # a copy a killed run left half-written
    leftover.write_bytes(b"00")
    os.utime(leftover, ns=(10**9, 10**9))
    outputs.keep(folder, "k3", b"x" * 10, b"")
    assert sorted(p.name for p in folder.iterdir()) == ["k2", "k3"]  # 13 bytes each


def test_only_the_latest_outputs_are_kept(tmp_path, monkeypatch):
    monkeypatch.setattr(outputs, "KEPT", 3)
    for i in range(5):
        outputs.keep(tmp_path / "out", f"k{i}", b"out", b"")
        os.utime(tmp_path / "out" / f"k{i}", ns=(i * 10**9, i * 10**9))
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["k2", "k3", "k4"]


# ----------------------------------------------------------------- end to end


def opp(root: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "oppcli", *args], cwd=root,
                          capture_output=True, env={**os.environ, **env})


@needs_real_file_times
def test_a_report_is_replayed_and_always_gives_a_full_runs_answer(keyed):
    """After the files are older than the racy window, a report's output is kept; the
    next identical run prints it (a doctored entry proves it), and any change makes the
    run a full one again, whose answer is the one without any cache."""
    time.sleep(3.2)  # older than the racy window of the opp run below (3 s)
    folder = keyed.root / ".git" / "opp-outputs"
    first = opp(keyed.root, *ARGV)
    assert first.returncode == 0
    entries = list(folder.iterdir())
    assert len(entries) == 1
    again = opp(keyed.root, *ARGV)
    assert (again.returncode, again.stdout, again.stderr) == (0, first.stdout, first.stderr)
    # doctored: the replay prints what is kept, without running the report
    entries[0].write_bytes(b"9\n{\"x\": 1}\nnote\n")
    doctored = opp(keyed.root, *ARGV)
    assert (doctored.stdout, doctored.stderr) == (b'{"x": 1}\n', b"note\n")
    # a change: a full run again, the same answer as without the index or this cache
    keyed("note", keyed.json("list")[0]["id"], "called them")
    keyed("set", keyed.json("list")[0]["id"], "amount", "2500")
    after = opp(keyed.root, *ARGV)
    plain = opp(keyed.root, *ARGV, OPP_NO_INDEX="1")
    assert after.returncode == 0 and after.stdout == plain.stdout != first.stdout
    assert b"4500.00" in after.stdout  # 1000 + 1000 + 2500
    # the changed file is too recent to trust: that run was not kept
    assert len(list(folder.iterdir())) == 1
    # a refusal is never kept
    refused = opp(keyed.root, "list", "--status", "bogus")
    assert refused.returncode == 2
    assert len(list(folder.iterdir())) == 1


def test_the_report_takes_each_files_stat_data_from_its_key(keyed, monkeypatch):
    """The key's walk lends the report its stat data of ``opportunities/`` (one stat per
    file, not two), once: a file written after the key was taken only makes that stat
    data stale, so the next run (its own key, or a stat of its own) reads the file."""
    from oppcli.read.index import worktree
    from oppcli.store.repo import Repo

    monkeypatch.setattr(worktree, "RACY_SECONDS", 0)
    lent: list = []

    def taken(folder: str):
        found = outputs.taken(folder)  # the names lent: the report takes each out as it goes
        lent.append(None if found is None else set(found))
        return found

    monkeypatch.setattr(worktree, "taken", taken)
    target = keyed.json("list")[0]["id"]
    folder = os.path.join(str(keyed.root), "opportunities")

    def amounts() -> dict[str, str]:
        return {r.id: str(r.amount) for r in worktree.working_records(Repo.find(None))}

    assert amounts()[target] == "1000.00"  # the index now trusts every file
    assert outputs.key_of(ARGV) is not None
    path = keyed.root / "opportunities" / f"{target}.yaml"
    path.write_text(path.read_text().replace("amount: 1000.00", "amount: 2000.00"))
    time.sleep(0.01)
    amounts()  # the report of that key: its stat data, taken before the write
    assert lent[-1] is not None and f"{target}.yaml" in lent[-1]
    assert amounts()[target] == "2000.00"  # a stat of its own: the key's is lent once
    assert lent[-1] is None
    assert outputs.key_of(ARGV) is not None
    assert amounts()[target] == "2000.00"  # the next key's stat data
    assert lent[-1] is not None and outputs.taken(folder) is None
    plain = opp(keyed.root, *ARGV, OPP_NO_INDEX="1")
    assert opp(keyed.root, *ARGV).stdout == plain.stdout
    assert b"4000.00" in plain.stdout
