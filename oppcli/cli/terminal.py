"""The terminal: tables that fit its width, a pager for long output, colour when wanted.

As git does: on a terminal, output longer than the screen goes through the pager
(``OPP_PAGER``, else ``PAGER``, else ``less -FRX``; an empty value or ``cat`` means
none); ``--no-pager`` and anything but a terminal print directly. Tables fit the
terminal's width (``COLUMNS``, else the terminal's own): long text is cut with
``…``; numbers, money, dates and ids never are. Colour: never with ``NO_COLOR``,
``TERM=dumb`` or off a terminal; always with ``CLICOLOR_FORCE`` (not 0).
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from collections.abc import Sequence
from typing import TextIO

import click

DEFAULT_PAGER = "less -FRX"
ELLIPSIS = "…"
# cells never cut: numbers, money, percentages, dates and times (ids and codes: by header)
_WHOLE = re.compile(r"[-+]?[\d.,' ]*\d( ?%| [A-Z]{3})?|[A-Z]{3}|\d{4}-\d{2}(-\d{2})?"
                    r"([ T]\d{2}:\d{2}(:\d{2})?)?|-|")
_KEEP_HEADERS = {"id", "sku", "quote", "item", "date", "at", "close", "when", "currency"}


def colour() -> bool | None:
    """False with NO_COLOR (https://no-color.org) or TERM=dumb; True with CLICOLOR_FORCE
    set and not 0; else None: click colours only a terminal."""
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("CLICOLOR_FORCE", "0") not in ("", "0"):
        return True
    if os.environ.get("TERM") == "dumb":
        return False
    return None


def width() -> int | None:
    """The width tables must fit: the terminal's (or COLUMNS) when stdout is one."""
    if not sys.stdout.isatty():
        return None
    import shutil  # only on a terminal: a change or a report to a pipe does without (#25)

    return shutil.get_terminal_size().columns


def fit(rows: list[list[str]], headers: list[str], align: Sequence[str] | None,
        limit: int, gap: int = 2) -> tuple[list[list[str]], list[str]]:
    """Rows and headers cut so that the table is at most ``limit`` wide: the widest
    column of text loses a character at a time, down to 6 (or what keeps the ids and
    numbers that begin its cells whole); cut cells end with '…' (``cut``).
    Widths as tabulate's plain table has them: a header takes 2 more than its text."""
    count = len(headers)
    widths = [max([len(headers[i]) + 2] + [len(r[i]) for r in rows]) for i in range(count)]
    cuttable = [not ((align and align[i] == "right")
                     or headers[i].strip().lower() in _KEEP_HEADERS
                     or all(_WHOLE.fullmatch(r[i]) for r in rows))
                for i in range(count)]
    # a column gives way down to 6, or to the first word of its cells where that is
    # an id or a number (and more follows it): that word is never cut
    least = [max([6] + [len(first) + 1 for r in rows
                        for first, _, more in [r[i].partition(" ")]
                        if more and _has_digit(first)]) for i in range(count)]
    total = sum(widths) + gap * (count - 1)
    while total > limit:
        candidates = [i for i in range(count) if cuttable[i] and widths[i] > least[i]]
        if not candidates:
            break
        widest = max(candidates, key=lambda i: widths[i])
        widths[widest] -= 1
        total -= 1

    return ([[cut(v, widths[i]) for i, v in enumerate(r)] for r in rows],
            [cut(h, widths[i] - 2) for i, h in enumerate(headers)])


def cut(text: str, size: int) -> str:
    """``text`` in at most ``size`` characters, ending with '…' when cut. A cut never
    ends inside a word holding a digit (an amount, a date, an id) or a currency code,
    nor between an amount and its code: such a word goes whole, so "won 23,500.00 USD"
    reads "won…", never "won 23,500…" or "won 23,500.00…". Only a first word is ever
    cut (else nothing would show): ``fit`` keeps columns wide enough for the ids and
    numbers that begin their cells."""
    if len(text) <= size:
        return text
    if size < 2:
        return ELLIPSIS[:max(size, 0)]
    keep = size - 1
    head = text[:keep]
    if text[keep] != " " and not head.endswith(" "):  # the cut falls inside a word
        start = head.rfind(" ") + 1
        end = text.find(" ", start)
        word = text[start:] if end < 0 else text[start:end]
        if not start or not (_has_digit(word) or _CODE.fullmatch(word)):
            return head.rstrip() + ELLIPSIS  # plain text, or the first word
        head = head[:start].rstrip()
    else:  # between words: the first one left out decides
        rest = text[keep:].split()
        word = rest[0] if rest else ""
    head = head.rstrip()
    if _CODE.fullmatch(word):  # an amount before its currency code goes with it
        before = head.rfind(" ") + 1
        if before and _has_digit(head[before:]):
            head = head[:before]
    return head.rstrip() + ELLIPSIS


def _has_digit(word: str) -> bool:
    return any(ch.isdigit() for ch in word)


_CODE = re.compile(r"[A-Z]{3}")


def column_groups(rows: list[list[str]], headers: list[str], limit: int,
                  gap: int = 2) -> list[list[int]]:
    """The columns of a table too wide for ``limit`` even cut, in groups that each fit,
    the first column (what a row is) at the head of every group; one group when the
    table fits."""
    widths = [max([len(headers[i]) + 2] + [len(r[i]) for r in rows])
              for i in range(len(headers))]
    groups: list[list[int]] = [[0]]
    used = widths[0]
    for i in range(1, len(headers)):
        if used + gap + widths[i] > limit and len(groups[-1]) > 1:
            groups.append([0])
            used = widths[0]
        groups[-1].append(i)
        used += gap + widths[i]
    return groups


# ---------------------------------------------------------------- the pager


class _Held(io.StringIO):
    """stdout while it is held for the pager: a terminal still, for what is written."""

    def isatty(self) -> bool:
        return True


_held: list[tuple[_Held, TextIO]] = []


def pager_command() -> str | None:
    """The pager to run, or None to print directly."""
    for name in ("OPP_PAGER", "PAGER"):
        if name in os.environ:
            command = os.environ[name].strip()
            return None if command in ("", "cat") else command
    return DEFAULT_PAGER


def hold(ctx: click.Context) -> None:
    """Hold what the command prints, to page it when it is done (``release``): only on a
    terminal, without --no-pager, with a pager to run."""
    state = ctx.find_root().obj
    if _held or getattr(state, "no_pager", False) or not sys.stdout.isatty() \
            or pager_command() is None:
        return
    _held.append((_Held(), sys.stdout))
    sys.stdout = _held[-1][0]
    ctx.call_on_close(release)


def release() -> None:
    """Print what was held: through the pager when longer than the screen."""
    if not _held:
        return
    held, real = _held.pop()
    sys.stdout = real
    text = held.getvalue()
    import shutil

    size = shutil.get_terminal_size()
    lines = sum(max(1, -(-len(line) // max(size.columns, 1))) for line in text.splitlines())
    command = pager_command()
    if lines >= size.lines and command and _page(command, text):
        return
    real.write(text)
    real.flush()


def _page(command: str, text: str) -> bool:
    """Run the pager on ``text``; False when it could not start."""
    env = dict(os.environ)
    env.setdefault("LESS", "FRX")  # as git: quit on one screen, keep colours, no clearing
    env.setdefault("LV", "-c")
    try:
        sys.stdout.flush()
        pager = subprocess.Popen(["sh", "-c", command], stdin=subprocess.PIPE, env=env)
    except OSError:
        return False
    try:
        assert pager.stdin is not None
        pager.stdin.write(text.encode("utf-8", errors="replace"))
        pager.stdin.close()
    except BrokenPipeError:
        pass  # the reader quit early (q in less): fine
    while True:
        try:
            pager.wait()
            break
        except KeyboardInterrupt:
            continue  # as git: the pager handles ^C
    return pager.returncode != 127  # sh: command not found
