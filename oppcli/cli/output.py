"""Shared output: the --format option and printing data as tables, JSON, CSV, Markdown.

Data goes to stdout; JSON holds decimals as exact strings (money with two
decimals), dates as YYYY-MM-DD.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import click


def format_option(*choices: str, default: str | None = None) -> Callable:
    """``--format`` limited to ``choices`` (the first is the default)."""
    return click.option("--format", "fmt", type=click.Choice(choices, case_sensitive=False),
                        default=default or choices[0], show_default=True,
                        help="Output format: " + ", ".join(choices) + ".")


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, default=_default, ensure_ascii=False, indent=2))


def emit_csv(rows: Sequence[dict], columns: Sequence[str]) -> None:
    """Rows as CSV, header first; text cells guarded against spreadsheet formulas."""
    from ..transfer import csv_text

    click.echo(csv_text(rows, columns), nl=False)


def table(rows: Iterable[Sequence[Any]], headers: Sequence[str], *,
          align: Sequence[str] | None = None, fmt: str = "simple") -> str:
    """A table for people (tabulate); right-aligned where ``align`` says 'right'."""
    from tabulate import tabulate

    rows = [["" if v is None else v for v in row] for row in rows]
    return tabulate(rows, headers=list(headers), tablefmt=fmt, disable_numparse=True,
                    colalign=list(align) if align else None)
