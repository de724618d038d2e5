"""Fuzzing the two readers of outside input: the YAML loader (random bytes and random
YAML-ish text: a value or a DataError, never another exception, never slow) and the CSV
importer (hostile cells: planned opportunities that hold every rule, or errors)."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal as D

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from conftest import depth
from oppcli import transfer
from oppcli.domain import checks
from oppcli.domain.model import Catalog, CatalogItem, Opportunity
from oppcli.domain.settings import Settings
from oppcli.errors import DataError, OppError
from oppcli.store import yamlio

FAST = timedelta(seconds=5)  # far above what any example takes; a hang or blow-up fails

# pieces of YAML that reach every corner of the parser and of opp's checks
TOKENS = ["\n", "  ", "- ", ": ", "? ", ",", "[", "]", "{", "}", "&a ", "*a", "<<: ",
          "!!python/object/apply:os.system ", "!!binary ", "!tag ", "%YAML 1.1\n", "---\n",
          "...\n", "|\n", ">-\n", "'", '"', "\\x00", "\\u202e", "#", "id", "name", "amount",
          "products", "1.5", "-0", ".inf", ".nan", "0x1F", "1e9999", "2026-02-30",
          "2026-11-26T10:00:00+01:00", "~", "null", "yes", "\t", "\r\n", "\x85", "\u2028",
          "\ufeff", "é", "x" * 50, "9" * 5000, "1_000", "0o17", "=", "@", "`"]
yamlish = st.lists(st.sampled_from(TOKENS), max_size=60).map("".join)
yaml_docs = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20),
              st.decimals(allow_nan=False, allow_infinity=False, places=2)),
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=20).map(lambda data: yamlio.dump({"id": "abcd1234", "data": data}))


def mutate(text: str, cuts: list[tuple[int, str]]) -> str:
    for position, piece in cuts:
        at = position % (len(text) + 1)
        text = text[:at] + piece + text[at:]
    return text


@settings(max_examples=depth(500), deadline=FAST)
@given(st.one_of(st.binary(max_size=2000), yamlish.map(str.encode),
                 st.text(max_size=500).map(str.encode),
                 st.tuples(yaml_docs, st.lists(st.tuples(st.integers(0, 10**6),
                                                         st.sampled_from(TOKENS)),
                                               max_size=4)).map(
                     lambda t: mutate(*t).encode("utf-8", "surrogatepass"))))
@example(b"a: !!python/object/apply:os.system ['touch /tmp/opp-fuzz-marker']\n")
@example(b"a: &a [*a]\n")
@example(b"\xef\xbb\xbfid: x\n")
def test_the_yaml_loader_gives_data_or_a_data_error(data):
    try:
        loaded, node = yamlio.load(data, "x.yaml")
    except DataError as exc:
        assert exc.path == "x.yaml" and exc.message
        return
    assert isinstance(loaded, dict)


opportunity_docs = st.fixed_dictionaries({
    "id": st.sampled_from(["fuzz0001", "other001", 7, None]),
    "name": st.one_of(st.text(max_size=10), st.integers(), st.lists(st.text(), max_size=2)),
    "customer": st.sampled_from(["Acme", "", None]),
    "stage": st.sampled_from(["proposal", "closed-won", "nope", 1]),
    "amount": st.one_of(st.decimals(allow_nan=False, allow_infinity=False), st.text(max_size=5)),
    "currency": st.sampled_from(["EUR", "eur", "EURO"]),
    "owner": st.just("me"),
    "created": st.one_of(st.dates(), st.text(max_size=10)),
    "products": st.one_of(st.none(), st.lists(st.dictionaries(
        st.sampled_from(["id", "sku", "quantity", "unit_price", "total", "x"]),
        st.one_of(st.text(max_size=5), st.decimals(allow_nan=False, allow_infinity=False),
                  st.integers())), max_size=2), st.text(max_size=3)),
}).map(lambda d: yamlio.dump({k: v for k, v in d.items() if v is not None}).encode())


@settings(max_examples=150, deadline=FAST,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.one_of(st.binary(max_size=300), yamlish.map(str.encode), opportunity_docs))
def test_validate_names_whatever_an_opportunity_file_holds(crm, data):
    """End to end: whatever bytes sit in an opportunity file, opp validate lists problems
    with the file named (exit 1) or accepts it, and reports refuse it; never a crash."""
    from click.testing import CliRunner

    from oppcli.cli import cli

    path = crm.root / "opportunities" / "fuzz0001.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(data)
    runner = CliRunner()
    result = runner.invoke(cli, ["validate", "--format", "json"])
    assert result.exit_code in (0, 1), result.output
    assert "internal error" not in result.stderr and "Traceback" not in result.output
    if result.exit_code:
        assert "opportunities/fuzz0001.yaml" in result.stdout
        report = runner.invoke(cli, ["pipeline"])
        assert report.exit_code == 1 and "opportunities/fuzz0001.yaml" in report.stderr


def test_no_fuzzed_tag_ever_ran():
    import os

    assert not os.path.exists("/tmp/opp-fuzz-marker")


S = Settings()
TODAY = date(2026, 11, 26)
CATALOG = Catalog(products=[CatalogItem(sku="SRV-01", name="Support plan", price=D("1200"))])
HOSTILE_CELLS = ["x\n\nOpp-Action: init\nSigned-off-by: m", "../../etc/passwd", "-rf",
                 "a\x1b[31mb", "a\x9bb", "abc\u202edcba", "a\u2028b", "x" * 600, "é" * 10,
                 "=1+1", "@SUM(A1)", "1e9999", "NaN", "-1", "0.001", "2026-02-30",
                 "closed-won", "closed lost", "Support plan", "SRV-01", "", " ", "\t"]
cells = st.one_of(st.sampled_from(HOSTILE_CELLS), st.text(max_size=15))
headers = st.lists(st.sampled_from(list(transfer.OPPORTUNITY_FIELDS) + ["other", ""]),
                   min_size=1, max_size=8, unique=True)


def csv_bytes(rows) -> bytes:
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    return buf.getvalue().encode("utf-8", "surrogatepass")


@settings(max_examples=depth(200), deadline=FAST, suppress_health_check=[HealthCheck.too_slow])
@given(st.tuples(headers, st.lists(st.lists(cells, min_size=1, max_size=9), max_size=6)).map(
    lambda hr: csv_bytes([hr[0], *hr[1]])))
def test_the_csv_importer_plans_valid_opportunities_or_errors(data):
    try:
        table = transfer.read_csv(data)
        columns = transfer.map_columns(table.header)
        result = transfer.plan_import(table, columns, S, CATALOG, [], today=TODAY, owner="me")
    except OppError:
        return
    for entry in result.entries:
        opp = entry.opportunity
        assert checks.problems(opp, S) == []
        text = yamlio.dump(opp.model_dump(mode="python"))
        assert Opportunity.model_validate(yamlio.load(text, "x.yaml")[0]) == opp
        for field in ("name", "customer", "owner"):  # one line, shown as stored
            value = getattr(opp, field)
            assert "\n" not in value and "\u202e" not in value and "\x1b" not in value
    assert all(e.line >= 2 and e.message for e in result.errors)
