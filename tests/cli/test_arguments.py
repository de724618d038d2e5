"""Hostile arguments: text that tries to forge commit trailers or a second paragraph,
paths, NUL and control characters, direction overrides, very long strings. Each is
stored safely (read back as given, the repo still valid) or refused (one line, nothing
changed); user text never forges a trailer and never names a path outside the repo."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import Opp, files_outside_git
from oppcli.cli import cli

FORGED = "x\n\nOpp-Action: init\nSigned-off-by: Mallory <m@example.com>"
HOSTILE = {
    "fake trailers": FORGED,
    "a trailer alone": "Opp-Action: init",
    "dots": "../../../etc/passwd",
    "slashes": "a/b/../../c",
    "NUL": "a\x00b",
    "leading dash": "-rf",
    "100 KB": "x" * 100 * 1024,
    "escape sequence": "red\x1b[31m alert",
    "C1 control": "a\x9bb",
    "direction override": "abc\u202edcba",
    "line separator": "a\u2028b",
    "carriage return": "a\rb",
}
TRAILER_KEYS = {"Opp-Action", "Opp-Id", "Opp-Reverts"}


def commands(ids: dict) -> list[list[str]]:
    """Every command that takes free text, ``{X}`` where the text goes."""
    d, q, f = ids["deal"], ids["quote"], ids["file"]
    return [
        ["new", "{X}", "--customer", "Acme"],
        ["new", "Deal", "--customer", "{X}"],
        ["new", "Deal", "--customer", "Acme", "--owner", "{X}"],
        ["new", "Deal", "--customer", "Acme", "--stage", "{X}"],
        *(["set", d, field, "{X}"] for field in ("name", "customer", "owner", "ref")),
        ["stage", d, "{X}"],
        ["close", d, "--lost", "--reason", "{X}"],
        ["add-product", d, "{X}"],
        ["update-product", d, "{X}", "--qty", "2"],
        ["contact", "add", d, "{X}", "--role", "buyer"],
        ["contact", "add", d, "Jane", "--role", "{X}"],
        ["contact", "add", d, "Jane", "--role", "user", "--email", "{X}", "--phone", "{X}"],
        ["partner", "add", d, "{X}", "--role", "reseller"],
        ["competitor", "add", d, "{X}", "--products", "{X}", "--notes", "{X}"],
        ["activity", "add", d, "--type", "call", "--subject", "{X}", "--notes", "{X}"],
        ["activity", "add", d, "--type", "{X}", "--subject", "Call"],
        ["doc", "attach", d, f, "--title", "{X}"],
        ["note", d, "{X}"],
        ["note", "add", d, "{X}"],
        ["quote", "add-line", d, q, "--description", "{X}", "--price", "10"],
        ["catalog", "add", "{X}", "--name", "Thing", "--price", "1"],
        ["catalog", "add", "NEW-1", "--name", "{X}", "--price", "1", "--unit", "{X}"],
        ["catalog", "update", "SRV-01", "--name", "{X}"],
        ["config", "set", "stages.proposal.label", "{X}"],
        ["config", "add", "activity_types", "{X}"],
        ["config", "add", "lost_reasons", "{X}"],
        ["config", "add", "stages", "{X}", "--probability", "30"],
        ["import", "{FILE}"],
        ["show", "{X}"],
        ["timeline", "{X}"],
        ["list", "--customer", "{X}", "--owner", "{X}"],
        ["validate", "{X}"],
        ["doc", "attach", d, "{X}"],
    ]


def snapshot(root: Path) -> dict:
    """The files around and inside the repo (outside .git): nothing may appear elsewhere."""
    return files_outside_git(root.parent, skip=("fakebin",))


def head(root: Path) -> str:
    return Opp(root).head()


def check_last_commit(root: Path) -> None:
    """One subject line, then only opp's own trailers: nothing user text could forge."""
    def log(fmt: str) -> str:
        return subprocess.run(["git", "log", "-1", f"--format={fmt}"], cwd=root,
                              capture_output=True, text=True, check=True).stdout

    subject, body = log("%s"), log("%b")
    assert "\n" not in subject.rstrip("\n") and len(subject) < 200
    lines = [line for line in body.splitlines() if line]
    assert all(line.split(":", 1)[0] in TRAILER_KEYS for line in lines), body
    trailers = [t for t in log("%(trailers:only,unfold)").splitlines() if t]
    assert trailers == lines, (trailers, body)
    assert len([t for t in trailers if t.startswith("Opp-Action:")]) == 1
    assert "Signed-off-by" not in log("%B") or "Signed-off-by" in subject


