"""Sync against a hostile (or careless) collaborator who pushes with plain git: a
.gitattributes switching opp's driver off, invalid files, a symlink, a huge file, a
document path outside its deal's folder. The receiver has work of its own (so a merge
happens) and receives with ``opp sync`` and with a plain ``git pull``: no work is
lost, nothing invalid is pushed, and every read stays bounded (``prlimit --as``).
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import yaml
from test_sync import Clone, T, team  # noqa: F401  (the fixture)

MEMORY = str(1536 * 1024 * 1024)  # bytes of address space for one opp process


def run(clone: Clone, *args: str, bounded: bool = False) -> subprocess.CompletedProcess:
    argv = [sys.executable, "-m", "oppcli", *args]
    if bounded:
        argv = ["prlimit", f"--as={MEMORY}", "--", *argv]
    return subprocess.run(argv, cwd=clone.root, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "OPP_USER": clone.who})


def remote_head(t) -> str:
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=t.remote, capture_output=True,
                          text=True, check=True).stdout.strip()


@pytest.fixture
def deals(team):
    """Alice, Bob and Carol share two deals; Bob and Carol each have one commit of their
    own not pushed yet (a note on the second deal)."""
    first, second = team.alice.new("First deal"), team.alice.new("Second deal")
    team.alice("sync")
    for clone in (team.bob, team.carol):
        clone("sync")
        clone("note", second, f"from {clone.who}")
    return first, second


def hostile_push(t, files: dict[str, bytes | str], links: dict[str, str] | None = None):
    """Alice writes files (and symbolic links) by hand and pushes them with plain git."""
    alice = t.alice
    for rel, content in files.items():
        path = alice.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    for rel, target in (links or {}).items():
        path = alice.root / rel
        if path.exists() or path.is_symlink():
            path.unlink()
        os.symlink(target, path)
    alice.raw_git("add", "-A")
    alice.raw_git("commit", "-qm", "by hand")
    alice.raw_git("push", "-q")


def refused(t, clone: Clone, naming: str, bounded: bool = False) -> str:
    """The clone's opp sync refuses, naming the file; nothing is pushed or changed."""
    head, remote = clone.head(), remote_head(t)
    r = run(clone, "sync", bounded=bounded)
    assert r.returncode == 1, r
    assert naming in r.stderr and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    assert clone.head() == head and clone.status() == ""
    assert remote_head(t) == remote
    assert not (clone.root / ".git" / "MERGE_HEAD").exists()
    return r.stderr


def pulled_then_refused(t, clone: Clone, naming: str, bounded: bool = False) -> None:
    """A plain git pull merges what git can; opp sync then pushes nothing invalid."""
    pull = clone.raw_git("pull", "-q", "--no-rebase", "--no-edit", check=False)
    remote = remote_head(t)
    r = run(clone, "sync", bounded=bounded)
    assert r.returncode == 1 and naming in r.stderr, (pull, r)
    assert remote_head(t) == remote
    v = run(clone, "validate", bounded=bounded)
    assert v.returncode == 1 and naming in v.stdout + v.stderr


def file_of(t, opp_id: str) -> dict:
    return yaml.safe_load(t.alice.file(opp_id).read_text())


def test_a_pushed_gitattributes_cannot_switch_the_driver_off(team, deals):
    first, second = deals
    attrs = "* -merge\nopportunities/*.yaml merge=binary\n*.yaml binary\n"
    team.alice("note", second, "from Alice")
    hostile_push(team, {".gitattributes": attrs})
    for clone in (team.bob, team.carol):  # any opp command since the clone pinned it
        out = clone.raw_git("check-attr", "merge", "--", f"opportunities/{second}.yaml")
        assert out.stdout.strip().endswith("merge: opp")
    assert run(team.bob, "sync").returncode == 0
    notes = {n["text"] for n in team.bob.json("show", second)["notes"]}
    assert notes == {"from Alice", "from Bob"}
    team.carol.raw_git("pull", "-q", "--no-rebase", "--no-edit")
    notes = {n["text"] for n in team.carol.json("show", second)["notes"]}
    assert notes == {"from Alice", "from Bob", "from Carol"}
    # a clone whose info/attributes lost the lines: opp puts them back, check-attr agrees
    (team.bob.root / ".git" / "info" / "attributes").write_text("")
    assert run(team.bob, "sync").returncode == 0
    assert "merge=opp" in (team.bob.root / ".git" / "info" / "attributes").read_text()


FOLDERS = ["sub", "my data", "a*b", 'q"x', "#hash", "!bang", "!c d", "back\\slash",
           "br[ck]t", "tab\tx", "dati è più", "x!"]


def test_the_pinned_lines_name_a_data_repo_in_any_folder(tmp_path):
    """A data repo in a subfolder of the work tree: the pinned lines route its files, and
    only its, to the driver, whatever the folder's name (blanks, glob characters, a
    leading # or !), as git reads them."""
    from oppcli.store.driver import pin_attributes

    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    paths = []
    for name in FOLDERS:
        (tmp_path / name).mkdir()
        pin_attributes(tmp_path / name)
        paths += [f"{name}/{f}" for f in ("opportunities/a.yaml", "accounts/b.yaml",
                                           "opp.yaml", "catalog.yaml", "quotas.yaml")]
    near = ["aXb/opp.yaml", "brct/opportunities/a.yaml", "bang/opp.yaml", "c d/opp.yaml",
            "sub/notes/opp.txt", "opp.yaml"]
    out = subprocess.run(["git", "check-attr", "-z", "merge", "--", *paths, *near],
                         cwd=tmp_path, capture_output=True, check=True).stdout
    fields = out.decode().split("\0")
    merge = {fields[i]: fields[i + 2] for i in range(0, len(fields) - 1, 3)}
    assert merge == {**{p: "opp" for p in paths}, **{p: "unspecified" for p in near}}


