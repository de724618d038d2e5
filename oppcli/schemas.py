"""JSON Schemas of opp's files, generated from the pydantic models.

``python -m oppcli.schemas --write`` refreshes ``schemas/``; a test keeps the
committed files equal to what the models give.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

SCHEMA_FILES = {
    "opportunity.schema.json": ("Opportunity", "An opp opportunity file (opportunities/<id>.yaml)"),
    "settings.schema.json": ("Settings", "opp settings (opp.yaml)"),
    "catalog.schema.json": ("Catalog", "opp product catalog (catalog.yaml)"),
}


def generate() -> dict[str, dict]:
    """Every schema by file name."""
    from . import model

    out = {}
    for filename, (name, title) in SCHEMA_FILES.items():
        schema = getattr(model, name).model_json_schema(mode="validation")
        schema = {"$schema": "https://json-schema.org/draft/2020-12/schema",
                  "$id": f"https://opp.invalid/schemas/{filename}", **schema, "title": title}
        out[filename] = schema
    return out


def render(schema: dict) -> str:
    return json.dumps(schema, indent=2, sort_keys=False) + "\n"


def write(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for filename, schema in generate().items():
        path = folder / filename
        path.write_text(render(schema), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":  # pragma: no cover
    target = Path(__file__).resolve().parent.parent / "schemas"
    if "--write" in sys.argv:
        for p in write(target):
            print(p)
    else:
        print(render(generate()["opportunity.schema.json"]), end="")
