"""Faults: git missing, failing or killed mid-commit, a read-only repo, a full disk, a
detached HEAD, a git operation in progress, opp itself killed while its git runs. Each
refusal is one clear line and leaves the data as it was: files, index, HEAD, no commit."""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import fake_git, files_outside_git, needs_real_clock, unfaked
from oppcli.store import files, journal, transaction
from oppcli.store import repo as store_repo
from oppcli.store.repo import Repo

REAL_GIT = shutil.which("git")
IDENTITY = ("-c", "user.name=Tester", "-c", "user.email=tester@example.com")


# git's automatic housekeeping on, as users have it: a kill may meet a gc
pytestmark = pytest.mark.usefixtures("git_housekeeping")


class State:
    """Everything a refusal must leave alone: HEAD, the index, the files."""

    def __init__(self, crm):
        self.crm = crm
        self.head = self.git("rev-parse", "HEAD")
        self.index = self.git("ls-files", "-s")
        self.status = self.git("status", "--porcelain", "--untracked-files=all")
        self.files = files_outside_git(crm.root)

    def git(self, *args: str) -> str:  # reading only: no index refresh (a full disk)
        return subprocess.run([REAL_GIT, *args], cwd=self.crm.root, capture_output=True,
                              text=True, check=True, env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"}
                              ).stdout

    def assert_same(self):
        now = State(self.crm)
        assert now.head == self.head, "a commit was made"
        assert now.index == self.index, "the index changed"
        assert now.files == self.files, "files changed"
        assert now.status == self.status
        assert not (self.crm.root / ".git" / journal.JOURNAL).exists()
        assert not (self.crm.root / ".git" / "index.lock").exists()


def run_opp(cwd: Path, *args: str, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "oppcli", *args], cwd=cwd, text=True,
                          capture_output=True, env={**os.environ, **(env or {})}, timeout=120)


# ---------------------------------------------------------------- git missing or failing


def test_without_git_changes_are_refused_and_reads_still_work(crm, tmp_path):
    opp_id = crm.new("Deal")
    empty = tmp_path / "nogit"
    empty.mkdir()
    state = State(crm)
    r = crm("add-product", opp_id, "SRV-01", code=1, env={"PATH": str(empty)})
    assert "git is not installed or not on PATH" in r.stderr
    state.assert_same()
    assert crm("list", env={"PATH": str(empty)}).stdout.count(opp_id) == 1


@pytest.mark.parametrize("command, words, hooked", [
    ("commit", "git commit failed: fatal: simulated", True),  # with a hook: git commit
    ("write-tree", "git write-tree failed: fatal: simulated", False),  # else plumbing
    ("commit-tree", "git commit-tree failed: fatal: simulated", False),
    ("update-ref", "git update-ref failed: fatal: simulated", False),
    ("update-index", "git update-index failed: fatal: simulated", False),
])
def test_git_failing_mid_change_changes_nothing(crm, tmp_path, command, words, hooked):
    opp_id = crm.new("Deal")
    if hooked:
        hook = crm.root / ".git" / "hooks" / "pre-commit"
        hook.write_text("#!/bin/sh\nexit 0\n")
        hook.chmod(0o755)
    env = fake_git(tmp_path, f'[ "$sub" = {command} ] && {{ echo "fatal: simulated" >&2; '
                             'exit 128; }')
    state = State(crm)
    r = crm("add-product", opp_id, "SRV-01", code=1, env=env)
    assert words in r.stderr
    state.assert_same()
    crm("add-product", opp_id, "SRV-01")  # and opp works again


def test_git_killed_mid_commit_leaving_its_lock_changes_nothing(crm, tmp_path):
    """git dies (kill -9) in the middle of the commit and leaves index.lock: opp undoes
    its writes, removes the lock its own git left, and says what happened."""
    opp_id = crm.new("Deal")
    env = fake_git(tmp_path, '[ "$sub" = update-ref ] && { : > "$($real rev-parse --git-dir)'
                             '/index.lock"; kill -9 $$; }')
    state = State(crm)
    r = crm("add-product", opp_id, "SRV-01", code=1, env=env)
    assert "git update-ref failed: killed by signal 9" in r.stderr
    state.assert_same()