@pytest.mark.parametrize("case", ["duplicate key", "unknown stage", "id", "document"])
def test_an_invalid_file_pushed_by_hand_is_never_pushed_on(team, deals, case):
    first, _ = deals
    path = f"opportunities/{first}.yaml"
    data = file_of(team, first)
    if case == "duplicate key":
        text = team.alice.file(first).read_text() + "name: Second name\n"
        naming, why = path, "duplicate"
    elif case == "unknown stage":
        text = yaml.safe_dump({**data, "stage": "bogus"}, sort_keys=False)
        naming, why = path, "unknown stage 'bogus'"
    elif case == "id":
        text = yaml.safe_dump({**data, "id": "zzzz9999"}, sort_keys=False)
        naming, why = path, "does not match the file name"
    else:
        doc = {"id": "dd0001", "path": "opp.yaml", "title": "evil", "sha256": "0" * 64,
               "size": 1, "added": "2026-01-01"}
        text = yaml.safe_dump({**data, "documents": [doc]}, sort_keys=False)
        naming, why = path, "is not under documents/"
    hostile_push(team, {path: text})
    said = refused(team, team.bob, naming)
    assert why in said
    pulled_then_refused(team, team.carol, naming)


def test_the_same_deal_broken_there_and_changed_here_is_a_conflict(team, deals):
    first, _ = deals
    team.bob("note", first, "from Bob")
    text = team.alice.file(first).read_text() + "name: Second name\n"
    hostile_push(team, {f"opportunities/{first}.yaml": text})
    remote = remote_head(team)
    r = run(team.bob, "sync")
    assert r.returncode == 1 and "cannot be merged field by field" in r.stderr, r
    assert remote_head(team) == remote
    team.bob("resolve", first, "--ours")
    assert run(team.bob, "sync").returncode == 0
    team.bob("validate")


def test_loosely_equal_product_names_from_two_clones_conflict(team, deals):
    team.alice("catalog", "add", "GTX1", "--name", "GTX Pro", "--price", "10")
    team.alice("sync")
    team.bob("catalog", "add", "GTX2", "--name", "gtx-pro", "--price", "12")
    remote = remote_head(team)
    r = run(team.bob, "sync")
    assert r.returncode == 1 and "catalog" in r.stderr, r
    assert "one name, loosely compared" in r.stderr
    assert remote_head(team) == remote
    # validate catches a catalog that holds both
    cat = yaml.safe_load((team.alice.root / "catalog.yaml").read_text())
    cat["products"].append({"sku": "GTX2", "name": "gtx-pro", "price": "12.00"})
    (team.alice.root / "catalog.yaml").write_text(
        yaml.safe_dump(cat, sort_keys=False).replace("'12.00'", "12.00"))
    v = run(team.alice, "validate")
    assert v.returncode == 1 and "one name, loosely compared" in v.stdout + v.stderr


@pytest.mark.parametrize("target", ["/dev/zero", "/etc/passwd", "../outside.yaml"])
def test_a_pushed_symlink_is_refused_naming_it(team, deals, target):
    first, _ = deals
    path = f"opportunities/{first}.yaml"
    hostile_push(team, {}, links={path: target})
    said = refused(team, team.bob, path, bounded=True)
    assert "symbolic link" in said
    pulled_then_refused(team, team.carol, path, bounded=True)
    for args in (("list",), ("pipeline",), ("show", first)):
        r = run(team.carol, *args, bounded=True)
        assert r.returncode == 1 and path in r.stderr, (args, r)


def test_a_pushed_catalog_link_to_dev_zero_is_refused(team, deals):
    hostile_push(team, {}, links={"catalog.yaml": "/dev/zero"})
    refused(team, team.bob, "catalog.yaml", bounded=True)
    pulled_then_refused(team, team.carol, "catalog.yaml", bounded=True)


def test_a_file_over_the_size_limit_is_refused_within_bounds(team, deals):
    first, _ = deals
    path = f"opportunities/{first}.yaml"
    text = team.alice.file(first).read_text() + "# " + "x" * (9 * 1024 * 1024) + "\n"
    hostile_push(team, {path: text})
    said = refused(team, team.bob, path, bounded=True)
    assert "larger than" in said
    pulled_then_refused(team, team.carol, path, bounded=True)


def test_git_output_in_any_bytes_is_read(team, deals):
    """An author name and message in Latin-1 bytes: sync, the timeline and undo read
    them with replacement characters, never an internal error."""
    first, _ = deals
    alice = team.alice
    data = file_of(team, first)
    alice.file(first).write_text(yaml.safe_dump({**data, "name": "Renamed deal"},
                                                sort_keys=False))
    alice.raw_git("add", "-A")
    subprocess.run(["git", "-c", "user.name=Jos\xe9".encode("latin-1").decode(
        "utf-8", "surrogateescape"), "-c", "user.email=j@x", "-c", "i18n.commitEncoding=latin1",
        "commit", "-qm", b"caf\xe9 change".decode("utf-8", "surrogateescape")],
        cwd=alice.root, check=True, env={**os.environ}, capture_output=True)
    alice.raw_git("push", "-q")
    r = run(team.bob, "sync")
    assert r.returncode == 0, r.stderr
    for args in (("timeline", first), ("changes", "--since", "2000-01-01"), ("log",)):
        r = run(team.bob, *args)
        assert "Traceback" not in r.stderr and r.returncode in (0, 1, 2), (args, r)


_ = T
