"""The fast path of yamlio.dump writes exactly what PyYAML writes, or steps aside."""

from datetime import date
from decimal import Decimal

import yaml
from hypothesis import given, settings, strategies as st

from oppcli import yamlio

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
    return yaml.dump(data, Dumper=yamlio._Dumper, sort_keys=False, default_flow_style=False,
                     allow_unicode=True, width=10_000)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(keys, trees, min_size=1, max_size=8))
def test_fast_dump_is_byte_for_byte_pyyaml_or_none(data):
    fast = yamlio.fast_dump(data)
    if fast is not None:
        assert fast == slow(data)


def test_an_opportunity_takes_the_fast_path():
    from oppcli.model import Opportunity, ProductLine

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


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(plain_keys, simple_trees, min_size=1, max_size=6))
def test_fast_dump_of_plain_data_matches_pyyaml(data):
    fast = yamlio.fast_dump(data)
    if fast is not None:  # nearly always: the strategy draws plain data
        assert fast == slow(data)
