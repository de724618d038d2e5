"""The git reads a change starts early (``store/early.py``): used only while the index
and HEAD are what they were when the reads began, asked again otherwise."""

import pytest

from oppcli.store import early as early_module
from oppcli.store import git as git_module
from oppcli.store.early import COMMIT_READS, EarlyReads, clean_reads, mark
from oppcli.store.git import git_reads
from oppcli.store.repo import Repo


def answers(results):
    return [(r.returncode, r.stdout) for r in results]


def test_early_answers_are_the_answers_while_nothing_moved(crm):
    opp_id = crm.new("Deal")
    relpath = f"opportunities/{opp_id}.yaml"
    repo = Repo(crm.root)
    reads = EarlyReads(repo)
    reads.start("commit", COMMIT_READS)
    reads.start("clean", clean_reads([relpath]))
    assert answers(reads.take("commit")) == answers(git_reads(crm.root, *COMMIT_READS))
    assert answers(reads.take("clean")) == answers(git_reads(crm.root,
                                                             *clean_reads([relpath])))
    assert reads.take("commit") is None  # once only
    reads.close()
    assert repo.git_config == Repo(crm.root).git_config  # the settings read early


@pytest.mark.parametrize("move", ["stage", "unstage", "commit", "checkout"])
def test_early_answers_are_dropped_once_the_index_or_head_moved(crm, move):
    opp_id = crm.new("Deal")
    (crm.root / "other.txt").write_text("x\n")
    if move == "unstage":
        crm.git("add", "other.txt")
    reads = EarlyReads(Repo(crm.root))
    reads.start("commit", COMMIT_READS)
    if move == "stage":
        crm.git("add", "other.txt")
    elif move == "unstage":
        crm.git("reset", "-q", "other.txt")
    elif move == "commit":
        crm.git("-c", "user.name=A", "-c", "user.email=a@b", "commit", "-q",
                "--allow-empty", "-m", "meanwhile")
    else:
        crm.git("checkout", "-q", "--detach", "HEAD^")
    assert reads.take("commit") is None, opp_id
    reads.close()


def test_no_early_answers_where_the_index_cannot_vouch(crm, monkeypatch):
    git_dir = crm.root / ".git"
    assert mark(git_dir) is not None
    monkeypatch.setenv("GIT_INDEX_FILE", str(git_dir / "index"))
    assert mark(git_dir) is None
    monkeypatch.delenv("GIT_INDEX_FILE")
    index = git_dir / "index"
    data = index.read_bytes()
    index.write_bytes(data[:-20] + bytes(20))  # what index.skipHash writes (git 2.40+)
    assert mark(git_dir) is None  # no checksum at the index's end
    reads = EarlyReads(Repo(crm.root))
    reads.start("commit", COMMIT_READS)
    assert reads.take("commit") is None  # never started: asked when needed
    reads.close()
    index.write_bytes(data)


def test_a_change_asks_git_each_thing_once(crm, monkeypatch):
    opp_id = crm.new("Deal")
    asked = []
    real = git_module._git_command

    def record(args, env, config):
        asked.append(" ".join(args))
        return real(args, env, config)

    monkeypatch.setattr(git_module, "_git_command", record)
    crm("note", opp_id, "Called")
    crm("add-product", opp_id, "SRV-01")
    crm("new", "Another", "--customer", "Acme Corp")
    for what in ("diff --cached", "rev-parse HEAD HEAD^{tree}", "config --get-regexp"):
        assert sum(what in a for a in asked) == 3, (what, asked)
    assert sum("ls-files -s" in a for a in asked) == 2, asked


def test_a_file_staged_after_the_reads_began_stays_out_of_the_commit(crm, monkeypatch):
    """The early answer said nothing was staged; someone stages a file before the change
    commits: the answer is asked again, and the commit holds the change's file alone."""
    opp_id = crm.new("Deal")
    (crm.root / "other.txt").write_text("someone else's work\n")
    real_start = EarlyReads.start

    def start_then_stage(self, key, commands):
        real_start(self, key, commands)
        if key == "commit":
            crm.git("add", "other.txt")

    monkeypatch.setattr(early_module.EarlyReads, "start", start_then_stage)
    crm("note", opp_id, "Called")
    changed = crm.git("show", "--name-only", "--format=", "HEAD").split()
    assert changed == [f"opportunities/{opp_id}.yaml"]
    assert crm.git("diff", "--cached", "--name-only").split() == ["other.txt"]


def test_a_file_edited_by_hand_and_broken_is_named_as_edited(crm):
    """The models load while git reads the file's entries; a file both edited by hand and
    invalid is still refused as edited first, as before."""
    opp_id = crm.new("Deal")
    path = crm.root / "opportunities" / f"{opp_id}.yaml"
    path.write_text(path.read_text().replace("amount:", "amount: [", 1))
    result = crm("note", opp_id, "Called", code=1)
    assert "has uncommitted changes" in result.stderr


def test_another_change_committed_while_this_one_waited(crm, monkeypatch):
    """Reads start before the lock; another change commits the same file before this
    one takes it: the answers are asked again and both notes are kept, one commit each."""
    opp_id = crm.new("Deal")
    real_start = EarlyReads.start
    meanwhile = []

    def start_then_commit(self, key, commands):
        real_start(self, key, commands)
        if key == ("clean", (f"opportunities/{opp_id}.yaml",)) and not meanwhile:
            meanwhile.append(crm.head())
            crm("note", opp_id, "Theirs")  # a whole change, lock and commit

    monkeypatch.setattr(early_module.EarlyReads, "start", start_then_commit)
    crm("note", opp_id, "Ours")
    notes = [n["text"] for n in crm.json("note", "list", opp_id)]
    assert notes == ["Theirs", "Ours"]
    assert crm.git("rev-list", "--count", f"{meanwhile[0]}..HEAD").strip() == "2"
    for commit in ("HEAD", "HEAD^"):
        assert crm.git("show", "--name-only", "--format=", commit).split() == [
            f"opportunities/{opp_id}.yaml"]
    assert crm.status() == ""
