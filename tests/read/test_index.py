"""The index of parsed files (#9) gives exactly the reports a full parse gives.

Every check runs the same commands twice, with the index and with ``OPP_NO_INDEX=1``
(every file parsed, as before the index), and compares exit status, stdout and
stderr, after opp edits, hand edits (staged, unstaged, same size and time),
untracked and deleted files, checkouts, merges, resets, settings changes, invalid
files and a damaged index.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import depth, needs_real_clock
from oppcli.cli import cli
from oppcli.read.index import db, entry, kept, worktree
from oppcli.store.repo import Repo

TODAY = date.today().isoformat()
OLD = 1_500_000_000  # a time long ago: stat data this old is trusted


def run(*args: str, no_index: bool = False) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, [str(a) for a in args],
                                env={"OPP_NO_INDEX": "1" if no_index else ""},
                                catch_exceptions=False, prog_name="opp")
    return result.exit_code, result.stdout, result.stderr


def reports(root: Path, *, shows: bool = True) -> list[tuple[str, ...]]:
    out = [("pipeline", "--format", "json"), ("pipeline",),
           ("forecast", "--format", "json"), ("forecast", "--by", "owner", "--format", "csv"),
           ("forecast", "--by", "stage", "--format", "json"),
           ("forecast", "--by", "quarter", "--from", "2020-01-01", "--format", "json"),
           ("pipeline", "--stage", "proposal", "--customer", "acme", "--format", "json"),
           ("list", "--format", "json"), ("list", "--status", "open", "--format", "csv"),
           ("pipeline", "--as-of", TODAY, "--format", "json"),
           ("changes", "--since", "2000-01-01", "--format", "json")]
    folder = root / "opportunities"
    if shows and folder.is_dir():
        for name in sorted(os.listdir(folder))[:4]:
            if name.endswith(".yaml"):
                out.append(("show", name[:-5], "--format", "json"))
                out.append(("show", name[:-5]))
    return out


def same(root: Path, *, shows: bool = True) -> list[tuple[int, str, str]]:
    """Every report, with the index (twice: filling it, then warm) and without it, must
    be the same; returns the results."""
    results = []
    for args in reports(root, shows=shows):
        reference = run(*args, no_index=True)
        first = run(*args)
        second = run(*args)
        assert first == reference, f"opp {' '.join(args)} differs with the index"
        assert second == reference, f"opp {' '.join(args)} differs with a warm index"
        results.append(reference)
    return results


def hand_git(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """git as a person runs it (the tests have no git identity of their own)."""
    return subprocess.run(["git", "-c", "user.name=Hand", "-c", "user.email=hand@example.com",
                           *args], cwd=root, capture_output=True, text=True, check=check)


def write(root: Path, relpath: str, text: str) -> Path:
    path = root / relpath
    path.write_text(text)
    return path


def age(root: Path) -> None:
    """Make every opportunity file's mtime old (its ctime becomes now)."""
    for path in (root / "opportunities").glob("*.yaml"):
        os.utime(path, (OLD, OLD))


@pytest.fixture
def trusting(monkeypatch):
    """The index trusts stat data at once, as it does RACY_SECONDS after a file was
    written (files in tests are always younger than that). A pause before each edit
    keeps the edit out of the tick of the scan before it, as time does in real use."""
    monkeypatch.setattr(worktree, "RACY_SECONDS", -60)


def pause() -> None:
    import time

    time.sleep(0.03)


def edit_objective(path: Path, value: str) -> None:
    lines = [f"objective: {value}" if line.startswith("objective:") else line
             for line in path.read_text().splitlines()]
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture
def deals(crm, built):
    """A repo with open, won and lost deals, two currencies, products and quotes."""
    crm.ids = built("index-deals", crm.root, lambda: make_deals(crm))
    return crm


def make_deals(crm) -> list[str]:
    a = crm.new("Acme renewal", "--objective", "5000", "--close-date", "2026-12-31",
                "--owner", "ann")
    crm("add-product", a, "SRV-01", "--qty", "2")
    crm("stage", a, "proposal")
    b = crm.new("Globex", "--customer", "Globex", "--amount", "1234.50", "--currency", "USD",
                "--close-date", "2027-02-01", "--owner", "bo")
    c = crm.new("Initech", "--customer", "Initech", "--amount", "800")
    crm("close", c, "--won", "--date", "2026-01-15")
    d = crm.new("Umbrella", "--customer", "Umbrella", "--amount", "99.99", "--owner", "bo")
    crm("close", d, "--lost", "--reason", "price", "--date", "2026-02-01")
    crm("note", b, "Asked for a discount")
    return [a, b, c, d]


