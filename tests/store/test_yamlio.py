"""Safe YAML: no tags, no aliases, decimals not floats, stable output."""

from datetime import date
from decimal import Decimal

import pytest

from oppcli.errors import DataError
from oppcli.store import yamlio


def load(text):
    return yamlio.load(text, "x.yaml")[0]


def test_floats_become_decimals():
    data = load("a: 0.1\nb: 2\nc: 2400.30\nd: 2026-11-26\n")
    assert data == {"a": Decimal("0.1"), "b": 2, "c": Decimal("2400.30"), "d": date(2026, 11, 26)}
    assert str(data["c"]) == "2400.30"
    assert load("a: -3\nb: +4\nc: 0\nd: .5\ne: 1.5e+3\nf: '010'\n") == {
        "a": -3, "b": 4, "c": 0, "d": Decimal("0.5"), "e": Decimal("1.5e+3"), "f": "010"}


@pytest.mark.parametrize("text, words, line", [
    ("a: &x [1]\nb: *x\n", "aliases", 2),
    ("a: 1\na: 2\n", "duplicate key 'a'", 2),
    ("a: !!python/object/apply:os.system ['echo hi']\n", "custom tags", 1),
    ("a: !custom 1\n", "custom tags", 1),
    ("- 1\n- 2\n", "expected a mapping", 1),
    ("", "expected a mapping", None),
    ("a: [1\n", "", 2),
    ("a: .inf\n", "finite", 1),
    ("<<: {a: 1}\n", "merge keys", 1),
    # numbers YAML 1.1 reads otherwise than people mean: refused, never stored
    ("amount: 010\n", "'010' is an octal number to YAML; write 10", 1),
    ("a: 1\namount: 0x10\n", "'0x10' is not a plain decimal number", 2),
    ("amount: 0b101\n", "not a plain decimal number", 1),
    ("amount: 1_000\n", "'1_000' has an underscore; write the digits alone (1000)", 1),
    ("amount: 1_000.50\n", "write the digits alone (1000.50)", 1),
    ("amount: 1:30\n", "'1:30' is a base-60 number to YAML", 1),
    ("amount: 1:30.5\n", "base-60", 1),
    ("amount: -.inf\n", "is not a finite number", 1),
])
def test_refusals_name_file_and_line(text, words, line):
    with pytest.raises(DataError) as info:
        load(text)
    assert words in info.value.message
    assert info.value.path == "x.yaml"
    assert info.value.line == line


def test_billion_laughs_is_refused_quickly():
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i-1}"] * 10) + "]")
    with pytest.raises(DataError, match="aliases"):
        load("\n".join(lines) + "\n")


def test_binary_and_bad_utf8():
    with pytest.raises(DataError, match="UTF-8"):
        yamlio.load(b"a: \xff\xfe\n", "x.yaml")
    with pytest.raises(DataError, match="NUL"):
        yamlio.load(b"a: 1\x00\n", "x.yaml")


def test_dump_is_stable_and_round_trips():
    data = {"z": "first", "amount": Decimal("100.00"), "qty": Decimal("2"),
            "when": date(2026, 1, 2), "looks_like_number": "1.5", "yes": "yes",
            "multi": "line one\nline two", "none": None, "items": []}
    text = yamlio.dump(data)
    assert text.splitlines()[0] == "z: first"
    assert "amount: 100.00" in text and "qty: 2\n" in text
    assert load(text) == {**data, "qty": 2}
    assert yamlio.dump(load(text)) == text


def test_locate_points_at_fields():
    text = "id: x\nproducts:\n- sku: A\n  total: 1\n- sku: B\n  total: 2\n"
    _, node = yamlio.load(text, "x.yaml")
    assert yamlio.locate(node, ("products", 1, "total")) == (6, 10)
    assert yamlio.locate(node, ("products", 5, "total")) == (3, 1)  # the list itself
