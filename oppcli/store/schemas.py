"""JSON Schemas of opp's files, generated from the pydantic models.

Editors (through the YAML language server) and third-party validators
(check-jsonschema) read these, so they say what ``opp validate`` checks field by
field: unknown keys, types, dates, money with at most two decimals, ranges, ids.
The rules between fields (totals, stages against opp.yaml) stay with ``opp
validate``.

Every file opp writes starts with a ``# yaml-language-server: $schema=...``
line pointing, by a path relative to the file, at the data repo's own copy of
the schema in ``.opp/schemas/``: it works offline and in any clone. The copies
carry the version of opp that wrote them; a change made by a newer opp
refreshes them in the same commit (an older opp leaves them alone, so a team
with mixed versions does not flip them back and forth), and
``opp init --upgrade`` rewrites them and every file's header at once.

``python -m oppcli.store.schemas --write`` (``make schemas``) refreshes ``schemas/``
and the sample data repo's copies; a test keeps them equal to what the models
give. This module imports only the standard library at the top: the header is
needed on every write and must stay cheap.
"""

from __future__ import annotations

import json
import posixpath
import re
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

from .. import __version__
from ..domain.money import MONEY_SCHEMA

SCHEMA_FILES = {
    "opportunity.schema.json": ("Opportunity", "An opp opportunity file (opportunities/<id>.yaml)"),
    "settings.schema.json": ("SettingsFile", "opp settings (opp.yaml)"),
    "catalog.schema.json": ("Catalog", "opp product catalog (catalog.yaml)"),
    "quotas.schema.json": ("Quotas", "opp sales quotas (quotas.yaml)"),
    "account.schema.json": ("Account", "An opp account file (accounts/<id>.yaml)"),
}
# the names `opp schema NAME` takes
SCHEMA_NAMES = {"opportunity": "opportunity.schema.json", "settings": "settings.schema.json",
                "catalog": "catalog.schema.json", "quotas": "quotas.schema.json",
                "account": "account.schema.json"}

REPO_SCHEMA_DIR = ".opp/schemas"  # the data repo's copies, relative to its root
HEADER_PREFIX = "yaml-language-server: $schema="

# ---------------------------------------------------------------- money


# ---------------------------------------------------------------- dates