# ---------------------------------------------------------------- the same answers


def test_reports_match_after_opp_edits(deals):
    same(deals.root)
    a, b, c, d = deals.ids
    deals("set", b, "amount", "2000")
    deals("stage", b, "negotiation")
    deals("add-product", a, "LIC-10", "--qty", "3")
    deals("reopen", c, "--stage", "proposal")
    same(deals.root)


def test_a_warm_report_parses_nothing(deals, monkeypatch, trusting):
    same(deals.root)
    run("pipeline")  # stores the (trusted) stat data

    def boom(data):
        raise AssertionError("parsed a file the index knows")
    monkeypatch.setattr(worktree, "parse", boom)
    code, out, err = run("pipeline", "--format", "json")
    assert code == 0 and out == run("pipeline", "--format", "json", no_index=True)[1]


def test_reports_from_the_index_import_neither_pydantic_nor_yaml(deals):
    run("pipeline")
    probe = ("import sys\nfrom oppcli.cli import cli\n"
             "for args in (['pipeline'], ['forecast', '--format', 'json'], "
             f"['list', '--format', 'json'], ['show', '{deals.ids[0]}']):\n"
             "    try:\n        cli(args, prog_name='opp')\n"
             "    except SystemExit as exc:\n        assert exc.code == 0, exc.code\n"
             "print('pydantic' in sys.modules or 'yaml' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", probe], cwd=deals.root, capture_output=True,
                         text=True, env={**os.environ, "OPP_NO_INDEX": ""}, check=True)
    assert out.stdout.strip().splitlines()[-1] == "False"


def test_hand_edits_staged_and_unstaged(deals):
    a, b, c, d = deals.ids
    same(deals.root)
    edit_objective(deals.file(b), "777.00")  # unstaged
    same(deals.root)
    deals.git("add", "-A")  # staged
    same(deals.root)
    edit_objective(deals.file(b), "778.00")  # staged and then edited again
    same(deals.root)
    hand_git(deals.root, "commit", "-qam", "by hand")
    same(deals.root)


def test_an_edit_keeping_size_and_times(deals, trusting):
    """The same size, the same mtime: only ctime (and the content) differ."""
    a, b, c, d = deals.ids
    age(deals.root)
    run("pipeline")  # trusts the stat data now
    path = deals.file(b)
    before = path.stat()
    text = path.read_text()
    assert "1234.50" in text
    pause()
    path.write_text(text.replace("1234.50", "9234.50"))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    results = same(deals.root)
    assert "9234.50" in results[0][1]


@needs_real_clock
def test_stat_data_is_trusted_only_once_old(deals, monkeypatch):
    """Racily clean: stat data of a file whose times are within RACY_SECONDS of the scan
    is not kept, so an edit in the same tick as a scan, same size, is never missed."""
    a, b, c, d = deals.ids
    run("pipeline")
    con = sqlite3.connect(deals.root / ".git" / db.FILE_NAME)
    stats = dict(con.execute("SELECT name, stat FROM files").fetchall())
    assert not stats  # every file was written a moment ago: nothing trusted yet
    age(deals.root)
    run("pipeline")
    assert not con.execute("SELECT name FROM files").fetchall()  # ctime is still now
    monkeypatch.setattr(worktree, "RACY_SECONDS", -60)  # as if the scan came a minute later
    run("pipeline")
    stats = dict(con.execute("SELECT name, stat FROM files").fetchall())
    assert set(stats) == set(deals.ids)
    # written now, same size, mtime forced back to the old one: ctime gives it away
    pause()
    path = deals.file(b)
    path.write_text(path.read_text().replace("1234.50", "1234.60"))
    os.utime(path, (OLD, OLD))
    same(deals.root)
    con.close()


