"""The committed JSON Schemas are the ones the models give."""

import json
from pathlib import Path

from oppcli.schemas import SCHEMA_FILES, generate, render

SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"


def test_committed_schemas_are_current():
    for name, schema in generate().items():
        path = SCHEMAS / name
        assert path.exists(), f"{name} is missing: run make schemas"
        assert path.read_text() == render(schema), f"{name} is stale: run make schemas"
    assert sorted(p.name for p in SCHEMAS.glob("*.json")) == sorted(SCHEMA_FILES)


def test_schemas_forbid_unknown_keys():
    schema = json.loads((SCHEMAS / "opportunity.schema.json").read_text())
    assert schema["additionalProperties"] is False
    assert "amount" in schema["required"] or "amount" in schema["properties"]
