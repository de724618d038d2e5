"""Plain tables (``cli.output.tabulate``, #25): the "simple" table of one-line ASCII
text is built without importing tabulate, and is tabulate's to the byte."""

from __future__ import annotations

import subprocess
import sys

from hypothesis import given, settings
from hypothesis import strategies as st
from tabulate import tabulate as tabulated

from conftest import depth
from oppcli.cli import output

TEXT = st.text(st.characters(min_codepoint=0, max_codepoint=0x2FF), max_size=12)
ASCII = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=12)


@st.composite
def tables(draw):
    cols = draw(st.integers(1, 5))
    cell = st.one_of(ASCII, ASCII, TEXT, st.sampled_from(["", " x", "x ", "1,234.50 EUR"]))
    rows = draw(st.lists(st.lists(cell, min_size=cols, max_size=cols), max_size=6))
    if rows and draw(st.booleans()):  # a ragged row now and then
        rows[0] = rows[0][:-1]
    headers = draw(st.lists(st.one_of(ASCII, TEXT), min_size=cols, max_size=cols))
    align = draw(st.one_of(st.none(), st.lists(st.sampled_from(
        ["left", "right", "center", "decimal"]), max_size=cols + 1)))
    return rows, headers, align


@settings(max_examples=depth(200), deadline=None)
@given(tables())
def test_a_plain_table_is_tabulates_to_the_byte(table):
    rows, headers, align = table
    expected = tabulated(rows, headers=headers, tablefmt="simple", disable_numparse=True,
                         colalign=align)
    assert output.tabulate(rows, headers=headers, tablefmt="simple", disable_numparse=True,
                           colalign=align) == expected


def test_examples_a_report_prints():
    rows = [["EUR", "5704", "143,859,016.36 EUR", "63.1 %"], ["USD", "3", "", "0.0 %"]]
    headers = ["currency", "open", "amount", "win rate"]
    align = ["left", "right", "right", "right"]
    plain = output._plain(rows, headers, align)
    assert plain is not None
    assert plain == tabulated(rows, headers=headers, tablefmt="simple",
                              disable_numparse=True, colalign=align)
    assert output._plain([["Société"]], ["customer"], None) is None  # tabulate prints it


def test_a_report_as_a_table_does_not_import_tabulate(crm):
    crm.new("Acme renewal", "--amount", "1000")
    probe = ("import sys\nfrom oppcli.cli.app import cli\n"
             "try:\n    cli.main(['--repo', sys.argv[1], 'pipeline'])\n"
             "except SystemExit:\n    pass\n"
             "print('tabulate' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", probe, str(crm.root)], capture_output=True,
                         text=True, check=True).stdout
    assert "1,000.00" in out and out.strip().splitlines()[-1] == "False"