def test_untracked_and_deleted_files(deals):
    a, b, c, d = deals.ids
    text = deals.file(b).read_text().replace(f"id: {b}", "id: zzzz0001")
    write(deals.root, "opportunities/zzzz0001.yaml", text)  # untracked
    same(deals.root)
    deals.file(c).unlink()  # deleted, not staged
    same(deals.root)
    deals.git("rm", "-q", f"opportunities/{d}.yaml")  # deleted and staged
    same(deals.root)
    deals.git("add", "-A")
    hand_git(deals.root, "commit", "-qm", "files added and removed by hand")
    same(deals.root)


def test_checkout_merge_and_reset(deals):
    a, b, c, d = deals.ids
    main = deals.git("symbolic-ref", "--short", "HEAD").strip()
    same(deals.root)
    deals.git("checkout", "-qb", "other")
    deals("set", b, "objective", "4242")
    deals("stage", a, "negotiation")
    other_new = deals.new("Only on other", "--amount", "10")
    same(deals.root)
    deals.git("checkout", "-q", main)
    assert not deals.file(other_new).exists()
    same(deals.root)
    deals("note", d, "closed for good")
    hand_git(deals.root, "merge", "-q", "--no-edit", "other")
    assert deals.file(other_new).exists()
    same(deals.root)
    deals.git("reset", "-q", "--hard", "HEAD~1")
    same(deals.root)
    edit_objective(deals.file(a), "1.00")
    deals.git("reset", "-q", "--hard")
    same(deals.root)


def test_settings_changes_apply_without_reparsing(deals, monkeypatch):
    parse = entry.parse
    same(deals.root)
    settings = deals.root / "opp.yaml"
    settings.write_text(settings.read_text().replace("probability: 50", "probability: 60"))

    def boom(data):
        raise AssertionError("a settings change made the index parse a file")
    monkeypatch.setattr(worktree, "parse", boom)
    results = same(deals.root)
    assert "60 %" in results[1][1]
    # a stage removed from the settings: the deals at it are invalid now
    monkeypatch.setattr(worktree, "parse", parse)
    text = settings.read_text()
    start = text.index("- id: negotiation")
    end = text.index("- id: closed-won")
    settings.write_text(text[:start] + text[end:])  # no deal is at negotiation yet
    results = same(deals.root)
    assert results[0][0] == 0 and "negotiation" not in results[0][1], results[0][2]
    deals.git("checkout", "--", "opp.yaml")
    deals("stage", deals.ids[0], "negotiation")
    settings.write_text(text[:start] + text[end:])
    results = same(deals.root)
    assert results[0][0] == 1 and "unknown stage 'negotiation'" in results[0][2]
    assert f"opportunities/{deals.ids[0]}.yaml:5" in results[0][2]  # after the schema line


def test_invalid_files_refuse_and_are_remembered(deals, monkeypatch):
    a, b, c, d = deals.ids
    path = deals.file(b)
    good = path.read_text()
    path.write_text(good.replace("amount: 1234.50", "amount: lots"))
    results = same(deals.root)
    parse = entry.parse
    code, out, err = results[0]
    assert code == 1 and f"opportunities/{b}.yaml:6" in err and "no report" in err
    con = sqlite3.connect(deals.root / ".git" / db.FILE_NAME)
    assert con.execute("SELECT count(*) FROM blobs WHERE rec IS NULL").fetchone()[0] == 1
    con.close()

    def boom(data):
        raise AssertionError("parsed an invalid file again")
    monkeypatch.setattr(worktree, "parse", boom)
    assert run("pipeline") == results[1]
    monkeypatch.setattr(worktree, "parse", parse)
    # other ways to be invalid: YAML, a rule, the id, a duplicate key, an alias
    for bad in (good + "  - broken: [\n", good.replace("stage: prospecting", "stage: nope"),
                good.replace(f"id: {b}", "id: zzzz9999"), good + "name: twice\n",
                good.replace("owner: bo", "owner: &x bo") + "ref: *x\n",
                good.replace("amount_source: manual", "amount_source: products"), ""):
        path.write_text(bad)
        results = same(deals.root, shows=False)
        assert results[0][0] == 1 and f"opportunities/{b}.yaml" in results[0][2], bad
    path.write_text(good)  # repaired
    assert all(r[0] == 0 for r in same(deals.root))


