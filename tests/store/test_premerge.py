"""opp sync merges opp's files in its own process, ahead of git (``premerge.py``): git
starts no driver process for them, and the answer is always the driver's. Real clones,
a bare remote; a ``sitecustomize`` in PYTHONPATH logs every driver process Python
starts, so the tests see which processes ran."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_sync import Clone, team  # noqa: F401  (the fixture: a bare remote and clones)
from test_sync_faults import diverged

from oppcli.store import premerge

pytestmark = pytest.mark.skipif(not Path("/proc/self/cmdline").exists(),
                                reason="the driver spy reads /proc/self/cmdline (Linux)")

SPY = """\
import os
_cmd = open("/proc/self/cmdline", "rb").read().split(b"\\0")
if b"merge-driver" in _cmd and os.environ.get("OPP_TEST_DRIVER_LOG"):
    with open(os.environ["OPP_TEST_DRIVER_LOG"], "a", encoding="utf-8") as _fh:
        _fh.write(_cmd[-2].decode() + "\\n")  # %P, the path git merges
"""


@pytest.fixture
def drivers(tmp_path, monkeypatch):
    """A function giving the paths of the merge-driver processes started so far."""
    spy = tmp_path / "spy"
    spy.mkdir()
    (spy / "sitecustomize.py").write_text(SPY)
    log = tmp_path / "drivers.log"
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        p for p in (str(spy), os.environ.get("PYTHONPATH")) if p))
    monkeypatch.setenv("OPP_TEST_DRIVER_LOG", str(log))
    return lambda: sorted(log.read_text().split("\n")[:-1]) if log.exists() else []


def diverge(team) -> tuple[str, str]:
    """Alice and Bob both change a deal's amount (a true conflict), both note another
    deal and both add to the catalog (clean merges); Alice has pushed, Bob not yet."""
    alice, bob = team.alice, team.bob
    clash = alice.new("Acme renewal", "--amount", "1200")
    calm = alice.new("Quiet deal")
    alice("sync")
    bob("sync")
    alice("set", clash, "amount", "2500")
    alice("note", calm, "from Alice")
    alice("catalog", "add", "NEW-A", "--name", "From Alice", "--price", "10")
    alice("sync")
    bob("set", clash, "amount", "3000")
    bob("note", calm, "from Bob")
    bob("catalog", "add", "NEW-B", "--name", "From Bob", "--price", "20")
    return clash, calm


def twin_of(team, tmp_path: Path, name: str = "bob", folder: str = "twin team") -> Clone:
    """A clone and the remote, copied: the twin syncs with a remote of its own."""
    root = tmp_path / folder
    shutil.copytree(team.remote.parent, root, symlinks=True)
    config = root / name / ".git" / "config"
    config.write_text(config.read_text().replace(str(team.remote), str(root / "remote.git")))
    return Clone(root / name, name.capitalize())


def state(clone: Clone) -> dict:
    """What a merge leaves: the files, git's index (with its unmerged stages) and
    opp's conflict records."""
    records = clone.root / ".git" / "opp-conflicts"
    return {
        "files": {p.name: p.read_bytes() for p in clone.opp_files()},
        "index": clone.git("ls-files", "-s"),
        "records": {p.name: p.read_bytes() for p in sorted(records.glob("*"))},
        "premerge left": (clone.root / ".git" / premerge.FOLDER).exists(),
    }


def test_sync_starts_no_driver_and_leaves_what_the_driver_leaves(team, tmp_path,
                                                                   monkeypatch, drivers):
    clash, calm = diverge(team)
    # the twin's folder holds a % (git expands %O, %A… in the driver's command)
    twin = twin_of(team, tmp_path, folder="50%Off 100%% team")
    merged = [f"opportunities/{clash}.yaml", f"opportunities/{calm}.yaml", "catalog.yaml"]

    fast = twin("sync", code=1)
    assert drivers() == []
    assert f"{clash} Acme renewal: amount is 3000.00 here and 2500.00 on {team.upstream}" \
        in fast.stderr
    monkeypatch.setattr(premerge, "prepare", lambda *args, **kwargs: {})
    slow = team.bob("sync", code=1)
    assert drivers() == sorted(merged)  # without it: one driver process per file
    assert fast.stderr == slow.stderr
    assert state(twin) == state(team.bob)
    assert not state(twin)["premerge left"]
    # and the merge goes on as ever: settled, committed, pushed
    monkeypatch.undo()
    twin("resolve", clash, "amount", "--theirs")
    twin("sync")
    notes = [n["text"] for n in twin.json("show", calm)["notes"]]
    assert sorted(notes) == ["from Alice", "from Bob"]
    assert {"NEW-A", "NEW-B"} <= {i["sku"] for i in twin.json("catalog", "list")}


