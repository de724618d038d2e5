"""Sync against faults: a stale git lock, a merge git left half-done, SIGKILL at random
points of ``opp sync`` (of opp alone and of its whole process group). Real git, real
processes, a bare remote and two clones; no mocks.

After every fault the clone is repaired by the next ``opp sync`` (or by the one
command it names), and then every note written on either side is at the remote's tip.
The randomness has one seed per run, printed, so that a failure reproduces:
``OPP_TEST_SEED=1234 pytest tests/store/test_sync_faults.py``.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from test_sync import Clone, team  # noqa: F401  (the fixture)

from conftest import depth, unfaked
from oppcli.store import exchange

# git's automatic housekeeping on, as users have it: a kill may meet a gc
pytestmark = pytest.mark.usefixtures("git_housekeeping")

SEED = int(os.environ.get("OPP_TEST_SEED") or random.SystemRandom().randrange(1 << 30))
print(f"test_sync_faults: OPP_TEST_SEED={SEED}", file=sys.stderr)


def run(clone: Clone, *args: str, env=None) -> subprocess.CompletedProcess:
    """``opp`` as a real process in the clone (the one a user runs)."""
    return subprocess.run([sys.executable, "-m", "oppcli", *args], cwd=clone.root,
                          env={**os.environ, "OPP_USER": clone.who, **(env or {})},
                          capture_output=True, text=True, timeout=300)


def notes_at(clone: Clone, rev: str, opp_id: str) -> set[str]:
    text = clone.git("show", f"{rev}:opportunities/{opp_id}.yaml")
    return {n["text"] for n in yaml.safe_load(text).get("notes") or []}


def remote_notes(t, opp_id: str) -> set[str]:
    out = subprocess.run(["git", "show", f"HEAD:opportunities/{opp_id}.yaml"], cwd=t.remote,
                         capture_output=True, text=True, check=True).stdout
    return {n["text"] for n in yaml.safe_load(out).get("notes") or []}


def clean_state(clone: Clone) -> None:
    """What a repaired clone looks like: no lock, no half merge, no litter, no edits."""
    git_dir = clone.root / ".git"
    assert not (git_dir / "index.lock").exists()
    assert not (git_dir / "MERGE_HEAD").exists()
    assert clone.git("status", "--porcelain", "--untracked-files=all") == ""
    assert not list(clone.root.glob(".merge_file_*"))
    assert not (git_dir / "opp-premerge").exists()  # merges made ahead of git's


def diverged(t) -> tuple[Clone, str]:
    """A deal both clones have, then a note on each: Bob's pushed, Alice's not yet."""
    alice, bob = t.alice, t.bob
    opp_id = alice.new("Shared deal")
    alice("sync")
    bob("sync")
    bob("note", opp_id, "from Bob")
    bob("sync")
    alice("note", opp_id, "from Alice")
    return alice, opp_id


def test_a_stale_index_lock_never_loses_the_teammates_note(team):
    """The reported loss: with a stale index.lock, git merge fails halfway and leaves
    MERGE_HEAD; once the lock is gone, the next sync used to commit our side only."""
    alice, opp_id = diverged(team)
    lock = alice.root / ".git" / "index.lock"
    lock.touch()
    first = run(alice, "sync")
    assert first.returncode == 1, first
    assert "rm .git/index.lock" in first.stderr
    assert first.stderr.count("\n") == 1
    lock.unlink()
    second = run(alice, "sync")
    assert second.returncode == 0, second.stderr
    assert notes_at(alice, "HEAD", opp_id) == {"from Alice", "from Bob"}
    assert remote_notes(team, opp_id) == {"from Alice", "from Bob"}
    clean_state(alice)
    alice("validate")


def test_a_merge_git_left_half_done_without_opp_is_not_committed(team):
    """MERGE_HEAD that opp did not record (a killed git merge of the user's): opp sync
    never commits it; it says how to recover, and after that nothing is lost."""
    alice, opp_id = diverged(team)
    alice.raw_git("fetch", "-q")
    theirs = alice.git("rev-parse", team.upstream).strip()
    (alice.root / ".git" / "MERGE_HEAD").write_text(theirs + "\n")
    (alice.root / ".git" / "MERGE_MSG").write_text("Merge\n")
    head = alice.head()
    refused = run(alice, "sync")
    assert refused.returncode == 1, refused
    assert "git merge --abort" in refused.stderr
    assert alice.head() == head  # nothing committed
    alice.raw_git("merge", "--abort")
    assert run(alice, "sync").returncode == 0
    assert remote_notes(team, opp_id) == {"from Alice", "from Bob"}


def test_a_sync_killed_after_git_committed_its_merge_keeps_the_merge(team):
    """git merge commits, then removes MERGE_HEAD: a kill between the two leaves HEAD on
    the merge and MERGE_HEAD behind (OPP_TEST_SEED=1058289864 met it). The next sync
    keeps the merge, drops git's state and pushes both sides."""
    from oppcli.store import mergestate

    alice, opp_id = diverged(team)
    alice.raw_git("fetch", "-q")
    ours = alice.head()
    theirs = alice.git("rev-parse", team.upstream).strip()
    git_dir = alice.root / ".git"
    mergestate.write(git_dir, mergestate.Marker(mergestate.MERGING, 0, ours, theirs, ""))
    alice.raw_git("merge", "-q", "--no-edit", theirs)
    (git_dir / "MERGE_HEAD").write_text(theirs + "\n")  # as the killed git left it
    (git_dir / "MERGE_MSG").write_text("sync: merge\n")
    merged = alice.head()
    again = run(alice, "sync")
    assert again.returncode == 0, again.stderr
    assert alice.git("rev-parse", "HEAD~0").strip() == merged  # the merge, kept
    assert remote_notes(team, opp_id) == {"from Alice", "from Bob"}
    clean_state(alice)


# ---------------------------------------------------------------- kills


def _kill_round(t, rng: random.Random, opp_id: str, n: int, group: bool) -> None:
    """Both clones add a note; Bob syncs; Alice's sync is killed at a random moment; then
    Alice's next sync repairs, and every note either side wrote is at the remote's tip.
    (Bob's clone is checked once, at the end of the rounds: each round begins with his
    sync, which brings him Alice's notes.)"""
    alice, bob = t.alice, t.bob
    bob("note", opp_id, f"bob {n}")
    bob("sync")
    alice("note", opp_id, f"alice {n}")
    proc = subprocess.Popen([sys.executable, "-m", "oppcli", "sync"], cwd=alice.root,
                            env=unfaked({**os.environ, "OPP_USER": "Alice"}),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    time.sleep(rng.uniform(0.05, 0.9))
    try:
        if group:
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.send_signal(signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()
    if not group:  # the gits opp started may still be running: let them end
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                os.killpg(proc.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
    try:  # the repair: in this process (the killed sync was a real one, as a user's)
        alice("sync")
    except AssertionError as exc:
        raise AssertionError(f"OPP_TEST_SEED={SEED}, round {n}: {exc}") from None
    clean_state(alice)
    want = {f"alice {i}" for i in range(n + 1)} | {f"bob {i}" for i in range(n + 1)}
    assert remote_notes(t, opp_id) == want, (SEED, n)
    assert notes_at(alice, "HEAD", opp_id) == want, (SEED, n)


def _kills(t, part: int, group: bool, rounds: int) -> None:
    rng = random.Random(SEED * 31 + part)
    alice, bob = t.alice, t.bob
    opp_id = alice.new("Busy deal")
    filler = alice.root.parent / "filler.csv"  # files to merge, so a kill finds git at work
    filler.write_text("name,customer\n" + "".join(f"Filler {i},Acme\n" for i in range(20)))
    alice("import", filler)
    alice("sync")
    bob("sync")
    for n in range(rounds):
        _kill_round(t, rng, opp_id, n, group)
    bob("sync")
    want = {f"{who} {i}" for i in range(rounds) for who in ("alice", "bob")}
    assert notes_at(bob, "HEAD", opp_id) == want, SEED
    clean_state(bob)


KILLS = depth(5)  # eight tests: at least 40 kills in all (small tests share the cores
PARTS = range(1, 5)  # better than four long ones, which ended the suite on one worker)


@pytest.mark.slow
@pytest.mark.parametrize("part", PARTS)
def test_kills_of_opp_alone_lose_nothing(team, part):
    _kills(team, part, False, KILLS)


@pytest.mark.slow
@pytest.mark.parametrize("part", PARTS)
def test_kills_of_the_process_group_lose_nothing(team, part):
    _kills(team, 10 + part, True, KILLS)


@pytest.mark.parametrize("url, here", [
    ("/srv/crm.git", True), ("../crm.git", True), ("file:///srv/crm.git", True),
    ("./odd:name.git", True), ("crm.git", True), ("git@example.com:team/crm.git", False),
    ("example.com:crm.git", False), ("ssh://example.com/crm.git", False),
    ("https://example.com/crm.git", False)])
def test_the_receiving_side_of_a_push_runs_here_for_a_folder_only(url, here):
    assert exchange._runs_here(url) is here


def test_the_receiving_side_is_detached_only_for_a_remote_git_knows_as_a_folder(tmp_path):
    """A URL as the branch's remote (no remote of that name), an ssh remote, a remote
    with its own receivepack: git's own receive-pack, as before."""
    root = tmp_path / "clone"
    subprocess.run(["git", "init", "-q", str(root)], check=True)

    def option(name: str) -> list[str]:
        return exchange._receive_pack(root, exchange.Remote(name, "main", "", False))

    subprocess.run(["git", "remote", "add", "folder", str(tmp_path / "remote.git")], cwd=root,
                   check=True)
    subprocess.run(["git", "remote", "add", "server", "git@example.com:team/crm.git"],
                   cwd=root, check=True)
    assert option("folder")[0].startswith("--receive-pack=")
    assert option("server") == [] and option("git@example.com:team/crm.git") == []
    subprocess.run(["git", "config", "remote.folder.receivepack", "git-receive-pack"],
                   cwd=root, check=True)
    assert option("folder") == []


def test_a_group_kill_during_a_push_to_a_folder_leaves_the_remote_unlocked(team):
    """The remote is a folder: git runs its receiving side on this machine, as a child of
    the push. Killed with opp's process group while it held the remote's branch locked,
    it left refs/heads/BRANCH.lock there and every later push failed (OPP_TEST_SEED=
    937331406). opp runs it in a session of its own, as a server's: it ends cleanly."""
    alice, opp_id = diverged(team)
    alice("sync")
    alice("note", opp_id, "pushed while killed")
    hooks = team.remote / "hooks"
    started = team.remote / "locked"
    # git calls this hook with 'prepared' once it holds the branch's lock
    hook = hooks / "reference-transaction"
    hook.write_text(f'#!/bin/sh\n[ "$1" = prepared ] && touch {started} && sleep 1\nexit 0\n')
    hook.chmod(0o755)
    proc = subprocess.Popen([sys.executable, "-m", "oppcli", "sync"], cwd=alice.root,
                            env=unfaked({**os.environ, "OPP_USER": "Alice"}),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + 60
    while not started.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert started.exists(), "the push never reached the remote's lock"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    hook.unlink()
    deadline = time.monotonic() + 30  # the receiving side ends on its own
    while list(team.remote.glob("refs/heads/*.lock")) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not list(team.remote.glob("refs/heads/*.lock"))
    repaired = run(alice, "sync")
    assert repaired.returncode == 0, repaired.stderr
    assert remote_notes(team, opp_id) == {"from Alice", "from Bob", "pushed while killed"}


def test_leftovers_of_a_killed_merge_are_cleaned(team, tmp_path: Path):
    """A merge killed inside git: index.lock, MERGE_HEAD and .merge_file_* left as a
    SIGKILL leaves them; the next opp sync removes what is provably its own."""
    alice, opp_id = diverged(team)
    # a driver that hangs: the merge is killed inside it
    hang = tmp_path / "hang.sh"
    hang.write_text("#!/bin/sh\nsleep 600\n")
    hang.chmod(0o755)
    proc = subprocess.Popen([sys.executable, "-m", "oppcli", "sync"], cwd=alice.root,
                            env=unfaked({**os.environ, "OPP_USER": "Alice",
                                         "GIT_CONFIG_COUNT": "1",
                                         "GIT_CONFIG_KEY_0": "merge.opp.driver",
                                         "GIT_CONFIG_VALUE_0": f"{hang} %O %A %B %P"}),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + 60
    while not list(alice.root.glob(".merge_file_*")) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert list(alice.root.glob(".merge_file_*")), "the driver never started"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    time.sleep(0.2)
    repaired = run(alice, "sync")
    assert repaired.returncode == 0, repaired.stderr
    clean_state(alice)
    assert remote_notes(team, opp_id) == {"from Alice", "from Bob"}