def test_a_batch_whose_git_fails_changes_nothing(crm, tmp_path):
    sheet = tmp_path / "sheet.csv"
    sheet.write_text("name,customer\n" + "".join(f"Deal {i},Acme\n" for i in range(150)))
    for command in ("fast-import", "commit-tree", "update-ref"):
        env = fake_git(tmp_path, f'[ "$sub" = {command} ] && exit 1')
        state = State(crm)
        crm("import", str(sheet), code=1, env=env)
        state.assert_same()


# ---------------------------------------------------------------- opp killed, deterministically


def test_opp_killed_while_git_commits_leaves_a_stale_lock_the_next_command_removes(crm, tmp_path):
    """opp and its git are killed at once in the middle of the commit (git left
    index.lock behind): the next command undoes the half-made change, removes the lock
    (the journal proves it came from that change and its process is gone), and works."""
    opp_id = crm.new("Deal")
    crm("add-product", opp_id, "LIC-10")
    state = State(crm)
    env = fake_git(tmp_path, '[ "$sub" = update-ref ] && { gd=$($real rev-parse --git-dir); '
                             ': > "$gd/index.lock"; : > "$gd/$($real symbolic-ref HEAD).lock"; '
                             'kill -9 $PPID; kill -9 $$; }')
    branch = crm.git("symbolic-ref", "HEAD").strip()
    r = run_opp(crm.root, "add-product", opp_id, "SRV-01", "--qty", "3", env=env)
    assert r.returncode == -signal.SIGKILL
    assert (crm.root / ".git" / journal.JOURNAL).exists()
    assert (crm.root / ".git" / "index.lock").exists()
    assert (crm.root / ".git" / f"{branch}.lock").exists()
    assert crm.file(opp_id).read_bytes() != state.files[crm.file(opp_id)]  # half-made
    crm("validate")  # a read repairs first
    state.assert_same()
    assert not (crm.root / ".git" / f"{branch}.lock").exists()
    crm("add-product", opp_id, "SRV-01")


@needs_real_clock
def test_a_lock_older_than_the_change_is_never_removed(crm, tmp_path):
    """A stale index.lock from before the change (a git of the user's, maybe still
    running) is left alone even when an interrupted change is repaired."""
    opp_id = crm.new("Deal")
    state = State(crm)
    lock = crm.root / ".git" / "index.lock"
    lock.write_text("")
    os.utime(lock, (time.time() - 60, time.time() - 60))
    env = fake_git(tmp_path, '[ "$sub" = update-index ] && { kill -9 $PPID; exit 1; }')
    r = run_opp(crm.root, "add-product", opp_id, "SRV-01", env=env)
    assert r.returncode == -signal.SIGKILL
    crm("show", opp_id)  # repaired (the index was never touched), the lock left alone
    assert lock.exists() and not (crm.root / ".git" / journal.JOURNAL).exists()
    r = crm("add-product", opp_id, "SRV-01", code=1)  # and refused as before
    assert "rm .git/index.lock" in r.stderr
    lock.unlink()
    state.assert_same()