# YAML loads 2026-12-31 as a date for opp; editors and JSON tools see its text
DATE_SCHEMA = {"type": "string", "format": "date", "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}
# a YAML timestamp, as opp writes it (2026-11-10 14:30:00+01:00) or with a T
DATETIME_SCHEMA = {
    "type": "string",
    "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}([Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}"
               r"(\.[0-9]*)?([ \t]*(Z|[+-][0-9]{1,2}(:[0-9]{2})?))?$",
}


def _generator():

    from pydantic.json_schema import GenerateJsonSchema

    class Generator(GenerateJsonSchema):
        """pydantic's generator, with YAML's view of dates and numeric defaults."""

        def date_schema(self, schema):
            return dict(DATE_SCHEMA)

        def datetime_schema(self, schema):
            return dict(DATETIME_SCHEMA)

        def encode_default(self, dft):
            if isinstance(dft, Decimal):  # pydantic would write "0.00", a string
                return int(dft) if dft == dft.to_integral_value() else float(dft)
            return super().encode_default(dft)

        def normalize_name(self, name):
            # the classes that check opp.yaml (StageFile, SettingsFile) are named for
            # what they check: "Stage", "Settings", as the file's readers know them
            return super().normalize_name(name).removesuffix("File")

    return Generator


# ---------------------------------------------------------------- generating


def _refer_to_money(node: Any) -> bool:
    """Replace every inline copy of MONEY_SCHEMA by a reference to one definition;
    True when there was any."""
    found = False
    if isinstance(node, dict):
        if all(node.get(k) == v for k, v in MONEY_SCHEMA.items()):
            rest = {k: v for k, v in node.items() if k not in MONEY_SCHEMA}
            node.clear()
            node.update({"$ref": "#/$defs/Money", **rest})
            return True
        for value in node.values():
            found = _refer_to_money(value) or found
    elif isinstance(node, list):
        for value in node:
            found = _refer_to_money(value) or found
    return found


def generate() -> dict[str, dict]:
    """Every schema by file name."""
    from ..domain import model

    generator = _generator()
    out = {}
    for filename, (name, title) in SCHEMA_FILES.items():
        schema = getattr(model, name).model_json_schema(mode="validation",
                                                        schema_generator=generator)
        if _refer_to_money(schema):
            schema["$defs"] = dict(sorted({**schema.get("$defs", {}),
                                           "Money": MONEY_SCHEMA}.items()))
        out[filename] = {"$schema": "https://json-schema.org/draft/2020-12/schema",
                         "$id": f"https://opp.invalid/schemas/{filename}",
                         "$comment": f"Generated by opp {__version__} from its models; "
                                     "do not edit (opp init --upgrade refreshes it).",
                         **schema, "title": title}
    return out


def render(schema: dict) -> str:
    return json.dumps(schema, indent=2, sort_keys=False) + "\n"


def rendered() -> dict[str, str]:
    """Every schema's text by file name."""
    return {name: render(schema) for name, schema in generate().items()}


def write(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for filename, text in rendered().items():
        path = folder / filename
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


# ---------------------------------------------------------------- in a data repo


def schema_of(relpath: str) -> str | None:
    """The schema file name for a file of the data repo, or None for other files."""
    if relpath == "opp.yaml":
        return "settings.schema.json"
    if relpath == "catalog.yaml":
        return "catalog.schema.json"
    if relpath == "quotas.yaml":
        return "quotas.schema.json"
    if relpath.startswith("opportunities/") and relpath.count("/") == 1 \
            and relpath.endswith(".yaml"):
        return "opportunity.schema.json"
    if relpath.startswith("accounts/") and relpath.count("/") == 1 and relpath.endswith(".yaml"):
        return "account.schema.json"
    return None


def header(relpath: str) -> str | None:
    """The modeline (without '# ') pointing a file at its schema, by a relative path."""
    name = schema_of(relpath)
    if name is None:
        return None
    target = posixpath.relpath(f"{REPO_SCHEMA_DIR}/{name}", posixpath.dirname(relpath) or ".")
    return HEADER_PREFIX + target


def with_header(text: str, relpath: str) -> str:
    """``text`` with its first line the right modeline (replacing an older one)."""
    line = header(relpath)
    if line is None:
        return text
    first, _, rest = text.partition("\n")
    if first.startswith("# " + HEADER_PREFIX):
        text = rest
    return f"# {line}\n{text}"


def _version(text: str) -> tuple[int, ...]:
    match = re.match(r"\d+(\.\d+)*", text)
    return tuple(int(p) for p in match.group(0).split(".")) if match else ()


def written_by(text: str | None) -> tuple[int, ...]:
    """The version of opp that wrote a schema copy; () when unknown or missing."""
    if not text:
        return ()
    match = re.search(r'"\$comment": "Generated by opp ([^ ";]+)', text[:1000])
    return _version(match.group(1)) if match else ()


def outdated(texts: dict[str, str | None]) -> bool:
    """True when a repo's schema copies (text by file name, None if missing) need
    rewriting: one is missing, or was written by an older opp than this one."""
    mine = _version(__version__)
    return any(written_by(texts.get(name)) < mine for name in SCHEMA_FILES)


if __name__ == "__main__":  # pragma: no cover
    root = Path(__file__).resolve().parents[2]
    if "--write" in sys.argv:
        for folder in (root / "schemas", root / "examples" / "demo-repo" / REPO_SCHEMA_DIR):
            for p in write(folder):
                print(p.relative_to(root))
    else:
        print(rendered()["opportunity.schema.json"], end="")