def test_an_invalid_file_in_history(deals):
    a, b, c, d = deals.ids
    edit_objective(deals.file(a), "not money")
    hand_git(deals.root, "commit", "-qam", "broken by hand")
    results = same(deals.root, shows=False)
    as_of = next(r for args, r in zip(reports(deals.root, shows=False), results)
                 if "--as-of" in args)
    assert as_of[0] == 1 and "(in commit" in as_of[2]
    changes = next(r for args, r in zip(reports(deals.root, shows=False), results)
                   if args[0] == "changes")
    assert changes[0] == 1 and f"opportunities/{a}.yaml" in changes[2]


# ---------------------------------------------------------------- a damaged index


@pytest.mark.parametrize("damage", ["garbage", "garbage inside", "truncated", "empty",
                                    "version", "a row", "a folder"])
def test_a_damaged_index_is_rebuilt_silently(deals, damage, trusting):
    reference = same(deals.root)
    path = deals.root / ".git" / db.FILE_NAME
    for suffix in ("-wal", "-shm"):  # everything in the main file
        assert not Path(f"{path}{suffix}").exists() or damage
    data = path.read_bytes()
    if damage == "garbage":
        path.write_bytes(os.urandom(len(data)))
    elif damage == "garbage inside":
        middle = len(data) // 2
        path.write_bytes(data[:middle] + os.urandom(4096) + data[middle + 4096:])
    elif damage == "truncated":
        path.write_bytes(data[: len(data) // 3])
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "version":
        con = sqlite3.connect(path)
        con.execute("UPDATE meta SET value = 'another opp' WHERE key = 'version'")
        con.commit()
        con.close()
    elif damage == "a row":  # a field changed behind the CRC's back
        con = sqlite3.connect(path)
        con.execute("UPDATE files SET rec = replace(rec, '1234.50', '9999.99')")
        con.execute("UPDATE blobs SET rec = replace(rec, '1234.50', '9999.99')")
        con.commit()
        con.close()
    elif damage == "a folder":
        path.unlink()
        path.mkdir()
    assert same(deals.root) == reference
    if damage != "a folder":
        con = sqlite3.connect(path)
        version = con.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()[0]
        assert version == db.fingerprint()
        con.close()


def damage_copy(root: Path, copy: Path, older: bytes, damage: str) -> bool:
    """Damage one of the index's copies (``older``: its bytes before some changes) in
    one of the ways both copies are tested with; False for another way."""
    if damage == "garbage":
        copy.write_bytes(os.urandom(len(older)))
    elif damage == "truncated":
        copy.write_bytes(copy.read_bytes()[: len(older) // 2])
    elif damage == "empty":
        copy.write_bytes(b"")
    elif damage == "a folder":
        copy.unlink()
        copy.mkdir()
    elif damage == "another index":  # the SQLite file thrown away, the copy left behind
        for suffix in ("", "-wal", "-shm"):
            Path(f"{root / '.git' / db.FILE_NAME}{suffix}").unlink(missing_ok=True)
    elif damage == "an older copy":
        copy.write_bytes(older)  # of files changed since, and of one deleted
    else:
        return False
    return True


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty", "a folder",
                                    "another index", "an older copy"])
def test_the_files_tables_whole_copy_is_only_a_cache(deals, damage, trusting, monkeypatch):
    """The files table kept whole (``opp-index.files``, #25): damaged, of another index
    or older than the table, it costs time, never a wrong answer."""
    monkeypatch.setattr(worktree, "SNAPSHOT_SLACK", 0)  # written again after any change
    monkeypatch.setattr(kept, "load", lambda *args, **kwargs: None)  # the table, not the records
    root, (a, b, c, d) = deals.root, deals.ids
    same(root)

    def as_the_table() -> bool:
        index = db.Index.open(Repo.find(str(root)))
        try:
            return index.files_snapshot() == index.files() != {}
        finally:
            index.close()

    assert as_the_table()
    copy = root / ".git" / "opp-index.files"
    older = copy.read_bytes()
    assert older.startswith(db.SNAPSHOT_MAGIC)
    pause()
    edit_objective(deals.file(a), "4321.00")
    deals("note", b, "called")
    deals.file(d).unlink()
    same(root)
    # written again by a report that let go of the rows it used (#25): whole all the same
    assert as_the_table()
    damage_copy(root, copy, older, damage)
    pause()
    edit_objective(deals.file(c), "1111.00")
    same(root)
    hand_git(root, "checkout", "-q", "--", ".")
    same(root)
    assert as_the_table() == (damage != "a folder")  # (a folder in its place stays)


def test_the_files_tables_copy_is_written_and_read_in_parts(deals, monkeypatch):
    """The copy is written in parts of SNAPSHOT_PART rows (a cold report at 100,000
    files never holds it as one body), read back whole and in order; a copy cut at a
    part's end, or with a part changed, is no copy."""
    monkeypatch.setattr(db, "SNAPSHOT_PART", 3)
    run("pipeline")
    index = db.Index.open(Repo.find(str(deals.root)))
    try:
        rows = {f"{i:08x}": (f"{i}:1:2:3", f"{i:040x}", f"rec {i}", None if i % 2 else "e")
                for i in range(10)}
        index.write_snapshot(rows)
        assert index.files_snapshot() == rows
        assert list(index.files_snapshot()) == list(rows)
        copy = deals.root / ".git" / "opp-index.files"
        whole = copy.read_bytes()
        ends = []  # where each part ends: the magic, the head, then four parts
        at = len(db.SNAPSHOT_MAGIC)
        while at < len(whole):
            at += 8 + int.from_bytes(whole[at:at + 4], "big")
            ends.append(at)
        assert len(ends) == 5 and ends[-1] == len(whole)
        for end in ends[:-1]:
            copy.write_bytes(whole[:end])
            assert index.files_snapshot() is None
        copy.write_bytes(whole + whole[len(db.SNAPSHOT_MAGIC):ends[0]])
        assert index.files_snapshot() is None
        changed = bytearray(whole)
        changed[-3] ^= 1
        copy.write_bytes(bytes(changed))
        assert index.files_snapshot() is None
        longer = bytearray(whole)  # a length past the file's end: refused, not read
        longer[ends[1]:ends[1] + 4] = b"\xff\xff\xff\xff"
        copy.write_bytes(bytes(longer))
        reads = []
        real = db.read_part
        monkeypatch.setattr(db, "read_part", lambda fh, end: reads.append(end) or
                            real(fh, end))
        assert index.files_snapshot() is None and reads == [len(whole)] * 3
    finally:
        index.close()


def test_the_index_lives_in_git_dir_and_is_never_committed(deals):
    run("pipeline")
    path = deals.root / ".git" / db.FILE_NAME
    assert path.is_file()
    assert deals.status() == ""
    deals("note", deals.ids[0], "after the index")
    tracked = deals.git("ls-tree", "-r", "--name-only", "HEAD")
    assert "sqlite" not in tracked and "opp-index" not in tracked
    assert deals.status() == ""


def test_no_index_leaves_no_file(deals):
    path = deals.root / ".git" / db.FILE_NAME
    for p in deals.root.glob(".git/opp-index*"):
        p.unlink()
    run("pipeline", no_index=True)
    deals("note", deals.ids[0], "x", env={"OPP_NO_INDEX": "1"})
    assert not path.exists()


def test_index_status_and_rebuild(deals):
    code, out, _ = run("index", "rebuild", "--format", "json")
    assert code == 0
    import json

    info = json.loads(out)
    assert info["blobs"] >= 4 and info["settings"] == 1 and info["enabled"]
    code, out, _ = run("index", "status")
    assert code == 0 and "opp-index.sqlite3" in out
    code, _, err = run("index", "rebuild", no_index=True)
    assert code == 2 and "OPP_NO_INDEX" in err


def test_a_data_repo_below_the_top_of_its_work_tree(tmp_path, monkeypatch):
    top = tmp_path / "top"
    top.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=top, check=True)
    monkeypatch.chdir(top)
    assert run("init", "crm")[0] == 0
    monkeypatch.chdir(top / "crm")
    code, out, _ = run("new", "Deal", "--customer", "Acme", "--amount", "5")
    assert code == 0
    same(top / "crm")
    assert list((top / ".git").glob("opp-index-*.sqlite3"))


# ---------------------------------------------------------------- any sequence


OPERATIONS = ["note", "set amount", "stage", "close", "hand edit", "hand edit, same size",
              "stage it", "commit", "new file", "delete", "invalid", "repair", "settings",
              "branch", "merge", "reset", "trust", "damage index", "new"]


@settings(max_examples=depth(10), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(OPERATIONS), st.integers(0, 3)), min_size=1,
                max_size=8))
