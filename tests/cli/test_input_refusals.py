"""Bad input is a refusal, never an internal error (issue #27): bytes that are not UTF-8
on the command line or stdin, -0, digits other than 0-9, a name starting with '-',
invisible characters in names, and Markdown output that stays inert."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from oppcli.cli.output import markdown_cell


def opp_bytes(root, *args: bytes, stdin: bytes = b"") -> subprocess.CompletedProcess:
    """opp as a real process, with arguments given as raw bytes (as a shell passes them)."""
    return subprocess.run([sys.executable.encode(), b"-m", b"oppcli", *args], cwd=root,
                          input=stdin, capture_output=True,
                          env={**os.environ, "LC_ALL": "C.UTF-8"})


def test_an_argument_that_is_not_utf8_is_a_usage_error(crm, unchanged):
    with unchanged:
        r = opp_bytes(crm.root, b"new", b"Bad \xff name", b"--customer", b"Acme")
    assert r.returncode == 2, r
    err = r.stderr.decode()
    assert "is not UTF-8 text" in err and err.count("\n") == 1 and "Traceback" not in err


def test_stdin_that_is_not_utf8_is_a_usage_error(crm):
    opp_id = crm.new("Deal")
    head = crm.head()
    r = opp_bytes(crm.root, b"note", opp_id.encode(), b"-", stdin=b"caf\xe9\n")
    assert r.returncode == 2 and b"standard input is not UTF-8" in r.stderr, r
    assert crm.head() == head


def test_minus_zero_is_stored_as_zero(crm):
    opp_id = crm.new("Deal")
    crm("set", opp_id, "objective", "--", "-0")
    assert crm.json("show", opp_id)["objective"] == "0.00"
    assert "-0.00" not in crm.file(opp_id).read_text()


@pytest.mark.parametrize("digits", ["١٢٣", "１２３", "१२३"])
def test_only_ascii_digits_are_money(crm, unchanged, digits):
    opp_id = crm.new("Deal")
    with unchanged:
        r = crm("set", opp_id, "amount", digits, code=2)
    assert "digits other than 0-9" in r.stderr and "12.50" in r.stderr


def test_a_name_starting_with_a_dash_works_after_double_dash(crm):
    r = crm("new", "-Acme", "--customer", "Acme", code=2)
    assert "after '--'" in r.stderr and "-- -Acme" in r.stderr
    opp_id = crm("new", "--customer", "Acme", "--", "-Acme").stdout.strip()
    assert crm.json("show", opp_id)["name"] == "-Acme"


@pytest.mark.parametrize("char", ["\u3164", "\u115f", "\u1160", "\uffa0", "\u200b",
                                  "\u200e", "\u202e", "\U000e0041", "\ufeff", "\u2060"])
def test_invisible_characters_in_names_are_refused(crm, unchanged, char):
    with unchanged:
        r = crm("new", f"Acme{char}", "--customer", "Acme", code=2)
    assert f"U+{ord(char):04X}" in r.stderr


def test_joiners_that_scripts_and_emoji_need_stay_allowed(crm):
    name = "Family \U0001f468\u200d\U0001f469 deal"
    opp_id = crm.new(name)
    assert crm.json("show", opp_id)["name"] == name


def test_markdown_cells_are_inert():
    assert markdown_cell("<img src=x onerror=alert(1)>") == "&lt;img src=x onerror=alert(1)&gt;"
    assert markdown_cell("A & B | C\nD") == "A &amp; B \\| C D"
    assert markdown_cell(None) == ""


def test_a_hostile_owner_name_reaches_a_markdown_report_as_text(crm):
    crm.new("Deal", "--owner", "<script>alert(1)</script>", "--amount", "100")
    out = crm("forecast", "--by", "owner", "--format", "markdown").stdout
    assert "<script>" not in out and "&lt;script&gt;" in out


def test_a_branch_named_in_italian_under_a_locale_that_is_not_utf8(crm):
    """git's own files (HEAD naming the branch 'più') are bytes: opp reads them so under
    any locale, never as the locale's text (the C locale, Python's UTF-8 mode off, made
    every change an internal error)."""
    opp_id = crm.new("Acme renewal")
    crm.git("checkout", "-q", "-b", "più")
    before = crm.commits()
    r = subprocess.run([sys.executable, "-m", "oppcli", "note", opp_id, "ciao"], cwd=crm.root,
                       capture_output=True, env={**os.environ, "LC_ALL": "C", "LANG": "C",
                                                 "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0"})
    assert r.returncode == 0, r.stderr
    assert crm.commits() == before + 1 and crm.status() == ""
