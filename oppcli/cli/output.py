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

from .terminal import column_groups, fit, hold, width

PEOPLE = ("table", "text")  # one format for people, under both names (cli.md, Formats)


def format_option(*choices: str, default: str | None = None) -> Callable:
    """``--format`` limited to ``choices`` (the first is the default).

    ``table`` and ``text`` are one format for people: naming either, the command gets
    the one it lists. Where rows fit ``csv``, ``tsv`` comes too: the command gets
    ``csv`` and ``emit_csv`` writes tabs (``chosen_format()`` tells the two apart)."""
    listed = list(dict.fromkeys(choices))
    accepted = list(listed)
    for extra, beside in (("tsv", "csv"), ("text", "table"), ("table", "text")):
        if beside in listed and extra not in accepted:
            accepted.insert(accepted.index(beside) + 1, extra)

    def normalise(ctx: click.Context, param: click.Parameter, value: str) -> str:
        value = value.lower()
        ctx.meta[_CHOSEN] = value
        hold(ctx)  # a read command: long output goes through the pager on a terminal
        if value in PEOPLE and value not in listed:
            return next(name for name in PEOPLE if name in listed)
        return "csv" if value == "tsv" and "tsv" not in listed else value

    return click.option("--format", "fmt", type=click.Choice(accepted, case_sensitive=False),
                        default=default or listed[0], show_default=True, callback=normalise,
                        help="Output format: " + ", ".join(accepted) + ".")


_CHOSEN = "opp.format"


def chosen_format() -> str | None:
    """The ``--format`` as typed (``tsv`` where the command was handed ``csv``)."""
    ctx = click.get_current_context(silent=True)
    return ctx.meta.get(_CHOSEN) if ctx is not None else None


def json_default(value: Any) -> Any:
    """How JSON output writes what json cannot: decimals as exact strings, dates ISO."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, default=json_default, ensure_ascii=False, indent=2))


def emit_json_list(items: Iterable[Any], chunk: int = 500) -> None:
    """``emit_json(list(items))`` byte for byte, written ``chunk`` items at a time: a
    long list (``opp list --format json`` of 100,000 deals: 40 MB) is never one string,
    nor are its items all built at once. Each chunk is encoded as a list, whose brackets
    (``[\\n`` and ``\\n]``) are dropped: what is left is its items as the whole list has them."""
    encode = json.JSONEncoder(default=json_default, ensure_ascii=False, indent=2).encode
    opened = False
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) >= chunk:
            click.echo((",\n" if opened else "[\n") + encode(batch)[2:-2], nl=False)
            opened, batch = True, []
    if batch:
        click.echo((",\n" if opened else "[\n") + encode(batch)[2:-2], nl=False)
        opened = True
    click.echo("\n]" if opened else "[]")


def emit_csv(rows: Sequence[dict], columns: Sequence[str], delimiter: str | None = None) -> None:
    """Rows as CSV (TSV with a tab ``delimiter``, or when ``--format tsv`` was asked),
    header first; text cells guarded against spreadsheet formulas."""
    from ..transfer import csv_text

    if delimiter is None:
        delimiter = "\t" if chosen_format() == "tsv" else ","
    click.echo(csv_text(rows, columns, delimiter), nl=False)


def markdown_cell(value: Any) -> str:
    """Text made inert in a Markdown table (a CI job summary renders HTML): ``&``, ``<``
    and ``>`` as entities, ``|`` escaped, line breaks as spaces. A name like
    ``<img src=x onerror=...>`` shows as text."""
    text = "" if value is None else str(value)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return " ".join(text.replace("|", "\\|").splitlines())


def table(rows: Iterable[Sequence[Any]], headers: Sequence[str], *,
          align: Sequence[str] | None = None, fmt: str = "simple") -> str:
    """A table for people (tabulate); right-aligned where ``align`` says 'right'. On a
    terminal, a plain table fits its width (text cut with '…', never numbers or ids)."""
    cells = [["" if v is None else str(v) for v in row] for row in rows]
    names = [str(h) for h in headers]
    limit = width() if fmt == "simple" else None
    if limit and cells:
        cells, names = fit(cells, names, align, limit)
        groups = column_groups(cells, names, limit)
        if len(groups) > 1:  # still too wide: the columns in turns, as wide frames print
            return "\n\n".join(
                tabulate([[r[i] for i in g] for r in cells], headers=[names[i] for i in g],
                         tablefmt=fmt, disable_numparse=True,
                         colalign=[align[i] for i in g] if align else None)
                for g in groups)
    return tabulate(cells, headers=names, tablefmt=fmt, disable_numparse=True,
                    colalign=list(align) if align else None)


def tabulate(cells: list[list[str]], *, headers: list[str], tablefmt: str,
             disable_numparse: bool, colalign: list[str] | None) -> str:
    """tabulate's table; its plain one ("simple") of one-line ASCII text built here, the
    same to the byte (a property test holds it to tabulate's), without importing
    tabulate, whose import reads its own version from its package's metadata: 15 ms of
    every report printed as a table (#25)."""
    plain = _plain(cells, headers, colalign) if tablefmt == "simple" else None
    if plain is not None:
        return plain
    from tabulate import tabulate as tabulated

    return tabulated(cells, headers=headers, tablefmt=tablefmt,
                     disable_numparse=disable_numparse, colalign=colalign)


def _plain(cells: list[list[str]], headers: list[str], align: list[str] | None
           ) -> str | None:
    """tabulate's "simple" table, or None when it is not one this builds: text other
    than printable ASCII, a cell with spaces at an end, ragged rows, no rows."""
    count = len(headers)
    aligns = list(align or ())[:count]
    aligns += ["left"] * (count - len(aligns))
    if not cells or not count or any(a not in ("left", "right") for a in aligns):
        return None
    for text in headers:
        if not (text.isascii() and text.isprintable()):
            return None
    for row in cells:
        if len(row) != count:
            return None
        for text in row:
            if not (text.isascii() and text.isprintable()) or text != text.strip():
                return None
    # a column is as wide as its widest cell, and its header plus 2
    widths = [max(len(headers[i]) + 2, *(len(row[i]) for row in cells))
              for i in range(count)]
    right = [a == "right" for a in aligns]

    def line(texts: Sequence[str]) -> str:
        return "  ".join(t.rjust(w) if r else t.ljust(w)
                         for t, w, r in zip(texts, widths, right, strict=True)).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]),
                      *(line(row) for row in cells)])


def generated_at() -> datetime:
    """Now, in the local time zone; ``SOURCE_DATE_EPOCH`` (seconds) fixes it, for files
    that must come out byte for byte the same (reproducible builds, tests)."""
    import os
    from datetime import timezone

    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        try:
            return datetime.fromtimestamp(int(epoch), timezone.utc)
        except (ValueError, OverflowError, OSError):
            from ..errors import UsageError

            raise UsageError(f"SOURCE_DATE_EPOCH={epoch!r} is not a number of seconds "
                             "since 1970-01-01") from None
    return datetime.now().astimezone()


def write_whole(output: str, data: str | bytes) -> None:
    """Write a file whole or not at all: a web server, a browser or a calendar reading it
    while it is written never sees half of it."""
    import os
    import tempfile
    from pathlib import Path

    path = Path(output)
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp",
                                   dir=path.parent if str(path.parent) else ".")
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        raise click.FileError(output, hint=exc.strerror or str(exc)) from None
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
