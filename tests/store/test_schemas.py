"""The JSON Schemas: current, and as strict as opp validate field by field.

Instances are checked the way third-party tools see YAML: numbers as binary floats,
dates as text (python-jsonschema, which check-jsonschema runs).
"""

import json
from pathlib import Path

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import depth
from oppcli.domain.money import CENT_DIVISORS
from oppcli.store.schemas import (
    REPO_SCHEMA_DIR,
    SCHEMA_FILES,
    generate,
    header,
    outdated,
    render,
    schema_of,
    with_header,
    written_by,
)

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "schemas"
COPIES = ROOT / "examples" / "demo-repo" / REPO_SCHEMA_DIR


def validator(name: str) -> jsonschema.Draft202012Validator:
    schema = json.loads((SCHEMAS / f"{name}.schema.json").read_text())
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


CATALOG = validator("catalog")
OPPORTUNITY = validator("opportunity")
SETTINGS = validator("settings")


MONEY = jsonschema.Draft202012Validator(json.loads((SCHEMAS / "catalog.schema.json").read_text())
                                        ["$defs"]["Money"])


def price_ok(value) -> bool:
    return CATALOG.is_valid({"products": [{"sku": "A-1", "name": "x", "price": value}]})


def opp(**fields) -> dict:
    base = {"id": "4k7qz2ma", "name": "Deal", "customer": "Acme", "stage": "proposal",
            "currency": "EUR", "owner": "alice", "created": "2026-11-26"}
    return {**base, **fields}


def test_committed_schemas_are_current():
    for folder in (SCHEMAS, COPIES):
        for name, schema in generate().items():
            path = folder / name
            assert path.exists(), f"{path} is missing: run make schemas"
            assert path.read_text() == render(schema), f"{path} is stale: run make schemas"
        assert sorted(p.name for p in folder.glob("*.json")) == sorted(SCHEMA_FILES)


def test_schemas_are_valid_draft_2020_12():
    for schema in generate().values():
        jsonschema.Draft202012Validator.check_schema(schema)


def test_schemas_forbid_unknown_keys():
    schema = json.loads((SCHEMAS / "opportunity.schema.json").read_text())
    assert schema["additionalProperties"] is False
    assert all(d.get("additionalProperties") is False for name, d in schema["$defs"].items()
               if name != "Money")
    assert not OPPORTUNITY.is_valid(opp(colour="red"))
    assert not OPPORTUNITY.is_valid(opp(contacts=[{"id": "c1", "name": "A", "role": "buyer",
                                                   "mood": "happy"}]))
    assert not SETTINGS.is_valid({"currency": "EUR", "colour": "red"})
    assert OPPORTUNITY.is_valid(opp())


# ------------------------------------------------------------------ money


def test_multiple_of_a_cent_alone_misfires_on_floats():
    """Why the money schema is not just multipleOf 0.01 (see schemas.py)."""
    plain = jsonschema.Draft202012Validator({"type": "number", "multipleOf": 0.01})
    assert not plain.is_valid(1200.10) and not plain.is_valid(4.02)
    assert price_ok(1200.10) and price_ok(4.02)


def test_every_cent_value_up_to_a_thousand_is_money():
    refused = [n for n in range(100_000 + 1)
               if not MONEY.is_valid(float(f"{n // 100}.{n % 100:02d}"))]
    assert refused == []


@settings(max_examples=depth(500), deadline=None)  # make test-deep: 4,000
@given(st.integers(min_value=0, max_value=99_999_999_999_999))  # up to MAX_MONEY
def test_any_two_decimal_value_is_money(cents):
    text = f"{cents // 100}.{cents % 100:02d}"
    assert MONEY.is_valid(float(text)), text  # as YAML gives it to a validator: a binary float


def quotient_is_whole(value: float) -> bool:
    """What python-jsonschema's multipleOf does with a float divisor."""
    return any(int(value / d) == value / d for d in CENT_DIVISORS)


@settings(max_examples=depth(200), deadline=None)
@given(st.integers(min_value=0, max_value=10**9), st.integers(min_value=3, max_value=6),
       st.data())
def test_more_decimals_are_not_money(whole, places, data):
    fraction = data.draw(st.integers(min_value=1, max_value=10**places - 1)
                         .filter(lambda f: f % 10))
    text = f"{whole}.{fraction:0{places}d}"  # exactly `places` decimals, the last not 0
    assert not MONEY.is_valid(float(text)), text
    assert not quotient_is_whole(float(text))


def test_money_is_a_number_and_not_negative():
    for bad in (-0.01, -1, "12.50", None, True, [1]):
        assert not price_ok(bad), bad
    for good in (0, 0.0, 1, 12.5, 99.99, 1_000_000_000):
        assert price_ok(good), good


# ------------------------------------------------------------------ other fields


@pytest.mark.parametrize("value, ok", [
    ("2026-12-31", True), ("2024-02-29", True), ("2026-13-45", False), ("2026-02-30", False),
    ("31/12/2026", False), ("2026-1-5", False), ("", False), (20261231, False)])