def test_any_sequence_of_changes(deals, steps):
    """After each of a random sequence of changes, the index gives a full parse's reports."""
    root = deals.root
    main = deals.git("symbolic-ref", "--short", "HEAD").strip()
    deals.git("checkout", "-q", main)
    deals.git("reset", "-q", "--hard")
    deals.git("clean", "-qfd")
    try:
        apply(deals, root, main, steps)
    finally:
        worktree.RACY_SECONDS = RACY_SECONDS


RACY_SECONDS = worktree.RACY_SECONDS


def apply(deals, root: Path, main: str, steps: list[tuple[str, int]]) -> None:
    for name, k in steps:
        pause()
        ids = sorted(p.stem for p in (root / "opportunities").glob("*.yaml"))
        target = ids[k % len(ids)] if ids else None
        path = root / "opportunities" / f"{target}.yaml" if target else None
        clean = deals.status() == "" and not (root / ".git" / "MERGE_HEAD").exists()
        if name == "note" and target and clean:
            run("note", target, f"note {k}")
        elif name == "set amount" and target and clean:
            run("set", target, "amount", f"{k}00.25")
        elif name == "stage" and target and clean:
            run("stage", target, ["qualification", "proposal", "negotiation", "closed-won"][k])
        elif name == "close" and target and clean:
            run("close", target, "--lost", "--reason", "price", "--date", "2026-01-02")
        elif name == "new" and clean:
            run("new", f"Deal {k}", "--customer", "Hooli", "--amount", f"{k}1.00")
        elif name == "hand edit" and path:
            edit_objective(path, f"{k}23.00")
        elif name == "hand edit, same size" and path:
            info = path.stat()
            text = path.read_text()
            swapped = text.replace("currency: EUR", "currency: USD") if "EUR" in text \
                else text.replace("currency: USD", "currency: EUR")
            path.write_text(swapped)
            os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
        elif name == "stage it":
            deals.git("add", "-A")
        elif name == "commit":
            deals.git("add", "-A")
            hand_git(root, "commit", "-qm", "by hand", check=False)
        elif name == "new file" and path:
            new_id = f"zz{k:02d}{len(ids):04d}"
            text = path.read_text().replace(f"id: {target}", f"id: {new_id}")
            write(root, f"opportunities/{new_id}.yaml", text)
        elif name == "delete" and path:
            path.unlink()
        elif name == "invalid" and path:
            path.write_text(path.read_text().replace("currency:", "currency: [", 1))
        elif name == "repair":
            deals.git("checkout", "--", "opportunities")
            deals.git("clean", "-qf", "opportunities")
        elif name == "settings":
            settings_file = root / "opp.yaml"
            settings_file.write_text(settings_file.read_text().replace(
                "probability: 25", f"probability: {20 + k}"))
        elif name == "branch":
            subprocess.run(["git", "checkout", "-q", "-B", f"b{k}"], cwd=root,
                           capture_output=True)
        elif name == "merge":
            subprocess.run(["git", "checkout", "-q", main], cwd=root, capture_output=True)
            hand_git(root, "merge", "-q", "--no-edit", f"b{k}", check=False)
        elif name == "reset":
            deals.git("reset", "-q", "--hard")
        elif name == "trust":  # stat data trusted from now on (see ``trusting``)
            worktree.RACY_SECONDS = -60
        elif name == "damage index":
            index_file = root / ".git" / db.FILE_NAME
            if index_file.exists():
                index_file.write_bytes(os.urandom(k * 1000 + 100))
        same(root, shows=k == 0)


