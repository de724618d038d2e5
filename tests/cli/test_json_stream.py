"""JSON lists written as they go (``cli.output.emit_json_list``, #25): the same bytes
as ``emit_json`` of the whole list, whatever the items and the chunk size."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import click
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import depth
from oppcli.cli import output

SCALAR = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=8),
                   st.sampled_from(["a\nb", "\u2028", "\"q\"", "\\", "\t", "é", ""]),
                   st.decimals(allow_nan=False, allow_infinity=False, places=2),
                   st.dates())
VALUE = st.recursive(SCALAR, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=4), inner, max_size=3)),
    max_leaves=8)


def _printed(fn) -> str:
    @click.command()
    def command() -> None:
        fn()

    result = CliRunner().invoke(command, [])
    assert result.exit_code == 0, result.output
    return result.output


@settings(max_examples=depth(150), deadline=None)
@given(st.lists(VALUE, max_size=7), st.integers(1, 4))
def test_a_list_written_as_it_goes_is_the_whole_list_to_the_byte(items, chunk):
    whole = _printed(lambda: output.emit_json(items))
    streamed = _printed(lambda: output.emit_json_list(iter(items), chunk=chunk))
    assert streamed == whole


def test_an_empty_list_and_one_record():
    assert _printed(lambda: output.emit_json_list(iter([]))) == "[]\n"
    row = {"id": "4k7qz2ma", "amount": Decimal("12.50"), "close_date": date(2026, 1, 2),
           "tags": [], "panels": {}}
    assert _printed(lambda: output.emit_json_list([row])) == \
        _printed(lambda: output.emit_json([row]))