def test_dates_are_real_yyyy_mm_dd(value, ok):
    assert OPPORTUNITY.is_valid(opp(close_date=value)) is ok
    assert OPPORTUNITY.is_valid(opp(created=value)) is ok


def test_note_timestamps_as_yaml_writes_them():
    note = {"id": "n1", "author": "Alice", "text": "Hello"}
    for stamp in ("2026-11-10 14:30:00", "2026-11-10 14:30:00+01:00", "2026-11-10T14:30:00Z",
                  "2026-11-10 14:30:00.123456"):
        assert OPPORTUNITY.is_valid(opp(notes=[{**note, "date": stamp}])), stamp
    for stamp in ("2026-11-10", "yesterday", "14:30"):
        assert not OPPORTUNITY.is_valid(opp(notes=[{**note, "date": stamp}])), stamp


@pytest.mark.parametrize("field, good, bad", [
    ("id", ["4k7qz2ma", "abcd"], ["4K7Q", "abc", "ab_cd", ""]),
    ("stage", ["proposal", "closed-won", "on_hold"], ["Proposal", "-x", "a b", ""]),
    ("currency", ["EUR", "USD"], ["eur", "EURO", "E1R", ""]),
    ("name", ["Deal", "  Deal  ", "Déjà vu"], ["", "   ", "two\nlines", "bell\x07"]),
    ("amount", [0, 1200.1, 99.99], [-1, 1.001, "1200"]),
    ("amount_source", ["manual", "products", "quote"], ["typed", None]),
])
def test_field_shapes(field, good, bad):
    for value in good:
        assert OPPORTUNITY.is_valid(opp(**{field: value})), (field, value)
    for value in bad:
        assert not OPPORTUNITY.is_valid(opp(**{field: value})), (field, value)


def test_product_lines_skus_discounts_and_quantities():
    line = {"id": "p1", "sku": "SRV-01", "name": "Support", "quantity": 2, "unit_price": 10,
            "discount": 0, "total": 20}
    assert OPPORTUNITY.is_valid(opp(products=[line]))
    for change in ({"sku": "-bad"}, {"sku": "a b"}, {"discount": 100.5}, {"discount": -1},
                   {"quantity": 0}, {"quantity": -2}, {"unit_price": 0.001}, {"total": "20"}):
        assert not OPPORTUNITY.is_valid(opp(products=[{**line, **change}])), change
    assert OPPORTUNITY.is_valid(opp(products=[{**line, "discount": 12.5}]))


def test_settings_shapes():
    assert SETTINGS.is_valid({"currency": "EUR", "stages": [
        {"id": "a", "label": "A", "probability": 40, "kind": "open"}]})
    for stage in ({"id": "a", "label": "A", "probability": 101},
                  {"id": "a", "label": "A", "probability": 40.5},
                  {"id": "a", "label": "A", "probability": 40, "kind": "maybe"},
                  {"id": "A", "label": "A", "probability": 40}):
        assert not SETTINGS.is_valid({"stages": [stage]}), stage
    assert not SETTINGS.is_valid({"modules": {"catalog": "yes"}})
    assert not SETTINGS.is_valid({"activity_types": ["call", ""]})


# ------------------------------------------------------------------ headers and copies


def test_each_file_names_its_schema_by_a_relative_path():
    assert schema_of("opp.yaml") == "settings.schema.json"
    assert schema_of("catalog.yaml") == "catalog.schema.json"
    assert schema_of("opportunities/4k7qz2ma.yaml") == "opportunity.schema.json"
    assert schema_of("documents/4k7qz2ma/a.yaml") is None and schema_of("x/opp.yaml") is None
    assert header("opp.yaml") == "yaml-language-server: $schema=.opp/schemas/settings.schema.json"
    assert header("opportunities/4k7qz2ma.yaml") == \
        "yaml-language-server: $schema=../.opp/schemas/opportunity.schema.json"


def test_with_header_adds_or_replaces_the_first_line_only():
    text = "currency: EUR\n"
    once = with_header(text, "opp.yaml")
    assert once == f"# {header('opp.yaml')}\n{text}"
    assert with_header(once, "opp.yaml") == once
    old = "# yaml-language-server: $schema=somewhere/else.json\n# mine\ncurrency: EUR\n"
    assert with_header(old, "opp.yaml") == f"# {header('opp.yaml')}\n# mine\ncurrency: EUR\n"
    assert with_header(text, "notes.txt") == text


def test_copies_are_outdated_when_missing_or_older():
    current = {name: render(schema) for name, schema in generate().items()}
    assert not outdated(current)
    assert written_by(current["catalog.schema.json"]) >= (0, 1)
    assert outdated({**current, "catalog.schema.json": None})
    text = current["catalog.schema.json"]
    older = text.replace("Generated by opp ", "Generated by opp 0.0.1 was ")
    assert outdated({**current, "catalog.schema.json": older})
    newer = text.replace("Generated by opp ", "Generated by opp 99.0 was ")
    assert not outdated({**current, "catalog.schema.json": newer})
    assert outdated({**current, "catalog.schema.json": "{}"})
