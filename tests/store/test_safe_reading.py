"""Hostile files in the data repo: each is refused quickly with the file named, nothing in
it runs, memory stays bounded, and reports refuse rather than skip it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from oppcli.store import yamlio

BOMB = "\n".join(["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"] + [
    f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 10)]) + "\n"
MB = 1024 * 1024


def marker_tag(marker: Path) -> str:
    return f"id: x\nname: !!python/object/apply:os.system ['touch {marker}']\n"


# name -> (how to make opportunities/bad0.yaml, words the refusal holds)
HOSTILE = {
    "billion laughs": (lambda p, tmp: p.write_text(BOMB), "aliases"),
    "python tag": (lambda p, tmp: p.write_text(marker_tag(tmp / "MARKER")), "custom tags"),
    "python name tag": (lambda p, tmp: p.write_text("id: !!python/name:os.system\n"),
                        "custom tags"),
    "custom tag": (lambda p, tmp: p.write_text("id: !secret x\n"), "custom tags"),
    "binary garbage": (lambda p, tmp: p.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\rIHDR\xff"),
                       "not valid UTF-8"),
    "NUL bytes": (lambda p, tmp: p.write_bytes(b"id: ab\x00cd\n"), "NUL bytes"),
    "invalid UTF-8": (lambda p, tmp: p.write_bytes(b"id: abcd1234\nname: caf\xe9\n"),
                      "not valid UTF-8"),
    "a list at the top": (lambda p, tmp: p.write_text("- id: abcd1234\n- name: x\n"),
                          "expected a mapping"),
    "a list for a panel": (lambda p, tmp: p.write_text(
        "id: bad0\nname: x\ncustomer: y\nstage: prospecting\ncurrency: EUR\nowner: me\n"
        "created: 2026-01-01\nproducts: {sku: SRV-01}\n"), "products"),
    "over the size limit": (lambda p, tmp: os.truncate(_touch(p), yamlio.MAX_FILE_BYTES + 1),
                            "larger than"),
    "a huge sparse file": (lambda p, tmp: os.truncate(_touch(p), 64 * 1024 * MB),
                           "larger than"),
    "5 MB of nesting": (lambda p, tmp: p.write_text("a: " + "[" * (5 * MB // 2)
                                                    + "]" * (5 * MB // 2)),
                        "nesting depth"),
    "5 MB scalar": (lambda p, tmp: p.write_text("id: bad0\nname: " + "x" * (5 * MB) + "\n"),
                    "at most 500"),
    "8 MB of tiny values": (lambda p, tmp: p.write_text("a: [" + "1," * (4 * MB - 8) + "1]"),
                            "more than 300,000 values"),
    "a symlink out of the repo": (lambda p, tmp: p.symlink_to("/etc/passwd"),
                                  "symbolic link"),
    "a symlink to an opportunity outside": (
        lambda p, tmp: p.symlink_to(_outside_copy(p, tmp)), "symbolic link"),
    "a folder": (lambda p, tmp: p.mkdir(), "is a folder"),
    "a FIFO": (lambda p, tmp: os.mkfifo(p), "is a FIFO"),
    "a socket": (lambda p, tmp: _socket(p), "is a socket"),
}


def _touch(path: Path) -> Path:
    path.write_bytes(b"")
    return path


def _outside_copy(path: Path, tmp: Path) -> Path:
    """A valid opportunity file outside the repo, named like the link to it."""
    good = next(p for p in path.parent.glob("*.yaml") if not p.name.startswith("bad"))
    outside = tmp / "elsewhere" / path.name
    outside.parent.mkdir(exist_ok=True)
    outside.write_text(good.read_text().replace(f"id: {good.stem}", f"id: {path.stem}"))
    return outside


def _socket(path: Path) -> None:
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    server.close()


def run(cwd: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """opp in its own process: a hang fails the test instead of freezing the suite."""
    return subprocess.run([sys.executable, "-m", "oppcli", *args], cwd=cwd, text=True,
                          capture_output=True, timeout=timeout)


def run_here(*args: str) -> subprocess.CompletedProcess:
    """opp in this process (quicker), as a CompletedProcess."""
    from click.testing import CliRunner

    from oppcli.cli import cli

    result = CliRunner().invoke(cli, list(args), prog_name="opp")
    return subprocess.CompletedProcess(args, result.exit_code, result.stdout, result.stderr)


@pytest.mark.parametrize("case", list(HOSTILE))
def test_reports_refuse_a_hostile_file_and_name_it(crm, tmp_path, case):
    make, words = HOSTILE[case]
    good = crm.new("Good deal")
    bad = crm.root / "opportunities" / "bad0.yaml"
    make(bad, tmp_path)
    for command in (["list"], ["pipeline"], ["forecast"], ["validate"], ["export"],
                    ["dashboard", "-o", "-"]):
        # in a process of its own for a FIFO: were opp to wait on it, the test fails
        r = run(crm.root, *command) if case == "a FIFO" else run_here(*command)
        assert r.returncode == 1, (command, r.stdout, r.stderr)
        shown = r.stdout + r.stderr
        assert "opportunities/bad0.yaml" in shown and words in shown, (command, shown)
        assert "Traceback" not in r.stderr and "internal error" not in r.stderr
    assert not (tmp_path / "MARKER").exists()  # nothing it holds ever ran
    # the rest of the repo stays usable, and opp changes its other files
    crm("show", good)
    crm("set", good, "objective", "5")


def test_validate_lists_every_hostile_file_with_its_problem(crm, tmp_path):
    crm.new("Good deal")
    for i, (make, _) in enumerate(HOSTILE.values()):
        make(crm.root / "opportunities" / f"bad{i:02d}.yaml", tmp_path)
    r = run(crm.root, "validate", "--format", "json")
    assert r.returncode == 1
    errors: dict = {}
    for e in json.loads(r.stdout)["errors"]:
        errors[e["path"]] = errors.get(e["path"], "") + e["message"] + "\n"
    for i, (_, words) in enumerate(HOSTILE.values()):
        assert words in errors[f"opportunities/bad{i:02d}.yaml"], (i, errors)
    assert not (tmp_path / "MARKER").exists()


@pytest.mark.parametrize("target", ["opp.yaml", "catalog.yaml"])
def test_hostile_settings_and_catalog_are_refused_by_every_command(crm, tmp_path, target):
    opp_id = crm.new("Deal")
    (crm.root / target).write_text(marker_tag(tmp_path / "MARKER"))
    for command in (["list"], ["show", opp_id], ["add-product", opp_id, "SRV-01"],
                    ["catalog", "list"], ["validate"]):
        r = run(crm.root, *command)
        if target == "catalog.yaml" and command[0] in ("list", "show"):
            continue  # these never read the catalog
        assert r.returncode == 1, (command, r.stderr)
        assert f"{target}:" in r.stdout + r.stderr and "custom tags" in r.stdout + r.stderr
    assert not (tmp_path / "MARKER").exists()


@pytest.mark.parametrize("target", ["/dev/zero", "../elsewhere.yaml", "FIFO"])
def test_an_opp_yaml_that_is_no_regular_file_is_refused_naming_it(crm, tmp_path, target):
    """opp.yaml as a link (to /dev/zero, or out of the repo) or a FIFO, in a repo inside
    another data repo: every command names it; none reads it, waits on it, or quietly
    uses the repo further up."""
    inner = crm.root / "inner"
    crm("init", str(inner))
    (inner / "sub").mkdir()
    head = crm.head()
    settings = inner / "opp.yaml"
    settings.unlink()
    if target == "FIFO":
        os.mkfifo(settings)
    else:
        (crm.root / "elsewhere.yaml").write_text((crm.root / "opp.yaml").read_text())
        settings.symlink_to(target)
    for cwd, args in ((inner, ["list"]), (inner, ["pipeline"]), (inner / "sub",
                      ["validate"]), (crm.root, ["--repo", "inner", "show", "x"])):
        r = run(cwd, *args, timeout=30)
        assert r.returncode == 1 and r.stderr.count("\n") == 1, (args, r.stderr)
        assert "opp.yaml: is a " in r.stderr and "not a regular file" in r.stderr, r.stderr
    assert crm.head() == head


def test_a_symlinked_opportunities_folder_is_not_followed(crm, tmp_path):
    crm.new("Deal")
    outside = tmp_path / "outside"
    (crm.root / "opportunities").rename(outside)
    (crm.root / "opportunities").symlink_to(outside)
    r = run(crm.root, "list")
    assert r.returncode == 1 and "opportunities is a symbolic link" in r.stderr


MEASURE = textwrap.dedent("""
    import json, resource, sys, time, tracemalloc
    from pathlib import Path
    from oppcli.store import yamlio
    from oppcli.errors import OppError
    from oppcli.store.repo import Repo
    yamlio.MAX_NODES = int(sys.argv[2])
    repo = Repo(Path(sys.argv[1]))
    repo.settings  # imports and settings first: the baseline
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    start = time.process_time()  # CPU time: the same on a busy machine
    try:
        repo.load_all()
        outcome = "loaded"
    except OppError as exc:
        outcome = str(exc)
    print(json.dumps({"outcome": outcome, "seconds": time.process_time() - start,
                      "peak_kb": tracemalloc.get_traced_memory()[1] // 1024,
                      "rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base}))
""")


@pytest.mark.parametrize("case", ["billion laughs", "a huge sparse file", "5 MB of nesting",
                                  "5 MB scalar", "8 MB of tiny values", "a FIFO"])
def test_hostile_files_cost_bounded_memory_and_time(crm, tmp_path, case):
    """Measured in a process of its own: the peak memory a refusal adds, and its time
    (bounds far above what it takes, far below what an unbounded parse would: 8 MB of
    tiny values took 1.7 GB and 26 s before the value limit)."""
    make, words = HOSTILE[case]
    crm.new("Good deal")
    make(crm.root / "opportunities" / "bad0.yaml", tmp_path)
    result = measure(crm.root)
    assert words in result["outcome"] and "opportunities/bad0.yaml" in result["outcome"]
    assert result["peak_kb"] < 64 * 1024 and result["rss_kb"] < 64 * 1024, result
    assert result["seconds"] < 10, result


def measure(root: Path, max_nodes: int = yamlio.MAX_NODES) -> dict:
    out = subprocess.run([sys.executable, "-c", MEASURE, str(root), str(max_nodes)],
                         capture_output=True, text=True, timeout=120, check=True).stdout
    return json.loads(out)


def test_the_memory_measure_sees_an_unbounded_parse(crm, tmp_path):
    """Without the value limit the same file costs gigabytes: the measure above would
    see it (here a smaller file, so that the test stays light)."""
    crm.new("Good deal")
    (crm.root / "opportunities" / "bad0.yaml").write_text("a: [" + "1," * 20_000 + "1]")
    unbounded = measure(crm.root, max_nodes=10**9)  # about 10 MB traced (20,000 values)
    assert unbounded["peak_kb"] > 8 * 1024, unbounded
    bounded = measure(crm.root, max_nodes=10_000)  # about 1 MB
    assert "more than 10,000 values" in bounded["outcome"] and bounded["peak_kb"] < 4 * 1024


def test_opp_never_writes_a_file_it_would_refuse_to_read():
    from oppcli.errors import DataError

    data = {"products": [{"sku": f"S{i}", "price": 1} for i in range(yamlio.MAX_NODES // 5)]}
    with pytest.raises(DataError, match="more than 300,000 values"):
        yamlio.dump(data)


# ---------------------------------------------------------------- hostile documents
# (tests/test_panels.py has a folder, a FIFO, /dev/null, a dangling link; here the rest)


def _block_device() -> str:
    for name in sorted(os.listdir("/dev")):
        path = f"/dev/{name}"
        try:
            if os.path.exists(path) and __import__("stat").S_ISBLK(os.stat(path).st_mode):
                return path
        except OSError:
            continue
    pytest.skip("no block device here")


DOCUMENTS = {
    "a socket": (lambda tmp: _made(tmp / "sock", _socket), "is a socket"),
    "/dev/zero (endless)": (lambda tmp: Path("/dev/zero"), "is a character device"),
    "a link to /dev/zero": (lambda tmp: _link(tmp, "/dev/zero"), "is a character device"),
    "a link to a FIFO": (lambda tmp: _link(tmp, _made(tmp / "fifo", os.mkfifo)),
                         "is a FIFO"),
    "a link to a folder": (lambda tmp: _link(tmp, tmp), "is a folder"),
    "a block device": (lambda tmp: Path(_block_device()), "is a block device"),
    "a link loop": (lambda tmp: _loop(tmp), "cannot open it"),
}


def _made(path: Path, make) -> Path:
    make(path)
    return path


def _link(tmp: Path, target) -> Path:
    link = tmp / "offer.pdf"
    link.symlink_to(target)
    return link


def _loop(tmp: Path) -> Path:
    (tmp / "a").symlink_to(tmp / "b")
    (tmp / "b").symlink_to(tmp / "a")
    return tmp / "a"


@pytest.mark.parametrize("case", list(DOCUMENTS))
def test_hostile_documents_are_refused_without_waiting_or_reading(crm, tmp_path, case):
    make, words = DOCUMENTS[case]
    deal = crm.new("Deal")
    source = make(tmp_path)
    head = crm.head()
    r = run(crm.root, "doc", "attach", deal, str(source), timeout=30)
    assert r.returncode == 1 and r.stderr.count("\n") == 1, r.stderr
    assert words in r.stderr and str(source) in r.stderr, r.stderr
    assert crm.head() == head and crm.status() == ""
    assert not (crm.root / "documents").exists()


def test_a_link_to_a_file_elsewhere_is_copied_never_linked(crm, tmp_path):
    """A symlink names what to copy (the user's own choice of file): the content is
    stored as a regular file under documents/, never the link."""
    deal = crm.new("Deal")
    link = _link(tmp_path, "/etc/hostname" if os.path.exists("/etc/hostname")
                 else "/etc/passwd")
    crm("doc", "attach", deal, str(link))
    [doc] = crm.json("doc", "list", deal)
    stored = crm.root / doc["path"]
    assert not stored.is_symlink() and stored.read_bytes() == link.read_bytes()
    assert crm.git("ls-files", "-s", doc["path"]).split()[0] == "100644"
