"""The fast path of yamlio.dump writes exactly what PyYAML writes, or steps aside."""

from datetime import date
from decimal import Decimal

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import depth
from oppcli.store import pyyaml, yamlio

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6),
    st.decimals(allow_nan=False, allow_infinity=False, places=2, min_value=-10**9,
                max_value=10**9),
    st.dates(),
    st.text(max_size=30),
    st.from_regex(r"[A-Za-z0-9(éü_][A-Za-z0-9 .,()/&+'@éü_:#-]{0,15}", fullmatch=True),
    st.sampled_from(["yes", "No", "null", "~", "12345", "1.5", "2026-01-01", "0x1f", "1_000",
                     "Société Générale", "a: b", "- x", "#x", "a #b", "O'Brien", "(none)",
                     "x ", " x", "a  b", "=", "<<", ".inf", "on", "Off", "1e3", "-", "a,b",
                     "\U00010000", "Deal 😀", "\ue000x", "é\U0010fffd"]),
)
keys = st.one_of(st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True),
                 st.sampled_from(["yes", "null", "on", "1", "a b", "x:y"]))
trees = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=5)), max_leaves=25)


def slow(data) -> str:
    return yaml.dump(data, Dumper=pyyaml.Dumper, sort_keys=False, default_flow_style=False,
                     allow_unicode=True, width=10_000)


@settings(max_examples=depth(60), deadline=None)
@given(st.dictionaries(keys, trees, min_size=1, max_size=8))
def test_fast_dump_is_byte_for_byte_pyyaml_or_none(data):
    fast = yamlio.fast_dump(data)
    if fast is not None:
        assert fast == slow(data)


def test_an_opportunity_takes_the_fast_path():
    from oppcli.domain.model import Opportunity, ProductLine

    opp = Opportunity(id="abcd1234", name="Renewal 2027", customer="Société Générale",
                      stage="proposal", amount=Decimal("12.50"), currency="EUR", owner="Ann",
                      ref="12345", created=date(2026, 1, 2),
                      products=[ProductLine(id="ab12cd", sku="SRV-01", name="Support",
                                            quantity=Decimal(1), unit_price=Decimal("12.50"),
                                            total=Decimal("12.50"))])
    data = opp.model_dump(mode="python")
    assert yamlio.fast_dump(data) is not None
    assert yamlio.dump(data) == slow(data)
    assert yamlio.load(yamlio.dump(data), "x.yaml")[0] == data


simple_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(0, 10**6),
    st.decimals(allow_nan=False, allow_infinity=False, places=2, min_value=0, max_value=10**6),
    st.dates(),
    st.from_regex(r"[A-Za-z0-9(éü_][A-Za-z0-9 .,()/&+'@éü_-]{0,15}", fullmatch=True),
)
plain_keys = st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True)
simple_trees = st.recursive(simple_scalars, lambda inner: st.one_of(
    st.lists(st.dictionaries(plain_keys, inner, max_size=4), max_size=3),
    st.lists(simple_scalars, max_size=3),
    st.dictionaries(plain_keys, inner, max_size=4)), max_leaves=12)


@settings(max_examples=depth(45), deadline=None)
@given(st.dictionaries(plain_keys, simple_trees, min_size=1, max_size=6))
def test_fast_dump_of_plain_data_matches_pyyaml(data):
    fast = yamlio.fast_dump(data)
    if fast is not None:  # nearly always: the strategy draws plain data
        assert fast == slow(data)


# ---------------------------------------------------------------- the fast path of load

