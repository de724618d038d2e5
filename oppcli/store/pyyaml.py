"""PyYAML as ``yamlio`` uses it: the safe loader (the C one when present) with YAML's
floats read as ``Decimal`` and numbers only as people write them, and the safe dumper.

Imported by ``yamlio`` only for a file its fast paths do not read or write (hand-written
YAML, long or multi-line text): PyYAML's import is ~10 % of a change (#25).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:  # the C classes where libyaml is there; mypy sees the Python ones
    LoaderBase = yaml.SafeLoader
    DumperBase = yaml.SafeDumper
else:
    LoaderBase = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    DumperBase = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class Loader(LoaderBase):
    """PyYAML's safe loader with opp's numbers and dates (below)."""


# Numbers as people write them. YAML 1.1 also reads 010 as 8 (octal), 0x10 as 16,
# 1:30 as 90 (base 60) and 1_000 as 1000: in a ledger such a value is refused at its
# line rather than stored as a number nobody meant (and editors, on YAML 1.2, would
# read most of them otherwise again).
_PLAIN_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")
_PLAIN_FLOAT = re.compile(r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")


def _not_plain(text: str, node: yaml.ScalarNode) -> yaml.constructor.ConstructorError:
    lowered = text.lower()
    if lowered in (".inf", "+.inf", "-.inf", ".nan"):
        why = "is not a finite number"
    elif "_" in text:
        why = f"has an underscore; write the digits alone ({text.replace('_', '')})"
    elif ":" in text:
        why = "is a base-60 number to YAML"
    elif re.fullmatch(r"[-+]?0[0-9]+", text):
        why = f"is an octal number to YAML; write {int(text, 10)} without the leading zero"
    else:
        why = "is not a plain decimal number; write digits, with a dot for decimals"
    return yaml.constructor.ConstructorError(
        None, None, f"'{text}' {why}, or quote it ('{text}') if it is text", node.start_mark)


def _construct_decimal(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Decimal:
    text = loader.construct_scalar(node)
    if not _PLAIN_FLOAT.fullmatch(text):
        raise _not_plain(text, node)
    return Decimal(text)


def _construct_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    text = loader.construct_scalar(node)
    if not _PLAIN_INT.fullmatch(text):
        raise _not_plain(text, node)
    return int(text)


Loader.add_constructor("tag:yaml.org,2002:float", _construct_decimal)
Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)


def _construct_timestamp(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    """A date or time, with an impossible one (2026-02-30) refused at its line."""
    try:
        return yaml.constructor.SafeConstructor.construct_yaml_timestamp(loader, node)
    except ValueError as exc:
        raise yaml.constructor.ConstructorError(
            None, None, f"'{node.value}' is not a real date ({exc})", node.start_mark) from None


Loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)


class Dumper(DumperBase):
    """PyYAML's safe dumper, never writing an alias; decimals as numbers, text with line
    breaks as a block (``|``)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent_decimal(dumper: yaml.SafeDumper, value: Decimal) -> yaml.ScalarNode:
    text = format(value, "f")
    tag = "tag:yaml.org,2002:float" if "." in text else "tag:yaml.org,2002:int"
    return dumper.represent_scalar(tag, text)


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value and not any(c in value for c in "\r\t") and value == value.strip(" "):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


Dumper.add_representer(Decimal, _represent_decimal)
Dumper.add_representer(str, _represent_str)