def test_settings_git_changed_before_the_drivers_send_the_deal_to_the_driver(
        team, tmp_path, monkeypatch, drivers):
    """git's merge-recursive (``pull.twohead``) writes theirs into the work tree before it
    runs the drivers, settings included: a deal opp merged with other settings goes to
    the real driver, which judges it with the settings it finds."""
    alice, bob = team.alice, team.bob
    deal = alice.new("Deal", "--amount", "100", "--stage", "proposal")
    alice("sync")
    bob("sync")
    settings = alice.root / "opp.yaml"
    settings.write_text(settings.read_text().replace(
        "- id: negotiation\n  label: Negotiation\n  probability: 75\n  kind: open\n"
        "  category: commit", "- id: negotiation\n  label: Negotiation\n  probability: 75\n"
        "  kind: won"))
    alice.raw_git("commit", "-qam", "negotiation is won")
    alice("set", deal, "amount", "200")
    alice("sync")
    bob("stage", deal, "negotiation")
    bob.git("config", "pull.twohead", "recursive")
    twin = twin_of(team, tmp_path)
    fast = bob("sync", code=1)
    assert drivers() == [f"opportunities/{deal}.yaml"]
    monkeypatch.setattr(premerge, "prepare", lambda *args, **kwargs: {})
    slow = twin("sync", code=1)
    assert fast.stderr == slow.stderr
    assert state(bob) == state(twin)


def test_a_clean_merge_commits_the_same_tree_as_the_driver(team, tmp_path, monkeypatch,
                                                           drivers):
    alice, deal = diverged(team)  # a note on each side; Bob's pushed, Alice's not yet
    twin = twin_of(team, tmp_path, "alice")
    alice("sync")
    assert drivers() == []
    tree = alice.git("rev-parse", "HEAD^{tree}")
    monkeypatch.setattr(premerge, "prepare", lambda *args, **kwargs: {})
    twin("sync")
    assert drivers() == [f"opportunities/{deal}.yaml"]
    assert twin.git("rev-parse", "HEAD^{tree}") == tree
    assert not (alice.root / ".git" / premerge.FOLDER).exists()


def test_a_version_git_hands_otherwise_goes_to_the_real_driver(team, monkeypatch, drivers):
    """The script merges only the very versions opp merged: anything else (here every
    version opp read is made to differ) runs the driver, whose answer stands."""
    clash, calm = diverge(team)
    real = premerge._version
    monkeypatch.setattr(premerge, "_version",
                        lambda blob: real(blob) + b"# not what git hands\n" if blob else b"")
    r = team.bob("sync", code=1)
    assert len(drivers()) == 3
    assert f"{clash} Acme renewal: amount is 3000.00 here and 2500.00 on {team.upstream}" \
        in r.stderr
    assert "# not what git hands" not in team.bob.file(calm).read_text()
    (row,) = team.bob.json("conflicts")
    assert (row["id"], row["field"], row["ours"], row["theirs"]) == (clash, "amount",
                                                                     "3000.00", "2500.00")


def test_a_locale_that_is_not_utf8_changes_nothing(team, drivers):
    """The script and what it replays are UTF-8 whatever the locale: a deal named in
    Italian, a conflict on it, synced by a real process under the C locale (Python then
    writes text files in ASCII unless told otherwise)."""
    alice, bob = team.alice, team.bob
    deal = alice.new("Rinnovo più caro €", "--amount", "100")
    alice("sync")
    bob("sync")
    alice("set", deal, "amount", "200")
    alice("sync")
    bob("set", deal, "amount", "300")
    r = subprocess.run([sys.executable, "-m", "oppcli", "sync"], cwd=bob.root,
                       capture_output=True, env={**os.environ, "OPP_USER": "Bob", "LC_ALL": "C",
                                                 "LANG": "C", "PYTHONUTF8": "0",
                                                 "PYTHONCOERCECLOCALE": "0"})
    said = r.stderr.decode("utf-8")
    assert r.returncode == 1, said
    assert f"{deal} Rinnovo più caro €: amount is 300.00 here and 200.00" in said
    assert drivers() == []
    (row,) = bob.json("conflicts")
    assert (row["name"], row["ours"], row["theirs"]) == ("Rinnovo più caro €", "300.00",
                                                        "200.00")
