"""opp on a real pseudo-terminal (pty, with a window size set by TIOCSWINSZ): tables fit
the width, long output goes through the pager, colour follows NO_COLOR, TERM and
CLICOLOR_FORCE; off a terminal, output is printed as is."""

from __future__ import annotations

import errno
import fcntl
import os
import re
import select
import stat
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

LONG = "Consolidated multi-year infrastructure renewal with extended support"


def run_pty(args, cwd, env=None, cols=80, rows=24, answer=None, timeout=30):
    """Run ``opp ARGS`` with stdin, stdout and stderr on a new pty of that size; its
    output (both streams, as the terminal shows them) and exit status."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    full = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    full.update({"TERM": "xterm", **(env or {})})
    proc = subprocess.Popen([sys.executable, "-m", "oppcli", *args], stdin=slave,
                            stdout=slave, stderr=slave, cwd=cwd, env=full, close_fds=True)
    os.close(slave)
    out = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError as exc:
                if exc.errno == errno.EIO:
                    break
                raise
            if not chunk:
                break
            out += chunk
            if answer and answer[0] in out:
                os.write(master, answer[1])
                answer = None
        elif proc.poll() is not None:
            break
    os.close(master)
    proc.wait(timeout=10)
    return out.decode("utf-8", "replace").replace("\r\n", "\n"), proc.returncode


def run_pipe(args, cwd, env=None):
    full = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    full.update(env or {})
    return subprocess.run([sys.executable, "-m", "oppcli", *args], cwd=cwd, env=full,
                          capture_output=True, text=True)


@pytest.fixture
def many(crm, tmp_path, monkeypatch):
    """Forty deals, one with a long name and customer, imported in one commit."""
    monkeypatch.setenv("OPP_TODAY", "2026-11-26")
    sheet = tmp_path / "deals.csv"
    lines = ["name,customer,amount,close_date,owner"]
    lines.append(f'"{LONG}","{LONG} customer",1234567.89,2027-01-31,alice')
    lines += [f"Deal {n},Acme Corp,{n}00,2027-02-{n % 28 + 1:02d},bob" for n in range(39)]
    sheet.write_text("\n".join(lines) + "\n")
    crm("import", sheet)
    return crm


def fake_pager(tmp_path) -> Path:
    """A pager that records what it was given (and $LESS) in pager.out."""
    path = tmp_path / "pager.sh"
    path.write_text(f'#!/bin/sh\n{{ echo "LESS=$LESS"; cat; }} > {tmp_path}/pager.out\n')
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


def test_tables_fit_the_terminal_width(many, tmp_path):
    text, code = run_pty(["list", "--no-pager"], many.root, cols=80, rows=100)
    assert code == 0
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 42 and max(len(line) for line in lines) <= 80
    assert "…" in text and LONG not in text
    # ids and money are never cut
    for deal in many.json("list"):
        assert deal["id"] in text
    assert "1,234,567.89 EUR" in text
    # COLUMNS wins over the terminal's own size
    narrow, _ = run_pty(["list", "--no-pager"], many.root, cols=200, rows=100,
                        env={"COLUMNS": "60"})
    assert max(len(line) for line in narrow.splitlines()) <= 60
    assert "1,234,567.89 EUR" in narrow and all(d["id"] in narrow for d in many.json("list"))
    wide, _ = run_pty(["list", "--no-pager"], many.root, cols=250, rows=100)
    assert LONG in wide and "…" not in wide
    # off a terminal, nothing is cut
    piped = run_pipe(["list"], many.root, env={"COLUMNS": "60"}).stdout
    assert LONG in piped and "…" not in piped


@pytest.mark.parametrize("args", [["pipeline"], ["changes", "--since", "2026-01-01"]])
def test_reports_fit_too(many, args):
    text, code = run_pty([*args, "--no-pager"], many.root, cols=90, rows=200)
    assert code == 0
    assert max(len(line) for line in text.splitlines()) <= 90


def test_long_output_goes_through_the_pager(many, tmp_path):
    pager = fake_pager(tmp_path)
    text, code = run_pty(["list"], many.root, rows=20, env={"PAGER": str(pager)})
    assert code == 0 and text.strip() == ""
    paged = (tmp_path / "pager.out").read_text()
    assert paged.startswith("LESS=FRX\n") and paged.count("\n") == 43
    # OPP_PAGER wins over PAGER; LESS set by the user is kept
    (tmp_path / "pager.out").unlink()
    run_pty(["list"], many.root, rows=20,
            env={"PAGER": "false", "OPP_PAGER": str(pager), "LESS": "R"})
    assert (tmp_path / "pager.out").read_text().startswith("LESS=R\n")


def test_what_fits_the_screen_is_printed_directly(many, tmp_path):
    pager = fake_pager(tmp_path)
    text, code = run_pty(["show", many.json("list")[0]["id"]], many.root, rows=50,
                         env={"PAGER": str(pager)})
    assert code == 0 and "customer" in text
    assert not (tmp_path / "pager.out").exists()


@pytest.mark.parametrize("how", [["--no-pager", "list"], ["list", "--no-pager"]])
def test_no_pager_and_an_empty_opp_pager_print_directly(many, tmp_path, how):
    pager = fake_pager(tmp_path)
    text, _ = run_pty(how, many.root, rows=20, env={"PAGER": str(pager)})
    assert "Deal 38" in text and not (tmp_path / "pager.out").exists()
    text, _ = run_pty(["list"], many.root, rows=20,
                      env={"PAGER": str(pager), "OPP_PAGER": ""})
    assert "Deal 38" in text and not (tmp_path / "pager.out").exists()


def test_off_a_terminal_output_is_never_paged(many, tmp_path):
    pager = fake_pager(tmp_path)
    r = run_pipe(["list"], many.root, env={"PAGER": str(pager)})
    assert r.returncode == 0 and r.stdout.count("\n") == 42
    assert not (tmp_path / "pager.out").exists()


def test_a_missing_pager_prints_directly(many):
    text, code = run_pty(["list"], many.root, rows=20, env={"PAGER": "no-such-pager-here"})
    assert code == 0 and "Deal 38" in text


def test_global_options_after_the_subcommand(crm, tmp_path):
    deal = crm.new("Deal")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    r = run_pipe(["show", deal, "--repo", str(crm.root), "--format", "json"], elsewhere)
    assert r.returncode == 0 and deal in r.stdout
    r = run_pipe(["list", f"--repo={crm.root}", "-q"], elsewhere)
    assert r.returncode == 0 and deal in r.stdout
    crm("set", deal, "amount", "5")
    crm("set", deal, "amount", "6")
    noisy = run_pipe(["undo"], crm.root)
    quiet = run_pipe(["undo", "-q"], crm.root)
    assert "undo" in noisy.stderr and quiet.returncode == 0 and quiet.stderr == ""
    assert crm.json("show", deal)["amount"] == "0.00"
    # after --, an argument is only an argument
    r = run_pipe(["note", deal, "--", "-q"], crm.root)
    assert r.returncode == 0 and crm.json("show", deal)["notes"][-1]["text"] == "-q"


RED = "\x1b[31m"


@pytest.mark.parametrize("env, coloured", [
    ({}, True), ({"NO_COLOR": "1"}, False), ({"TERM": "dumb"}, False),
    ({"TERM": "dumb", "CLICOLOR_FORCE": "1"}, True), ({"CLICOLOR_FORCE": "0"}, True),
])
def test_colour_on_a_terminal(crm, env, coloured):
    text, code = run_pty(["show", "nosuchdeal"], crm.root, env=env)
    assert code == 1 and "no opportunity" in text
    assert ("\x1b[" in text) == coloured, text


def test_colour_off_a_terminal_unless_forced(crm):
    r = run_pipe(["show", "nosuchdeal"], crm.root)
    assert r.returncode == 1 and "\x1b[" not in r.stderr
    r = run_pipe(["show", "nosuchdeal"], crm.root, env={"CLICOLOR_FORCE": "1"})
    assert "\x1b[" in r.stderr
    r = run_pipe(["show", "nosuchdeal"], crm.root, env={"CLICOLOR_FORCE": "1", "NO_COLOR": "1"})
    assert "\x1b[" not in r.stderr


def test_edit_on_a_terminal_offers_to_edit_again(crm, tmp_path):
    deal = crm.new("Deal", "--amount", "10")
    editor = tmp_path / "ed.sh"
    count = tmp_path / "count"
    # first save: an unknown stage; second: a good amount
    editor.write_text(
        "#!/bin/sh\n"
        f'if [ -e {count} ]; then sed -i -e "s/^stage: .*/stage: proposal/" '
        f'-e "s/^amount: .*/amount: 99.00/" "$1"\n'
        f'else touch {count}; sed -i -e "s/^stage: .*/stage: nowhere/" "$1"; fi\n')
    editor.chmod(editor.stat().st_mode | stat.S_IEXEC)
    text, code = run_pty(["edit", deal], crm.root, env={"EDITOR": str(editor), "VISUAL": ""},
                         answer=(b"Edit again?", b"y\n"))
    assert code == 0, text
    assert "nowhere" in text and "Edit again?" in text
    shown = crm.json("show", deal)
    assert (shown["stage"], shown["amount"]) == ("proposal", "99.00")


def test_a_command_keeps_an_option_named_like_a_global_one(tmp_path, monkeypatch):
    """--locale is global, and opp init has its own: after init it is init's."""
    r = run_pipe(["init", str(tmp_path / "it"), "--locale", "it"], tmp_path)
    assert r.returncode == 0, r.stderr
    assert "locale: it\n" in (tmp_path / "it" / "opp.yaml").read_text()