# ---------------------------------------------------------------- the commit of a change


def test_a_change_commits_its_file_alone_whether_or_not_something_else_is_staged(deals):
    a, b, c, d = deals.ids
    deals("note", a, "nothing else staged")  # the fast way: a plain commit of the index
    assert deals.git("show", "--name-only", "--format=", "HEAD").split() == [
        f"opportunities/{a}.yaml"]
    assert deals.status() == ""
    (deals.root / "notes.txt").write_text("mine\n")
    deals.git("add", "notes.txt")
    deals("note", b, "something else staged")  # only this file goes in
    assert deals.git("show", "--name-only", "--format=", "HEAD").split() == [
        f"opportunities/{b}.yaml"]
    assert deals.git("diff", "--cached", "--name-only").split() == ["notes.txt"]
    same(deals.root, shows=False)


def test_many_files_are_parsed_by_worker_processes_with_the_same_result(deals, monkeypatch):
    """A fresh clone parses every file in worker processes; forced here with a few."""
    monkeypatch.setattr(entry, "PARALLEL_MIN", 2)
    a, b, c, d = deals.ids
    for path in deals.root.glob(".git/opp-index*"):
        path.unlink()
    same(deals.root)
    (deals.root / "opportunities" / "zzzz0000.yaml").mkdir()  # not a file
    for p in deals.root.glob(".git/opp-index*"):
        p.unlink()
    results = same(deals.root, shows=False)
    assert results[0][0] == 1 and "zzzz0000.yaml" in results[0][2]
    (deals.root / "opportunities" / "zzzz0000.yaml").rmdir()
    path = deals.file(b)
    path.write_text(path.read_text().replace("currency: USD", "currency: usd"))
    for p in deals.root.glob(".git/opp-index*"):
        p.unlink()
    results = same(deals.root, shows=False)
    assert results[0][0] == 1 and f"opportunities/{b}.yaml" in results[0][2]