@pytest.mark.parametrize("name", list(HOSTILE))
def test_free_text_is_stored_safely_or_refused(crm, tmp_path, name):
    text = HOSTILE[name]
    crm("catalog", "add", "SRV-02", "--name", "Other", "--price", "5")
    deal = crm.new("Deal")
    crm("add-product", deal, "SRV-01")
    quote = crm("quote", "new", deal).stdout.strip()
    document = tmp_path / "offer.pdf"
    document.write_bytes(b"%PDF-1.4")
    sheet = tmp_path / ("sheet " + re.sub(r"[\x00/]", "_", text)[:200] + ".csv")
    sheet.write_text(f"name,customer\n\"{text.replace(chr(0), '')}\",Acme\n", encoding="utf-8")
    runner = CliRunner()
    outcomes = {}
    for args in commands({"deal": deal, "quote": quote, "file": str(document)}):
        args = [str(sheet) if a == "{FILE}" else a.replace("{X}", text) for a in args]
        before_head, before = head(crm.root), snapshot(crm.root)
        result = runner.invoke(cli, args, prog_name="opp")
        shown = " ".join(a if len(a) < 30 else a[:30] + "…" for a in args)
        assert result.exit_code in (0, 1, 2), (shown, result.output)
        assert "Traceback" not in result.stderr and "internal error" not in result.stderr, \
            (shown, result.stderr)
        outcomes[shown] = result.exit_code
        if result.exit_code:
            assert result.stderr.count("\n") == 1, (shown, result.stderr)
            assert head(crm.root) == before_head and snapshot(crm.root) == before, shown
            continue
        after = snapshot(crm.root)
        outside = [p for p in set(after) ^ set(before) if crm.root not in p.parents]
        assert not outside, (shown, outside)
        if head(crm.root) != before_head:
            check_last_commit(crm.root)
        if args[0] in ("close", "stage"):
            crm("reopen", deal)
    assert crm("validate").exit_code == 0
    assert crm.status() == ""


def test_a_note_keeps_its_text_and_forges_nothing(crm):
    deal = crm.new("Deal")
    crm("note", deal, FORGED)
    check_last_commit(crm.root)
    trailers = crm.git("log", "-1", "--format=%(trailers:only)")
    assert [t for t in trailers.splitlines() if t] == ["Opp-Action: note", f"Opp-Id: {deal}"]
    assert crm.json("note", "list", deal)[0]["text"] == FORGED
    crm("note", deal, "-", input=FORGED + "\n")  # from stdin too
    check_last_commit(crm.root)


def test_an_import_file_name_and_cells_forge_nothing(crm, tmp_path):
    sheet = tmp_path / "x\n\nOpp-Action: init\nSigned-off-by: m.csv"
    sheet.write_text("name,customer,ref\nDeal,\"Acme\nOpp-Action: init\",R1\n")
    r = crm("import", str(sheet), code=1)  # a line break in a one-line field
    assert "must fit on one line" in r.stdout
    sheet.write_text("name,customer,ref\n\"Opp-Action: init\",Acme,\"-rf ../x\"\n")
    crm("import", str(sheet))
    check_last_commit(crm.root)
    subject = crm.git("log", "-1", "--format=%s").strip()
    assert subject == "import: 1 new, 0 updated from x Opp-Action: init Signed-off-by: m.csv"
    [row] = crm.json("list")
    assert row["name"] == "Opp-Action: init"


def test_ids_skus_and_items_never_name_a_path(crm, tmp_path):
    deal = crm.new("Deal")
    outside = tmp_path / "victim.yaml"
    outside.write_text("id: victim\n")
    for ref in ("../../victim", "../victim", "/etc/passwd", "..", ".", "-", "a\x00b"):
        for args in (["show", ref], ["timeline", ref], ["set", ref, "name", "X"],
                     ["delete", ref, "--yes"], ["note", "list", ref]):
            nul = "\x00" in ref
            r = crm(*args, code=2 if nul else 1)
            assert ("NUL byte" if nul else "no opportunity") in r.stderr, (args, r.stderr)
        for args in (["contact", "remove", deal, ref], ["doc", "remove", deal, ref],
                     ["remove-product", deal, ref]):
            crm(*args, code=2 if "\x00" in ref else 1)
    assert outside.read_text() == "id: victim\n"
    for sku in ("../x", "a/b", "-x", "x\x00", "."):
        crm("catalog", "add", sku, "--name", "X", "--price", "1", code=2)
        crm("add-product", deal, sku, code=2)


def test_a_data_repo_through_a_hostile_symlink_is_never_written_through(crm, tmp_path):
    """A documents folder turned into a link out of the repo (a hand edit, a pull): opp
    neither writes nor deletes through it."""
    deal = crm.new("Deal")
    document = tmp_path / "offer.pdf"
    document.write_bytes(b"%PDF-1.4 first")
    item = crm("doc", "attach", deal, str(document)).stdout.strip()
    folder = crm.root / "documents" / deal
    outside = tmp_path / "outside"
    folder.rename(outside)
    folder.symlink_to(outside)
    subprocess.run(["git", "add", "-A"], cwd=crm.root, check=True)
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm",
                    "link"], cwd=crm.root, check=True)
    kept = {p.name: p.read_bytes() for p in outside.iterdir()}
    for args in (["doc", "attach", deal, str(document)], ["doc", "remove", deal, item],
                 ["delete", deal, "--yes"]):
        r = crm(*args, code=1)
        assert f"documents/{deal} is a symbolic link" in r.stderr, (args, r.stderr)
    assert {p.name: p.read_bytes() for p in outside.iterdir()} == kept


def test_real_processes_get_the_same_one_line_refusals(crm):
    """Through a real argv (no NUL possible there): newlines and long text."""
    deal = crm.new("Deal")
    for args in (["set", deal, "name", FORGED], ["new", "x" * 100 * 1024, "--customer", "A"],
                 ["contact", "add", deal, "abc\u202edcba", "--role", "buyer"]):
        r = subprocess.run([sys.executable, "-m", "oppcli", *args], cwd=crm.root,
                           capture_output=True, text=True)
        assert r.returncode == 2 and r.stderr.count("\n") == 1, (args[:2], r.stderr)
    assert json.loads(crm("show", deal, "--format", "json").stdout)["name"] == "Deal"