def test_an_init_killed_halfway_is_undone_and_init_works_again(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from oppcli.cli import cli

    monkeypatch.chdir(tmp_path)
    real_write, calls = files.atomic_write, []

    def dying_write(path, data, fsync=True):
        calls.append(path)
        if len(calls) == 3:
            raise SystemExit("killed")
        real_write(path, data, fsync)

    with monkeypatch.context() as patch:
        patch.setattr(transaction, "atomic_write", dying_write)
        patch.setattr(journal, "rollback", lambda repo, exc: exc)
        CliRunner().invoke(cli, ["init", "crm"])
    assert (tmp_path / "crm" / "opp.yaml").exists()  # half made, not committed
    result = CliRunner().invoke(cli, ["init", "crm"])
    assert result.exit_code == 0, result.output
    log = subprocess.run(["git", "log", "--format=%s"], cwd=tmp_path / "crm",
                         capture_output=True, text=True).stdout
    assert log == "init: opp data repo\n"


def test_opp_killed_right_after_its_commit_keeps_the_change(crm, tmp_path):
    opp_id = crm.new("Deal")
    head = crm.head()
    env = fake_git(tmp_path, '[ "$sub" = update-ref ] && { "$real" "$@"; kill -9 $PPID; exit 0; }')
    r = run_opp(crm.root, "add-product", opp_id, "SRV-01", env=env)
    assert r.returncode == -signal.SIGKILL
    assert (crm.root / ".git" / journal.JOURNAL).exists()
    repo = Repo(crm.root)
    with repo.lock():  # what the next command does first
        pass
    assert not (crm.root / ".git" / journal.JOURNAL).exists()
    assert crm.git("rev-parse", "HEAD~1").strip() == head
    assert crm.json("show", opp_id)["amount"] == "1200.00" and crm.status() == ""


def test_the_git_of_a_killed_opp_keeps_the_lock_until_it_is_done(crm, tmp_path):
    """git inherits the repo lock: opp killed while its git commits, the next opp waits
    for that git instead of repairing under its feet, then finds the change committed."""
    opp_id = crm.new("Deal")
    head = crm.head()
    inside = tmp_path / "in-update-ref"
    env = fake_git(tmp_path, f'[ "$sub" = update-ref ] && touch {inside} && sleep 2')
    proc = subprocess.Popen([sys.executable, "-m", "oppcli", "add-product", opp_id, "SRV-01"],
                            cwd=crm.root, env=unfaked({**os.environ, **env}),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not inside.exists():  # inside the fake git's sleep, before the real commit
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.01)
    assert (crm.root / ".git" / journal.JOURNAL).exists()
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    start = time.monotonic()
    crm("add-product", opp_id, "LIC-10")
    assert time.monotonic() - start > 0.5  # it waited for the orphaned git commit
    log = crm.git("log", "--format=%s", f"{head}..HEAD").splitlines()
    assert log == [f"{opp_id} Deal: add product LIC-10 x1",
                   f"{opp_id} Deal: add product SRV-01 x1"]
    assert crm.status() == ""


def test_the_kernel_frees_opps_lock_when_its_holder_is_killed(crm):
    """No lock file to clean: a process killed while it holds the lock frees it."""
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time\nfrom pathlib import Path\nfrom oppcli.store.repo import Repo\n"
        "with Repo(Path(sys.argv[1])).lock():\n    print('held', flush=True)\n"
        "    time.sleep(600)\n"), str(crm.root)], env=unfaked(), stdout=subprocess.PIPE,
        text=True)
    assert holder.stdout.readline().strip() == "held"
    r = crm("new", "Blocked", "--customer", "X", code=1, env={"OPP_LOCK_TIMEOUT": "0"})
    assert "another opp is still changing this repo" in r.stderr
    holder.kill()
    holder.wait()
    crm("new", "Free", "--customer", "X", env={"OPP_LOCK_TIMEOUT": "0"})


def test_a_crash_in_the_middle_of_a_batch_is_undone_by_the_next_read(crm, tmp_path,
                                                                     monkeypatch):
    """Simulated in this process: a batch import dies after half its writes with no chance
    to clean up; the journal restores the files it updated and deletes those it made."""
    sheet = tmp_path / "sheet.csv"
    sheet.write_text("ref,name,customer,amount\n"
                     + "".join(f"R{i},Deal {i},Acme,{i}.00\n" for i in range(150)))
    crm("import", str(sheet))
    sheet.write_text("ref,name,customer,amount\n"
                     + "".join(f"R{i},Deal {i},Acme,{i + 1}.00\n" for i in range(150))
                     + "".join(f"N{i},New {i},Acme,1.00\n" for i in range(50)))
    state = State(crm)
    real_write, calls = files.atomic_write, []

    def dying_write(path, data, fsync=True):
        calls.append(path)
        if len(calls) == 120:
            raise SystemExit("killed")  # as if the process died here
        real_write(path, data, fsync)

    from click.testing import CliRunner

    from oppcli.cli import cli

    with monkeypatch.context() as patch:
        patch.setattr(transaction, "atomic_write", dying_write)
        patch.setattr(journal, "rollback", lambda repo, exc: exc)  # no chance to clean up
        CliRunner().invoke(cli, ["import", str(sheet)])
    assert (crm.root / ".git" / journal.JOURNAL).exists() and len(calls) == 120
    crm("list")
    state.assert_same()


# ---------------------------------------------------------------- read-only, full disk


