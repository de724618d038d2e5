"""One reading of numbers: ``amount: "1000"`` is text to YAML, so to the JSON Schema
that editors use; opp refuses it too, at its line, saying how to write it
(``amount: 1000.00``). ``opp validate``, the model and check-jsonschema agree on a set
of examples, for money, quantities, discounts and the integers of the settings."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

from oppcli.domain.model import Catalog, Opportunity, SettingsFile
from oppcli.domain.money import number_as_text
from oppcli.errors import DataError
from oppcli.store import yamlio

ROOT = Path(__file__).resolve().parents[2]

HEAD = """id: {id}
name: Deal
customer: Acme
stage: proposal
"""
TAIL = """currency: EUR
owner: alice
created: 2026-11-26
"""
LINE = """products:
- id: p1
  sku: SRV-01
  name: Support plan
  quantity: {quantity}
  unit_price: {unit_price}
  discount: {discount}
  total: {total}
"""


def opportunity(opp_id: str, amount: str = "0", objective: str = "null", **line: str) -> str:
    text = HEAD.format(id=opp_id)
    if line:
        values = {"quantity": "2", "unit_price": "10.00", "discount": "0", "total": "20.00",
                  **line}
        return (text + f"amount: {values['total']}\namount_source: products\n"
                f"objective: {objective}\n"
                + TAIL + LINE.format(**values))
    return text + f"amount: {amount}\nobjective: {objective}\n" + TAIL


# (name, file text, the line of the bad value or None when valid)
OPPORTUNITIES = [
    ("int", opportunity("aaaa0001", "1000"), None),
    ("cents", opportunity("aaaa0002", "1000.00"), None),
    ("one decimal", opportunity("aaaa0003", "1000.5"), None),
    ("objective", opportunity("aaaa0004", "0", "2500"), None),
    ("line", opportunity("aaaa0005", quantity="2", discount="12.5", unit_price="10.00",
                         total="17.50"), None),
    ("quoted", opportunity("bbbb0001", '"1000"'), 5),
    ("single quoted", opportunity("bbbb0002", "'1000.00'"), 5),
    ("text", opportunity("bbbb0003", '"a thousand"'), 5),
    ("boolean", opportunity("bbbb0004", "true"), 5),
    ("three decimals", opportunity("bbbb0005", "1000.001"), 5),
    ("negative", opportunity("bbbb0006", "-5"), 5),
    ("quoted objective", opportunity("bbbb0007", "0", '"2500"'), 6),
    ("quoted quantity", opportunity("bbbb0008", quantity='"2"'), 15),
    ("quoted price", opportunity("bbbb0009", unit_price='"10.00"'), 16),
    ("quoted discount", opportunity("bbbb0010", discount='"0"'), 17),
]


def _model_refuses(model: type[BaseModel], text: str) -> bool:
    try:
        data, _ = yamlio.load(text, "x.yaml")
        model.model_validate(data)
    except (DataError, ValidationError):
        return True
    return False


def _schema_refuses(schema: Path, paths: list[Path]) -> set[str]:
    r = subprocess.run([sys.executable, "-m", "check_jsonschema", "-o", "json", "--schemafile",
                        str(schema), *map(str, paths)], capture_output=True, text=True)
    report = json.loads(r.stdout)
    assert report.get("parse_errors", []) == [], report
    return {Path(e["filename"]).name for e in report["errors"]}


def test_validate_the_model_and_check_jsonschema_agree(crm):
    folder = crm.root / "opportunities"
    folder.mkdir(exist_ok=True)
    paths = [_write(folder / f"{yamlio.load(text, 'x')[0]['id']}.yaml", text)
             for _, text, _ in OPPORTUNITIES]
    by_schema = _schema_refuses(crm.root / ".opp" / "schemas" / "opportunity.schema.json",
                                paths)
    report = json.loads(crm("validate", "--format", "json", code=1).stdout)
    by_validate = {Path(e["path"]).name: e for e in report["errors"]}
    for (name, text, line), path in zip(OPPORTUNITIES, paths, strict=True):
        refused = line is not None
        assert _model_refuses(Opportunity, text) is refused, name
        assert (path.name in by_schema) is refused, name
        assert (path.name in by_validate) is refused, name
        if refused:
            assert by_validate[path.name]["line"] == line, (name, by_validate[path.name])


@pytest.mark.parametrize("price, ok", [("99.99", True), ("100", True), ('"99.99"', False),
                                       ("'100'", False), ("yes", False), ("1.001", False)])
def test_catalog_prices_read_alike(crm, price, ok):
    text = f"products:\n- sku: SRV-01\n  name: Support plan\n  price: {price}\n"
    (crm.root / "catalog.yaml").write_text(text)
    assert _model_refuses(Catalog, text) is not ok
    assert bool(_schema_refuses(ROOT / "schemas" / "catalog.schema.json",
                                [crm.root / "catalog.yaml"])) is not ok
    crm("validate", code=0 if ok else 1)


@pytest.mark.parametrize("probability, ok", [("40", True), ('"40"', False), ("true", False),
                                             ("101", False)])
def test_stage_probabilities_read_alike(tmp_path, probability, ok):
    text = ("stages:\n- {id: open, label: Open, probability: PROB}\n"
            "- {id: won, label: Won, probability: 100, kind: won}\n"
            "- {id: lost, label: Lost, probability: 0, kind: lost}\n"
            "default_stage: open\n").replace("PROB", probability)
    assert _model_refuses(SettingsFile, text) is not ok
    assert bool(_schema_refuses(ROOT / "schemas" / "settings.schema.json",
                                [_write(tmp_path / "opp.yaml", text)])) is not ok


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_the_message_says_how_to_write_it():
    assert number_as_text("1000", "amount") == (
        '"1000" is text (in quotes), not a number; write it without quotes: amount: 1000.00')
    assert number_as_text(" 12.5", "unit_price").endswith("without quotes: unit_price: 12.50")
    assert number_as_text("2", "quantity", money=False).endswith("quantity: 2")
    assert number_as_text("1,000", "amount") == (
        '"1,000" is text, not a number; write digits with a dot for decimals and no quotes, '
        "e.g. amount: 1250.00")
    assert number_as_text("12,50", "amount") == (  # was: e.g. amount: 1250.00
        '"12,50" is text, not a number; write decimals with a dot and no quotes: '
        "amount: 12.50")
    assert number_as_text("1.234,5", "price").endswith("no quotes: price: 1234.50")
    assert number_as_text("7,5", "quantity", money=False).endswith("quantity: 7.5")
    assert number_as_text(True, "probability", money=False) == (
        "true is not a number; write digits, e.g. probability: 3")


def test_a_quoted_amount_is_refused_at_its_line_and_changes_nothing(crm, unchanged):
    opp_id = crm.new("Deal", "--amount", "1000")
    path = crm.file(opp_id)
    path.write_text(path.read_text().replace("amount: 1000.00", 'amount: "1000"'))
    crm.git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "hand edit")
    line = path.read_text().splitlines().index('amount: "1000"') + 1
    expected = (f"opportunities/{opp_id}.yaml:{line}:9: amount: \"1000\" is text (in quotes), "
                "not a number; write it without quotes: amount: 1000.00")
    with unchanged:
        assert expected in crm("validate", code=1).stdout
        for args in (("show", opp_id), ("list",), ("set", opp_id, "name", "New"),
                     ("pipeline",)):
            r = crm(*args, code=1)
            assert expected in r.stderr, args
    path.write_text(path.read_text().replace('amount: "1000"', "amount: 1000.00"))
    crm("validate")
