"""The ``opp`` command line: thin commands that parse, call the domain and print."""

from __future__ import annotations

from . import (  # noqa: F401  (each module registers its commands)
    activities,
    agenda,
    catalog,
    config,
    dashboard,
    documents,
    ecosystem,
    edit,
    index,
    notes,
    opportunities,
    panels,
    products,
    quotes,
    relations,
    repo,
    reports,
    sync,
    timeline,
    transfer,
)
from .app import cli

# after every command module: shell completion by parameter name (completion.py)
from .completion import attach as _attach_completion

_attach_completion(cli)


def main() -> None:
    """The console script. Once the command is done, opp leaves at once (``os._exit``):
    its files are written and closed and its commits made, and the interpreter's
    teardown of every module and object would add ~30 ms to every command (#9)."""
    import os
    import sys

    try:
        cli(prog_name="opp")
        code = 0
    except SystemExit as exc:
        code = exc.code
    if code is None:
        code = 0
    elif not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, ValueError):
            pass  # the reader went away (opp list | head), or the stream is closed
        except OSError:
            code = code or 1  # the output could not be written: not a success
    os._exit(code)


__all__ = ["cli", "main"]