def test_a_read_only_work_tree_refuses_changes_and_changes_nothing(crm, monkeypatch):
    opp_id = crm.new("Deal")
    state = State(crm)

    def read_only(path, data, fsync=True):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))

    monkeypatch.setattr(transaction, "atomic_write", read_only)
    r = crm("add-product", opp_id, "SRV-01", code=1)
    assert f"cannot write opportunities/{opp_id}.yaml: Read-only file system; nothing was " \
           "changed" in r.stderr
    state.assert_same()


@pytest.mark.parametrize("where, words", [
    ("lock", "cannot lock the data repo"),
    ("journal", "cannot write the journal of the change"),
])
def test_a_repo_opp_may_not_write_to_refuses_changes(crm, monkeypatch, where, words):
    opp_id = crm.new("Deal")
    state = State(crm)

    def denied(*args, **kwargs):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(args[0]))

    monkeypatch.setattr(store_repo if where == "lock" else journal, "open", denied, raising=False)
    r = crm("add-product", opp_id, "SRV-01", code=1)
    assert words in r.stderr and "Permission denied" in r.stderr
    state.assert_same()
    crm("show", opp_id)  # reads need no writing


@pytest.fixture
def mounted(tmp_path):
    """Mounts made for a test, unmounted after it; skips when the system refuses them."""
    made = []

    def mount(*args: str, target: Path) -> Path:
        target.mkdir(parents=True, exist_ok=True)
        r = subprocess.run(["mount", *args, str(target)], capture_output=True, text=True)
        if r.returncode != 0:
            pytest.skip(f"cannot mount here ({r.stderr.strip()}); the simulated tests cover it")
        made.append(target)
        return target

    yield mount
    for target in reversed(made):
        subprocess.run(["umount", "-l", str(target)], capture_output=True)


def test_a_read_only_mount_reads_and_refuses_changes(crm, tmp_path, mounted):
    opp_id = crm.new("Deal")
    view = mounted("--bind", str(crm.root), target=tmp_path / "view")
    r = subprocess.run(["mount", "-o", "remount,bind,ro", str(view)], capture_output=True)
    if r.returncode != 0:
        pytest.skip("cannot remount read-only here")
    state = State(crm)
    for command in (["list"], ["show", opp_id], ["pipeline"], ["validate"]):
        assert run_opp(view, *command).returncode == 0, command
    r = run_opp(view, "add-product", opp_id, "SRV-01")
    assert r.returncode == 1 and r.stderr.count("\n") == 1
    assert "cannot lock the data repo" in r.stderr and "Read-only file system" in r.stderr
    state.assert_same()


def test_a_full_disk_refuses_the_change_and_changes_nothing(crm, tmp_path, mounted):
    disk = mounted("-t", "tmpfs", "-o", "size=3m", "tmpfs", target=tmp_path / "disk")
    root = disk / "crm"
    shutil.copytree(crm.root, root, symlinks=True)
    crm.root = root
    opp_id = crm.new("Deal", env={"OPP_REPO": str(root)})
    document = tmp_path / "offer.pdf"
    document.write_bytes(os.urandom(600 * 1024))
    filler = disk / "filler"
    free = shutil.disk_usage(disk).free
    filler.write_bytes(b"\0" * (free - 300 * 1024))  # room for the journal, not the file
    state = State(crm)
    r = run_opp(root, "doc", "attach", opp_id, str(document))
    assert r.returncode == 1 and r.stderr.count("\n") == 1, r.stderr
    assert "No space left on device" in r.stderr and "nothing was changed" in r.stderr
    state.assert_same()
    filler.write_bytes(b"\0" * (shutil.disk_usage(disk).free + filler.stat().st_size - 4096))
    r = run_opp(root, "note", opp_id, "no room for the journal")  # nothing at all left
    assert r.returncode == 1 and "No space left on device" in r.stderr, r.stderr
    state.assert_same()
    filler.unlink()
    assert run_opp(root, "doc", "attach", opp_id, str(document)).returncode == 0


def test_a_disk_full_in_the_middle_of_a_batch_changes_nothing(crm, tmp_path, monkeypatch):
    """Simulated: the 50th of 150 writes fails with ENOSPC."""
    sheet = tmp_path / "sheet.csv"
    sheet.write_text("name,customer\n" + "".join(f"Deal {i},Acme\n" for i in range(150)))
    real_write, calls = files.atomic_write, []

    def filling(path, data, fsync=True):
        calls.append(path)
        if len(calls) >= 50:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        real_write(path, data, fsync)

    monkeypatch.setattr(transaction, "atomic_write", filling)
    state = State(crm)
    r = crm("import", str(sheet), code=1)
    assert "No space left on device; nothing was changed" in r.stderr
    state.assert_same()