def test_a_table_printed_in_turns_keeps_its_text_whole(many):
    """A table too wide for the terminal even with its text cut to 6 characters prints
    its columns in turns (#18): each turn cuts only what it needs, so that a narrow
    terminal still tells Closed won from Closed lost, and Acme Corp whole."""
    deals = [d["id"] for d in many.json("list")]
    many("close", deals[1], "--won", "--date", "2026-11-20")
    many("close", deals[2], "--lost", "--date", "2026-11-20")
    text, code = run_pty(["pipeline", "--no-pager"], many.root, cols=60, rows=200)
    assert code == 0 and max(len(line) for line in text.splitlines()) <= 60
    assert "Closed won" in text and "Closed lost" in text and "Close…" not in text
    text, code = run_pty(["list", "--no-pager"], many.root, cols=60, rows=200)
    assert code == 0 and max(len(line) for line in text.splitlines()) <= 60
    assert "Acme Corp" in text and "closed-won" in text and "closed-lost" in text
    assert "1,234,567.89 EUR" in text and all(d in text for d in deals)


@pytest.mark.parametrize("text, size, shown", [
    ("won 23,500.00 USD", 12, "won…"),
    ("won 23,500.00 USD", 16, "won…"),
    ("new at prospecting, 0.00 EUR", 26, "new at prospecting,…"),
    ("close date 2026-03-19", 16, "close date…"),
    ("stage Proposal -> Negotiation", 16, "stage Proposal…"),
    ("Negotiation", 6, "Negot…"),
    ("2026-03-19 moved", 8, "2026-03…"),  # a first word is cut rather than dropped
    ("short", 5, "short"),
    ("close date 2026-03-19 moved", 22, "close date 2026-03-19…"),  # the cut at a space
    ("won 23,500.00 USD and 5 EUR", 18, "won 23,500.00 USD…"),
    ("won 23,500.00 USD", 14, "won…"),  # the code left out: its amount goes too
    ("Amount", 1, "…"),
    ("Amount", 0, ""),
])
def test_a_cut_never_ends_inside_a_number_a_date_or_a_code(text, size, shown):
    from oppcli.cli.terminal import cut

    assert cut(text, size) == shown and len(shown) <= size


def test_changes_on_a_narrow_terminal_cut_no_amount_or_date(many):
    """The Change column of opp changes gives way first: what is left of it ends at a
    whole word, never in the middle of an amount or a date."""
    deal = many.json("list")[1]["id"]
    many("set", deal, "close-date", "2027-03-19")
    many("close", deal, "--won")
    for cols in (40, 60, 80):
        text, code = run_pty(["changes", "--since", "2026-01-01", "--no-pager"], many.root,
                             cols=cols, rows=200)
        assert code == 0 and deal in text  # ids stay whole, even where the table overflows
        assert cols < 60 or max(len(line) for line in text.splitlines()) <= cols
        broken = re.compile(r"\d[\d,.-]*…|\d [A-Z]{0,2}…")
        assert not [line for line in text.splitlines() if broken.search(line)]