def same(a, b) -> bool:
    """Equal, with the same types all the way down and keys in the same order."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b and str(a) == str(b)  # Decimal('1.50') is not Decimal('1.5') here


def agrees_with_load(text: str) -> bool:
    """fast_load gives up, or gives exactly what load gives, places included."""
    read = yamlio.fast_load(text)
    try:
        data, node = yamlio.load(text, "x.yaml")
    except Exception:
        return read is None
    if read is None:
        return True
    if not same(read.data, data):
        return False
    for key in [*data, "no_such_key"]:
        place = read.locate(key)
        if place is not None and place != yamlio.locate(node, (key,)):
            return False
    return True


@settings(max_examples=depth(60), deadline=None)
@given(st.dictionaries(keys, trees, min_size=1, max_size=8), st.booleans())
def test_fast_load_reads_what_load_reads(data, header):
    text = yamlio.dump(data, "yaml-language-server: $schema=x.json" if header else None)
    assert agrees_with_load(text)


@settings(max_examples=depth(45), deadline=None)
@given(st.dictionaries(plain_keys, simple_trees, min_size=1, max_size=6))
def test_fast_load_reads_back_what_fast_dump_wrote(data):
    text = yamlio.dump(data, "a header")
    read = yamlio.fast_load(text)
    if yamlio.fast_dump(data) is not None:
        assert read is not None and same(read.data, yamlio.load(text, "x.yaml")[0])
    assert agrees_with_load(text)


@settings(max_examples=depth(75), deadline=None)
@given(st.dictionaries(plain_keys, simple_trees, min_size=1, max_size=6), st.data())
def test_fast_load_of_an_edited_file_is_load_or_nothing(data, draw):
    """A hand edit anywhere (a character of YAML's syntax put in, or one taken out)."""
    text = yamlio.dump(data, "a header")
    at = draw.draw(st.integers(0, len(text)))
    edit = draw.draw(st.sampled_from(
        ["", " ", "  ", "-", "- ", ":", ": ", "#", " #", "'", '"', "&a ", "*a", "!!str ",
         "\t", "\r", "\n", "\n  ", "\n- ", "\u2028", "\ufeff", "[", "{", "~", "<<: ", "0",
         "0x", "_", ".", "e3", "x: 1\n"]))
    cut = draw.draw(st.integers(0, 3))
    assert agrees_with_load(text[:at] + edit + text[at + cut:])


def test_times_as_pyyaml_writes_them_take_the_fast_path():
    """Notes' times (thousands in a busy deal): read and written by the fast path, the
    same data and bytes as PyYAML's."""
    base = "id: abcd1234\n"
    for text in ["n: 2026-01-01 10:00:00\n", "n: 2026-01-01 10:00:00+00:00\n",
                 "n: 2026-01-01 10:00:00.000123-05:30\n"]:
        assert agrees_with_load(base + text)
        read = yamlio.fast_load(base + text)
        assert read is not None and yamlio.fast_dump(read.data) == base + text


def test_fast_load_steps_aside_for_what_only_load_reads():
    base = "# header\nid: abcd1234\nname: Deal\namount: 12.50\n"
    assert yamlio.fast_load(base) is not None
    for text in [
        base.replace("\n", "\r\n"),                      # another line ending
        "\ufeff" + base,                                 # a byte order mark
        "# header\u2028evil: 1\nid: abcd1234\n",          # a YAML line break in the comment
        base + "id: other\n",                            # a duplicate key
        base + "note: x # a comment\n",                  # a comment after a value
        base + "ref: &a x\nowner: *a\n",                 # an anchor and an alias
        base + "close_date: 2026-02-30\n",               # no such day
        base + "n: 1_000\n", base + "n: 017\n", base + "n: 0x1f\n",
        base + "n: .inf\n", base + "n: ~\n", base + "n: yes\n", base + "n: True\n",
        base + 'n: "x"\n', base + "n: [a]\n", base + "n: {a: 1}\n", base + "n: |\n  x\n",
        base + "n:\n- - 1\n",                            # a list in a list
        base + "n:\n\t- 1\n",                            # a tab
        base + "n: 2026-01-01T10:00:00\n",               # a time as PyYAML never writes it
        base + "n: 2026-01-01 10:00:00.5\n",             # a fraction PyYAML never writes
        base + "\n",                                     # a blank line
        base[:-1],                                       # no last line break
        "", "\n", "# only a comment\n", "- a\n- b\n",
    ]:
        assert agrees_with_load(text), text
        assert yamlio.fast_load(text) is None, text
    # YAML 1.1 strings
    for text in [base + "n: 0o17\n", base + "n: 08\n", base + "n: -0\n", base + "n: 1e3\n"]:
        assert agrees_with_load(text), text


def test_the_index_parses_the_same_with_and_without_the_fast_reader(monkeypatch):
    """Every file of the sample repo and opportunities of every shape give the same
    index entry (fields, places, errors, show data) by either path."""
    from pathlib import Path

    from oppcli.read.index import entry

    root = Path(__file__).resolve().parents[2] / "examples"
    blobs = [p.read_bytes() for p in sorted(root.rglob("opportunities/*.yaml"))]
    assert len(blobs) >= 12
    blobs += [b.replace(b"stage: proposal", b"stage: closed-won") for b in blobs]  # problems
    blobs += [b.replace(b"lost_reason: null\n", b"") for b in blobs]  # a key left out
    fast_entries = [entry.parse(b) for b in blobs]
    assert sum(yamlio.fast_load(b.decode()) is not None for b in blobs) >= len(blobs) // 3
    monkeypatch.setattr(yamlio, "fast_load", lambda text: None)
    assert [entry.parse(b) for b in blobs] == fast_entries


def test_fast_load_refuses_what_load_refuses_for_its_size_or_depth():
    """Found by review: an int of 5,000 digits, nesting past load's limit (and past
    Python's recursion), more values than load reads, an 9 MB file, a key of 128
    characters (PyYAML writes it as a complex key, `? k`)."""
    base = "id: abcd1234\n"

    def deep(n):  # n nested mappings, the last one empty
        return "".join("  " * i + "k:\n" for i in range(n)) + "  " * n + "k: {}\n"

    for text in [
        base + "n: " + "1" * 5000 + "\n",
        deep(yamlio.MAX_DEPTH + 5),
        *(deep(n) for n in range(990, 1000)),
        "a:\n" + "- 1\n" * (yamlio.MAX_NODES + 1),
        "".join(f"k{i}: {'x' * 1000}\n" for i in range(9000)),
        base + "k" * 128 + ": 1\n",
        base + "k" * 1025 + ": 1\n",
    ]:
        assert agrees_with_load(text)
        assert yamlio.fast_load(text) is None
    assert yamlio.fast_dump({"k" * 128: 1}) is None
    assert yamlio.fast_dump({"k" * 127: 1}) == slow({"k" * 127: 1})
    assert yamlio.fast_load(deep(yamlio.MAX_DEPTH // 2 - 1)) is not None  # deep, but allowed
    assert agrees_with_load(deep(yamlio.MAX_DEPTH // 2 - 1))


def test_the_index_names_the_file_of_a_huge_number():
    """An int too long for Python to convert: the file is refused by name, no crash."""
    from oppcli.read.index import entry

    entry = entry.parse(b"id: abcd1234\nref: " + b"1" * 5000 + b"\n")
    assert entry.rec is None and "invalid value" in entry.err


def test_the_fast_paths_resolve_plain_scalars_as_pyyaml_does():
    """``yamlio`` keeps its own copy of PyYAML's implicit resolvers (so that the fast
    paths never import PyYAML, #25): the same tags, patterns, flags and order for every
    first character, and the same answer for every scalar the other tests try."""
    def table(resolvers):
        return {first: [(tag, regexp.pattern, regexp.flags) for tag, regexp in found]
                for first, found in resolvers.items()}

    assert table(yamlio._IMPLICIT) == table(yaml.resolver.Resolver.yaml_implicit_resolvers)
    resolver = yaml.resolver.Resolver()
    for text in ["", "~", "yes", "No", "null", "12345", "1.5", "-1.5e+3", "2026-01-01",
                 "2026-01-01 10:00:00", "0x1f", "0o17", "017", "1_000", "1:30", "=", "<<",
                 ".inf", "-.Inf", ".nan", "on", "Off", "1e3", "-", "a,b", "Acme", "+1"]:
        assert yamlio._implicit(text) == resolver.resolve(yaml.ScalarNode, text, (True, False))