def test_when_even_the_undo_fails_the_next_command_finishes_it(crm, tmp_path, monkeypatch):
    """git fails after the file was written, and putting it back fails too (the disk
    filled up, say): the journal stays, the message says so, and the next command, even
    a read, puts the file back."""
    opp_id = crm.new("Deal")
    state = State(crm)
    env = fake_git(tmp_path, '[ "$sub" = update-index ] && { echo "fatal: disk full" >&2; '
                             'exit 128; }')
    with monkeypatch.context() as patch:
        patch.setattr(journal, "_restore", _failing_restore)
        r = crm("set", opp_id, "name", "Renamed", code=1, env=env)
    assert "git update-index failed: fatal: disk full; opp could not undo its partial writes " \
           "yet" in r.stderr and "the next opp command will" in r.stderr
    assert (crm.root / ".git" / journal.JOURNAL).exists()
    assert "name: Renamed" in crm.file(opp_id).read_text()
    crm("show", opp_id)
    state.assert_same()


def _failing_restore(repo, entry):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


# ---------------------------------------------------------------- git states


def git(crm, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([REAL_GIT, *IDENTITY, *args], cwd=crm.root, capture_output=True,
                          text=True, check=check)


def commit_text(crm, text: str, message: str) -> None:
    (crm.root / "notes.txt").write_text(text)
    git(crm, "add", "notes.txt")
    git(crm, "commit", "-qm", message)


@pytest.fixture
def diverged(crm):
    """A data repo whose branch and a branch 'other' changed notes.txt differently."""
    opp_id = crm.new("Deal")
    commit_text(crm, "base\n", "notes: base")
    git(crm, "branch", "other")
    commit_text(crm, "ours\n", "notes: ours")
    git(crm, "checkout", "-q", "other")
    commit_text(crm, "theirs\n", "notes: theirs")
    git(crm, "checkout", "-q", "-")
    return opp_id


OPERATIONS = {
    "merge": (["merge", "other"], "a merge is in progress"),
    "rebase": (["rebase", "--merge", "other"], "a git rebase is in progress"),
    "rebase --apply": (["rebase", "--apply", "other"], "a git rebase is in progress"),
    "am": (None, "a git am is in progress"),
    "cherry-pick": (["cherry-pick", "other"], "a git cherry-pick is in progress"),
    "revert": (None, "a git revert is in progress"),
    "bisect": (["bisect", "start", "HEAD", "HEAD~2"], "a git bisect is in progress"),
}


@pytest.mark.parametrize("operation", list(OPERATIONS))
def test_no_change_in_the_middle_of_a_git_operation(crm, diverged, tmp_path, operation):
    args, words = OPERATIONS[operation]
    if operation == "am":
        patch = tmp_path / "theirs.patch"
        patch.write_text(git(crm, "format-patch", "-1", "other", "--stdout").stdout)
        git(crm, "am", str(patch), check=False)
    elif operation == "revert":
        commit_text(crm, "later\n", "notes: later")
        git(crm, "revert", "--no-edit", "HEAD~1", check=False)
    else:
        git(crm, *args, check=False)
    state = State(crm)
    for command in (["add-product", diverged, "SRV-01"], ["new", "X", "--customer", "Y"],
                    ["note", diverged, "hello"], ["undo"], ["catalog", "remove", "CONS"]):
        r = crm(*command, code=1)
        assert words in r.stderr, (command, r.stderr)
        state.assert_same()
    crm("show", diverged)  # reads still work


def test_no_change_on_a_detached_head(crm):
    opp_id = crm.new("Deal")
    crm.git("checkout", "-q", "--detach")
    state = State(crm)
    r = crm("add-product", opp_id, "SRV-01", code=1)
    assert "HEAD is detached" in r.stderr and "git switch" in r.stderr
    state.assert_same()
    crm("show", opp_id)
    crm.git("checkout", "-q", "-")
    crm("add-product", opp_id, "SRV-01")