def test_concurrent_processes_share_the_index(deals):
    """Several opp processes building and reading the index at once: all answer the
    same, and the index they leave is whole."""
    for path in deals.root.glob(".git/opp-index*"):
        path.unlink()
    reference = run("pipeline", "--format", "json", no_index=True)[1]
    env = {**os.environ, "OPP_NO_INDEX": ""}
    procs = [subprocess.Popen([sys.executable, "-m", "oppcli", *args], cwd=deals.root,
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
             for args in [("pipeline", "--format", "json")] * 4 +
             [("note", deals.ids[0], "at the same time")] +
             [("pipeline", "--format", "json")] * 3]
    outputs = [p.communicate() + (p.returncode,) for p in procs]
    assert all(code == 0 for _, _, code in outputs), outputs
    for (out, _, _), p in zip(outputs, procs):
        if "pipeline" in p.args:
            assert out == reference
    same(deals.root)
    con = sqlite3.connect(deals.root / ".git" / db.FILE_NAME)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()


def test_the_write_ahead_log_is_folded_back_and_answers_stay(deals, monkeypatch):
    """opp leaves without closing SQLite (``os._exit``), so each write folds the log into
    the file once it holds ``WAL_TRIM`` bytes (#25): the next process does not read it
    again page by page; answers stay those of a full parse, and a reader on the log
    never makes the write wait (the fold is left for later)."""
    root, (a, b, _c, _d) = deals.root, deals.ids
    same(root)
    wal = root / ".git" / "opp-index.sqlite3-wal"
    monkeypatch.setattr(db, "WAL_TRIM", 1)
    index = db.Index.open(Repo.find(str(root)))
    try:
        assert index.write(entries={"0" * 40: entry.Entry("x", None)})
        assert not wal.exists() or wal.stat().st_size == 0
        reader = sqlite3.connect(index.path)
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM blobs").fetchone()  # holds the log
        assert index.write(entries={"1" * 40: entry.Entry("y", None)})  # no wait
        reader.close()
    finally:
        index.close()
    deals("note", b, "called")
    deals("note", a, "called too")
    same(root)


def test_a_cold_build_stops_writing_once_another_writer_holds_the_index(monkeypatch):
    """File rows go ROWS_AT_ONCE at a time; once a write finds another process holding
    the index past its wait, the build writes no more instead of waiting at each part."""

    class Busy:
        def __init__(self):
            self.calls = []

        def write(self, **parts):
            self.calls.append(len(parts["files"]))
            return False

    monkeypatch.setattr(worktree, "ROWS_AT_ONCE", 2)
    found = {f"b{i}": entry.Entry(f"rec {i}", None) for i in range(5)}
    to_read = [[i, f"id{i}", "1:2:3:4", f"b{i}"] for i in range(5)]
    busy = Busy()
    worktree._remember(busy, {}, set(), to_read, found)
    assert busy.calls == [2]
